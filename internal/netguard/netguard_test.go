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

// TestBlockedCoversIANASpecialPurposeRegistries walks every entry of IANA's
// IPv4 and IPv6 Special-Purpose Address Registries
// (https://www.iana.org/assignments/iana-ipv4-special-registry/,
// https://www.iana.org/assignments/iana-ipv6-special-registry/) and the
// deprecated IPv6 forms that embed an IPv4 address: the first and the last
// address of each range are blocked, and so is a private IPv4 address
// smuggled inside each embedding form.
func TestBlockedCoversIANASpecialPurposeRegistries(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ prefix, first, last string }{
		// IPv4 registry.
		{"0.0.0.0/8", "0.0.0.0", "0.255.255.255"},
		{"10.0.0.0/8", "10.0.0.0", "10.255.255.255"},
		{"100.64.0.0/10", "100.64.0.0", "100.127.255.255"},
		{"127.0.0.0/8", "127.0.0.0", "127.255.255.255"},
		{"169.254.0.0/16", "169.254.0.0", "169.254.255.255"},
		{"172.16.0.0/12", "172.16.0.0", "172.31.255.255"},
		{"192.0.0.0/24", "192.0.0.0", "192.0.0.255"},
		{"192.0.0.0/29", "192.0.0.0", "192.0.0.7"},
		{"192.0.0.8/32", "192.0.0.8", "192.0.0.8"},
		{"192.0.0.9/32", "192.0.0.9", "192.0.0.9"},
		{"192.0.0.10/32", "192.0.0.10", "192.0.0.10"},
		{"192.0.0.170/31", "192.0.0.170", "192.0.0.171"},
		{"192.0.2.0/24", "192.0.2.0", "192.0.2.255"},
		{"192.31.196.0/24", "192.31.196.0", "192.31.196.255"},
		{"192.52.193.0/24", "192.52.193.0", "192.52.193.255"},
		{"192.88.99.0/24", "192.88.99.0", "192.88.99.255"},
		{"192.168.0.0/16", "192.168.0.0", "192.168.255.255"},
		{"192.175.48.0/24", "192.175.48.0", "192.175.48.255"},
		{"198.18.0.0/15", "198.18.0.0", "198.19.255.255"},
		{"198.51.100.0/24", "198.51.100.0", "198.51.100.255"},
		{"203.0.113.0/24", "203.0.113.0", "203.0.113.255"},
		{"240.0.0.0/4", "240.0.0.0", "255.255.255.254"},
		{"255.255.255.255/32", "255.255.255.255", "255.255.255.255"},
		// IPv6 registry.
		{"::1/128", "::1", "::1"},
		{"::/128", "::", "::"},
		{"::ffff:0:0/96", "::ffff:0.0.0.0", "::ffff:255.255.255.255"},
		{"64:ff9b::/96", "64:ff9b::", "64:ff9b::ffff:ffff"},
		{"64:ff9b:1::/48", "64:ff9b:1::", "64:ff9b:1:ffff:ffff:ffff:ffff:ffff"},
		{"100::/64", "100::", "100::ffff:ffff:ffff:ffff"},
		{"100:0:0:1::/64", "100:0:0:1::", "100:0:0:1:ffff:ffff:ffff:ffff"},
		{"2001::/23", "2001::", "2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff"},
		{"2001::/32", "2001::", "2001:0:ffff:ffff:ffff:ffff:ffff:ffff"},
		{"2001:1::1/128", "2001:1::1", "2001:1::1"},
		{"2001:1::2/128", "2001:1::2", "2001:1::2"},
		{"2001:1::3/128", "2001:1::3", "2001:1::3"},
		{"2001:2::/48", "2001:2::", "2001:2:0:ffff:ffff:ffff:ffff:ffff"},
		{"2001:3::/32", "2001:3::", "2001:3:ffff:ffff:ffff:ffff:ffff:ffff"},
		{"2001:4:112::/48", "2001:4:112::", "2001:4:112:ffff:ffff:ffff:ffff:ffff"},
		{"2001:10::/28", "2001:10::", "2001:1f:ffff:ffff:ffff:ffff:ffff:ffff"},
		{"2001:20::/28", "2001:20::", "2001:2f:ffff:ffff:ffff:ffff:ffff:ffff"},
		{"2001:30::/28", "2001:30::", "2001:3f:ffff:ffff:ffff:ffff:ffff:ffff"},
		{"2001:db8::/32", "2001:db8::", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"},
		{"2002::/16", "2002::", "2002:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
		{"2620:4f:8000::/48", "2620:4f:8000::", "2620:4f:8000:ffff:ffff:ffff:ffff:ffff"},
		{"3fff::/20", "3fff::", "3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff"},
		{"5f00::/16", "5f00::", "5f00:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
		{"fc00::/7", "fc00::", "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
		{"fe80::/10", "fe80::", "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
		// Deprecated forms outside the registry.
		{"::/96", "::", "::ffff:ffff"},
		{"::ffff:0:0:0/96", "::ffff:0:0:0", "::ffff:0:ffff:ffff"},
		{"fec0::/10", "fec0::", "feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
	} {
		p := netip.MustParsePrefix(tc.prefix)
		for _, a := range []string{tc.first, tc.last} {
			addr := netip.MustParseAddr(a)
			require.True(t, p.Contains(addr) || p.Contains(addr.Unmap()), "test table: %s not in %s", a, tc.prefix)
			require.NotEmpty(t, netguard.Blocked(addr), "%s (%s) must be blocked", a, tc.prefix)
		}
	}
	// A private IPv4 address inside each form that embeds one.
	for _, a := range []string{"::7f00:1", "::a00:1", "::ffff:0:a00:1", "64:ff9b::a00:1", "64:ff9b::7f00:1", "2002:7f00:1::", "2001:0:4136:e378:8000:63bf:3fff:fdd2"} {
		require.NotEmpty(t, netguard.Blocked(netip.MustParseAddr(a)), a)
	}
	require.Contains(t, netguard.Blocked(netip.MustParseAddr("::7f00:1")), "::/96")
	// Neighbours of the ranges stay deliverable.
	for _, a := range []string{"8.8.8.8", "1.1.1.1", "192.0.1.1", "192.31.197.1", "198.20.0.1", "223.255.255.1",
		"2606:4700::1111", "2001:200::1", "2003::1", "3ffe:ffff::1", "2620:4f:8001::1"} {
		require.Empty(t, netguard.Blocked(netip.MustParseAddr(a)), a)
	}
}

// fakeDNS answers every query on a loopback UDP port with rcode: 2 is
// SERVFAIL (the resolver is failing right now), 3 is NXDOMAIN.
func fakeDNS(t *testing.T, rcode byte) *net.Resolver {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			q := buf[:n]
			if len(q) < 12 {
				continue
			}
			// The question: labels up to the root, then type and class.
			end := 12
			for end < len(q) && q[end] != 0 {
				end += int(q[end]) + 1
			}
			end += 5
			if end > len(q) {
				continue
			}
			resp := append([]byte{q[0], q[1], 0x81, 0x80 | rcode, 0, 1, 0, 0, 0, 0, 0, 0}, q[12:end]...)
			_, _ = pc.WriteTo(resp, from)
		}
	}()
	addr := pc.LocalAddr().String()
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "udp", addr)
	}}
}

// TestCheckURLDNSErrors: a name that does not exist is the caller's to fix
// (not Temporary); a failing resolver is a temporary condition; neither
// message names the DNS server asked.
func TestCheckURLDNSErrors(t *testing.T) {
	t.Parallel()
	for rcode, temporary := range map[byte]bool{2: true, 3: false} {
		res := fakeDNS(t, rcode)
		g := &netguard.Guard{Resolver: res}
		err := g.CheckURL(context.Background(), "https://hooks.example.com/x?sig=CANARY")
		var ge *netguard.Error
		require.ErrorAs(t, err, &ge)
		require.Equal(t, temporary, ge.Temporary, err.Error())
		require.Contains(t, ge.Reason, `"hooks.example.com"`)
		require.NotContains(t, ge.Reason, "127.0.0.1")
		require.NotContains(t, ge.Reason, "CANARY")
		if temporary {
			require.Contains(t, ge.Reason, "retry later")
		} else {
			require.Contains(t, ge.Reason, "does not resolve")
		}
	}
}
