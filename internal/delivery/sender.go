package delivery

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/triggerd/triggerd/internal/netguard"
	"github.com/triggerd/triggerd/internal/redact"
	"github.com/triggerd/triggerd/internal/signature"
)

// ConnsPerHostMax bounds the connections to one receiver host. Callbacks of
// many flows share a host (prod-NN.<region>.logic.azure.com), so it is
// generous; HTTP/2 hosts multiplex far more requests over fewer.
const ConnsPerHostMax = 256

// responseDrainMax is how much of a callback's response body is read so the
// connection can be reused; the rest is dropped with the connection.
const responseDrainMax = 64 << 10

// ResponseExcerptMax is how much of a callback's response body is kept with
// its attempt: enough for the receiver's error message, small enough that a
// billion attempts stay affordable.
const ResponseExcerptMax = 1 << 10

// Result is what one POST to a callback produced.
type Result struct {
	Status     int
	Duration   time.Duration
	Err        error
	RetryAfter time.Duration
	// Response is the first ResponseExcerptMax bytes of the response body.
	Response []byte
}

// sender posts signed notifications. One sender, and so one connection pool
// per receiver host, serves every delivery.
//
// It sends with the transport's RoundTrip, not an http.Client: a client
// would follow redirects (which deliveries must not) and, to be able to,
// copies every request's headers and keeps its chain; none of that is
// needed for one request that is answered or not. The client's two other
// services are done here: the timeout over the whole exchange, body
// included, and errors that name the method and URL (*url.Error).
type sender struct {
	transport *http.Transport
	timeout   time.Duration
	userAgent string
	// propagate sends the attempt's span as a W3C traceparent header.
	propagate bool
	// signers keeps each subscription's keyed HMAC across its deliveries.
	signers signature.Cache
}

// The headers of a notification, in Go's canonical form so that they go
// into the request's map as they are (http.Header.Set would canonicalize
// "webhook-id" into a new string on every request). HTTP header names are
// case-insensitive, so the wire form is the same.
const (
	headerContentType = "Content-Type"
	headerUserAgent   = "User-Agent"
	headerID          = "Webhook-Id"
	headerTimestamp   = "Webhook-Timestamp"
	headerSignature   = "Webhook-Signature"
)

func newSender(guard *netguard.Guard, timeout time.Duration, userAgent string, propagate bool) *sender {
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second, Control: guard.Control}
	transport := &http.Transport{
		// No proxy from the environment: the SSRF check must see the real
		// destination.
		Proxy:             nil,
		DialContext:       dialer.DialContext,
		ForceAttemptHTTP2: true,
		// One pool per receiver host, every connection in it kept alive:
		// beyond this many, requests wait for a connection instead of
		// dialling one that would be closed right after.
		MaxIdleConns:          4 * ConnsPerHostMax,
		MaxIdleConnsPerHost:   ConnsPerHostMax,
		MaxConnsPerHost:       ConnsPerHostMax,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		ResponseHeaderTimeout: timeout,
	}
	// Redirects are not followed, as the Standard Webhooks spec advises
	// (https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md):
	// a 3xx is an answer, and following it could lead anywhere. RoundTrip
	// never follows one.
	return &sender{transport: transport, timeout: timeout, userAgent: userAgent, propagate: propagate}
}

// send posts body to callbackURL, exactly as the URL was stored: its query
// carries the platform's signature (https://learn.microsoft.com/en-us/connectors/custom-connectors/create-webhook-trigger) and Go's
// client sends RawQuery unchanged.
func (s *sender) send(ctx context.Context, callbackURL, secret, messageID string, body []byte, now time.Time) Result {
	// The timeout covers the whole exchange, reading the answer included,
	// as http.Client.Timeout did.
	if s.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.timeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, callbackURL, bytes.NewReader(body))
	if err != nil {
		// url.Parse quotes the URL it failed on: redacted like any other.
		return Result{Err: fmt.Errorf("build request: %w", redact.Error(err))}
	}
	ts := now.Unix()
	// secret holds the current secret and, while a rotation's grace lasts,
	// the previous one (store.Subscription.SigningSecrets): one signature each.
	sig, err := s.signers.SignAll(secret, messageID, ts, body)
	if err != nil {
		return Result{Err: fmt.Errorf("subscription secret: %w", err)}
	}
	// One backing array for the five values instead of a slice per Set.
	vals := [...]string{"application/json", s.userAgent, messageID, strconv.FormatInt(ts, 10), sig}
	hv := vals[:]
	h := make(http.Header, len(vals)+1) // and traceparent
	h[headerContentType] = hv[0:1:1]
	h[headerUserAgent] = hv[1:2:2]
	h[headerID] = hv[2:3:3]
	h[headerTimestamp] = hv[3:4:4]
	h[headerSignature] = hv[4:5:5]
	req.Header = h
	if s.propagate {
		propagateTrace(ctx, req.Header)
	}

	start := time.Now()
	resp, err := s.transport.RoundTrip(req)
	if err != nil {
		// Named like http.Client's errors, `Post "https://…&sig=…":
		// connection refused`, which quote the URL, query and signature
		// included; it becomes the attempt's stored error and log line, so
		// it is redacted here, the one place every delivery error comes
		// from.
		return Result{Duration: time.Since(start), Err: redact.Error(&url.Error{Op: "Post", URL: callbackURL, Err: err})}
	}
	excerpt := readExcerpt(resp.Body)
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, responseDrainMax-int64(len(excerpt))))
	resp.Body.Close()
	return Result{
		Status:     resp.StatusCode,
		Duration:   time.Since(start),
		RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()),
		Response:   excerpt,
	}
}

// excerptBufs holds the buffers response excerpts are read into: most
// callbacks answer with an empty or short body, which then costs no
// allocation of ResponseExcerptMax bytes per delivery.
var excerptBufs = sync.Pool{New: func() any { return new([ResponseExcerptMax]byte) }}

// readExcerpt reads up to ResponseExcerptMax bytes of body and returns a
// copy of them (nil for an empty body).
func readExcerpt(body io.Reader) []byte {
	buf := excerptBufs.Get().(*[ResponseExcerptMax]byte)
	defer excerptBufs.Put(buf)
	n, _ := io.ReadFull(body, buf[:])
	if n == 0 {
		return nil
	}
	return bytes.Clone(buf[:n])
}

// parseRetryAfter reads delay-seconds or an HTTP date; 0 when absent or bad.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// isTimeout says the receiver did not answer in time.
func isTimeout(r Result) bool {
	if r.Err == nil {
		return false // before ne, whose address escapes: no allocation per success
	}
	var ne net.Error
	return errors.As(r.Err, &ne) && ne.Timeout()
}

// verdict is how a result is handled.
type verdict int

const (
	verdictDelivered verdict = iota
	verdictRetry
	verdictFailed
	verdictGone
)

// classify applies the delivery rules (https://learn.microsoft.com/en-us/connectors/custom-connectors/create-webhook-trigger and
// the Standard Webhooks status handling): 2xx delivered; 404 and 410 mean the
// flow is gone; 408, 429, 5xx and network errors are retried; any other answer
// is a permanent failure, since repeating the same request cannot change it.
func classify(r Result) (verdict, string) {
	if r.Err != nil {
		if errors.Is(r.Err, netguard.ErrBlockedAddress) {
			return verdictFailed, r.Err.Error()
		}
		var ne net.Error
		if errors.As(r.Err, &ne) && ne.Timeout() {
			return verdictRetry, "timed out: " + r.Err.Error()
		}
		return verdictRetry, r.Err.Error()
	}
	switch s := r.Status; {
	case s >= 200 && s < 300:
		return verdictDelivered, ""
	case s == http.StatusNotFound || s == http.StatusGone:
		return verdictGone, fmt.Sprintf("callback answered %d %s: the flow is gone", s, http.StatusText(s))
	case s == http.StatusRequestTimeout || s == http.StatusTooManyRequests || s >= 500:
		return verdictRetry, fmt.Sprintf("callback answered %d %s", s, http.StatusText(s))
	case s >= 300 && s < 400:
		return verdictFailed, fmt.Sprintf("callback answered %d %s; redirects are not followed", s, http.StatusText(s))
	default:
		return verdictFailed, fmt.Sprintf("callback answered %d %s", s, http.StatusText(s))
	}
}
