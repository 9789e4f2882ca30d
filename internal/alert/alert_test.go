package alert

import (
	"context"
	"database/sql"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd/internal/delivery"
	"github.com/triggerd/triggerd/internal/store"
	"github.com/triggerd/triggerd/internal/store/sqlstore"
	"github.com/triggerd/triggerd/internal/store/storetest"
)

// queue is the Enqueuer of these tests: it keeps what the Alerter queued.
// The engine delivering it is tested end to end in the root package
// (alerts_test.go); here the subject is which alert each attempt raises.
type queue struct {
	mu  sync.Mutex
	got []delivery.Delivery
}

func (q *queue) EnqueueTx(_ context.Context, _ *sql.Tx, ds []delivery.Delivery, _ bool) (delivery.Dispatch, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.got = append(q.got, ds...)
	return nil, nil
}

const (
	alertURL    = "https://ops.example.com/alerts?sig=alertUrlSecret"
	alertSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
)

// subscribe creates the tenant acme with a subscription sub_NAME to
// order.created for each name; the callback URLs carry a signature, which no
// alert may repeat.
func subscribe(t *testing.T, st *sqlstore.Store, names ...string) []store.Subscription {
	t.Helper()
	ctx, now := context.Background(), time.Now()
	ten, err := st.CreateAPIKey(ctx, store.APIKeyParams{Tenant: store.TenantParams{Name: "acme", NewID: "ten_acme", Now: now}, KeyHash: []byte("h")})
	require.NoError(t, err)
	subs := make([]store.Subscription, 0, len(names))
	for _, name := range names {
		sub, _, err := st.CreateSubscription(ctx, store.SubscriptionParams{ID: "sub_" + name, TenantID: ten.ID, Trigger: "order.created",
			CallbackURL: "https://hooks.example.com/" + name + "?sig=flowSecret", Secret: alertSecret, Now: now})
		require.NoError(t, err)
		subs = append(subs, sub)
	}
	return subs
}

// raised reads back, in order, the alerts the Alerter stored and queued.
func raised(t *testing.T, a *Alerter, q *queue) []body {
	t.Helper()
	q.mu.Lock()
	defer q.mu.Unlock()
	out := make([]body, 0, len(q.got))
	for _, d := range q.got {
		require.Equal(t, a.subID, d.SubscriptionID, "alerts go to the alert subscription only")
		require.Equal(t, Trigger, d.Trigger)
		require.Len(t, d.EventIDs, 1)
		require.Equal(t, d.EventIDs[0], d.MessageID, "the webhook-id is the alert's event id")
		ev, err := a.store.(interface {
			EventByRef(ctx context.Context, tenantID, ref string) (store.Event, error)
		}).EventByRef(context.Background(), a.tenantID, d.EventIDs[0])
		require.NoError(t, err)
		var b body
		require.NoError(t, json.Unmarshal(ev.Data, &b))
		require.NotContains(t, string(ev.Data), "example.com", "an alert never names a callback URL")
		out = append(out, b)
	}
	return out
}

// TestAlertsFromAttempts: each kind of attempt raises its alert, with the
// tenant found from the subscription, and nothing else raises one.
func TestAlertsFromAttempts(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, be storetest.Backend) {
		st := be.Store(t)
		ctx := context.Background()
		sub := subscribe(t, st, "1")[0]
		ten := store.Tenant{ID: sub.TenantID}

		a, err := New(ctx, st, alertURL, alertSecret, nil)
		require.NoError(t, err)
		q := &queue{}
		a.SetEngine(q)

		attempt := func(outcome store.AttemptOutcome, exhausted bool, deactivated string) {
			a.Attempt(delivery.Notice{SubscriptionID: sub.ID, Trigger: sub.Trigger, EventIDs: []string{"evt_1"},
				Outcome: outcome, Exhausted: exhausted, Deactivated: deactivated})
		}
		attempt(store.AttemptDelivered, false, "") // healthy: nothing
		attempt(store.AttemptRetry, false, "")     // a failure, retried: nothing yet
		attempt(store.AttemptRetry, false, "")
		attempt(store.AttemptDelivered, false, "") // recovered
		attempt(store.AttemptDelivered, false, "") // still healthy: nothing
		attempt(store.AttemptFailed, true, "")     // retries used up
		attempt(store.AttemptGone, false, "gone")  // the flow is gone
		// The alert subscription's own attempts raise nothing, so a failing
		// alert URL cannot feed itself.
		a.Attempt(delivery.Notice{SubscriptionID: a.subID, Trigger: Trigger, Outcome: store.AttemptFailed, Exhausted: true})

		got := raised(t, a, q)
		require.Len(t, got, 3)
		for i, want := range []struct {
			kind   Kind
			reason string
		}{{SubscriptionRecovered, ""}, {DeliveryExhausted, ""}, {SubscriptionInactive, "gone"}} {
			require.Equal(t, want.kind, got[i].Type)
			require.Equal(t, want.reason, got[i].Data.Reason)
			require.Equal(t, ten.ID, got[i].Data.TenantID)
			require.Equal(t, sub.ID, got[i].Data.SubscriptionID)
			require.Equal(t, "order.created", got[i].Data.Trigger)
			require.Equal(t, "evt_1", got[i].Data.EventID)
			require.WithinDuration(t, time.Now(), got[i].Timestamp, time.Minute)
		}
	})
}

// TestAlertSubscriptionInactive: an operator's disable or auto-disable raises
// subscription.inactive with its reason, and a success after it is not taken
// for a recovery from the failures before it.
func TestAlertSubscriptionInactive(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, be storetest.Backend) {
		st := be.Store(t)
		ctx := context.Background()
		a, err := New(ctx, st, alertURL, alertSecret, nil)
		require.NoError(t, err)
		q := &queue{}
		a.SetEngine(q)
		sub := store.Subscription{ID: "sub_2", TenantID: "ten_2", Trigger: "order.created"}

		a.Attempt(delivery.Notice{SubscriptionID: sub.ID, Trigger: sub.Trigger, Outcome: store.AttemptRetry})
		a.SubscriptionInactive(sub, "failing")
		a.Attempt(delivery.Notice{SubscriptionID: sub.ID, Trigger: sub.Trigger, Outcome: store.AttemptDelivered})
		a.SubscriptionInactive(store.Subscription{ID: a.subID, TenantID: a.tenantID, Trigger: Trigger}, "disabled")

		got := raised(t, a, q)
		require.Len(t, got, 1)
		require.Equal(t, SubscriptionInactive, got[0].Type)
		require.Equal(t, "failing", got[0].Data.Reason)
		require.Equal(t, "ten_2", got[0].Data.TenantID)
		require.Empty(t, got[0].Data.EventID)
	})
}

// TestAlertRecoveredAfterRestart: a process that starts while a subscription
// is failing (its latest recorded attempt failed) reports its next success
// as a recovery, as the process that saw the failure would have.
func TestAlertRecoveredAfterRestart(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, be storetest.Backend) {
		st := be.Store(t)
		ctx := context.Background()
		now := time.Now()
		subs := subscribe(t, st, "failing", "healthy")
		tx, err := st.DB().BeginTx(ctx, nil)
		require.NoError(t, err)
		require.NoError(t, st.RecordAttemptsTx(ctx, tx, []store.AttemptRecord{
			{Attempt: store.Attempt{SubscriptionID: subs[0].ID, WebhookID: "evt_1", EventIDs: []string{"evt_1"}, Number: 1, StartedAt: now, Status: 503, Outcome: store.AttemptRetry}},
			{Attempt: store.Attempt{SubscriptionID: subs[1].ID, WebhookID: "evt_1", EventIDs: []string{"evt_1"}, Number: 1, StartedAt: now, Status: 200, Outcome: store.AttemptDelivered}},
		}))
		require.NoError(t, tx.Commit())

		a, err := New(ctx, st, alertURL, alertSecret, nil) // the process after the restart
		require.NoError(t, err)
		q := &queue{}
		a.SetEngine(q)
		for _, sub := range subs {
			a.Attempt(delivery.Notice{SubscriptionID: sub.ID, Trigger: sub.Trigger, EventIDs: []string{"evt_2"}, Outcome: store.AttemptDelivered})
		}
		got := raised(t, a, q)
		require.Len(t, got, 1)
		require.Equal(t, SubscriptionRecovered, got[0].Type)
		require.Equal(t, subs[0].ID, got[0].Data.SubscriptionID)
	})
}

// TestAlertNewReplacesTheURL: starting with another alert URL or secret
// replaces the one subscription of the alert tenant; the same URL keeps it.
func TestAlertNewReplacesTheURL(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, be storetest.Backend) {
		st := be.Store(t)
		ctx := context.Background()
		first, err := New(ctx, st, alertURL, alertSecret, nil)
		require.NoError(t, err)
		same, err := New(ctx, st, alertURL, alertSecret, nil)
		require.NoError(t, err)
		require.Equal(t, first.subID, same.subID, "the same URL and secret keep the subscription")
		other, err := New(ctx, st, "https://ops.example.com/other", alertSecret, nil)
		require.NoError(t, err)
		require.NotEqual(t, first.subID, other.subID)
		subs, err := st.Subscriptions(ctx, other.tenantID)
		require.NoError(t, err)
		require.Len(t, subs, 1, "one alert subscription at a time")
		require.Equal(t, other.subID, subs[0].ID)

		_, err = New(ctx, st, alertURL, "not-a-secret", nil)
		require.ErrorContains(t, err, "alert secret")
	})
}

// TestNilAlerter: alerts off is a nil *Alerter, and every hook is safe on it.
func TestNilAlerter(t *testing.T) {
	t.Parallel()
	var a *Alerter
	a.SetEngine(&queue{})
	a.Attempt(delivery.Notice{SubscriptionID: "sub_1", Outcome: store.AttemptFailed, Exhausted: true})
	a.SubscriptionInactive(store.Subscription{ID: "sub_1"}, "disabled")
	require.NoError(t, a.Raise(context.Background(), Alert{Kind: DeliveryExhausted}))
}
