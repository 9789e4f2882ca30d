// Package alert sends operational webhooks to the operator: a subscription
// turned inactive, recovered, or a delivery used up its retries.
//
// Alerts are events of a tenant of their own, delivered by the same engine
// as every other event to one subscription (the operator's --alert-url):
// they are signed the Standard Webhooks way with the operator's secret,
// retried on the same schedule, and checked by the same SSRF guard. They
// name the tenant, trigger, subscription and event, never a callback URL.
package alert

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/triggerd/triggerd/internal/delivery"
	"github.com/triggerd/triggerd/internal/signature"
	"github.com/triggerd/triggerd/internal/store"
)

const (
	// TenantName owns the alert subscription and its events. Its leading
	// underscore keeps it apart from the tenants an application names.
	TenantName = "_triggerd_alerts"
	// Trigger is the event type of alerts.
	Trigger = "triggerd.alert"

	raiseTimeout = 10 * time.Second
)

// Kind is what an alert reports.
type Kind string

const (
	// SubscriptionInactive: a subscription stopped receiving deliveries;
	// Reason is gone, failing or disabled.
	SubscriptionInactive Kind = "subscription.inactive"
	// SubscriptionRecovered: the first success after failures.
	SubscriptionRecovered Kind = "subscription.recovered"
	// DeliveryExhausted: a delivery failed its last retry.
	DeliveryExhausted Kind = "delivery.exhausted"
)

// Alert is one operational event.
type Alert struct {
	Kind           Kind
	TenantID       string
	Trigger        string
	SubscriptionID string
	EventID        string
	Reason         string
}

// body is an alert's JSON, the notification's payload.
type body struct {
	Type      Kind      `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	Data      struct {
		TenantID       string `json:"tenantId"`
		Trigger        string `json:"trigger"`
		SubscriptionID string `json:"subscriptionId"`
		EventID        string `json:"eventId,omitempty"`
		Reason         string `json:"reason,omitempty"`
	} `json:"data"`
}

// Store is what alerts need of the store. sqlstore.Store satisfies it.
type Store interface {
	EnsureTenantTx(ctx context.Context, tx *sql.Tx, p store.TenantParams) (store.Tenant, error)
	Subscriptions(ctx context.Context, tenantID string) ([]store.Subscription, error)
	CreateSubscription(ctx context.Context, p store.SubscriptionParams) (store.Subscription, bool, error)
	DeleteSubscription(ctx context.Context, tenantID, id string, now time.Time) error
	SubscriptionByID(ctx context.Context, id string) (store.Subscription, error)
	InsertEventsTx(ctx context.Context, tx *sql.Tx, events []store.EventParams) ([]store.InsertedEvent, error)
	// FailingSubscriptions lists the subscriptions whose latest attempt
	// failed.
	FailingSubscriptions(ctx context.Context) ([]string, error)
	DB() *sql.DB
}

// Enqueuer schedules the alert's delivery: the delivery engine.
type Enqueuer interface {
	EnqueueTx(ctx context.Context, tx *sql.Tx, ds []delivery.Delivery, fast bool) (delivery.Dispatch, error)
}

// Alerter raises alerts. A nil *Alerter raises nothing.
type Alerter struct {
	store    Store
	engine   Enqueuer
	tenantID string
	subID    string
	log      *slog.Logger
	// failing holds the subscriptions whose latest attempt failed, so the
	// next success raises subscription.recovered. It starts from the
	// database (New reads the subscriptions failing when the process
	// starts, so a restart during a receiver's outage still reports its
	// recovery) and follows this process's attempts from there. On
	// PostgreSQL with several nodes, a recovery on one node from failures
	// only another node saw after the first started is not reported.
	failing sync.Map
}

// New registers the operator's alert URL as the alert tenant's one
// subscription, replacing any earlier one with another URL or secret, and
// returns the Alerter. Call SetEngine before deliveries start.
func New(ctx context.Context, st Store, url, secret string, logger *slog.Logger) (*Alerter, error) {
	if _, err := signature.NewSigner(secret); err != nil {
		return nil, fmt.Errorf("alert secret: %w (create one with `openssl rand -base64 32` and prefix it with whsec_)", err)
	}
	tx, err := st.DB().BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("alerts: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after commit
	tenant, err := st.EnsureTenantTx(ctx, tx, store.TenantParams{Name: TenantName, NewID: store.NewTenantID(), Now: time.Now()})
	if err != nil {
		return nil, fmt.Errorf("alerts: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("alerts: commit: %w", err)
	}
	subs, err := st.Subscriptions(ctx, tenant.ID)
	if err != nil {
		return nil, fmt.Errorf("alerts: %w", err)
	}
	for _, s := range subs {
		if s.CallbackURL != url || s.Secret != secret {
			if err := st.DeleteSubscription(ctx, tenant.ID, s.ID, time.Now()); err != nil {
				return nil, fmt.Errorf("alerts: replace the earlier alert URL: %w", err)
			}
		}
	}
	sub, _, err := st.CreateSubscription(ctx, store.SubscriptionParams{ID: "sub_" + ulid.Make().String(), TenantID: tenant.ID,
		Trigger: Trigger, CallbackURL: url, Secret: secret, Now: time.Now()})
	if err != nil {
		return nil, fmt.Errorf("alerts: %w", err)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	a := &Alerter{store: st, tenantID: tenant.ID, subID: sub.ID, log: logger}
	failing, err := st.FailingSubscriptions(ctx)
	if err != nil {
		return nil, fmt.Errorf("alerts: %w", err)
	}
	for _, id := range failing {
		if id != sub.ID {
			a.failing.Store(id, struct{}{})
		}
	}
	return a, nil
}

// SetEngine sets the engine that delivers alerts (it is created after the
// Alerter, since its hook calls the Alerter).
func (a *Alerter) SetEngine(e Enqueuer) {
	if a != nil {
		a.engine = e
	}
}

// Raise queues an alert's delivery.
func (a *Alerter) Raise(ctx context.Context, al Alert) error {
	if a == nil {
		return nil
	}
	if a.engine == nil {
		return errors.New("raise alert: no delivery engine")
	}
	var b body
	b.Type, b.Timestamp = al.Kind, time.Now().UTC()
	b.Data.TenantID, b.Data.Trigger, b.Data.SubscriptionID, b.Data.EventID, b.Data.Reason = al.TenantID, al.Trigger, al.SubscriptionID, al.EventID, al.Reason
	data, err := json.Marshal(b)
	if err != nil {
		return fmt.Errorf("raise alert: %w", err)
	}
	tx, err := a.store.DB().BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("raise alert: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after commit
	id := "evt_" + ulid.Make().String()
	if _, err := a.store.InsertEventsTx(ctx, tx, []store.EventParams{{ID: id, TenantID: a.tenantID, Type: Trigger, Data: data, Now: time.Now()}}); err != nil {
		return fmt.Errorf("raise alert: %w", err)
	}
	if _, err := a.engine.EnqueueTx(ctx, tx, []delivery.Delivery{{SubscriptionID: a.subID, Trigger: Trigger, EventIDs: []string{id}, MessageID: id}}, false); err != nil {
		return fmt.Errorf("raise alert: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("raise alert: commit: %w", err)
	}
	return nil
}

// raise raises an alert about a subscription, filling in its tenant, and
// logs a failure instead of returning it: the attempt that caused it is
// recorded already.
func (a *Alerter) raise(al Alert) {
	ctx, cancel := context.WithTimeout(context.Background(), raiseTimeout)
	defer cancel()
	if al.TenantID == "" {
		sub, err := a.store.SubscriptionByID(ctx, al.SubscriptionID)
		if err != nil {
			a.log.Error("raise alert: find subscription", "alert", al.Kind, "subscription", al.SubscriptionID, "error", err)
			return
		}
		al.TenantID = sub.TenantID
	}
	if err := a.Raise(ctx, al); err != nil {
		a.log.Error("raise alert", "alert", al.Kind, "subscription", al.SubscriptionID, "error", err)
	}
}

// Attempt is the delivery engine's hook: it raises delivery.exhausted,
// subscription.inactive (gone) and subscription.recovered. Attempts of the
// alert subscription itself raise nothing, so a failing alert URL cannot
// feed itself.
func (a *Alerter) Attempt(n delivery.Notice) {
	if a == nil || n.SubscriptionID == a.subID {
		return
	}
	var event string
	if len(n.EventIDs) > 0 {
		event = n.EventIDs[0]
	}
	if n.Outcome == store.AttemptDelivered {
		if _, was := a.failing.LoadAndDelete(n.SubscriptionID); was {
			a.raise(Alert{Kind: SubscriptionRecovered, Trigger: n.Trigger, SubscriptionID: n.SubscriptionID, EventID: event})
		}
		return
	}
	a.failing.Store(n.SubscriptionID, struct{}{})
	if n.Exhausted {
		a.raise(Alert{Kind: DeliveryExhausted, Trigger: n.Trigger, SubscriptionID: n.SubscriptionID, EventID: event})
	}
	if n.Deactivated != "" {
		a.raise(Alert{Kind: SubscriptionInactive, Trigger: n.Trigger, SubscriptionID: n.SubscriptionID, EventID: event, Reason: "gone"})
	}
}

// SubscriptionInactive raises subscription.inactive for a subscription an
// operator disabled or auto-disable turned off.
func (a *Alerter) SubscriptionInactive(sub store.Subscription, reason string) {
	if a == nil || sub.ID == a.subID {
		return
	}
	a.failing.Delete(sub.ID)
	a.raise(Alert{Kind: SubscriptionInactive, TenantID: sub.TenantID, Trigger: sub.Trigger, SubscriptionID: sub.ID, Reason: reason})
}
