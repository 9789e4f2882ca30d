package httpapi

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/triggerd/triggerd/internal/publish"
)

// writeOverloaded answers a publish refused because too many events wait
// for a commit: 503 with Retry-After, the status and header RFC 9110 names
// for a server that is temporarily unable to handle a request
// (https://www.rfc-editor.org/rfc/rfc9110#name-503-service-unavailable).
// Nothing of the request was stored, so sending it again is safe. It
// reports whether err was that refusal.
func writeOverloaded(w http.ResponseWriter, err error) bool {
	if !errors.Is(err, publish.ErrOverloaded) {
		return false
	}
	w.Header().Set("Retry-After", strconv.Itoa(int(publish.OverloadRetryAfter.Seconds())))
	writeError(w, http.StatusServiceUnavailable, "overloaded", "too many events are waiting to be committed; nothing was stored, send the request again after Retry-After seconds")
	return true
}
