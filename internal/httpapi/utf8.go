package httpapi

import (
	"fmt"
	"net/http"
	"unicode/utf8"
)

// CheckUTF8 refuses a body that is not valid UTF-8, naming the offset of
// the first bad byte. JSON text exchanged between systems must be UTF-8
// (RFC 8259 §8.1, https://www.rfc-editor.org/rfc/rfc8259#section-8.1), but
// encoding/json accepts invalid bytes inside strings and passes them on:
// without this check such an event would be stored and delivered as JSON
// the receiving flow cannot parse.
func CheckUTF8(body []byte) error {
	if utf8.Valid(body) {
		return nil
	}
	off := 0
	for off < len(body) {
		r, size := utf8.DecodeRune(body[off:])
		if r == utf8.RuneError && size <= 1 {
			break
		}
		off += size
	}
	return &RequestError{Status: http.StatusBadRequest, Code: "invalid_utf8",
		Message: fmt.Sprintf("the body is not valid UTF-8: byte %d (0x%02x) starts no valid character; send UTF-8 text", off, body[off])}
}
