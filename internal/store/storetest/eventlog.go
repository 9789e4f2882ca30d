package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd/internal/store"
)

// eventLog checks the event log as polling triggers read it, and its pruning.
func (s suite) eventLog(t *testing.T) {
	t.Parallel()
	t.Run("EventLog", func(t *testing.T) {
		t.Parallel()
		b := s.setup(t)
		other, err := b.st.CreateAPIKey(b.ctx, store.APIKeyParams{Tenant: store.TenantParams{Name: "globex", NewID: id("ten"), Now: b.now}, KeyHash: hash("key-globex")})
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
		first, err := b.st.EventsAfter(b.ctx, store.LogQuery{TenantID: b.tenant.ID, EventType: "order.created", After: start, Limit: 2})
		require.NoError(t, err)
		require.Equal(t, want[:2], logIDs(first))
		rest, err := b.st.EventsAfter(b.ctx, store.LogQuery{TenantID: b.tenant.ID, EventType: "order.created", After: first[1].Cursor, Limit: 100})
		require.NoError(t, err)
		require.Equal(t, want[2:], logIDs(rest))

		// The end of the log is after everything committed.
		end, err := b.st.LogEnd(b.ctx)
		require.NoError(t, err)
		require.False(t, end.Less(all[len(all)-1].Cursor))
		none, err := b.st.EventsAfter(b.ctx, store.LogQuery{TenantID: b.tenant.ID, EventType: "order.created", After: end, Limit: 100})
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
		b := s.setup(t)
		if b.st.DB().Stats().MaxOpenConnections == 1 {
			t.Skip("one connection, one writer (SQLite): seq order is commit order")
		}
		start, err := b.st.LogEnd(b.ctx)
		require.NoError(t, err)
		read := func(after store.Cursor) []store.LogEntry {
			t.Helper()
			got, err := b.st.EventsAfter(b.ctx, store.LogQuery{TenantID: b.tenant.ID, EventType: "order.created", After: after, Limit: 100})
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
		b := s.setup(t)
		other, err := b.st.CreateAPIKey(b.ctx, store.APIKeyParams{Tenant: store.TenantParams{Name: "globex", NewID: id("ten"), Now: b.now}, KeyHash: hash("key-globex")})
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
		_, err = b.st.AddBatchItemTx(b.ctx, tx, store.BatchItemParams{SubscriptionID: sub.ID, EventSeq: out[3].Event.Seq, EventID: kept.ID, Now: b.now})
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
		_, _, _, err = takeBatch(b, tx, sub.ID, 10, b.now)
		require.NoError(t, err)
		require.NoError(t, tx.Commit())
		n, err = b.st.PruneEvents(b.ctx, b.now.Add(-time.Hour), 100)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		after, err := b.st.PrunedThrough(b.ctx, b.tenant.ID, "order.created")
		require.NoError(t, err)
		require.Equal(t, left[0].Cursor, after)
	})
}
