// Package redact removes credentials from text meant for logs, errors and
// API answers. A callback URL registered by Power Automate carries a SAS
// signature in its query (sp, sv, sig): whoever holds the URL can start the
// maker's flow, so it is a bearer credential
// (https://learn.microsoft.com/en-us/connectors/custom-connectors/create-webhook-trigger).
// This package is the one place that decides what of such a URL may be
// shown: its scheme, host and path. Query values, user information and the
// fragment are replaced.
package redact

import (
	"errors"
	"net/url"
	"sort"
	"strings"
)

// Mask replaces every hidden value.
const Mask = "REDACTED"

// URL returns raw with its credentials removed: scheme, host and path are
// kept, every query value becomes Mask (the parameter names stay, so an
// operator can still tell one callback shape from another), user
// information and fragment are dropped. A string that does not parse as a
// URL is replaced whole, since nothing about it can be shown safely.
func URL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme == "" && u.Host == "") {
		return Mask
	}
	out := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}
	if u.User != nil {
		out.User = url.User(Mask)
	}
	if u.RawQuery != "" {
		names := make([]string, 0, 4)
		seen := map[string]bool{}
		for _, part := range strings.Split(u.RawQuery, "&") {
			name, _, _ := strings.Cut(part, "=")
			if n, err := url.QueryUnescape(name); err == nil {
				name = n
			} else {
				name = Mask
			}
			if !seen[name] {
				seen[name] = true
				names = append(names, name)
			}
		}
		sort.Strings(names)
		q := make([]string, len(names))
		for i, n := range names {
			q[i] = url.QueryEscape(n) + "=" + Mask
		}
		out.RawQuery = strings.Join(q, "&")
	}
	return out.String()
}

// Error returns err with the URL of the *url.Error in its chain (what Go's
// HTTP client returns: `Post "https://…?sig=…": connection refused`)
// redacted, in the message and in the error errors.As finds. The cause
// under the *url.Error is kept, so net.Error's Timeout and errors.Is on it
// answer as before. It returns nil for nil.
func Error(err error) error {
	if err == nil {
		return nil
	}
	var ue *url.Error
	if !errors.As(err, &ue) {
		return err
	}
	safe := &url.Error{Op: ue.Op, URL: URL(ue.URL), Err: ue.Err}
	if err == error(ue) {
		return safe
	}
	return &wrapped{msg: strings.ReplaceAll(err.Error(), ue.URL, safe.URL), err: safe}
}

// wrapped is an error whose message had a URL redacted; it unwraps to the
// redacted *url.Error, never to the original chain that still holds it.
type wrapped struct {
	msg string
	err error
}

func (w *wrapped) Error() string { return w.msg }
func (w *wrapped) Unwrap() error { return w.err }

// Secrets replaces every occurrence of the given secrets in s by Mask: the
// last line of defence for text that may quote a value verbatim (a
// database driver's error echoing a parameter, for instance). Empty secrets
// are ignored.
func Secrets(s string, secrets ...string) string {
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, Mask)
		}
	}
	return s
}
