// Package storetest is the conformance suite every store.Store backend must
// pass. A backend's test calls Run with a function that returns a fresh,
// migrated, empty store; each subtest gets its own.
package storetest

import (
	"context"
	"crypto/sha256"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd/internal/store"
)

// Run runs the suite. newStore must return an empty, migrated store that is
// cleaned up with t.Cleanup.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Helper()

	type testBundle struct {
		ctx    context.Context
		st     store.Store
		tenant store.Tenant
		now    time.Time
	}
	var seq atomic.Int64
	id := func(prefix string) string { return fmt.Sprintf("%s_%08d", prefix, seq.Add(1)) }
	setup := func(t *testing.T) *testBundle {
		t.Helper()
		st := newStore(t)
		now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
		tenant, err := st.CreateAPIKey(context.Background(), "acme", hash("key-acme"), id("ten"), now)
		require.NoError(t, err)
		return &testBundle{ctx: context.Background(), st: st, tenant: tenant, now: now}
	}
	subParams := func(b *testBundle, callback string) store.SubscriptionParams {
		return store.SubscriptionParams{ID: id("sub"), TenantID: b.tenant.ID, Trigger: "order.created",
			CallbackURL: callback, Filters: map[string]string{"status": "new"}, Secret: "whsec_x", Now: b.now}
	}
	insertEvents := func(t *testing.T, b *testBundle, params ...store.EventParams) []store.InsertedEvent {
		t.Helper()
		tx, err := b.st.DB().BeginTx(b.ctx, nil)
		require.NoError(t, err)
		out, err := b.st.InsertEventsTx(b.ctx, tx, params)
		require.NoError(t, err)
		require.NoError(t, tx.Commit())
		return out
	}

	t.Run("APIKeys", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		got, err := b.st.TenantByAPIKey(b.ctx, hash("key-acme"))
		require.NoError(t, err)
		require.Equal(t, b.tenant, got)

		// A second key for the same tenant name joins that tenant.
		again, err := b.st.CreateAPIKey(b.ctx, "acme", hash("key-acme-2"), id("ten"), b.now)
		require.NoError(t, err)
		require.Equal(t, b.tenant.ID, again.ID)

		_, err = b.st.TenantByAPIKey(b.ctx, hash("nope"))
		require.ErrorIs(t, err, store.ErrNotFound)

		byName, err := b.st.TenantByName(b.ctx, "acme")
		require.NoError(t, err)
		require.Equal(t, b.tenant.ID, byName.ID)
	})

	t.Run("SubscriptionLifecycle", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		callback := "https://prod-1.westeurope.logic.azure.com/workflows/abc/run?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=AbC"
		sub, created, err := b.st.CreateSubscription(b.ctx, subParams(b, callback))
		require.NoError(t, err)
		require.True(t, created)
		require.Equal(t, callback, sub.CallbackURL, "callback URL must be stored byte for byte")
		require.Equal(t, store.SubscriptionActive, sub.State)
		require.Equal(t, map[string]string{"status": "new"}, sub.Filters)

		// Re-subscribing the same callback returns the same subscription.
		p := subParams(b, callback)
		p.Filters = map[string]string{"status": "paid"}
		again, created, err := b.st.CreateSubscription(b.ctx, p)
		require.NoError(t, err)
		require.False(t, created)
		require.Equal(t, sub.ID, again.ID)
		require.Equal(t, "paid", again.Filters["status"])

		// Another trigger with the same callback is another subscription.
		p = subParams(b, callback)
		p.Trigger = "order.updated"
		other, created, err := b.st.CreateSubscription(b.ctx, p)
		require.NoError(t, err)
		require.True(t, created)
		require.NotEqual(t, sub.ID, other.ID)

		list, err := b.st.Subscriptions(b.ctx, b.tenant.ID)
		require.NoError(t, err)
		require.Len(t, list, 2)

		require.NoError(t, b.st.DeleteSubscription(b.ctx, b.tenant.ID, sub.ID, b.now))
		require.NoError(t, b.st.DeleteSubscription(b.ctx, b.tenant.ID, sub.ID, b.now), "second delete by the owner succeeds")
		got, err := b.st.Subscription(b.ctx, b.tenant.ID, sub.ID)
		require.NoError(t, err)
		require.Equal(t, store.SubscriptionDeleted, got.State)

		list, err = b.st.Subscriptions(b.ctx, b.tenant.ID)
		require.NoError(t, err)
		require.Len(t, list, 1)

		// After deletion the same callback registers anew.
		fresh, created, err := b.st.CreateSubscription(b.ctx, subParams(b, callback))
		require.NoError(t, err)
		require.True(t, created)
		require.NotEqual(t, sub.ID, fresh.ID)
	})

	t.Run("TenantIsolation", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		other, err := b.st.CreateAPIKey(b.ctx, "globex", hash("key-globex"), id("ten"), b.now)
		require.NoError(t, err)
		sub, _, err := b.st.CreateSubscription(b.ctx, subParams(b, "https://example.com/a"))
		require.NoError(t, err)

		_, err = b.st.Subscription(b.ctx, other.ID, sub.ID)
		require.ErrorIs(t, err, store.ErrNotFound)
		require.ErrorIs(t, b.st.DeleteSubscription(b.ctx, other.ID, sub.ID, b.now), store.ErrNotFound)
		list, err := b.st.Subscriptions(b.ctx, other.ID)
		require.NoError(t, err)
		require.Empty(t, list)
		got, err := b.st.Subscription(b.ctx, b.tenant.ID, sub.ID)
		require.NoError(t, err)
		require.Equal(t, store.SubscriptionActive, got.State, "a foreign delete must change nothing")

		// The same callback URL in two tenants is two subscriptions.
		p := subParams(b, "https://example.com/a")
		p.TenantID = other.ID
		theirs, created, err := b.st.CreateSubscription(b.ctx, p)
		require.NoError(t, err)
		require.True(t, created)
		require.NotEqual(t, sub.ID, theirs.ID)

		tx, err := b.st.DB().BeginTx(b.ctx, nil)
		require.NoError(t, err)
		active, err := b.st.ActiveSubscriptionsTx(b.ctx, tx, b.tenant.ID, "order.created")
		require.NoError(t, err)
		require.NoError(t, tx.Rollback())
		require.Len(t, active, 1)
		require.Equal(t, sub.ID, active[0].ID)
	})

	t.Run("Events", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ev := func(key string, data string) store.EventParams {
			return store.EventParams{ID: id("evt"), TenantID: b.tenant.ID, Type: "order.created", IdempotencyKey: key, Data: []byte(data), Now: b.now}
		}
		out := insertEvents(t, b, ev("k1", `{"id":1}`), ev("", `{"id":2}`), ev("k1", `{"id":3}`))
		require.Len(t, out, 3)
		require.False(t, out[0].Duplicate)
		require.False(t, out[1].Duplicate)
		require.True(t, out[2].Duplicate, "same idempotency key in one batch")
		require.Equal(t, out[0].Event.ID, out[2].Event.ID)
		require.JSONEq(t, `{"id":1}`, string(out[2].Event.Data))
		require.Less(t, out[0].Event.Seq, out[1].Event.Seq)

		again := insertEvents(t, b, ev("k1", `{"id":4}`))
		require.True(t, again[0].Duplicate)
		require.Equal(t, out[0].Event.ID, again[0].Event.ID)

		got, err := b.st.Events(b.ctx, []string{out[1].Event.ID, out[0].Event.ID})
		require.NoError(t, err)
		require.Equal(t, []string{out[1].Event.ID, out[0].Event.ID}, []string{got[0].ID, got[1].ID})
		_, err = b.st.Events(b.ctx, []string{"evt_missing"})
		require.ErrorIs(t, err, store.ErrNotFound)

		// A rolled-back transaction leaves nothing behind.
		tx, err := b.st.DB().BeginTx(b.ctx, nil)
		require.NoError(t, err)
		rolled := ev("k-rolled", `{"id":5}`)
		_, err = b.st.InsertEventsTx(b.ctx, tx, []store.EventParams{rolled})
		require.NoError(t, err)
		require.NoError(t, tx.Rollback())
		_, err = b.st.Events(b.ctx, []string{rolled.ID})
		require.ErrorIs(t, err, store.ErrNotFound)
	})

	t.Run("Attempts", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		sub, _, err := b.st.CreateSubscription(b.ctx, subParams(b, "https://example.com/hook"))
		require.NoError(t, err)
		next := b.now.Add(5 * time.Second)
		err = recordAttempt(b.ctx, b.st, store.Attempt{SubscriptionID: sub.ID, WebhookID: "evt_1", EventIDs: []string{"evt_1"},
			Number: 1, StartedAt: b.now, Duration: 3 * time.Millisecond, Status: 503, Error: "HTTP 503",
			Outcome: store.AttemptRetry, NextAttemptAt: &next}, "")
		require.NoError(t, err)
		got, err := b.st.Subscription(b.ctx, b.tenant.ID, sub.ID)
		require.NoError(t, err)
		require.Equal(t, 1, got.ConsecutiveFailures)
		require.Equal(t, 503, got.LastStatus)

		err = recordAttempt(b.ctx, b.st, store.Attempt{SubscriptionID: sub.ID, WebhookID: "evt_1", EventIDs: []string{"evt_1"},
			Number: 2, StartedAt: next, Duration: time.Millisecond, Status: 202, Outcome: store.AttemptDelivered}, "")
		require.NoError(t, err)
		got, err = b.st.Subscription(b.ctx, b.tenant.ID, sub.ID)
		require.NoError(t, err)
		require.Equal(t, 0, got.ConsecutiveFailures)
		require.Equal(t, 202, got.LastStatus)

		err = recordAttempt(b.ctx, b.st, store.Attempt{SubscriptionID: sub.ID, WebhookID: "evt_2", EventIDs: []string{"evt_2"},
			Number: 1, StartedAt: next, Status: 410, Outcome: store.AttemptGone}, "callback answered 410 Gone")
		require.NoError(t, err)
		got, err = b.st.Subscription(b.ctx, b.tenant.ID, sub.ID)
		require.NoError(t, err)
		require.Equal(t, store.SubscriptionInactive, got.State)
		require.Equal(t, "callback answered 410 Gone", got.StateReason)

		attempts, err := b.st.Attempts(b.ctx, b.tenant.ID, sub.ID, 10)
		require.NoError(t, err)
		require.Len(t, attempts, 3)
		require.Equal(t, store.AttemptGone, attempts[0].Outcome, "newest first")
		require.Equal(t, next, *attempts[2].NextAttemptAt)
		require.Equal(t, 3*time.Millisecond, attempts[2].Duration)

		other, err := b.st.CreateAPIKey(b.ctx, "globex", hash("key-globex"), id("ten"), b.now)
		require.NoError(t, err)
		attempts, err = b.st.Attempts(b.ctx, other.ID, sub.ID, 10)
		require.NoError(t, err)
		require.Empty(t, attempts, "attempts of another tenant's subscription stay hidden")

		// Registering again revives an inactive subscription.
		revived, created, err := b.st.CreateSubscription(b.ctx, subParams(b, "https://example.com/hook"))
		require.NoError(t, err)
		require.False(t, created)
		require.Equal(t, sub.ID, revived.ID)
		require.Equal(t, store.SubscriptionActive, revived.State)
		require.Equal(t, 1, revived.ConsecutiveFailures, "health stays what the attempts say")

		// A list reads the same health as a single read, for every entry.
		other2, _, err := b.st.CreateSubscription(b.ctx, subParams(b, "https://example.com/quiet"))
		require.NoError(t, err)
		list, err := b.st.Subscriptions(b.ctx, b.tenant.ID)
		require.NoError(t, err)
		require.Len(t, list, 2)
		single, err := b.st.Subscription(b.ctx, b.tenant.ID, sub.ID)
		require.NoError(t, err)
		for _, l := range list {
			switch l.ID {
			case sub.ID:
				require.Equal(t, single.LastStatus, l.LastStatus)
				require.Equal(t, 410, l.LastStatus)
				require.Equal(t, single.ConsecutiveFailures, l.ConsecutiveFailures)
				require.Equal(t, single.LastAttemptAt, l.LastAttemptAt)
			case other2.ID:
				require.Nil(t, l.LastAttemptAt)
				require.Zero(t, l.ConsecutiveFailures)
			}
		}
	})

	t.Run("BatchItems", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		sub, _, err := b.st.CreateSubscription(b.ctx, subParams(b, "https://example.com/batch"))
		require.NoError(t, err)
		tx, err := b.st.DB().BeginTx(b.ctx, nil)
		require.NoError(t, err)
		for i := int64(1); i <= 5; i++ {
			n, err := b.st.AddBatchItemTx(b.ctx, tx, sub.ID, i, fmt.Sprintf("evt_%d", i), b.now.Add(time.Duration(i)*time.Second))
			require.NoError(t, err)
			require.Equal(t, int(i), n)
		}
		n, err := b.st.AddBatchItemTx(b.ctx, tx, sub.ID, 5, "evt_5", b.now)
		require.NoError(t, err)
		require.Equal(t, 5, n, "queueing the same event twice is a no-op")

		ids, remaining, oldest, err := b.st.TakeBatchTx(b.ctx, tx, sub.ID, 3, b.now)
		require.NoError(t, err)
		require.Equal(t, []string{"evt_1", "evt_2", "evt_3"}, ids, "a full batch is due at once")
		require.Equal(t, 2, remaining)
		require.Equal(t, b.now.Add(4*time.Second), oldest)

		ids, remaining, oldest, err = b.st.TakeBatchTx(b.ctx, tx, sub.ID, 3, b.now.Add(3*time.Second))
		require.NoError(t, err)
		require.Empty(t, ids, "a partial batch waits until its oldest event is due")
		require.Equal(t, 2, remaining)
		require.Equal(t, b.now.Add(4*time.Second), oldest)

		ids, remaining, _, err = b.st.TakeBatchTx(b.ctx, tx, sub.ID, 3, b.now.Add(4*time.Second))
		require.NoError(t, err)
		require.Equal(t, []string{"evt_4", "evt_5"}, ids)
		require.Zero(t, remaining)
		ids, _, _, err = b.st.TakeBatchTx(b.ctx, tx, sub.ID, 3, b.now.Add(time.Hour))
		require.NoError(t, err)
		require.Empty(t, ids)
		require.NoError(t, tx.Commit())
	})

	t.Run("RecordManyAttempts", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		sub, _, err := b.st.CreateSubscription(b.ctx, subParams(b, "https://example.com/many"))
		require.NoError(t, err)
		// More than one multi-row INSERT's worth, with a deactivation among them.
		records := make([]store.AttemptRecord, 150)
		for i := range records {
			records[i] = store.AttemptRecord{Attempt: store.Attempt{SubscriptionID: sub.ID, WebhookID: fmt.Sprintf("evt_%d", i),
				EventIDs: []string{fmt.Sprintf("evt_%d", i)}, Number: 1, StartedAt: b.now, Status: 202, Outcome: store.AttemptDelivered}}
		}
		records[149].Attempt.Status = 410
		records[149].Attempt.Outcome = store.AttemptGone
		records[149].Deactivate = "callback answered 410 Gone"
		tx, err := b.st.DB().BeginTx(b.ctx, nil)
		require.NoError(t, err)
		require.NoError(t, b.st.RecordAttemptsTx(b.ctx, tx, records))
		require.NoError(t, tx.Commit())
		attempts, err := b.st.Attempts(b.ctx, b.tenant.ID, sub.ID, 200)
		require.NoError(t, err)
		require.Len(t, attempts, 150)

		tx, err = b.st.DB().BeginTx(b.ctx, nil)
		require.NoError(t, err)
		attempted, err := b.st.AttemptedTx(b.ctx, tx, []string{"evt_0", "evt_149", "evt_none"})
		require.NoError(t, err)
		require.NoError(t, tx.Rollback())
		require.Equal(t, map[[2]string]bool{{sub.ID, "evt_0"}: true, {sub.ID, "evt_149"}: true}, attempted)
		got, err := b.st.Subscription(b.ctx, b.tenant.ID, sub.ID)
		require.NoError(t, err)
		require.Equal(t, store.SubscriptionInactive, got.State)
		require.Equal(t, 1, got.ConsecutiveFailures)
	})

	t.Run("DeactivateSparesDeleted", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		sub, _, err := b.st.CreateSubscription(b.ctx, subParams(b, "https://example.com/hook"))
		require.NoError(t, err)
		require.NoError(t, b.st.DeleteSubscription(b.ctx, b.tenant.ID, sub.ID, b.now))
		err = recordAttempt(b.ctx, b.st, store.Attempt{SubscriptionID: sub.ID, WebhookID: "evt_1", EventIDs: []string{"evt_1"},
			Number: 1, StartedAt: b.now, Status: 404, Outcome: store.AttemptGone}, "gone")
		require.NoError(t, err)
		got, err := b.st.Subscription(b.ctx, b.tenant.ID, sub.ID)
		require.NoError(t, err)
		require.Equal(t, store.SubscriptionDeleted, got.State)
	})

	t.Run("EventLog", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		other, err := b.st.CreateAPIKey(b.ctx, "globex", hash("key-globex"), id("ten"), b.now)
		require.NoError(t, err)
		start, err := b.st.LogEnd(b.ctx)
		require.NoError(t, err)
		ev := func(tenant, typ, data string) store.EventParams {
			return store.EventParams{ID: id("evt"), TenantID: tenant, Type: typ, Data: []byte(data), Now: b.now}
		}
		var want []string
		for i := range 5 {
			p := ev(b.tenant.ID, "order.created", fmt.Sprintf(`{"id":%d}`, i))
			want = append(want, p.ID)
			insertEvents(t, b, p, ev(b.tenant.ID, "order.updated", `{}`), ev(other.ID, "order.created", `{}`))
		}
		// A rolled-back event never appears.
		tx, err := b.st.DB().BeginTx(b.ctx, nil)
		require.NoError(t, err)
		_, err = b.st.InsertEventsTx(b.ctx, tx, []store.EventParams{ev(b.tenant.ID, "order.created", `{}`)})
		require.NoError(t, err)
		require.NoError(t, tx.Rollback())

		all := readFinal(t, b.st, b.tenant.ID, "order.created", start, 100, len(want))
		require.Equal(t, want, logIDs(all), "the tenant's events of the type, in order, nothing else")
		require.JSONEq(t, `{"id":0}`, string(all[0].Data))
		require.Equal(t, b.now, all[0].CreatedAt)
		for i := 1; i < len(all); i++ {
			require.True(t, all[i-1].Cursor.Less(all[i].Cursor), "cursors grow")
		}

		// Pages continue where the last one stopped.
		first, err := b.st.EventsAfter(b.ctx, b.tenant.ID, "order.created", start, 2)
		require.NoError(t, err)
		require.Equal(t, want[:2], logIDs(first))
		rest, err := b.st.EventsAfter(b.ctx, b.tenant.ID, "order.created", first[1].Cursor, 100)
		require.NoError(t, err)
		require.Equal(t, want[2:], logIDs(rest))

		// The end of the log is after everything committed.
		end, err := b.st.LogEnd(b.ctx)
		require.NoError(t, err)
		require.False(t, end.Less(all[len(all)-1].Cursor))
		none, err := b.st.EventsAfter(b.ctx, b.tenant.ID, "order.created", end, 100)
		require.NoError(t, err)
		require.Empty(t, none)
		later := ev(b.tenant.ID, "order.created", `{}`)
		insertEvents(t, b, later)
		got := readFinal(t, b.st, b.tenant.ID, "order.created", end, 100, 1)
		require.Equal(t, []string{later.ID}, logIDs(got))
	})

	// On PostgreSQL transactions commit in any order. A reader must never
	// pass an event that has not committed yet: it would skip it for ever.
	t.Run("EventLogCommitOrder", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		if b.st.DB().Stats().MaxOpenConnections == 1 {
			t.Skip("one connection, one writer (SQLite): seq order is commit order")
		}
		start, err := b.st.LogEnd(b.ctx)
		require.NoError(t, err)
		read := func(after store.Cursor) []store.LogEntry {
			t.Helper()
			got, err := b.st.EventsAfter(b.ctx, b.tenant.ID, "order.created", after, 100)
			require.NoError(t, err)
			return got
		}
		ev := func() store.EventParams {
			return store.EventParams{ID: id("evt"), TenantID: b.tenant.ID, Type: "order.created", Data: []byte(`{}`), Now: b.now}
		}

		// A: inserted first (smaller seq), committed last.
		a := ev()
		slow, err := b.st.DB().BeginTx(b.ctx, nil)
		require.NoError(t, err)
		defer slow.Rollback() //nolint:errcheck // no-op after commit
		_, err = b.st.InsertEventsTx(b.ctx, slow, []store.EventParams{a})
		require.NoError(t, err)
		// B: inserted and committed while A's transaction is open.
		bEv := ev()
		insertEvents(t, b, bEv)
		require.Empty(t, read(start), "B must wait for A: a cursor past B would skip A")

		// C: the slow transaction inserts again, late, with a seq larger
		// than B's; its place is still before B.
		c := ev()
		_, err = b.st.InsertEventsTx(b.ctx, slow, []store.EventParams{c})
		require.NoError(t, err)
		require.Empty(t, read(start))
		require.NoError(t, slow.Commit())

		got := readFinal(t, b.st, b.tenant.ID, "order.created", start, 100, 3)
		require.Equal(t, []string{a.ID, c.ID, bEv.ID}, logIDs(got), "commit order of transactions, insert order within one")
		require.Empty(t, read(got[2].Cursor))
		require.Equal(t, []string{c.ID, bEv.ID}, logIDs(read(got[0].Cursor)))
	})

	t.Run("PruneEvents", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		other, err := b.st.CreateAPIKey(b.ctx, "globex", hash("key-globex"), id("ten"), b.now)
		require.NoError(t, err)
		start, err := b.st.LogEnd(b.ctx)
		require.NoError(t, err)
		ev := func(tenant string, age time.Duration) store.EventParams {
			return store.EventParams{ID: id("evt"), TenantID: tenant, Type: "order.created", Data: []byte(`{}`), Now: b.now.Add(-age)}
		}
		old1, old2, kept, fresh := ev(b.tenant.ID, 3*time.Hour), ev(b.tenant.ID, 2*time.Hour), ev(b.tenant.ID, 2*time.Hour), ev(b.tenant.ID, 0)
		theirs := ev(other.ID, 3*time.Hour)
		out := insertEvents(t, b, old1, theirs, old2, kept, fresh)

		// A batch-mode subscription still waits to send kept.
		sub, _, err := b.st.CreateSubscription(b.ctx, subParams(b, "https://example.com/batch"))
		require.NoError(t, err)
		tx, err := b.st.DB().BeginTx(b.ctx, nil)
		require.NoError(t, err)
		_, err = b.st.AddBatchItemTx(b.ctx, tx, sub.ID, out[3].Event.Seq, kept.ID, b.now)
		require.NoError(t, err)
		require.NoError(t, tx.Commit())

		pruned, err := b.st.PrunedThrough(b.ctx, b.tenant.ID, "order.created")
		require.NoError(t, err)
		require.Equal(t, store.Cursor{}, pruned, "nothing pruned yet")

		// Oldest first, at most limit per call.
		n, err := b.st.PruneEvents(b.ctx, b.now.Add(-time.Hour), 1)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		n, err = b.st.PruneEvents(b.ctx, b.now.Add(-time.Hour), 100)
		require.NoError(t, err)
		require.Equal(t, 2, n)
		n, err = b.st.PruneEvents(b.ctx, b.now.Add(-time.Hour), 100)
		require.NoError(t, err)
		require.Zero(t, n)

		left := readFinal(t, b.st, b.tenant.ID, "order.created", start, 100, 2)
		require.Equal(t, []string{kept.ID, fresh.ID}, logIDs(left), "old events go, unless a batch still needs them")
		_, err = b.st.Events(b.ctx, []string{old1.ID})
		require.ErrorIs(t, err, store.ErrNotFound)

		// The highest pruned cursor, per tenant and type: a reader before
		// it lost events, a reader after it did not.
		pruned, err = b.st.PrunedThrough(b.ctx, b.tenant.ID, "order.created")
		require.NoError(t, err)
		require.True(t, start.Less(pruned))
		require.True(t, pruned.Less(left[0].Cursor), "kept comes after old2 in the log")
		theirPruned, err := b.st.PrunedThrough(b.ctx, other.ID, "order.created")
		require.NoError(t, err)
		require.NotEqual(t, store.Cursor{}, theirPruned)
		none, err := b.st.PrunedThrough(b.ctx, b.tenant.ID, "order.updated")
		require.NoError(t, err)
		require.Equal(t, store.Cursor{}, none)
		eventually(t, "the end of the log passes the pruned events", func() bool {
			end, err := b.st.LogEnd(b.ctx)
			require.NoError(t, err)
			return !end.Less(pruned)
		})

		// Once the batch is sent, kept goes too, and the pruned position
		// only moves forward.
		tx, err = b.st.DB().BeginTx(b.ctx, nil)
		require.NoError(t, err)
		_, _, _, err = b.st.TakeBatchTx(b.ctx, tx, sub.ID, 10, b.now)
		require.NoError(t, err)
		require.NoError(t, tx.Commit())
		n, err = b.st.PruneEvents(b.ctx, b.now.Add(-time.Hour), 100)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		after, err := b.st.PrunedThrough(b.ctx, b.tenant.ID, "order.created")
		require.NoError(t, err)
		require.Equal(t, left[0].Cursor, after)
	})

	t.Run("Settings", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		got, err := b.st.EnsureSetting(b.ctx, "test_key", []byte("first"), b.now)
		require.NoError(t, err)
		require.Equal(t, []byte("first"), got)
		got, err = b.st.EnsureSetting(b.ctx, "test_key", []byte("second"), b.now)
		require.NoError(t, err)
		require.Equal(t, []byte("first"), got, "the first value stored stays")
	})
}

// readFinal reads the log until at least want events are final. On
// PostgreSQL an event becomes final once every transaction older than its
// own has ended, in the whole cluster: a test running beside this one may
// hold one open for a moment.
func readFinal(t *testing.T, st store.Store, tenantID, eventType string, after store.Cursor, limit, want int) []store.LogEntry {
	t.Helper()
	var got []store.LogEntry
	eventually(t, fmt.Sprintf("%d events final", want), func() bool {
		var err error
		got, err = st.EventsAfter(context.Background(), tenantID, eventType, after, limit)
		require.NoError(t, err)
		return len(got) >= want
	})
	return got
}

// eventually polls cond until it holds, failing the test after a deadline.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(5 * time.Millisecond) // polling a condition with a deadline
	}
}

func logIDs(entries []store.LogEntry) []string {
	ids := make([]string, len(entries))
	for i, e := range entries {
		ids[i] = e.ID
	}
	return ids
}

// recordAttempt records one attempt in a transaction of its own.
func recordAttempt(ctx context.Context, st store.Store, a store.Attempt, deactivate string) error {
	tx, err := st.DB().BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // no-op after commit
	if err := st.RecordAttemptsTx(ctx, tx, []store.AttemptRecord{{Attempt: a, Deactivate: deactivate}}); err != nil {
		return err
	}
	return tx.Commit()
}

func hash(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}
