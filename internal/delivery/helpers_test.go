package delivery

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// newLoopbackServer starts a real HTTP server on 127.0.0.1 for the test and
// returns its base URL.
func newLoopbackServer(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}
