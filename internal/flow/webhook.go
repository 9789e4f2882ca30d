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
	"strconv"
	"strings"
	"sync"
	"time"
)

// webhook subscribes, receives until told to stop, then unsubscribes, in the
// order the platform does
// (https://learn.microsoft.com/connectors/custom-connectors/create-webhook-trigger).
// With Config.Lifecycle it plays the whole sequence of subscribe and
// unsubscribe calls a flow's life causes instead (lifecycle.go).
func (s *session) webhook(ctx context.Context) error {
	s.out.trigger(s.def, s.t, s.base)
	s.checkCredentials()
	pl := s.notificationPayload(ctx)

	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("flow: listen for notifications on %s: %w", s.cfg.Listen, err)
	}
	s.callbackBase = s.cfg.CallbackURL
	if s.callbackBase == "" {
		s.callbackBase = listenBase(ln.Addr())
	}
	s.workflowID, err = newWorkflowID()
	if err != nil {
		ln.Close()
		return err
	}
	// The first registration's request is built before anything is sent, so
	// a missing input stops flow with nothing registered.
	first, err := s.prepare()
	if err != nil {
		ln.Close()
		return err
	}

	recv := newReceiver(s, pl)
	s.recv = recv
	srv := &http.Server{Handler: recv, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	defer func() {
		recv.stop()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			srv.Close()
		}
		<-served
	}()
	s.out.note("listening for notifications on %s", ln.Addr())
	if s.cfg.OnListen != nil {
		s.cfg.OnListen(ln.Addr(), first.cb.url)
	}

	if len(s.cfg.Lifecycle) > 0 {
		s.lifecycle(ctx, first)
		s.faultReport()
		return nil
	}

	reg := s.subscribe(ctx, first)
	if reg == nil {
		return nil
	}
	if s.cfg.OnSubscribed != nil {
		s.cfg.OnSubscribed(reg.location)
	}
	if s.t.kind == KindAction {
		s.out.note("waiting for the action's callback (Ctrl-C cancels the action)")
	} else {
		s.out.note("waiting for notifications (Ctrl-C removes the trigger)")
	}
	select {
	case <-ctx.Done():
	case <-recv.done:
	}
	recv.stop()
	s.checkRunsReached(ctx)
	s.faultReport()
	s.remove(ctx, reg)
	return nil
}

// registration is one subscription the platform made: the callback URL it
// handed out and the Location it was given back.
type registration struct {
	// n counts registrations from 1.
	n  int
	cb *callback
	// call is the registration request.
	call *call
	// status is the registration's HTTP status, 0 if it failed to send.
	status int
	// location is the absolute Location, "" when there is none.
	location string
	// retired is set once the platform is done with the registration (its
	// DELETE was sent, or would have been): notifications to it are orphans.
	retired bool
	// retiredBy names the step that retired it.
	retiredBy string
	// deleteStatus is the DELETE's status, 0 if none was sent.
	deleteStatus int
	// orphaned is set once a notification reached it after it was retired.
	orphaned bool
}

// prepare builds the next registration: a new callback URL (a new version
// of the same workflow, as each save of a flow gives) and the request that
// carries it.
func (s *session) prepare() (*registration, error) {
	cb, err := newCallback(s.callbackBase, s.workflowID, s.t.summary())
	if err != nil {
		return nil, err
	}
	c, err := s.buildCall(s.t.op, s.t.path, s.t.method, s.t.params, cb.url, s.cfg.Params)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	reg := &registration{n: len(s.regs) + 1, cb: cb, call: c}
	s.regs = append(s.regs, reg)
	return reg, nil
}

// subscribe sends a prepared registration and returns it, or nil when the
// publisher refused it (then no notification can be expected).
func (s *session) subscribe(ctx context.Context, reg *registration) *registration {
	s.mu.Lock()
	if s.report.CallbackURL == "" {
		s.report.CallbackURL = reg.cb.url
	}
	s.mu.Unlock()
	if !s.register(ctx, reg) {
		s.mu.Lock()
		reg.retired, reg.retiredBy = true, "its failed registration"
		s.mu.Unlock()
		return nil
	}
	return reg
}

// remove retires a registration and sends its DELETE, as the platform does
// when the trigger is removed, the flow turned off or deleted, or the
// trigger edited.
func (s *session) remove(ctx context.Context, reg *registration) {
	s.mu.Lock()
	reg.retired = true
	if reg.retiredBy == "" {
		reg.retiredBy = "the end of the run"
	}
	s.mu.Unlock()
	if reg.location == "" {
		s.out.note("registration %d has no Location to send DELETE to: it stays registered at the publisher", reg.n)
		return
	}
	reg.deleteStatus = s.unsubscribe(ctx, reg.location)
	s.mu.Lock()
	s.report.DeleteStatus = reg.deleteStatus
	s.mu.Unlock()
}

// register sends the subscription and checks the answer against the 201 +
// Location contract
// (https://learn.microsoft.com/connectors/custom-connectors/create-webhook-trigger).
// It reports whether notifications can be expected.
func (s *session) register(ctx context.Context, reg *registration) bool {
	c, cb := reg.call, reg.cb
	hdr := c.header.Clone()
	// Headers the engine adds to a subscribe call, which publishers use to
	// tell flows apart (microsoft/PowerPlatformConnectors#3668).
	hdr.Set("x-ms-workflow-name", cb.workflowID)
	hdr.Set("x-ms-workflow-version", cb.version)
	// A Ctrl-C while the registration is in flight must not orphan a
	// subscription the publisher may already have made: finish the request
	// (bounded by the client's timeout), then unsubscribe at once.
	resp, err := s.send(context.WithoutCancel(ctx), c.method, c.url, hdr, c.body, true)
	what := "registration"
	if s.t.kind == KindAction {
		what = "action call"
	}
	if err != nil {
		s.deviate(Error, "register", "registration-failed",
			"the %s failed: %v. The platform retries a failed subscribe a few times, then shows the trigger as failed until the maker saves the flow again (https://learn.microsoft.com/power-automate/triggers-troubleshoot)", what, err)
		return false
	}
	reg.status = resp.status
	if resp.status < 200 || resp.status > 299 {
		s.deviate(Error, "register", "registration-failed",
			"the %s answered %s: %s. The platform needs a 2xx with a Location header; it retries a failed subscribe a few times, then shows the trigger as failed until the maker saves the flow again (https://learn.microsoft.com/power-automate/triggers-troubleshoot)", what, resp.text, excerpt(resp.body))
		return false
	}
	if resp.status != http.StatusCreated {
		s.deviate(Warning, "register", "status-not-201",
			"the %s answered %s; the documented contract is 201 Created with a Location header (https://learn.microsoft.com/connectors/custom-connectors/create-webhook-trigger). The platform keys on the Location of any 2xx, so this works, but answer 201", what, resp.text)
	}
	loc := resp.header.Get("Location")
	if loc == "" {
		if s.t.kind == KindAction {
			// An action's subscription ends with its callback; the Location
			// only matters when the run is cancelled while it waits.
			s.deviate(Warning, "register", "missing-location",
				"the action call answered %s without a Location header, so the platform cannot cancel the request if the run is cancelled or times out while it waits for the callback (https://learn.microsoft.com/azure/logic-apps/logic-apps-workflow-actions-triggers#apiconnectionwebhook-action)", resp.text)
			return true
		}
		s.deviate(Error, "register", "missing-location",
			"the registration answered %s without a Location header. The platform stores the Location to send DELETE to it when the trigger is removed, the flow is turned off or deleted, or the trigger is edited; without it the webhook is created but never deleted, and the publisher keeps posting to a dead callback URL (https://learn.microsoft.com/connectors/custom-connectors/create-webhook-trigger)", resp.text)
		return true
	}
	abs, err := s.resolveLocation("register", loc, c.url)
	if err != nil {
		s.deviate(Error, "register", "bad-location", "the registration's Location is unusable: %v; the platform could never delete this webhook (https://learn.microsoft.com/connectors/custom-connectors/create-webhook-trigger)", err)
		return true
	}
	reg.location = abs
	s.mu.Lock()
	s.report.Location = abs
	s.mu.Unlock()
	if reg.n == 1 || !s.seenRoute {
		s.seenRoute = true
		s.checkDeleteRoute(abs)
	}
	return true
}

// checkDeleteRoute checks that the Location routes to a DELETE operation the
// definition declares on the connector's own host. The platform sends the
// DELETE through the connector, with the connection's credentials, only then
// (https://learn.microsoft.com/connectors/custom-connectors/create-webhook-trigger;
// microsoft/PowerPlatformConnectors#3678).
func (s *session) checkDeleteRoute(loc string) {
	u, err := url.Parse(loc)
	if err != nil {
		return
	}
	b, _ := url.Parse(s.base)
	if s.foreignHost(loc) {
		s.deviate(Warning, "register", "location-foreign-host",
			"Location %s is not on the connector's host %s://%s. The platform sends a DELETE through the connector, with the connection's credentials, only to the connector's own host; to any other host it goes without them (microsoft/PowerPlatformConnectors#3678), so a publisher that checks its API key there refuses it and the webhook is never deleted. flow sends this DELETE without credentials, as the platform does. Answer a Location on %s%s that matches the definition's DELETE operation", s.redact(loc), b.Scheme, b.Host, b.Host, b.Path)
		return
	}
	basePath := strings.TrimSuffix(b.Path, "/")
	rel, ok := strings.CutPrefix(u.Path, basePath)
	if !ok {
		s.deviate(Warning, "register", "location-no-delete-operation",
			"Location path %s is outside the connector's basePath %s, so it matches no DELETE operation of the definition (https://learn.microsoft.com/connectors/custom-connectors/create-webhook-trigger)", u.Path, basePath)
		return
	}
	for _, o := range s.def.operations() {
		if o.method != http.MethodDelete || !templateMatch(o.path, rel) {
			continue
		}
		s.out.note("Location routes to DELETE operation %s", o.op.OperationID)
		if !isInternal(o.op.Extensions) {
			s.deviate(Warning, "definition", "delete-not-internal",
				"DELETE operation %s is not x-ms-visibility: internal, so makers see it as an action; the platform's contract asks for an internal DELETE (https://learn.microsoft.com/connectors/custom-connectors/create-webhook-trigger)", o.op.OperationID)
		}
		params, err := s.def.parameters(s.def.doc.Paths[o.path], o.op)
		if err != nil {
			return
		}
		q := u.Query()
		for _, p := range params {
			if p.In == "query" && p.Required && !q.Has(p.Name) {
				s.deviate(Warning, "register", "location-missing-query",
					"DELETE operation %s requires query parameter %s, which the Location lacks (https://learn.microsoft.com/connectors/custom-connectors/create-webhook-trigger: a query id must travel in the Location, as BoldSign's webHookIds does)", o.op.OperationID, p.Name)
			}
		}
		return
	}
	s.deviate(Warning, "register", "location-no-delete-operation",
		"Location path %s matches no DELETE operation of the definition; the platform sends the DELETE through the connector only to a declared (internal) DELETE operation, so declare one whose path template matches (https://learn.microsoft.com/connectors/custom-connectors/create-webhook-trigger)", rel)
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

// foreignHost reports whether a URL is off the connector's scheme and host.
func (s *session) foreignHost(loc string) bool {
	u, err := url.Parse(loc)
	if err != nil {
		return true
	}
	b, _ := url.Parse(s.base)
	return !strings.EqualFold(u.Host, b.Host) || u.Scheme != b.Scheme
}

// unsubscribe sends DELETE to the Location as the platform does when the
// trigger is removed: through the connector with the same connection
// ("The same connection used in the connector is also used for the delete
// webhook call", https://learn.microsoft.com/connectors/custom-connectors/create-webhook-trigger),
// but without any credentials when the Location is on another host, which is
// what the platform was seen doing (microsoft/PowerPlatformConnectors#3678).
// It returns the DELETE's status, 0 when it could not be sent.
func (s *session) unsubscribe(ctx context.Context, loc string) int {
	// The run's context is usually cancelled by now (Ctrl-C, timeout); the
	// DELETE must still go out.
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), DefaultRequestTimeout)
	defer cancel()
	withCreds := !s.foreignHost(loc)
	if !withCreds {
		s.out.note("the Location is on another host: the DELETE goes without the connection's credentials, as the platform sends it")
	}
	resp, err := s.send(dctx, http.MethodDelete, loc, nil, nil, withCreds)
	if err != nil {
		s.deviate(Error, "delete", "delete-failed",
			"the DELETE to the Location failed: %v. The platform retries connectivity errors a few times and then gives up, leaving the webhook registered (https://learn.microsoft.com/azure/logic-apps/logic-apps-workflow-actions-triggers)", err)
		return 0
	}
	switch {
	case resp.status >= 200 && resp.status <= 299:
		s.out.note("unsubscribed")
	case resp.status == http.StatusNotFound:
		s.deviate(Warning, "delete", "delete-not-found",
			"the DELETE answered 404: the subscription was already gone, or the Location does not address it. Whether the platform counts 404 as success is undocumented; answer 204 for a known id and keep DELETE idempotent")
	case (resp.status == http.StatusUnauthorized || resp.status == http.StatusForbidden) && !withCreds:
		s.deviate(Error, "delete", "delete-failed",
			"the DELETE answered %s: it went to a Location on another host, so it carried no credentials, as the platform's does (microsoft/PowerPlatformConnectors#3678). The webhook stays registered and keeps firing into a dead callback: answer a Location on the connector's host", resp.text)
	case resp.status == http.StatusUnauthorized || resp.status == http.StatusForbidden:
		s.deviate(Error, "delete", "delete-failed",
			"the DELETE answered %s: the publisher refused the connection's credentials, which the platform sends on the DELETE exactly as on the registration (https://learn.microsoft.com/connectors/custom-connectors/create-webhook-trigger). The webhook stays registered and keeps firing into a dead callback", resp.text)
	case resp.status == http.StatusMethodNotAllowed:
		s.deviate(Error, "delete", "delete-failed",
			"the DELETE answered 405: nothing at the Location accepts DELETE, so the platform can never remove this webhook (https://learn.microsoft.com/connectors/custom-connectors/create-webhook-trigger)")
	default:
		s.deviate(Error, "delete", "delete-failed",
			"the DELETE answered %s: %s. The platform retries 408, 429 and 5xx a few times, then gives up and the webhook stays registered (https://learn.microsoft.com/azure/logic-apps/logic-apps-workflow-actions-triggers)", resp.text, excerpt(resp.body))
	}
	return resp.status
}

// arrival is one request at a callback URL, kept for the lifecycle's
// orphan and duplicate checks and for the fault report.
type arrival struct {
	at  time.Time
	reg *registration
	// retired is true when it reached a registration the platform was done
	// with: an orphan.
	retired bool
	// status is what the callback answered.
	status int
	// accepted is true when a run started for it.
	accepted bool
	// fault is true when the answer was an injected fault.
	fault bool
	// hung is how long the publisher waited for a delayed answer before it
	// closed the connection; 0 when it waited for the answer.
	hung time.Duration
	// key identifies the notification: the callback and the body's bytes,
	// so that a retry of the same notification has the same key.
	key string
}

// receiver is the callback endpoint: the platform's side of a notification,
// for every callback URL the lifecycle handed out.
type receiver struct {
	s  *session
	pl *payload

	mu       sync.Mutex
	sources  int
	closed   bool
	done     chan struct{}
	warned   map[string]bool
	arrivals []arrival
	// changed is closed and replaced on every arrival, so waiters wake.
	changed chan struct{}
	// faults counts the notifications answered with an injected fault.
	faults int
	// quit is closed by stop, ending held-back answers.
	quit     chan struct{}
	quitting bool
}

func newReceiver(s *session, pl *payload) *receiver {
	return &receiver{s: s, pl: pl, done: make(chan struct{}), changed: make(chan struct{}), quit: make(chan struct{})}
}

// stop makes the callback answer 404 from now on, as the platform does for a
// removed trigger, and releases answers held back by a delay.
func (rv *receiver) stop() {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	rv.closed = true
	if !rv.quitting {
		rv.quitting = true
		close(rv.quit)
	}
}

// lookup finds the registration a callback path belongs to.
func (rv *receiver) lookup(path string) *registration {
	s := rv.s
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, reg := range s.regs {
		if reg.cb.path == path {
			return reg
		}
	}
	return nil
}

// arrive records an arrival, wakes waiters and returns its index.
func (rv *receiver) arrive(a arrival) int {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	rv.arrivals = append(rv.arrivals, a)
	close(rv.changed)
	rv.changed = make(chan struct{})
	return len(rv.arrivals) - 1
}

// setHung records that the publisher hung up on arrival i after d.
func (rv *receiver) setHung(i int, d time.Duration) {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	rv.arrivals[i].hung = d
}

// since returns the arrivals from index i on, and a channel closed on the
// next arrival.
func (rv *receiver) since(i int) ([]arrival, <-chan struct{}) {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	return slices.Clone(rv.arrivals[min(i, len(rv.arrivals)):]), rv.changed
}

func (rv *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s := rv.s
	reg := rv.lookup(r.URL.EscapedPath())
	if reg == nil {
		s.deviate(Error, "callback", "callback-wrong-path",
			"a %s arrived at %s, which is no callback path flow handed out: the publisher changed the callback URL's path, and the platform would answer 404 (https://learn.microsoft.com/azure/logic-apps/logic-apps-workflow-actions-triggers: use the URL verbatim)", r.Method, r.URL.EscapedPath())
		http.NotFound(w, r)
		return
	}
	cb := reg.cb
	if r.Method != http.MethodPost {
		s.deviate(Error, "callback", "callback-method",
			"a %s arrived at the callback URL; notifications are POSTed (https://learn.microsoft.com/connectors/custom-connectors/create-webhook-trigger)", r.Method)
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "notifications must be POSTed", http.StatusMethodNotAllowed)
		return
	}
	if bad, reencoded := cb.queryCheck(r.URL.RawQuery); bad != "" {
		s.deviate(Error, "callback", "callback-signature",
			"a notification arrived with %s changed or missing; the platform checks the signed query and answers 401, so no run starts. Store the callback URL byte for byte and POST to it verbatim", bad)
		http.Error(w, `{"error":{"code":"DirectApiAuthorizationRequired","message":"The request must be authenticated only by Shared Access scheme."}}`, http.StatusUnauthorized)
		return
	} else if reencoded {
		rv.warnOnce("callback-query-reencoded", func() {
			s.deviate(Warning, "callback", "callback-query-reencoded",
				"the publisher did not use the callback URL verbatim: its query arrived decoded, re-escaped or re-ordered. The signed values survived, so this run starts, but store the URL as a string and POST to it unchanged; rebuilding it (e.g. url.Values.Encode) is how signatures get broken")
		})
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	if err != nil {
		s.deviate(Error, "callback", "callback-read", "reading a notification failed: %v", err)
		http.Error(w, "read error", http.StatusBadRequest)
		return
	}
	if len(body) > MaxBodyBytes {
		s.deviate(Error, "callback", "callback-too-large",
			"a notification exceeded %d bytes; keep notifications small and let the flow fetch details (https://learn.microsoft.com/power-automate/limits-and-config)", MaxBodyBytes)
		http.Error(w, "too large", http.StatusRequestEntityTooLarge)
		return
	}
	a := arrival{at: time.Now(), reg: reg, key: fmt.Sprintf("%d\x00%s", reg.n, body)}
	s.mu.Lock()
	a.retired = reg.retired
	s.mu.Unlock()
	rv.mu.Lock()
	closed := rv.closed
	rv.mu.Unlock()
	if closed || a.retired {
		// The platform has forgotten this callback: the flow was turned
		// off, deleted or saved with a new version. It answers 404, which
		// is all a publisher ever learns (inferred: no Microsoft page
		// documents the status; the callback is tied to the workflow's
		// version, https://learn.microsoft.com/azure/logic-apps/logic-apps-workflow-actions-triggers).
		if closed && !a.retired {
			s.out.note("a notification arrived after the trigger was removed; answered 404")
		}
		a.status = http.StatusNotFound
		rv.arrive(a)
		http.NotFound(w, r)
		return
	}

	// Injected faults: the platform's own answers when it throttles (429),
	// has lost the flow (404), fails (5xx) or is slow.
	rv.mu.Lock()
	rv.sources++
	source := rv.sources
	inject := s.cfg.FaultCount <= 0 || rv.faults < s.cfg.FaultCount
	faulty := inject && (s.cfg.CallbackStatus != 0 || s.cfg.CallbackDelay > 0)
	if faulty {
		rv.faults++
	}
	rv.mu.Unlock()

	status := http.StatusAccepted
	if faulty && s.cfg.CallbackStatus != 0 {
		status = s.cfg.CallbackStatus
	}
	a.status, a.fault = status, faulty
	reached := false
	if status >= 200 && status <= 299 {
		// A run starts as soon as the engine has the request, even if the
		// answer is slow to leave.
		a.accepted = true
		rv.checkHeaders(r, body)
		headers := map[string]string{}
		for k, vs := range r.Header {
			headers[k] = strings.Join(vs, ", ")
		}
		reached = s.record(source, a.at, headers, rv.pl, body)
	}
	// Recorded after the run (a lifecycle step that sees an accepted
	// arrival reads that run's findings) and before any delay, so that the
	// report sees the attempt even when the run ends while its answer is
	// still being held back.
	i := rv.arrive(a)
	if reached {
		// Only now: closing done starts the fault report, which must see
		// this attempt, or a retry that delivered would read as a
		// notification the publisher never sent again.
		rv.mu.Lock()
		if !rv.closed {
			rv.closed = true
			close(rv.done)
		}
		rv.mu.Unlock()
	}
	if faulty && s.cfg.CallbackDelay > 0 {
		t := time.NewTimer(s.cfg.CallbackDelay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			hung := time.Since(a.at)
			rv.setHung(i, hung)
			t.Stop()
			s.out.note("notification %d: the publisher hung up after %s, before the callback answered (injected delay %s)", source, round(hung), s.cfg.CallbackDelay)
			return // the publisher is gone; nobody reads the answer
		case <-rv.quit:
			// flow is stopping: answer now rather than hold the shutdown.
		}
		t.Stop()
	}
	if faulty && status != http.StatusAccepted {
		ra := ""
		if s.cfg.CallbackRetryAfter > 0 {
			ra = fmt.Sprintf(", Retry-After: %d", int(s.cfg.CallbackRetryAfter.Round(time.Second)/time.Second))
		}
		s.out.note("notification %d: answered %d (injected%s)", source, status, ra)
	}
	if faulty && s.cfg.CallbackRetryAfter > 0 && status != http.StatusAccepted {
		w.Header().Set("Retry-After", strconv.Itoa(int(s.cfg.CallbackRetryAfter.Round(time.Second)/time.Second)))
	}
	if status == http.StatusAccepted {
		// The engine answers trigger calls 202 Accepted
		// (https://learn.microsoft.com/azure/logic-apps/logic-apps-workflow-actions-triggers).
		w.Header().Set("x-ms-workflow-run-id", runID())
		w.Header().Set("x-ms-workflow-version", cb.version)
	}
	w.WriteHeader(status)
}

// checkHeaders warns about a non-JSON content type and about headers the
// definition declares in x-ms-notification-content but that did not arrive.
func (rv *receiver) checkHeaders(r *http.Request, body []byte) {
	s := rv.s
	if ct := r.Header.Get("Content-Type"); len(body) > 0 && !strings.Contains(strings.ToLower(ct), "json") {
		rv.warnOnce("callback-content-type", func() {
			s.deviate(Warning, "callback", "callback-content-type",
				"a notification arrived with Content-Type %q; the platform parses the body as JSON only when it is declared as JSON, otherwise the maker's dynamic content stays empty (https://learn.microsoft.com/azure/logic-apps/logic-apps-workflow-actions-triggers)", ct)
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

// notificationPayload describes what the callback will receive. For a
// trigger that is x-ms-notification-content's schema, which the path item
// carries (https://learn.microsoft.com/connectors/custom-connectors/create-webhook-trigger);
// a webhook action declares it there too, or else as the operation's 2xx
// response, the outputs the designer offers after the action. A schema
// given by x-ms-dynamic-schema is fetched as the designer fetches it.
func (s *session) notificationPayload(ctx context.Context) *payload {
	nc := rawMap(s.t.rawItem, "x-ms-notification-content")
	if nc == nil {
		nc = rawMap(s.t.rawItem, strings.ToLower(s.t.method), "x-ms-notification-content")
		if nc != nil {
			s.deviate(Warning, "definition", "notification-content-on-operation",
				"x-ms-notification-content sits inside the operation; the designer reads it from the path item, beside %q (https://learn.microsoft.com/connectors/custom-connectors/openapi-extensions)", strings.ToLower(s.t.method))
		}
	}
	pl := &payload{what: "notification schema (x-ms-notification-content)"}
	var schema any
	switch {
	case nc != nil:
		schema = nc["schema"]
		for h := range rawMap(nc, "headers") {
			pl.headers = append(pl.headers, h)
		}
		slices.Sort(pl.headers)
	case s.t.kind == KindAction:
		pl.what = "action's response schema"
		schema = s.responseSchema()
	default:
		pl.unchecked = "the definition declares no notification schema"
		s.deviate(Warning, "definition", "no-notification-schema",
			"the path item has no x-ms-notification-content, so the designer offers no dynamic content and flow cannot validate notifications (https://learn.microsoft.com/connectors/custom-connectors/create-webhook-trigger)")
		return pl
	}
	if dyn := rawMap(s.def.rawDeref(schema), "x-ms-dynamic-schema"); dyn != nil {
		resolved, what, err := s.dynamicSchema(ctx, dyn)
		if err != nil {
			pl.unchecked = "its x-ms-dynamic-schema could not be resolved"
			s.deviate(err.severity, "definition", err.code, "%s", err.msg)
			return pl
		}
		pl.what = what
		pl.setSchema(s, resolved)
		return pl
	}
	pl.setSchema(s, schema)
	return pl
}

// responseSchema is the schema of the operation's first 2xx response (or
// default) that declares one, as decoded JSON; nil if none does.
func (s *session) responseSchema() any {
	responses := rawMap(s.t.rawItem, strings.ToLower(s.t.method), "responses")
	for _, code := range []string{"200", "201", "202", "default"} {
		r := responses[code]
		if m, ok := r.(map[string]any); ok {
			if ref, ok := m["$ref"].(string); ok {
				name, _ := strings.CutPrefix(ref, "#/responses/")
				m = rawMap(s.def.raw, "responses", unescapePointer(name))
			}
			if sch, ok := m["schema"]; ok {
				return sch
			}
		}
	}
	return nil
}
