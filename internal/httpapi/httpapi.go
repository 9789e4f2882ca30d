// Package httpapi is triggerd's HTTP API: the registration and deregistration
// endpoints a custom connector's webhook trigger calls
// (https://learn.microsoft.com/en-us/connectors/custom-connectors/create-webhook-trigger), subscription inspection, and the events
// endpoint publishers post to.
package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/triggerd/triggerd/catalog"
	"github.com/triggerd/triggerd/connector"
	"github.com/triggerd/triggerd/internal/apikey"
	"github.com/triggerd/triggerd/internal/ident"
	"github.com/triggerd/triggerd/internal/metric"
	"github.com/triggerd/triggerd/internal/netguard"
	"github.com/triggerd/triggerd/internal/poll"
	"github.com/triggerd/triggerd/internal/publish"
	"github.com/triggerd/triggerd/internal/redact"
	"github.com/triggerd/triggerd/internal/signature"
	"github.com/triggerd/triggerd/internal/store"
	"github.com/triggerd/triggerd/internal/store/sqlstore"
)

const (
	// RegistrationBodyMax bounds a registration request: a 16,384-character
	// callback URL and a few filter fields fit many times over.
	RegistrationBodyMax = 64 << 10

	// EventsBodyMaxDefault bounds a publish request unless configured.
	EventsBodyMaxDefault = 5 << 20

	// SecretGraceDefault is how long, after a rotation, deliveries are
	// also signed with the previous secret: a day for the receiver's owner
	// to switch to the new one.
	SecretGraceDefault = 24 * time.Hour

	// AttemptsShown is how many recent attempts GET /v1/webhooks/{id} returns.
	AttemptsShown = 20

	// APIKeyHeader carries the caller's key. The generated connector declares
	// it as an apiKey security definition, so the platform sends it on
	// registration and on DELETE alike (https://github.com/microsoft/PowerPlatformConnectors/issues).
	APIKeyHeader = "X-API-Key"
)

// Config wires the API to the rest of triggerd.
type Config struct {
	Store     Store
	Catalog   *catalog.Catalog
	Publisher *publish.Publisher
	Guard     *netguard.Guard
	// PublicURL is the externally visible base URL, without trailing slash;
	// Location headers are built from it so they resolve against the
	// connector's host and basePath (https://learn.microsoft.com/en-us/connectors/custom-connectors/create-webhook-trigger).
	PublicURL     string
	EventsBodyMax int64
	Logger        *slog.Logger
	Now           func() time.Time
	// Extra routes (such as GET /v1/openapi.json) mounted beside the API.
	Extra map[string]http.Handler
	// DatabaseWait bounds each request's database work; 0 means
	// sqlstore.WaitDefault.
	DatabaseWait time.Duration
	// Poller answers GET /v1/trigger/{trigger}, the polling triggers
	// (poll.go); nil answers 404 there.
	Poller *poll.Poller
	// SecretGrace is how long after POST /v1/webhooks/{id}/secret the
	// previous secret still signs deliveries; 0 means SecretGraceDefault,
	// negative means none.
	SecretGrace time.Duration
	// RateLimit bounds each tenant's and each key's request rate.
	RateLimit RateLimit
	// Metrics counts requests by route and published events; nil counts
	// nothing.
	Metrics *metric.Metrics
	// Engine queues redeliveries (ops.go); nil answers them 500.
	Engine Enqueuer
	// Alerts hears of subscriptions an operator disabled; nil hears
	// nothing.
	Alerts StateObserver
	// Tracer makes a span per request and per publish; nil makes none.
	Tracer trace.Tracer
	// Pending finds the oldest pending delivery for GET /v1/overview; nil
	// shows none.
	Pending PendingFinder
}

type api struct {
	Config
	limiters *limiters
}

// New returns the API handler.
func New(cfg Config) http.Handler {
	if cfg.EventsBodyMax <= 0 {
		cfg.EventsBodyMax = EventsBodyMaxDefault
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.DatabaseWait <= 0 {
		cfg.DatabaseWait = sqlstore.WaitDefault
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.SecretGrace == 0 {
		cfg.SecretGrace = SecretGraceDefault
	}
	cfg.SecretGrace = max(cfg.SecretGrace, 0)
	if cfg.Tracer == nil {
		cfg.Tracer = noop.NewTracerProvider().Tracer("")
	}
	cfg.PublicURL = strings.TrimSuffix(cfg.PublicURL, "/")
	a := &api{Config: cfg, limiters: newLimiters(cfg.RateLimit)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", a.health)
	// Each route names the scope a key needs (apikey.Scope): the platform's
	// connection registers, reads, deletes and polls; applications publish;
	// admin keys do everything, keys, secrets, state changes, redelivery and
	// the event log included.
	mux.Handle(route(http.MethodPost, connector.WebhooksPath+"/{trigger}"), a.auth(apikey.ScopeConnection, a.register))
	mux.Handle(route(http.MethodGet, connector.WebhooksPath), a.auth(apikey.ScopeConnection, a.listPage))
	mux.Handle(route(http.MethodGet, connector.WebhooksPath+"/{id}"), a.auth(apikey.ScopeConnection, a.get))
	mux.Handle(route(http.MethodDelete, connector.WebhooksPath+"/{id}"), a.auth(apikey.ScopeConnection, a.deregister))
	mux.Handle(route(http.MethodGet, connector.WebhooksPath+"/{id}/attempts"), a.auth(apikey.ScopeConnection, a.attempts))
	mux.Handle(route(http.MethodPatch, connector.WebhooksPath+"/{id}"), a.auth(apikey.ScopeAdmin, a.patch))
	mux.Handle(route(http.MethodPost, connector.WebhooksPath+"/{id}/redeliver"), a.auth(apikey.ScopeAdmin, a.redeliver))
	mux.Handle(route(http.MethodPost, connector.WebhooksPath+"/{id}/events/{eventId}/redeliver"), a.auth(apikey.ScopeAdmin, a.redeliverOne))
	mux.Handle(route(http.MethodPost, connector.WebhooksPath+"/{id}/secret"), a.auth(apikey.ScopeAdmin, a.rotateSecret))
	mux.Handle(route(http.MethodPost, connector.EventsPath), a.auth(apikey.ScopePublish, a.events))
	mux.Handle(route(http.MethodGet, connector.EventsPath), a.auth(apikey.ScopeAdmin, a.listEvents))
	mux.Handle(route(http.MethodGet, connector.EventsPath+"/{id}"), a.auth(apikey.ScopeAdmin, a.getEvent))
	mux.Handle(route(http.MethodGet, connector.TriggerPath+"/{trigger}"), a.auth(apikey.ScopeConnection, a.pollTrigger))
	mux.Handle(route(http.MethodGet, OverviewPath), a.auth(apikey.ScopeConnection, a.overview))
	mux.Handle(route(http.MethodPost, KeysPath), a.auth(apikey.ScopeAdmin, a.createKey))
	mux.Handle(route(http.MethodGet, KeysPath), a.auth(apikey.ScopeAdmin, a.listKeys))
	mux.Handle(route(http.MethodDelete, KeysPath+"/{id}"), a.auth(apikey.ScopeAdmin, a.revokeKey))
	mux.HandleFunc(route(http.MethodGet, APIDocPath), serveAPIDoc)
	for pattern, h := range cfg.Extra {
		mux.Handle(pattern, h)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no endpoint %s %s; see GET /v1/openapi.json", r.Method, r.URL.Path))
	})
	// logRequests must hand the mux the very request it reads the matched
	// pattern from afterwards, so it wraps the mux directly.
	return a.boundDatabaseWait(a.logRequests(mux))
}

// boundDatabaseWait puts a deadline of DatabaseWait on every request's
// database work: waiting for SQLite's one connection, or for a PostgreSQL
// connection or lock, ends in a 503 with Retry-After instead of a request
// that never answers.
func (a *api) boundDatabaseWait(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A second past the database's own timeouts, so that they fire
		// first and say precisely what is wrong (locked, lock not granted).
		ctx, cancel := context.WithTimeout(r.Context(), a.DatabaseWait+time.Second)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// apiError is the body of every error: a code for programs, a message for the
// person who has to fix the request.
type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	var e apiError
	e.Error.Code = code
	e.Error.Message = message
	writeJSON(w, status, e)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // the client went away; nothing to do
}

// RetryAfterUnavailable is the Retry-After of a 503 for a database that
// is busy, locked or unreachable.
const RetryAfterUnavailable = 5 * time.Second

// internalError answers a request that failed on triggerd's side. A
// database that is busy, locked, unreachable or damaged is a 503 with
// Retry-After and the reason, which the platform and HTTP clients retry;
// anything else is a 500. Either way the request changed nothing: every
// handler writes in one transaction, which the failure rolled back.
func (a *api) internalError(w http.ResponseWriter, r *http.Request, err error) {
	if reason, ok := sqlstore.Unavailable(err); ok {
		a.Logger.WarnContext(r.Context(), "database unavailable", "method", r.Method, "path", r.URL.Path, "reason", reason, "error", err)
		w.Header().Set("Retry-After", strconv.Itoa(int(RetryAfterUnavailable/time.Second)))
		writeError(w, http.StatusServiceUnavailable, "database_unavailable", reason+"; nothing was stored. Retry after the Retry-After interval.")
		return
	}
	a.Logger.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "error", err)
	writeError(w, http.StatusInternalServerError, "internal", "triggerd could not complete the request; nothing was changed unless the error says otherwise. Retry later.")
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// logRequests logs method, path and status, and counts the request under
// its route pattern (set on r by the mux), never the raw path, whose ids
// would make the metric unbounded. Never the query or the body: a callback
// URL is a bearer credential and must not reach logs.
func (a *api) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ctx, span := a.Tracer.Start(r.Context(), "HTTP "+r.Method, trace.WithSpanKind(trace.SpanKindServer))
		r = r.WithContext(ctx)
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		took := time.Since(start)
		route := r.Pattern
		if route == "" || route == "/" {
			route = "unmatched"
		}
		if span.IsRecording() {
			span.SetName(route)
			span.SetAttributes(attribute.String("http.route", route), attribute.Int("http.response.status_code", rec.status))
		}
		span.End()
		a.Metrics.HTTPRequest(route, rec.status, took)
		a.Logger.DebugContext(r.Context(), "request", "method", r.Method, "path", r.URL.Path, "route", route,
			"status", rec.status, "duration", took)
	})
}

type apiKeyKey struct{}

// verifiedKey is the context key of a request served in-process as an API
// key its caller has already verified (AsKey).
type verifiedKey struct{}

// AsKey returns a context in which the API serves a request as key, without
// an X-API-Key header: for the console, which calls the API in-process as
// the key its session was signed in with, so that scopes, tenant isolation,
// validation and errors are exactly the API's. Only Go code in this process
// can make such a context; nothing an HTTP client sends can. The caller must
// have checked, on this request, that key is neither revoked nor expired.
func AsKey(ctx context.Context, key store.APIKey) context.Context {
	return context.WithValue(ctx, verifiedKey{}, key)
}

// auth authenticates the request's key and checks that it holds need.
// The key is read from the store on every request (no cache), so a
// revocation holds from the next request on every node.
func (a *api) auth(need apikey.Scope, next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Ids and names in the path reach the database and the logs: a
		// control character is refused before either sees it.
		for _, name := range []string{"id", "trigger"} {
			if err := ident.Check("the path's "+name, r.PathValue(name)); err != nil {
				writeError(w, http.StatusUnprocessableEntity, "invalid_request", err.Error())
				return
			}
		}
		key, err := a.verify(r)
		switch {
		case errors.Is(err, apikey.ErrMissing):
			writeError(w, http.StatusUnauthorized, "unauthorized", "missing "+APIKeyHeader+" header: create a key with `triggerd keys create --tenant NAME --scope SCOPE`")
			return
		case errors.Is(err, apikey.ErrRevoked), errors.Is(err, apikey.ErrExpired):
			writeError(w, http.StatusUnauthorized, "unauthorized", "the "+APIKeyHeader+" header holds no valid key ("+err.Error()+"): ask the tenant's admin for a new one")
			return
		case errors.Is(err, apikey.ErrInvalid):
			writeError(w, http.StatusUnauthorized, "unauthorized", "the "+APIKeyHeader+" header holds no valid key")
			return
		case err != nil:
			a.internalError(w, r, err)
			return
		}
		if !a.limit(w, key) {
			return
		}
		if !apikey.Allows(key.Scopes, need) {
			writeError(w, http.StatusForbidden, "forbidden", fmt.Sprintf("%s %s needs a key with the %q scope (or %q); this key has %s",
				r.Method, r.URL.Path, need, apikey.ScopeAdmin, strings.Join(key.Scopes, ", ")))
			return
		}
		next(w, r.WithContext(context.WithValue(r.Context(), apiKeyKey{}, key)))
	})
}

// verify returns the request's key: the one AsKey put in its context, or
// the one its X-API-Key header holds, read from the store.
func (a *api) verify(r *http.Request) (store.APIKey, error) {
	if key, ok := r.Context().Value(verifiedKey{}).(store.APIKey); ok {
		return key, nil
	}
	return apikey.Verify(r.Context(), a.Store, r.Header.Get(APIKeyHeader), a.Now())
}

func tenantOf(r *http.Request) store.Tenant { return keyOf(r).Tenant }

func keyOf(r *http.Request) store.APIKey { return r.Context().Value(apiKeyKey{}).(store.APIKey) }

func (a *api) health(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := a.Store.Health(ctx); err != nil {
		reason, ok := sqlstore.Unavailable(err)
		if !ok {
			reason = "the database cannot be read"
		}
		a.Logger.WarnContext(ctx, "health check failed", "reason", reason, "error", err)
		w.Header().Set("Retry-After", strconv.Itoa(int(RetryAfterUnavailable/time.Second)))
		writeError(w, http.StatusServiceUnavailable, "unavailable", reason)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// SubscriptionView is a subscription as the API shows it: the wire type of
// the webhooks routes, which the console and the CLI decode too, so the
// three never drift apart.
type SubscriptionView struct {
	ID                  string            `json:"id"`
	Trigger             string            `json:"trigger"`
	CallbackURL         string            `json:"callbackUrl"`
	Filters             map[string]string `json:"filters"`
	CreatedAt           time.Time         `json:"createdAt"`
	Secret              string            `json:"secret,omitempty"`
	Location            string            `json:"location"`
	State               string            `json:"state"`
	StateReason         string            `json:"stateReason,omitempty"`
	LastAttemptAt       *time.Time        `json:"lastAttemptAt"`
	LastStatus          int               `json:"lastStatus,omitempty"`
	LastError           string            `json:"lastError,omitempty"`
	ConsecutiveFailures int               `json:"consecutiveFailures"`
	Attempts            []AttemptView     `json:"attempts,omitempty"`
}

// AttemptView is one delivery attempt as the API shows it.
type AttemptView struct {
	ID            int64      `json:"id"`
	WebhookID     string     `json:"webhookId"`
	EventIDs      []string   `json:"eventIds"`
	Attempt       int        `json:"attempt"`
	StartedAt     time.Time  `json:"startedAt"`
	LatencyMillis float64    `json:"latencyMs"`
	Status        int        `json:"status"`
	Error         string     `json:"error,omitempty"`
	Outcome       string     `json:"outcome"`
	NextAttemptAt *time.Time `json:"nextAttemptAt,omitempty"`
	// Response is the start (up to 1 KiB) of what the receiver answered.
	Response string `json:"response,omitempty"`
}

// location is the subscription's URL: the DELETE route of the generated
// definition resolves against it, because both come from connector's path
// constants (the platform sends the connection's credentials with that
// DELETE only when it is on the connector's host and basePath,
// https://learn.microsoft.com/en-us/connectors/custom-connectors/create-webhook-trigger).
func (a *api) location(id string) string {
	return a.PublicURL + connector.APIVersionPath + connector.WebhooksPath + "/" + id
}

// route is a ServeMux pattern for a path under the API's version prefix.
func route(method, path string) string { return method + " " + connector.APIVersionPath + path }

// view is a subscription as every answer but its registration's 201 shows
// it: the callback URL redacted (its query is the platform's signature, a
// bearer credential) and no secret. credentialView adds them back.
func (a *api) view(s store.Subscription) SubscriptionView {
	filters := s.Filters
	if filters == nil {
		filters = map[string]string{}
	}
	return SubscriptionView{
		ID: s.ID, Trigger: s.Trigger, CallbackURL: redact.URL(s.CallbackURL), Filters: filters, CreatedAt: s.CreatedAt,
		Location: a.location(s.ID), State: string(s.State), StateReason: s.StateReason,
		LastAttemptAt: s.LastAttemptAt, LastStatus: s.LastStatus, LastError: s.LastError,
		ConsecutiveFailures: s.ConsecutiveFailures,
	}
}

func (a *api) register(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("trigger")
	tr, ok := a.Catalog.Trigger(name)
	if !ok {
		writeError(w, http.StatusNotFound, "unknown_trigger", fmt.Sprintf("no trigger %q; this publisher offers %v", name, a.Catalog.TriggerNames()))
		return
	}
	if !tr.Offers(catalog.KindWebhook) {
		writeError(w, http.StatusNotFound, "unknown_trigger", fmt.Sprintf("trigger %q is offered for polling only: GET /v1/trigger/%s", name, name))
		return
	}
	body, ok := readBody(w, r, RegistrationBodyMax)
	if !ok {
		return
	}
	reg, err := DecodeRegistration(body, tr)
	if err != nil {
		writeRequestError(w, err)
		return
	}
	if err := a.Guard.CheckURL(r.Context(), reg.CallbackURL); err != nil {
		var ge *netguard.Error
		if errors.As(err, &ge) && ge.Temporary {
			w.Header().Set("Retry-After", "5")
			writeError(w, http.StatusServiceUnavailable, "unavailable", ge.Reason)
			return
		}
		if errors.As(err, &ge) {
			writeError(w, http.StatusUnprocessableEntity, "invalid_callback_url", ge.Reason)
			return
		}
		a.internalError(w, r, err)
		return
	}
	secret, err := signature.NewSecret()
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	tenant := tenantOf(r)
	sub, created, err := a.Store.CreateSubscription(r.Context(), store.SubscriptionParams{
		ID: "sub_" + ulid.Make().String(), TenantID: tenant.ID, Trigger: tr.Name,
		CallbackURL: reg.CallbackURL, Filters: reg.Filters, Secret: secret, Now: a.Now(),
	})
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	a.Logger.InfoContext(r.Context(), "subscription registered", "tenant", tenant.Name, "subscription", sub.ID,
		"trigger", tr.Name, "new", created)
	// 201 with an absolute Location even for a repeated registration: the
	// platform keys its later DELETE on this header (https://learn.microsoft.com/en-us/connectors/custom-connectors/create-webhook-trigger), and answering the
	// same Location makes re-subscription idempotent.
	w.Header().Set("Location", a.location(sub.ID))
	writeJSON(w, http.StatusCreated, credentialView(a.view(sub), sub))
}

func (a *api) get(w http.ResponseWriter, r *http.Request) {
	tenant := tenantOf(r)
	id := r.PathValue("id")
	// Attempts first: the subscription's health, read next, then covers at
	// least every attempt listed, so the two never contradict each other.
	attempts, err := a.Store.Attempts(r.Context(), tenant.ID, id, AttemptsShown)
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	sub, err := a.Store.Subscription(r.Context(), tenant.ID, id)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "not_found", "no webhook with this id")
		return
	}
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	v := a.view(sub)
	v.Attempts = make([]AttemptView, len(attempts))
	for i, at := range attempts {
		v.Attempts[i] = viewAttempt(at)
	}
	writeJSON(w, http.StatusOK, v)
}

func (a *api) deregister(w http.ResponseWriter, r *http.Request) {
	tenant := tenantOf(r)
	id := r.PathValue("id")
	err := a.Store.DeleteSubscription(r.Context(), tenant.ID, id, a.Now())
	if errors.Is(err, store.ErrNotFound) {
		// 404, never 403: another tenant's id is indistinguishable from none.
		writeError(w, http.StatusNotFound, "not_found", "no webhook with this id")
		return
	}
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	a.Logger.InfoContext(r.Context(), "subscription deleted", "tenant", tenant.Name, "subscription", id)
	w.WriteHeader(http.StatusNoContent)
}

func (a *api) events(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r, a.EventsBodyMax)
	if !ok {
		return
	}
	inputs, err := DecodeEvents(body)
	if err != nil {
		writeRequestError(w, err)
		return
	}
	// The publish span is what each attempt's span links to: EnqueueTx
	// reads it from the context.
	pctx, span := a.Tracer.Start(r.Context(), "triggerd.publish", trace.WithAttributes(attribute.Int("triggerd.events", len(inputs))))
	results, err := a.Publisher.Publish(pctx, publish.Tenant{ID: tenantOf(r).ID}, inputs)
	span.End()
	if err != nil {
		var ie *publish.InputError
		if errors.As(err, &ie) {
			code := "invalid_event"
			if ie.SchemaMismatch {
				code = "schema_mismatch"
			}
			writeError(w, http.StatusUnprocessableEntity, code, ie.Error())
			return
		}
		if writeOverloaded(w, err) {
			return
		}
		var ce *store.IdempotencyConflictError
		if errors.As(err, &ce) {
			writeError(w, http.StatusConflict, "idempotency_conflict", ce.Error())
			return
		}
		a.internalError(w, r, err)
		return
	}
	for _, res := range results {
		if !res.Duplicate {
			a.Metrics.EventPublished(res.Type)
		}
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"events": results})
}

// readBody reads at most max bytes; a larger body is answered 413.
func readBody(w http.ResponseWriter, r *http.Request, max int64) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, http.StatusRequestEntityTooLarge, "payload_too_large", fmt.Sprintf("the request body exceeds %d bytes", max))
			return nil, false
		}
		writeError(w, http.StatusBadRequest, "invalid_request", "could not read the request body: "+err.Error())
		return nil, false
	}
	return body, true
}
