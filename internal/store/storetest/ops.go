package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd/internal/store"
)

// operations checks what operators read and change: counts, keyset pages of
// subscriptions, attempts and events, an event's deliveries, a
// subscription's state, and the events a redelivery sends.
func (s suite) operations(t *testing.T) {
	t.Parallel()
	t.Run("SubscriptionCounts", func(t *testing.T) {
		t.Parallel()
		b := s.setup(t)
		var ids []string
		for i := range 3 {
			sub, _, err := b.st.CreateSubscription(b.ctx, subParams(b, fmt.Sprintf("https://example.com/count/%d", i)))
			require.NoError(t, err)
			ids = append(ids, sub.ID)
		}
		_, err := b.st.SetSubscriptionState(b.ctx, store.StateChange{TenantID: b.tenant.ID, SubscriptionID: ids[1],
			State: store.SubscriptionInactive, Reason: "disabled", Now: b.now})
		require.NoError(t, err)
		require.NoError(t, b.st.DeleteSubscription(b.ctx, b.tenant.ID, ids[2], b.now))
		counts, err := b.st.SubscriptionCounts(b.ctx)
		require.NoError(t, err)
		// The store is the test's own, so these are all its subscriptions.
		require.ElementsMatch(t, []store.SubscriptionCount{
			{Trigger: "order.created", State: store.SubscriptionActive, Count: 1},
			{Trigger: "order.created", State: store.SubscriptionInactive, Count: 1},
		}, counts, "deleted ones are not counted")
	})

	t.Run("SubscriptionsPage", func(t *testing.T) {
		t.Parallel()
		b := s.setup(t)
		var want []string
		for i := range 5 {
			sub, _, err := b.st.CreateSubscription(b.ctx, subParams(b, fmt.Sprintf("https://example.com/page/%d", i)))
			require.NoError(t, err)
			want = append(want, sub.ID)
		}
		gone, _, err := b.st.CreateSubscription(b.ctx, subParams(b, "https://example.com/page/deleted"))
		require.NoError(t, err)
		require.NoError(t, b.st.DeleteSubscription(b.ctx, b.tenant.ID, gone.ID, b.now))
		other := otherTenant(t, b)
		_, _, err = b.st.CreateSubscription(b.ctx, store.SubscriptionParams{ID: id("sub"), TenantID: other.ID,
			Trigger: "order.created", CallbackURL: "https://example.com/globex", Secret: "whsec_x", Now: b.now})
		require.NoError(t, err)

		var got []string
		after := ""
		for {
			page, err := b.st.SubscriptionsPage(b.ctx, store.SubscriptionQuery{TenantID: b.tenant.ID, After: after, Limit: 2})
			require.NoError(t, err)
			require.LessOrEqual(t, len(page), 2)
			if len(page) == 0 {
				break
			}
			for _, sub := range page {
				require.Equal(t, "https://example.com/page/"+fmt.Sprint(len(got)), sub.CallbackURL, "opened, in id order")
				got = append(got, sub.ID)
			}
			after = page[len(page)-1].ID
		}
		require.Equal(t, want, got, "every live subscription of the tenant once, none of another's, no deleted one")
	})

	t.Run("AttemptsPage", func(t *testing.T) {
		t.Parallel()
		b := s.setup(t)
		sub, _, err := b.st.CreateSubscription(b.ctx, subParams(b, "https://example.com/attempts"))
		require.NoError(t, err)
		for i := range 5 {
			outcome, status := store.AttemptDelivered, 200
			if i%2 == 1 {
				outcome, status = store.AttemptFailed, 500
			}
			ev := fmt.Sprintf("evt_page_%d", i)
			require.NoError(t, recordAttempt(b.ctx, b.st, store.Attempt{SubscriptionID: sub.ID, WebhookID: ev, EventIDs: []string{ev},
				Number: 1, StartedAt: b.now.Add(time.Duration(i) * time.Second), Status: status, Outcome: outcome,
				Response: fmt.Sprintf("said %d", i)}, ""))
		}
		first, err := b.st.AttemptsPage(b.ctx, store.AttemptQuery{TenantID: b.tenant.ID, SubscriptionID: sub.ID, Limit: 3})
		require.NoError(t, err)
		require.Len(t, first, 3)
		require.Equal(t, []string{"evt_page_4"}, first[0].EventIDs, "newest first")
		require.Equal(t, "said 4", first[0].Response)
		rest, err := b.st.AttemptsPage(b.ctx, store.AttemptQuery{TenantID: b.tenant.ID, SubscriptionID: sub.ID, Before: first[2].ID, Limit: 3})
		require.NoError(t, err)
		require.Len(t, rest, 2)
		require.Equal(t, []string{"evt_page_0"}, rest[1].EventIDs)

		failed, err := b.st.AttemptsPage(b.ctx, store.AttemptQuery{TenantID: b.tenant.ID, SubscriptionID: sub.ID,
			Outcome: store.AttemptFailed, Limit: 10})
		require.NoError(t, err)
		require.Len(t, failed, 2)
		for _, a := range failed {
			require.Equal(t, store.AttemptFailed, a.Outcome)
		}

		other := otherTenant(t, b)
		hidden, err := b.st.AttemptsPage(b.ctx, store.AttemptQuery{TenantID: other.ID, SubscriptionID: sub.ID, Limit: 10})
		require.NoError(t, err)
		require.Empty(t, hidden, "another tenant's subscription's attempts stay hidden")
	})

	t.Run("EventsPageAndRef", func(t *testing.T) {
		t.Parallel()
		b := s.setup(t)
		var params []store.EventParams
		for i := range 4 {
			typ := "order.created"
			if i == 2 {
				typ = "order.shipped"
			}
			params = append(params, store.EventParams{ID: id("evt"), TenantID: b.tenant.ID, Type: typ,
				IdempotencyKey: fmt.Sprintf("order-%d", i), Data: []byte(fmt.Sprintf(`{"n":%d}`, i)), Now: b.now.Add(time.Duration(i) * time.Minute)})
		}
		insertEvents(t, b, params...)
		other := otherTenant(t, b)
		insertEvents(t, b, store.EventParams{ID: id("evt"), TenantID: other.ID, Type: "order.created",
			IdempotencyKey: "order-0", Data: []byte(`{"n":99}`), Now: b.now})

		page, err := b.st.EventsPage(b.ctx, store.EventQuery{TenantID: b.tenant.ID, Limit: 2})
		require.NoError(t, err)
		require.Equal(t, []string{params[3].ID, params[2].ID}, eventIDs(page), "newest first")
		rest, err := b.st.EventsPage(b.ctx, store.EventQuery{TenantID: b.tenant.ID, Before: page[1].Seq, Limit: 10})
		require.NoError(t, err)
		require.Equal(t, []string{params[1].ID, params[0].ID}, eventIDs(rest))

		created, err := b.st.EventsPage(b.ctx, store.EventQuery{TenantID: b.tenant.ID, Type: "order.created", Limit: 10})
		require.NoError(t, err)
		require.Equal(t, []string{params[3].ID, params[1].ID, params[0].ID}, eventIDs(created))
		window, err := b.st.EventsPage(b.ctx, store.EventQuery{TenantID: b.tenant.ID, Since: b.now.Add(time.Minute),
			Until: b.now.Add(3 * time.Minute), Limit: 10})
		require.NoError(t, err)
		require.Equal(t, []string{params[2].ID, params[1].ID}, eventIDs(window), "since inclusive, until exclusive")

		byID, err := b.st.EventByRef(b.ctx, b.tenant.ID, params[1].ID)
		require.NoError(t, err)
		require.JSONEq(t, `{"n":1}`, string(byID.Data))
		byKey, err := b.st.EventByRef(b.ctx, b.tenant.ID, "order-0")
		require.NoError(t, err)
		require.Equal(t, params[0].ID, byKey.ID, "the tenant's own event with that key, not another tenant's")
		_, err = b.st.EventByRef(b.ctx, other.ID, params[1].ID)
		require.ErrorIs(t, err, store.ErrNotFound, "another tenant's event id finds nothing")
	})

	t.Run("EventDeliveries", func(t *testing.T) {
		t.Parallel()
		b := s.setup(t)
		ok, _, err := b.st.CreateSubscription(b.ctx, subParams(b, "https://example.com/ok"))
		require.NoError(t, err)
		retrying, _, err := b.st.CreateSubscription(b.ctx, subParams(b, "https://example.com/retrying"))
		require.NoError(t, err)
		failing, _, err := b.st.CreateSubscription(b.ctx, subParams(b, "https://example.com/failing"))
		require.NoError(t, err)
		ev := insertEvents(t, b, store.EventParams{ID: id("evt"), TenantID: b.tenant.ID, Type: "order.created", Data: []byte(`{}`), Now: b.now})[0].Event
		next := b.now.Add(time.Minute)
		record := func(sub string, n, status int, outcome store.AttemptOutcome) {
			a := store.Attempt{SubscriptionID: sub, WebhookID: ev.ID, EventIDs: []string{ev.ID}, Number: n,
				StartedAt: b.now.Add(time.Duration(n) * time.Second), Status: status, Outcome: outcome, Error: fmt.Sprintf("HTTP %d", status)}
			if outcome == store.AttemptRetry {
				a.NextAttemptAt = &next
			}
			require.NoError(t, recordAttempt(b.ctx, b.st, a, ""))
		}
		record(ok.ID, 1, 500, store.AttemptRetry)
		record(ok.ID, 2, 200, store.AttemptDelivered)
		record(retrying.ID, 1, 503, store.AttemptRetry)
		record(failing.ID, 1, 500, store.AttemptRetry)
		record(failing.ID, 2, 500, store.AttemptFailed)

		got, err := b.st.EventDeliveries(b.ctx, b.tenant.ID, ev.ID)
		require.NoError(t, err)
		byID := map[string]store.EventDelivery{}
		for _, d := range got {
			byID[d.SubscriptionID] = d
		}
		require.Len(t, byID, 3)
		require.Equal(t, store.DeliveryDelivered, byID[ok.ID].State)
		require.Equal(t, 2, byID[ok.ID].Attempts)
		require.Equal(t, 200, byID[ok.ID].LastStatus)
		require.Equal(t, store.DeliveryPending, byID[retrying.ID].State)
		require.Equal(t, store.DeliveryFailed, byID[failing.ID].State)
		require.Equal(t, "HTTP 500", byID[failing.ID].LastError)

		other := otherTenant(t, b)
		hidden, err := b.st.EventDeliveries(b.ctx, other.ID, ev.ID)
		require.NoError(t, err)
		require.Empty(t, hidden)
	})

	t.Run("SetSubscriptionState", func(t *testing.T) {
		t.Parallel()
		b := s.setup(t)
		sub, _, err := b.st.CreateSubscription(b.ctx, subParams(b, "https://example.com/state"))
		require.NoError(t, err)
		require.NoError(t, recordAttempt(b.ctx, b.st, store.Attempt{SubscriptionID: sub.ID, WebhookID: "evt_s", EventIDs: []string{"evt_s"},
			Number: 1, StartedAt: b.now, Status: 500, Outcome: store.AttemptFailed}, ""))

		off, err := b.st.SetSubscriptionState(b.ctx, store.StateChange{TenantID: b.tenant.ID, SubscriptionID: sub.ID,
			State: store.SubscriptionInactive, Reason: "disabled", Now: b.now})
		require.NoError(t, err)
		require.Equal(t, store.SubscriptionInactive, off.State)
		require.Equal(t, "disabled", off.StateReason)
		require.Equal(t, 1, off.ConsecutiveFailures)

		on, err := b.st.SetSubscriptionState(b.ctx, store.StateChange{TenantID: b.tenant.ID, SubscriptionID: sub.ID,
			State: store.SubscriptionActive, Reason: "ignored", Now: b.now})
		require.NoError(t, err)
		require.Equal(t, store.SubscriptionActive, on.State)
		require.Empty(t, on.StateReason)
		require.Zero(t, on.ConsecutiveFailures, "enabling resets the failures")

		other := otherTenant(t, b)
		_, err = b.st.SetSubscriptionState(b.ctx, store.StateChange{TenantID: other.ID, SubscriptionID: sub.ID,
			State: store.SubscriptionInactive, Reason: "disabled", Now: b.now})
		require.ErrorIs(t, err, store.ErrNotFound, "another tenant cannot change it")
		_, err = b.st.SetSubscriptionState(b.ctx, store.StateChange{TenantID: b.tenant.ID, SubscriptionID: sub.ID, State: "paused", Now: b.now})
		require.Error(t, err)
		require.NoError(t, b.st.DeleteSubscription(b.ctx, b.tenant.ID, sub.ID, b.now))
		_, err = b.st.SetSubscriptionState(b.ctx, store.StateChange{TenantID: b.tenant.ID, SubscriptionID: sub.ID,
			State: store.SubscriptionActive, Now: b.now})
		require.ErrorIs(t, err, store.ErrNotFound, "a deleted subscription stays deleted")
		got, err := b.st.Subscription(b.ctx, b.tenant.ID, sub.ID)
		require.NoError(t, err)
		require.Equal(t, store.SubscriptionDeleted, got.State)
	})

	t.Run("FailingSubscriptions", func(t *testing.T) {
		t.Parallel()
		b := s.setup(t)
		record := func(sub string, n int, outcome store.AttemptOutcome) {
			ev := fmt.Sprintf("evt_failing_%d", n)
			require.NoError(t, recordAttempt(b.ctx, b.st, store.Attempt{SubscriptionID: sub, WebhookID: ev, EventIDs: []string{ev},
				Number: 1, StartedAt: b.now.Add(time.Duration(n) * time.Second), Status: 500, Outcome: outcome}, ""))
		}
		mk := func(name string) string {
			sub, _, err := b.st.CreateSubscription(b.ctx, subParams(b, "https://example.com/"+name))
			require.NoError(t, err)
			return sub.ID
		}
		failing, recovered, fresh, reenabled, deleted := mk("failing"), mk("recovered"), mk("fresh"), mk("reenabled"), mk("deleted")
		record(failing, 1, store.AttemptDelivered)
		record(failing, 2, store.AttemptRetry)
		record(recovered, 3, store.AttemptFailed)
		record(recovered, 4, store.AttemptDelivered)
		record(reenabled, 5, store.AttemptFailed)
		_, err := b.st.SetSubscriptionState(b.ctx, store.StateChange{TenantID: b.tenant.ID, SubscriptionID: reenabled, State: store.SubscriptionActive, Now: b.now})
		require.NoError(t, err)
		record(deleted, 6, store.AttemptFailed)
		require.NoError(t, b.st.DeleteSubscription(b.ctx, b.tenant.ID, deleted, b.now))

		got, err := b.st.FailingSubscriptions(b.ctx)
		require.NoError(t, err)
		require.Equal(t, []string{failing}, got, "not %s (recovered), %s (no attempt), %s (re-enabled) or %s (deleted)", recovered, fresh, reenabled, deleted)
	})

	t.Run("RedeliveryEvents", func(t *testing.T) {
		t.Parallel()
		b := s.setup(t)
		sub, _, err := b.st.CreateSubscription(b.ctx, subParams(b, "https://example.com/redeliver"))
		require.NoError(t, err)
		var evs []store.EventParams
		for i := range 4 {
			evs = append(evs, store.EventParams{ID: id("evt"), TenantID: b.tenant.ID, Type: "order.created",
				Data: []byte(`{}`), Now: b.now.Add(time.Duration(i) * time.Minute)})
		}
		evs = append(evs, store.EventParams{ID: id("evt"), TenantID: b.tenant.ID, Type: "order.shipped", Data: []byte(`{}`), Now: b.now})
		insertEvents(t, b, evs...)
		// The second was delivered, the third failed.
		require.NoError(t, recordAttempt(b.ctx, b.st, store.Attempt{SubscriptionID: sub.ID, WebhookID: evs[1].ID, EventIDs: []string{evs[1].ID},
			Number: 1, StartedAt: b.now, Status: 200, Outcome: store.AttemptDelivered}, ""))
		require.NoError(t, recordAttempt(b.ctx, b.st, store.Attempt{SubscriptionID: sub.ID, WebhookID: evs[2].ID, EventIDs: []string{evs[2].ID},
			Number: 1, StartedAt: b.now, Status: 500, Outcome: store.AttemptFailed}, ""))

		q := store.RedeliveryQuery{TenantID: b.tenant.ID, SubscriptionID: sub.ID, Trigger: "order.created",
			Since: b.now, Until: b.now.Add(3 * time.Minute), Limit: 10}
		all, err := b.st.RedeliveryEvents(b.ctx, q)
		require.NoError(t, err)
		require.Equal(t, []string{evs[0].ID, evs[1].ID, evs[2].ID}, eventIDs(all), "the trigger's events in the window, oldest first")
		q.OnlyFailed = true
		failed, err := b.st.RedeliveryEvents(b.ctx, q)
		require.NoError(t, err)
		require.Equal(t, []string{evs[0].ID, evs[2].ID}, eventIDs(failed), "those without a delivered attempt to it")
		q.Limit = 1
		capped, err := b.st.RedeliveryEvents(b.ctx, q)
		require.NoError(t, err)
		require.Len(t, capped, 1)
		q.TenantID, q.Limit = otherTenant(t, b).ID, 10
		hidden, err := b.st.RedeliveryEvents(b.ctx, q)
		require.NoError(t, err)
		require.Empty(t, hidden)
	})

	t.Run("PrunedInWindow", func(t *testing.T) {
		t.Parallel()
		b := s.setup(t)
		sub, _, err := b.st.CreateSubscription(b.ctx, subParams(b, "https://example.com/pruned"))
		require.NoError(t, err)
		kept := insertEvents(t, b, store.EventParams{ID: id("evt"), TenantID: b.tenant.ID, Type: "order.created", Data: []byte(`{}`), Now: b.now})[0].Event
		for _, ev := range []string{kept.ID, "evt_pruned_1", "evt_pruned_2"} {
			for n := 1; n <= 2; n++ { // two attempts of one event count once
				require.NoError(t, recordAttempt(b.ctx, b.st, store.Attempt{SubscriptionID: sub.ID, WebhookID: ev, EventIDs: []string{ev},
					Number: n, StartedAt: b.now.Add(time.Duration(n) * time.Second), Status: 500, Outcome: store.AttemptRetry}, ""))
			}
		}
		n, err := b.st.PrunedInWindow(b.ctx, sub.ID, b.now, b.now.Add(time.Minute))
		require.NoError(t, err)
		require.Equal(t, 2, n, "the events attempted in the window that the log no longer holds")
		n, err = b.st.PrunedInWindow(b.ctx, sub.ID, b.now.Add(time.Minute), b.now.Add(time.Hour))
		require.NoError(t, err)
		require.Zero(t, n)
	})
}

// otherTenant creates the tenant globex, whose view must never include
// acme's data.
func otherTenant(t *testing.T, b *testBundle) store.Tenant {
	t.Helper()
	other, err := b.st.CreateAPIKey(b.ctx, store.APIKeyParams{Tenant: store.TenantParams{Name: "globex", NewID: id("ten"), Now: b.now},
		KeyHash: hash(id("key-globex"))})
	require.NoError(t, err)
	return other
}

func eventIDs(events []store.Event) []string {
	ids := make([]string, len(events))
	for i, e := range events {
		ids[i] = e.ID
	}
	return ids
}
