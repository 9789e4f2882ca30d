package flow

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

// webhook subscribes, receives until told to stop, then unsubscribes, in the
// order the platform does (power-platform-triggers.md §1.1).
func (s *session) webhook(ctx context.Context) error {
	s.out.trigger(s.def, s.t, s.base)
	s.checkCredentials()
	pl := s.notificationPayload()

	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("flow: listen for notifications on %s: %w", s.cfg.Listen, err)
	}
	base := s.cfg.CallbackURL
	if base == "" {
		base = listenBase(ln.Addr())
	}
	cb, err := newCallback(base, s.t.summary())
	if err != nil {
		ln.Close()
		return err
	}
	c, err := s.buildCall(s.t.op, s.t.path, s.t.method, s.t.params, cb.url)
	if err != nil {
		ln.Close()
		return err
	}
	s.report.CallbackURL = cb.url

	recv := &receiver{s: s, cb: cb, pl: pl, done: make(chan struct{})}
	srv := &http.Server{Handler: recv, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			srv.Close()
		}
		<-served
	}()
	s.out.note("listening for notifications on %s", ln.Addr())
	if s.cfg.OnListen != nil {
		s.cfg.OnListen(ln.Addr(), cb.url)
	}

	if !s.register(ctx, c, cb) {
		recv.stop()
		return nil
	}
	if s.cfg.OnSubscribed != nil {
		s.cfg.OnSubscribed(s.report.Location)
	}
	s.out.note("waiting for notifications (Ctrl-C removes the trigger)")
	select {
	case <-ctx.Done():
	case <-recv.done:
	}
	recv.stop()
	s.checkRunsReached(ctx)
	if s.report.Location == "" {
		s.out.note("no Location to send DELETE to: the subscription stays registered at the publisher")
		return nil
	}
	s.unsubscribe(ctx, s.report.Location)
	return nil
}

// register sends the subscription and checks the answer against the 201 +
// Location contract (power-platform-triggers.md §1.1, §1.7). It reports
// whether notifications can be expected.
func (s *session) register(ctx context.Context, c *call, cb *callback) bool {
	hdr := c.header.Clone()
	// Headers the engine adds to a subscribe call (trigger-pain-points.md §5).
	hdr.Set("x-ms-workflow-name", cb.workflowID)
	hdr.Set("x-ms-workflow-version", cb.version)
	// A Ctrl-C while the registration is in flight must not orphan a
	// subscription the publisher may already have made: finish the request
	// (bounded by the client's timeout), then unsubscribe at once.
	resp, err := s.send(context.WithoutCancel(ctx), c.method, c.url, hdr, c.body)
	if err != nil {
		s.deviate(Failure, "register", "registration-failed",
			"the registration request failed: %v. The platform retries a failed subscribe a few times, then shows the trigger as failed until the maker saves the flow again (trigger-pain-points.md §5)", err)
		return false
	}
	if resp.status < 200 || resp.status > 299 {
		s.deviate(Failure, "register", "registration-failed",
			"the registration answered %s: %s. The platform needs a 2xx with a Location header; it retries a failed subscribe a few times, then shows the trigger as failed until the maker saves the flow again (trigger-pain-points.md §5)", resp.text, excerpt(resp.body))
		return false
	}
	if resp.status != http.StatusCreated {
		s.deviate(Warning, "register", "status-not-201",
			"the registration answered %s; the documented contract is 201 Created with a Location header (power-platform-triggers.md §1.1, §1.7). The platform keys on the Location of any 2xx, so this works, but answer 201", resp.text)
	}
	loc := resp.header.Get("Location")
	if loc == "" {
		s.deviate(Failure, "register", "missing-location",
			"the registration answered %s without a Location header. The platform stores the Location to send DELETE to it when the trigger is removed, the flow is turned off or deleted, or the trigger is edited; without it the webhook is created but never deleted, and the publisher keeps posting to a dead callback URL (power-platform-triggers.md §1.6, §1.7)", resp.text)
		return true
	}
	abs, err := s.resolveLocation("register", loc, c.url)
	if err != nil {
		s.deviate(Failure, "register", "bad-location", "the registration's Location is unusable: %v; the platform could never delete this webhook (power-platform-triggers.md §1.7)", err)
		return true
	}
	s.report.Location = abs
	s.checkDeleteRoute(abs)
	return true
}

// checkDeleteRoute checks that the Location routes to a DELETE operation the
// definition declares on the connector's own host. The platform sends the
// DELETE through the connector, with the connection's credentials, only then
// (power-platform-triggers.md §1.6, §1.7; microsoft/PowerPlatformConnectors#3678).
func (s *session) checkDeleteRoute(loc string) {
	u, err := url.Parse(loc)
	if err != nil {
		return
	}
	b, _ := url.Parse(s.base)
	if !strings.EqualFold(u.Host, b.Host) || u.Scheme != b.Scheme {
		s.deviate(Warning, "register", "location-foreign-host",
			"Location %s is not on the connector's host %s://%s; the platform routes the DELETE through the connector only for its own host, and otherwise sends it without the connection's credentials (power-platform-triggers.md §1.7, microsoft/PowerPlatformConnectors#3678). flow sends it with them", s.redact(loc), b.Scheme, b.Host)
		return
	}
	basePath := strings.TrimSuffix(b.Path, "/")
	rel, ok := strings.CutPrefix(u.Path, basePath)
	if !ok {
		s.deviate(Warning, "register", "location-no-delete-operation",
			"Location path %s is outside the connector's basePath %s, so it matches no DELETE operation of the definition (power-platform-triggers.md §1.7)", u.Path, basePath)
		return
	}
	for _, o := range s.def.operations() {
		if o.method != http.MethodDelete || !templateMatch(o.path, rel) {
			continue
		}
		s.out.note("Location routes to DELETE operation %s", o.op.OperationID)
		if !isInternal(o.op.Extensions) {
			s.deviate(Warning, "definition", "delete-not-internal",
				"DELETE operation %s is not x-ms-visibility: internal, so makers see it as an action; the platform's contract asks for an internal DELETE (power-platform-triggers.md §1.6)", o.op.OperationID)
		}
		params, err := s.def.parameters(s.def.doc.Paths[o.path], o.op)
		if err != nil {
			return
		}
		q := u.Query()
		for _, p := range params {
			if p.In == "query" && p.Required && !q.Has(p.Name) {
				s.deviate(Warning, "register", "location-missing-query",
					"DELETE operation %s requires query parameter %s, which the Location lacks (power-platform-triggers.md §1.7: a query id must travel in the Location, as BoldSign's webHookIds does)", o.op.OperationID, p.Name)
			}
		}
		return
	}
	s.deviate(Warning, "register", "location-no-delete-operation",
		"Location path %s matches no DELETE operation of the definition; the platform sends the DELETE through the connector only to a declared (internal) DELETE operation, so declare one whose path template matches (power-platform-triggers.md §1.6, §1.7)", rel)
}

// templateMatch matches a concrete path against a Swagger path template.
func templateMatch(template, path string) bool {
	parts := strings.Split(template, "/")
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	re := "^" + strings.Join(parts, "/") + "/?$"
	re = regexp.MustCompile(`\\\{[^/]*?\\\}`).ReplaceAllString(re, `[^/]+`)
	ok, _ := regexp.MatchString(re, path)
	return ok
}

// unsubscribe sends DELETE to the Location with the same connection, as the
// platform does when the trigger is removed (power-platform-triggers.md §1.6).
func (s *session) unsubscribe(ctx context.Context, loc string) {
	// The run's context is usually cancelled by now (Ctrl-C, timeout); the
	// DELETE must still go out.
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), DefaultRequestTimeout)
	defer cancel()
	resp, err := s.send(dctx, http.MethodDelete, loc, nil, nil)
	if err != nil {
		s.deviate(Failure, "delete", "delete-failed",
			"the DELETE to the Location failed: %v. The platform would retry connectivity errors a few times and then give up, leaving the webhook registered (power-platform-triggers.md §1.9)", err)
		return
	}
	s.report.DeleteStatus = resp.status
	switch {
	case resp.status >= 200 && resp.status <= 299:
		s.out.note("unsubscribed")
	case resp.status == http.StatusNotFound:
		s.deviate(Warning, "delete", "delete-not-found",
			"the DELETE answered 404: the subscription was already gone, or the Location does not address it. Whether the platform counts 404 as success is undocumented (power-platform-triggers.md §8); answer 204 for a known id and keep DELETE idempotent (§1.10)")
	case resp.status == http.StatusUnauthorized || resp.status == http.StatusForbidden:
		s.deviate(Failure, "delete", "delete-failed",
			"the DELETE answered %s: the publisher refused the connection's credentials, which the platform sends on the DELETE exactly as on the registration (power-platform-triggers.md §1.6). The webhook stays registered and keeps firing into a dead callback", resp.text)
	case resp.status == http.StatusMethodNotAllowed:
		s.deviate(Failure, "delete", "delete-failed",
			"the DELETE answered 405: nothing at the Location accepts DELETE, so the platform can never remove this webhook (power-platform-triggers.md §1.6, §1.7)")
	default:
		s.deviate(Failure, "delete", "delete-failed",
			"the DELETE answered %s: %s. The platform retries 408, 429 and 5xx a few times, then gives up and the webhook stays registered (power-platform-triggers.md §1.9)", resp.text, excerpt(resp.body))
	}
}

// receiver is the callback endpoint: the platform's side of a notification.
type receiver struct {
	s  *session
	cb *callback
	pl *payload

	mu      sync.Mutex
	sources int
	closed  bool
	done    chan struct{}
	warned  map[string]bool
}

func (rv *receiver) stop() {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	rv.closed = true
}

func (rv *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s := rv.s
	if r.URL.EscapedPath() != rv.cb.path {
		s.deviate(Failure, "callback", "callback-wrong-path",
			"a %s arrived at %s, not at the callback path %s: the publisher changed the callback URL's path, and the platform would answer 404 (power-platform-triggers.md §1.8: use the URL verbatim)", r.Method, r.URL.EscapedPath(), rv.cb.path)
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		s.deviate(Failure, "callback", "callback-method",
			"a %s arrived at the callback URL; notifications are POSTed (power-platform-triggers.md §1.9)", r.Method)
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "notifications must be POSTed", http.StatusMethodNotAllowed)
		return
	}
	if bad, reencoded := rv.cb.queryCheck(r.URL.RawQuery); bad != "" {
		s.deviate(Failure, "callback", "callback-signature",
			"a notification arrived with %s changed or missing (query %q, handed out %q); the platform checks the signed query and answers 401, so no run starts. Store the callback URL byte for byte and POST to it verbatim (power-platform-triggers.md §1.8)", bad, r.URL.RawQuery, rv.cb.rawQuery)
		http.Error(w, `{"error":{"code":"DirectApiAuthorizationRequired","message":"The request must be authenticated only by Shared Access scheme."}}`, http.StatusUnauthorized)
		return
	} else if reencoded {
		rv.warnOnce("callback-query-reencoded", func() {
			s.deviate(Warning, "callback", "callback-query-reencoded",
				"the publisher did not use the callback URL verbatim: it arrived with query %q, handed out as %q (decoded, re-escaped or re-ordered). The signed values survived, so this run starts, but store the URL as a string and POST to it unchanged; rebuilding it (e.g. url.Values.Encode) is how signatures get broken (power-platform-triggers.md §1.8)", r.URL.RawQuery, rv.cb.rawQuery)
		})
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	if err != nil {
		s.deviate(Failure, "callback", "callback-read", "reading a notification failed: %v", err)
		http.Error(w, "read error", http.StatusBadRequest)
		return
	}
	if len(body) > MaxBodyBytes {
		s.deviate(Failure, "callback", "callback-too-large",
			"a notification exceeded %d bytes; keep notifications small and let the flow fetch details (power-platform-triggers.md §1.9)", MaxBodyBytes)
		http.Error(w, "too large", http.StatusRequestEntityTooLarge)
		return
	}
	rv.mu.Lock()
	if rv.closed {
		rv.mu.Unlock()
		s.out.note("a notification arrived after the trigger was removed; answered 404")
		http.NotFound(w, r)
		return
	}
	rv.sources++
	source := rv.sources
	rv.mu.Unlock()

	rv.checkHeaders(r, body)
	headers := map[string]string{}
	for k, vs := range r.Header {
		headers[k] = strings.Join(vs, ", ")
	}
	if s.record(source, time.Now(), headers, rv.pl, body) {
		rv.mu.Lock()
		if !rv.closed {
			rv.closed = true
			close(rv.done)
		}
		rv.mu.Unlock()
	}
	// The engine answers trigger calls 202 Accepted (power-platform-triggers.md §1.9).
	w.Header().Set("x-ms-workflow-run-id", runID())
	w.Header().Set("x-ms-workflow-version", rv.cb.version)
	w.WriteHeader(http.StatusAccepted)
}

// checkHeaders warns about a non-JSON content type and about headers the
// definition declares in x-ms-notification-content but that did not arrive.
func (rv *receiver) checkHeaders(r *http.Request, body []byte) {
	s := rv.s
	if ct := r.Header.Get("Content-Type"); len(body) > 0 && !strings.Contains(strings.ToLower(ct), "json") {
		rv.warnOnce("callback-content-type", func() {
			s.deviate(Warning, "callback", "callback-content-type",
				"a notification arrived with Content-Type %q; the platform parses the body as JSON only when it is declared as JSON, otherwise the maker's dynamic content stays empty (power-platform-triggers.md §1.9)", ct)
		})
	}
	for _, h := range rv.pl.headers {
		if r.Header.Get(h) == "" {
			rv.warnOnce("callback-missing-header:"+h, func() {
				s.deviate(Warning, "callback", "callback-missing-header",
					"x-ms-notification-content declares header %q, which the notification lacks; flows that use it get nothing", h)
			})
		}
	}
}

func (rv *receiver) warnOnce(key string, f func()) {
	rv.mu.Lock()
	if rv.warned == nil {
		rv.warned = map[string]bool{}
	}
	seen := rv.warned[key]
	rv.warned[key] = true
	rv.mu.Unlock()
	if !seen {
		f()
	}
}

// runID looks like the engine's run ids (08585…CU00).
func runID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return "08584" + strings.ToUpper(hex.EncodeToString(b)) + "CU00"
}

// notificationPayload describes x-ms-notification-content's schema: the
// path item carries it (power-platform-triggers.md §1.4).
func (s *session) notificationPayload() *payload {
	nc := rawMap(s.t.rawItem, "x-ms-notification-content")
	if nc == nil {
		nc = rawMap(s.t.rawItem, strings.ToLower(s.t.method), "x-ms-notification-content")
		if nc != nil {
			s.deviate(Warning, "definition", "notification-content-on-operation",
				"x-ms-notification-content sits inside the operation; the designer reads it from the path item, beside %q (power-platform-triggers.md §1.4)", strings.ToLower(s.t.method))
		}
	}
	pl := &payload{what: "notification schema (x-ms-notification-content)"}
	if nc == nil {
		s.deviate(Warning, "definition", "no-notification-schema",
			"the path item has no x-ms-notification-content, so the designer offers no dynamic content and flow cannot validate notifications (power-platform-triggers.md §1.4)")
	} else {
		pl.setSchema(s, nc["schema"])
		for h := range rawMap(nc, "headers") {
			pl.headers = append(pl.headers, h)
		}
		slices.Sort(pl.headers)
	}
	return pl
}
