package httpapi

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/triggerd/triggerd/catalog"
	"github.com/triggerd/triggerd/internal/delivery"
	"github.com/triggerd/triggerd/internal/store"
)

const (
	// PageSizeDefault is how many items a page of a list holds unless the
	// request asks for another limit.
	PageSizeDefault = 100
	// PageSizeMax is the most items one page holds.
	PageSizeMax = 1000
	// RedeliverMax is the most events one redelivery call queues: a wider
	// window is refused, so one request cannot flood a receiver or hold
	// the writer for long.
	RedeliverMax = 10000
	// OpsBodyMax bounds a PATCH or redelivery request.
	OpsBodyMax = 16 << 10

	// ReasonDisabled is the state reason of a subscription an operator
	// disabled.
	ReasonDisabled = "disabled"
)

// opsStore is what the operations endpoints (paging, attempts, events,
// state, redelivery) need of the store, beside Store.
type opsStore interface {
	SubscriptionsPage(ctx context.Context, q store.SubscriptionQuery) ([]store.Subscription, error)
	AttemptsPage(ctx context.Context, q store.AttemptQuery) ([]store.Attempt, error)
	EventsPage(ctx context.Context, q store.EventQuery) ([]store.Event, error)
	// EventByRef finds an event by id or idempotency key.
	EventByRef(ctx context.Context, tenantID, ref string) (store.Event, error)
	EventDeliveries(ctx context.Context, tenantID, eventID string) ([]store.EventDelivery, error)
	SetSubscriptionState(ctx context.Context, c store.StateChange) (store.Subscription, error)
	RedeliveryEvents(ctx context.Context, q store.RedeliveryQuery) ([]store.Event, error)
	PrunedInWindow(ctx context.Context, subscriptionID string, since, until time.Time) (int, error)
	// Overview counts a tenant's subscriptions and recent attempts, and
	// lists the subscriptions needing attention (GET /v1/overview).
	Overview(ctx context.Context, q store.OverviewQuery) (store.Overview, error)
}

// Enqueuer schedules deliveries inside a transaction: the delivery engine.
type Enqueuer interface {
	EnqueueTx(ctx context.Context, tx *sql.Tx, ds []delivery.Delivery, fast bool) (delivery.Dispatch, error)
}

// StateObserver hears of subscriptions turned inactive: the alerts.
type StateObserver interface {
	SubscriptionInactive(sub store.Subscription, reason string)
}

// cursor kinds, so a cursor of one list is refused by another.
const (
	cursorWebhooks = "w"
	cursorAttempts = "a"
	cursorEvents   = "e"
)

func encodeCursor(kind, key string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(kind + ":" + key))
}

func decodeCursor(kind, c string) (string, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return "", false
	}
	key, ok := strings.CutPrefix(string(raw), kind+":")
	return key, ok && key != ""
}

// pageParams reads limit and cursor; on a bad value it answers 400 and
// returns false.
func pageParams(w http.ResponseWriter, r *http.Request, kind string) (limit int, after string, ok bool) {
	limit = PageSizeDefault
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > PageSizeMax {
			writeError(w, http.StatusBadRequest, "invalid_limit", fmt.Sprintf("limit %q must be a whole number from 1 to %d", v, PageSizeMax))
			return 0, "", false
		}
		limit = n
	}
	if c := r.URL.Query().Get("cursor"); c != "" {
		key, valid := decodeCursor(kind, c)
		if !valid {
			writeError(w, http.StatusBadRequest, "invalid_cursor", "cursor is not one this list handed out; pass the previous page's next value unchanged, or leave it out for the first page")
			return 0, "", false
		}
		after = key
	}
	return limit, after, true
}

func int64Cursor(w http.ResponseWriter, key string) (int64, bool) {
	if key == "" {
		return 0, true
	}
	n, err := strconv.ParseInt(key, 10, 64)
	if err != nil || n <= 0 {
		writeError(w, http.StatusBadRequest, "invalid_cursor", "cursor is not one this list handed out; pass the previous page's next value unchanged")
		return 0, false
	}
	return n, true
}

// listPage answers GET /v1/webhooks, a page at a time.
func (a *api) listPage(w http.ResponseWriter, r *http.Request) {
	limit, after, ok := pageParams(w, r, cursorWebhooks)
	if !ok {
		return
	}
	subs, err := a.Store.SubscriptionsPage(r.Context(), store.SubscriptionQuery{TenantID: tenantOf(r).ID, After: after, Limit: limit + 1})
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	writePage(w, "webhooks", subs, limit, a.view, func(s store.Subscription) string { return encodeCursor(cursorWebhooks, s.ID) })
}

func viewAttempt(at store.Attempt) AttemptView {
	return AttemptView{
		ID: at.ID, WebhookID: at.WebhookID, EventIDs: at.EventIDs, Attempt: at.Number, StartedAt: at.StartedAt,
		LatencyMillis: float64(at.Duration.Microseconds()) / 1000, Status: at.Status, Error: at.Error,
		Outcome: string(at.Outcome), NextAttemptAt: at.NextAttemptAt, Response: at.Response,
	}
}

// subscriptionOf answers 404 unless the tenant has a subscription with the
// path's id (deleted ones included, so their history stays readable).
func (a *api) subscriptionOf(w http.ResponseWriter, r *http.Request) (store.Subscription, bool) {
	sub, err := a.Store.Subscription(r.Context(), tenantOf(r).ID, r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "not_found", "no webhook with this id")
		return sub, false
	}
	if err != nil {
		a.internalError(w, r, err)
		return sub, false
	}
	return sub, true
}

// attempts answers GET /v1/webhooks/{id}/attempts, newest first.
func (a *api) attempts(w http.ResponseWriter, r *http.Request) {
	limit, after, ok := pageParams(w, r, cursorAttempts)
	if !ok {
		return
	}
	before, ok := int64Cursor(w, after)
	if !ok {
		return
	}
	outcome := store.AttemptOutcome(r.URL.Query().Get("outcome"))
	switch outcome {
	case "", store.AttemptDelivered, store.AttemptRetry, store.AttemptFailed, store.AttemptGone:
	default:
		writeError(w, http.StatusBadRequest, "invalid_outcome", fmt.Sprintf("outcome %q must be delivered, retry, failed or gone", outcome))
		return
	}
	sub, ok := a.subscriptionOf(w, r)
	if !ok {
		return
	}
	list, err := a.Store.AttemptsPage(r.Context(), store.AttemptQuery{TenantID: sub.TenantID, SubscriptionID: sub.ID,
		Before: before, Outcome: outcome, Limit: limit + 1})
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	writePage(w, "attempts", list, limit, viewAttempt, func(at store.Attempt) string {
		return encodeCursor(cursorAttempts, strconv.FormatInt(at.ID, 10))
	})
}

// EventView is an event as the API shows it.
type EventView struct {
	ID             string          `json:"id"`
	Type           string          `json:"type"`
	IdempotencyKey string          `json:"idempotencyKey,omitempty"`
	CreatedAt      time.Time       `json:"createdAt"`
	Data           json.RawMessage `json:"data"`
	Deliveries     []DeliveryView  `json:"deliveries,omitempty"`
}

// DeliveryView is an event's delivery to one subscription.
type DeliveryView struct {
	SubscriptionID string    `json:"subscriptionId"`
	State          string    `json:"state"`
	Attempts       int       `json:"attempts"`
	LastStatus     int       `json:"lastStatus"`
	LastAttemptAt  time.Time `json:"lastAttemptAt"`
	LastError      string    `json:"lastError,omitempty"`
}

func viewEvent(e store.Event) EventView {
	return EventView{ID: e.ID, Type: e.Type, IdempotencyKey: e.IdempotencyKey, CreatedAt: e.CreatedAt, Data: e.Data}
}

// timeParam reads an RFC 3339 query parameter; zero when absent.
func timeParam(w http.ResponseWriter, r *http.Request, name string) (time.Time, bool) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return time.Time{}, true
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_"+name, fmt.Sprintf("%s %q must be an RFC 3339 time, like 2026-01-02T15:04:05Z", name, v))
		return time.Time{}, false
	}
	return t, true
}

// listEvents answers GET /v1/events, newest first.
func (a *api) listEvents(w http.ResponseWriter, r *http.Request) {
	limit, after, ok := pageParams(w, r, cursorEvents)
	if !ok {
		return
	}
	before, ok := int64Cursor(w, after)
	if !ok {
		return
	}
	since, ok := timeParam(w, r, "since")
	if !ok {
		return
	}
	until, ok := timeParam(w, r, "until")
	if !ok {
		return
	}
	trigger := r.URL.Query().Get("trigger")
	if trigger != "" {
		if _, known := a.Catalog.Trigger(trigger); !known {
			writeError(w, http.StatusBadRequest, "unknown_trigger", fmt.Sprintf("no trigger %q; this publisher offers %v", trigger, a.Catalog.TriggerNames()))
			return
		}
	}
	events, err := a.Store.EventsPage(r.Context(), store.EventQuery{TenantID: tenantOf(r).ID, Type: trigger,
		Since: since, Until: until, Before: before, Limit: limit + 1})
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	writePage(w, "events", events, limit, viewEvent, func(e store.Event) string {
		return encodeCursor(cursorEvents, strconv.FormatInt(e.Seq, 10))
	})
}

// getEvent answers GET /v1/events/{id}, by event id or idempotency key, with
// its deliveries.
func (a *api) getEvent(w http.ResponseWriter, r *http.Request) {
	tenant := tenantOf(r)
	ev, err := a.Store.EventByRef(r.Context(), tenant.ID, r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "not_found", "no event with this id or idempotency key (events older than the event retention are pruned)")
		return
	}
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	ds, err := a.Store.EventDeliveries(r.Context(), tenant.ID, ev.ID)
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	v := viewEvent(ev)
	v.Deliveries = make([]DeliveryView, len(ds))
	for i, d := range ds {
		v.Deliveries[i] = DeliveryView{SubscriptionID: d.SubscriptionID, State: string(d.State), Attempts: d.Attempts,
			LastStatus: d.LastStatus, LastAttemptAt: d.LastAttemptAt, LastError: d.LastError}
	}
	writeJSON(w, http.StatusOK, v)
}

// decodeStrict decodes a JSON object, refusing unknown fields; on failure it
// answers 400 and returns false.
func decodeStrict(w http.ResponseWriter, r *http.Request, v any) bool {
	body, ok := readBody(w, r, OpsBodyMax)
	if !ok {
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request", "the body must be a JSON object with the documented fields: "+err.Error())
		return false
	}
	if dec.More() {
		writeError(w, http.StatusBadRequest, "invalid_request", "the body must be a single JSON object")
		return false
	}
	return true
}

// patch answers PATCH /v1/webhooks/{id}: an operator enables or disables a
// subscription.
func (a *api) patch(w http.ResponseWriter, r *http.Request) {
	var req struct {
		State *string `json:"state"`
	}
	if !decodeStrict(w, r, &req) {
		return
	}
	if req.State == nil || (*req.State != string(store.SubscriptionActive) && *req.State != string(store.SubscriptionInactive)) {
		writeError(w, http.StatusUnprocessableEntity, "invalid_state", `state must be "active" or "inactive"`)
		return
	}
	tenant := tenantOf(r)
	sub, err := a.Store.SetSubscriptionState(r.Context(), store.StateChange{TenantID: tenant.ID, SubscriptionID: r.PathValue("id"),
		State: store.SubscriptionState(*req.State), Reason: ReasonDisabled, Now: a.Now()})
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "not_found", "no webhook with this id (a deleted one cannot be changed; the platform registers it again)")
		return
	}
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	a.Logger.InfoContext(r.Context(), "subscription state changed", "tenant", tenant.Name, "subscription", sub.ID,
		"trigger", sub.Trigger, "state", sub.State, "reason", cmpReason(sub), "by", "operator")
	if sub.State == store.SubscriptionInactive && a.Alerts != nil {
		a.Alerts.SubscriptionInactive(sub, ReasonDisabled)
	}
	writeJSON(w, http.StatusOK, a.view(sub))
}

func cmpReason(s store.Subscription) string {
	if s.State == store.SubscriptionActive {
		return "enabled"
	}
	return s.StateReason
}

// activeSubscription answers 404 or 409 unless the path's subscription is
// the tenant's and active.
func (a *api) activeSubscription(w http.ResponseWriter, r *http.Request) (store.Subscription, bool) {
	sub, ok := a.subscriptionOf(w, r)
	if !ok {
		return sub, false
	}
	switch sub.State {
	case store.SubscriptionActive:
		return sub, true
	case store.SubscriptionDeleted:
		writeError(w, http.StatusNotFound, "not_found", "no webhook with this id (it was deleted)")
	default:
		writeError(w, http.StatusConflict, "inactive", fmt.Sprintf("the webhook is inactive (%s): enable it first with PATCH {\"state\": \"active\"}, then redeliver", sub.StateReason))
	}
	return sub, false
}

// delivery is a redelivery of one event to sub: the event's own webhook-id,
// so receivers that dedupe on it see the same message again.
func redelivery(sub store.Subscription, tr *catalog.Trigger, ev store.Event) delivery.Delivery {
	d := delivery.Delivery{SubscriptionID: sub.ID, Trigger: sub.Trigger, EventIDs: []string{ev.ID}, MessageID: ev.ID, Redelivery: true}
	if tr != nil && tr.Mode == catalog.ModeBatch {
		d.Batch, d.EventSeq, d.BatchSize, d.BatchWindow = true, ev.Seq, tr.Batch.Size, time.Duration(tr.Batch.Window)
	}
	return d
}

// enqueue queues deliveries in a transaction of their own; the queue sends
// them (no fast path: a redelivery is not latency-bound).
func (a *api) enqueue(ctx context.Context, ds []delivery.Delivery) error {
	if len(ds) == 0 {
		return nil
	}
	if a.Engine == nil {
		return errors.New("redeliver: no delivery engine configured")
	}
	tx, err := a.Store.DB().BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("redeliver: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after commit
	if _, err := a.Engine.EnqueueTx(ctx, tx, ds, false); err != nil {
		return fmt.Errorf("redeliver: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("redeliver: commit: %w", err)
	}
	return nil
}

// redeliver answers POST /v1/webhooks/{id}/redeliver: every event of the
// subscription's trigger in the window that matches its filters, or only
// those it never got, is queued again.
func (a *api) redeliver(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Since *time.Time `json:"since"`
		Until *time.Time `json:"until"`
		Only  string     `json:"only"`
	}
	if !decodeStrict(w, r, &req) {
		return
	}
	if req.Since == nil {
		writeError(w, http.StatusUnprocessableEntity, "invalid_window", "since is required: the RFC 3339 time the window starts, like 2026-01-02T15:04:05Z")
		return
	}
	until := a.Now()
	if req.Until != nil {
		until = *req.Until
	}
	if !until.After(*req.Since) {
		writeError(w, http.StatusUnprocessableEntity, "invalid_window", "until must be after since")
		return
	}
	only := req.Only
	if only == "" {
		only = "failed"
	}
	if only != "failed" && only != "all" {
		writeError(w, http.StatusUnprocessableEntity, "invalid_only", `only must be "failed" (events without a delivered attempt) or "all"`)
		return
	}
	sub, ok := a.activeSubscription(w, r)
	if !ok {
		return
	}
	tr, _ := a.Catalog.Trigger(sub.Trigger)
	events, err := a.Store.RedeliveryEvents(r.Context(), store.RedeliveryQuery{TenantID: sub.TenantID, SubscriptionID: sub.ID,
		Trigger: sub.Trigger, Since: *req.Since, Until: until, OnlyFailed: only == "failed", Limit: RedeliverMax + 1})
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	if len(events) > RedeliverMax {
		writeError(w, http.StatusUnprocessableEntity, "window_too_wide", fmt.Sprintf("more than %d events fall in this window; narrow it (a later since or an earlier until) and redeliver in several calls", RedeliverMax))
		return
	}
	ds := make([]delivery.Delivery, 0, len(events))
	for _, ev := range events {
		if tr != nil && len(tr.Filters) > 0 {
			var data map[string]any
			dec := json.NewDecoder(bytes.NewReader(ev.Data))
			dec.UseNumber()
			_ = dec.Decode(&data) // stored events are valid JSON; a non-object matches no set filter
			if !tr.Match(sub.Filters, data) {
				continue
			}
		}
		ds = append(ds, redelivery(sub, tr, ev))
	}
	pruned, err := a.Store.PrunedInWindow(r.Context(), sub.ID, *req.Since, until)
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	if err := a.enqueue(r.Context(), ds); err != nil {
		a.internalError(w, r, err)
		return
	}
	a.Logger.InfoContext(r.Context(), "redelivery queued", "tenant", tenantOf(r).Name, "subscription", sub.ID, "trigger", sub.Trigger,
		"since", req.Since.UTC().Format(time.RFC3339), "until", until.UTC().Format(time.RFC3339), "only", only, "queued", len(ds), "pruned", pruned)
	writeJSON(w, http.StatusAccepted, map[string]int{"queued": len(ds), "pruned": pruned})
}

// redeliverOne answers POST /v1/webhooks/{id}/events/{eventId}/redeliver:
// one event to one subscription, delivered before or not.
func (a *api) redeliverOne(w http.ResponseWriter, r *http.Request) {
	sub, ok := a.activeSubscription(w, r)
	if !ok {
		return
	}
	ev, err := a.Store.EventByRef(r.Context(), sub.TenantID, r.PathValue("eventId"))
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "not_found", "no event with this id or idempotency key (events older than the event retention are pruned)")
		return
	}
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	if ev.Type != sub.Trigger {
		writeError(w, http.StatusUnprocessableEntity, "trigger_mismatch", fmt.Sprintf("event %s is a %q event; this webhook receives %q", ev.ID, ev.Type, sub.Trigger))
		return
	}
	tr, _ := a.Catalog.Trigger(sub.Trigger)
	if err := a.enqueue(r.Context(), []delivery.Delivery{redelivery(sub, tr, ev)}); err != nil {
		a.internalError(w, r, err)
		return
	}
	a.Logger.InfoContext(r.Context(), "redelivery queued", "tenant", tenantOf(r).Name, "subscription", sub.ID, "trigger", sub.Trigger, "event", ev.ID)
	writeJSON(w, http.StatusAccepted, map[string]int{"queued": 1})
}

// writePage answers one page of a keyset-paged list. items holds up to
// limit+1 rows (the store was asked for one more than a page): when the
// extra row is there, the page ends at limit and "next" resumes after its
// last item.
func writePage[T, V any](w http.ResponseWriter, name string, items []T, limit int, view func(T) V, cursor func(T) string) {
	body := map[string]any{}
	if len(items) > limit {
		items = items[:limit]
		body["next"] = cursor(items[limit-1])
	}
	views := make([]V, len(items))
	for i, it := range items {
		views[i] = view(it)
	}
	body[name] = views
	writeJSON(w, http.StatusOK, body)
}
