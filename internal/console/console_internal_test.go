package console

import (
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestThousands(t *testing.T) {
	t.Parallel()
	for n, want := range map[int]string{0: "0", 7: "7", 999: "999", 1000: "1,000", 1234567: "1,234,567", -1000000: "-1,000,000"} {
		require.Equal(t, want, thousands(n), n)
	}
}

// TestHostOnly: a callback is shown by its host, never its path or query,
// which carry the platform's signature.
func TestHostOnly(t *testing.T) {
	t.Parallel()
	require.Equal(t, "prod-1.westeurope.logic.azure.com",
		host("https://prod-1.westeurope.logic.azure.com/workflows/abc/run?api-version=2016-06-01&sig=AbC"))
	require.Equal(t, "127.0.0.1:8080", host("http://127.0.0.1:8080/cb?sig=x"))
	require.Equal(t, "(unreadable URL)", host("not a url at all"))
}

// TestCSRFToken: the token is fixed for a session, differs between
// sessions, and is not the session token.
func TestCSRFToken(t *testing.T) {
	t.Parallel()
	a, b := csrfOf("token-a"), csrfOf("token-b")
	require.Equal(t, a, csrfOf("token-a"))
	require.NotEqual(t, a, b)
	require.NotContains(t, a, "token-a")
	require.True(t, validCSRF(a, a))
	require.False(t, validCSRF("", a), "an empty token is never valid")
	require.False(t, validCSRF(b, a))
}

// TestNoticeIsFixedText: a notice is one of the console's own texts; the
// query only picks which, and cannot put words on the page.
func TestNoticeIsFixedText(t *testing.T) {
	t.Parallel()
	require.Equal(t, "Queued 1,234 redeliveries.", notice(url.Values{"done": {"redelivered"}, "queued": {"1234"}}))
	require.Equal(t, "Queued 1 redelivery.", notice(url.Values{"done": {"redelivered"}, "queued": {"1"}}))
	require.Contains(t, notice(url.Values{"done": {"redelivered"}, "queued": {"2"}, "pruned": {"3"}}), "3 events of that window")
	require.Empty(t, notice(url.Values{"done": {"<script>alert(1)</script>"}}))
	require.Contains(t, notice(url.Values{"done": {"disabled"}}), "Disabled")
}
