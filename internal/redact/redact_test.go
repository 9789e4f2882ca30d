package redact_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd/internal/redact"
)

func TestURL(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]string{
		"https://prod-01.westeurope.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=CANARY": "https://prod-01.westeurope.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke?api-version=REDACTED&sig=REDACTED&sp=REDACTED&sv=REDACTED",
		"http://127.0.0.1:8080/hook":               "http://127.0.0.1:8080/hook",
		"https://user:pass@example.com/x?a=1#frag": "https://REDACTED@example.com/x?a=REDACTED",
		"https://example.com/x?sig=1&sig=2":        "https://example.com/x?sig=REDACTED",
		"https://example.com/x?%zz=1":              "https://example.com/x?REDACTED=REDACTED",
		"not a url at all sig=CANARY":              "REDACTED",
		"https://exa mple.com/?sig=CANARY":         "REDACTED",
		"":                                         "REDACTED",
	} {
		got := redact.URL(raw)
		require.Equal(t, want, got, raw)
		require.NotContains(t, got, "CANARY")
		require.NotContains(t, got, "pass")
	}
}

func TestErrorKeepsTimeoutAndHidesQuery(t *testing.T) {
	t.Parallel()
	// A real refused connection and a real timeout, both on loopback.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close()) // nothing listens there now: refused

	client := &http.Client{Timeout: 50 * time.Millisecond}
	_, refused := client.Post("http://"+addr+"/hook?sig=CANARY", "application/json", nil)
	require.Error(t, refused)
	require.Contains(t, refused.Error(), "CANARY", "the raw error does carry the signature")
	safe := redact.Error(refused)
	require.NotContains(t, safe.Error(), "CANARY")
	require.Contains(t, safe.Error(), addr+"/hook?sig=REDACTED")
	var ue *url.Error
	require.True(t, errors.As(safe, &ue))
	require.NotContains(t, ue.URL, "CANARY")

	hang, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer hang.Close() // accepts into the backlog, never answers
	_, timeout := client.Post("http://"+hang.Addr().String()+"/?sig=CANARY", "application/json", nil)
	require.Error(t, timeout)
	wrapped := redact.Error(fmt.Errorf("deliver: %w", timeout))
	require.NotContains(t, wrapped.Error(), "CANARY")
	require.Contains(t, wrapped.Error(), "deliver: ")
	var ne net.Error
	require.True(t, errors.As(wrapped, &ne))
	require.True(t, ne.Timeout())
	require.True(t, errors.Is(wrapped, context.DeadlineExceeded) || ne.Timeout())

	plain := errors.New("no url here")
	require.Same(t, plain, redact.Error(plain))
	require.NoError(t, redact.Error(nil))
}

func TestSecrets(t *testing.T) {
	t.Parallel()
	require.Equal(t, "a REDACTED b REDACTED", redact.Secrets("a whsec_x b tdk_y", "whsec_x", "", "tdk_y"))
}
