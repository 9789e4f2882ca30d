package netguard_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd/internal/netguard"
)

func TestBlocked(t *testing.T) {
	t.Parallel()
	for _, a := range []string{"127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254",
		"0.0.0.0", "::1", "::", "fe80::1", "fc00::1", "224.0.0.1", "ff02::1", "100.64.0.1",
		"::ffff:127.0.0.1", "::ffff:169.254.169.254", "64:ff9b::a9fe:a9fe", "255.255.255.255"} {
		require.NotEmpty(t, netguard.Blocked(netip.MustParseAddr(a)), a)
	}
	for _, a := range []string{"8.8.8.8", "20.50.2.1", "2606:4700::1111"} {
		require.Empty(t, netguard.Blocked(netip.MustParseAddr(a)), a)
	}
}

func TestCheckURL(t *testing.T) {
	t.Parallel()
	g := &netguard.Guard{}
	ctx := context.Background()
	for raw, want := range map[string]string{
		"":                              "required",
		"/relative/hook":                "absolute",
		"ftp://example.com/x":           "absolute http or https",
		"https://user:pw@8.8.8.8/x":     "user name",
		"https://127.0.0.1/hook":        "loopback",
		"http://[::1]:8080/hook":        "loopback",
		"http://169.254.169.254/latest": "link-local",
		"http://10.0.0.1/":              "private",
		"https://localhost/hook":        "resolves to a loopback",
		"https://8.8.8.8/" + strings.Repeat("a", netguard.CallbackURLMaxLen): "at most 16384",
		" https://8.8.8.8/": "white space",
		"https:///nohost":   "no host",
	} {
		err := g.CheckURL(ctx, raw)
		require.Error(t, err, raw)
		require.Contains(t, err.Error(), want, raw)
		var ge *netguard.Error
		require.ErrorAs(t, err, &ge)
	}
	require.NoError(t, g.CheckURL(ctx, "https://8.8.8.8/workflows/x/run?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sig=abc"))

	open := &netguard.Guard{AllowPrivate: true}
	require.NoError(t, open.CheckURL(ctx, "http://127.0.0.1:9/hook"))
	require.Error(t, open.CheckURL(ctx, "/relative"), "AllowPrivate relaxes addresses only")
}

// TestControlRefusesAtDialTime proves the second line of defence: even a URL
// that passed registration cannot make the dialer connect to loopback.
func TestControlRefusesAtDialTime(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	g := &netguard.Guard{}
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		DialContext: (&net.Dialer{Control: g.Control}).DialContext,
	}}
	_, err := client.Get(srv.URL)
	require.ErrorIs(t, err, netguard.ErrBlockedAddress)

	open := &netguard.Guard{AllowPrivate: true}
	client.Transport = &http.Transport{DialContext: (&net.Dialer{Control: open.Control}).DialContext}
	resp, err := client.Get(srv.URL)
	require.NoError(t, err)
	resp.Body.Close()
}

// TestCheckURLErrorsHideTheQuery: a registration's error is shown to the
// caller and may be logged; it never quotes the signature back.
func TestCheckURLErrorsHideTheQuery(t *testing.T) {
	t.Parallel()
	g := &netguard.Guard{}
	for _, raw := range []string{"https://exa mple.com/?sig=CANARY", "https://%zz/?sig=CANARY", "http://127.0.0.1/?sig=CANARY"} {
		err := g.CheckURL(context.Background(), raw)
		require.Error(t, err, raw)
		require.NotContains(t, err.Error(), "CANARY", raw)
	}
}
