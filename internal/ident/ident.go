// Package ident is the rule for the names and ids triggerd accepts from
// callers: idempotency keys, subscription and key ids in paths, tenant and
// key names. They end up in database indexes, log lines and URLs, so they
// must be valid UTF-8 without control characters: a NUL is refused by
// PostgreSQL's text type outright
// (https://www.postgresql.org/docs/current/datatype-character.html), and a
// newline or escape sequence in a log line lets a caller forge lines.
package ident

import (
	"fmt"
	"unicode"
	"unicode/utf8"
)

// Check returns an error naming the first byte of s that is not allowed,
// or nil. what names the field for the message ("id", "tenant name").
func Check(what, s string) error {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				return fmt.Errorf("%s is not valid UTF-8 at byte %d", what, i)
			}
		}
		if unicode.IsControl(r) {
			return fmt.Errorf("%s contains the control character %U at byte %d; use printable characters", what, r, i)
		}
	}
	return nil
}
