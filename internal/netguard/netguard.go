// Package netguard keeps callback URLs from reaching the publisher's own
// network (SSRF). A callback URL is checked when it is registered and, because
// DNS can change between registration and delivery (rebinding), the dialer
// checks again the address it actually connects to.
package netguard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// CallbackURLMaxLen is the longest callback URL accepted: Power Automate's
// request URL limit (https://learn.microsoft.com/en-us/power-automate/limits-and-config).
const CallbackURLMaxLen = 16384

// ResolveTimeoutDefault bounds the DNS lookup made at registration.
const ResolveTimeoutDefault = 5 * time.Second

// blockedPrefixes are the special-purpose ranges netip's predicates do not
// cover: every entry of IANA's IPv4 and IPv6 Special-Purpose Address
// Registries
// (https://www.iana.org/assignments/iana-ipv4-special-registry/ and
// https://www.iana.org/assignments/iana-ipv6-special-registry/), plus the
// deprecated IPv6 forms that embed an IPv4 address or a local scope. Even
// the entries IANA marks globally reachable (anycast relays, AS112) are
// infrastructure, never a flow's callback; and the ranges that embed an IPv4
// address (::/96, NAT64, 6to4, Teredo) could carry a private one past a
// check that looks at the IPv6 form only.
var blockedPrefixes = []struct {
	prefix netip.Prefix
	name   string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), `"this network" (RFC 791)`},
	{netip.MustParsePrefix("100.64.0.0/10"), "shared address space, carrier-grade NAT (RFC 6598)"},
	{netip.MustParsePrefix("192.0.0.0/24"), "IETF protocol assignments (RFC 6890)"},
	{netip.MustParsePrefix("192.0.2.0/24"), "documentation, TEST-NET-1 (RFC 5737)"},
	{netip.MustParsePrefix("192.31.196.0/24"), "AS112-v4 (RFC 7535)"},
	{netip.MustParsePrefix("192.52.193.0/24"), "AMT (RFC 7450)"},
	{netip.MustParsePrefix("192.88.99.0/24"), "deprecated 6to4 relay anycast (RFC 7526)"},
	{netip.MustParsePrefix("192.175.48.0/24"), "direct delegation AS112 service (RFC 7534)"},
	{netip.MustParsePrefix("198.18.0.0/15"), "benchmarking (RFC 2544)"},
	{netip.MustParsePrefix("198.51.100.0/24"), "documentation, TEST-NET-2 (RFC 5737)"},
	{netip.MustParsePrefix("203.0.113.0/24"), "documentation, TEST-NET-3 (RFC 5737)"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved, limited broadcast included (RFC 1112, RFC 919)"},

	{netip.MustParsePrefix("::/96"), "IPv4-compatible IPv6, deprecated (RFC 4291)"},
	{netip.MustParsePrefix("::ffff:0:0:0/96"), "IPv4-translated (RFC 2765)"},
	{netip.MustParsePrefix("64:ff9b::/96"), "NAT64 well-known prefix, embeds an IPv4 address (RFC 6052)"},
	{netip.MustParsePrefix("64:ff9b:1::/48"), "local-use NAT64 (RFC 8215)"},
	{netip.MustParsePrefix("100::/64"), "discard-only (RFC 6666)"},
	{netip.MustParsePrefix("100:0:0:1::/64"), "dummy IPv6 prefix (RFC 9780)"},
	{netip.MustParsePrefix("2001::/23"), "IETF protocol assignments, Teredo included (RFC 2928, RFC 4380)"},
	{netip.MustParsePrefix("2001:db8::/32"), "documentation (RFC 3849)"},
	{netip.MustParsePrefix("2002::/16"), "6to4, embeds an IPv4 address (RFC 3056)"},
	{netip.MustParsePrefix("2620:4f:8000::/48"), "direct delegation AS112 service (RFC 7534)"},
	{netip.MustParsePrefix("3fff::/20"), "documentation (RFC 9637)"},
	{netip.MustParsePrefix("5f00::/16"), "segment routing SIDs (RFC 9602)"},
	{netip.MustParsePrefix("fec0::/10"), "site-local, deprecated (RFC 3879)"},
}

// Blocked reports why an address must not be a callback target, or "" if it
// may be.
func Blocked(addr netip.Addr) string {
	addr = addr.Unmap()
	switch {
	case !addr.IsValid():
		return "invalid address"
	case addr.IsLoopback():
		return "loopback address"
	case addr.IsPrivate():
		return "private address"
	case addr.IsLinkLocalUnicast():
		return "link-local address (includes cloud metadata endpoints)"
	case addr.IsUnspecified():
		return "unspecified address"
	case addr.IsMulticast(), addr.IsLinkLocalMulticast(), addr.IsInterfaceLocalMulticast():
		return "multicast address"
	}
	for _, p := range blockedPrefixes {
		if p.prefix.Contains(addr) {
			return "special-purpose address in " + p.prefix.String() + ", " + p.name
		}
	}
	return ""
}

// Guard validates callback URLs and supplies the dialer check.
type Guard struct {
	// AllowPrivate lets callbacks reach any address: for local development
	// and tests, never for a server reachable by untrusted tenants.
	AllowPrivate bool

	// Resolver looks up host names at registration; nil means net.DefaultResolver.
	Resolver *net.Resolver
}

// Error is a callback URL that must be refused; its message tells the caller
// what to fix.
type Error struct {
	Reason string
	// Temporary means the URL could not be checked right now (DNS did not
	// answer): the same registration may succeed later, so the API answers
	// 503 rather than 422.
	Temporary bool
}

func (e *Error) Error() string { return e.Reason }

func refuse(format string, args ...any) error { return &Error{Reason: fmt.Sprintf(format, args...)} }

// CheckURL validates a callback URL: absolute http or https, a host, no
// credentials, at most CallbackURLMaxLen characters, and — unless
// AllowPrivate — every address its host resolves to is public. The URL is
// only inspected, never rewritten: the caller stores the original string.
func (g *Guard) CheckURL(ctx context.Context, raw string) error {
	if raw == "" {
		return refuse("callbackUrl is required")
	}
	if len(raw) > CallbackURLMaxLen {
		return refuse("callbackUrl is %d characters; at most %d are accepted", len(raw), CallbackURLMaxLen)
	}
	if strings.TrimSpace(raw) != raw {
		return refuse("callbackUrl must not start or end with white space")
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url.Parse's error quotes the whole URL, signature included: only
		// its cause is shown.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return refuse("callbackUrl is not a valid URL: %v", err)
	}
	if !u.IsAbs() || (u.Scheme != "https" && u.Scheme != "http") {
		return refuse("callbackUrl must be an absolute http or https URL, like https://example.com/hook")
	}
	if u.Host == "" || u.Hostname() == "" {
		return refuse("callbackUrl has no host")
	}
	if u.User != nil {
		return refuse("callbackUrl must not carry a user name or password")
	}
	if g.AllowPrivate {
		return nil
	}
	host := u.Hostname()
	if addr, err := netip.ParseAddr(host); err == nil {
		if why := Blocked(addr); why != "" {
			return refuse("callbackUrl points to a %s; triggerd only delivers to public addresses", why)
		}
		return nil
	}
	resolver := g.Resolver
	if resolver == nil {
		resolver = net.DefaultResolver
	}
	ctx, cancel := context.WithTimeout(ctx, ResolveTimeoutDefault)
	defer cancel()
	addrs, err := resolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		// The resolver's error names the DNS server it asked: the
		// publisher's internal network, not the caller's business.
		var de *net.DNSError
		if errors.As(err, &de) && !de.IsNotFound && (de.IsTemporary || de.IsTimeout) {
			return &Error{Reason: fmt.Sprintf("callbackUrl host %q could not be resolved right now; retry later", host), Temporary: true}
		}
		if ctx.Err() != nil {
			return &Error{Reason: fmt.Sprintf("callbackUrl host %q could not be resolved in time; retry later", host), Temporary: true}
		}
		return refuse("callbackUrl host %q does not resolve: check the host name", host)
	}
	for _, a := range addrs {
		if why := Blocked(a); why != "" {
			return refuse("callbackUrl host %q resolves to a %s; triggerd only delivers to public addresses", host, why)
		}
	}
	return nil
}

// ErrBlockedAddress is returned by the dialer when a connection would reach
// a blocked address.
var ErrBlockedAddress = errors.New("address blocked by triggerd's SSRF protection")

// Control is a net.Dialer Control function that refuses blocked addresses.
// It sees the address after DNS resolution, so it holds against rebinding.
func (g *Guard) Control(_, address string, _ syscall.RawConn) error {
	if g.AllowPrivate {
		return nil
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: cannot parse %q", ErrBlockedAddress, address)
	}
	if why := Blocked(ap.Addr()); why != "" {
		return fmt.Errorf("%w: %s", ErrBlockedAddress, why)
	}
	return nil
}
