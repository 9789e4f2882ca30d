package storetest

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd/internal/store"
)

// events checks appending events, idempotency keys and reading events back.
func (s suite) events(t *testing.T) {
	t.Parallel()
	t.Run("Events", func(t *testing.T) {
		t.Parallel()
		b := s.setup(t)
		ev := func(key string, data string) store.EventParams {
			return store.EventParams{ID: id("evt"), TenantID: b.tenant.ID, Type: "order.created", IdempotencyKey: key, Data: []byte(data), Now: b.now}
		}
		out := insertEvents(t, b, ev("k1", `{"id":1}`), ev("", `{"id":2}`), ev("k1", `{"id":1}`))
		require.Len(t, out, 3)
		require.False(t, out[0].Duplicate)
		require.False(t, out[1].Duplicate)
		require.True(t, out[2].Duplicate, "same idempotency key in one batch")
		require.Equal(t, out[0].Event.ID, out[2].Event.ID)
		require.JSONEq(t, `{"id":1}`, string(out[2].Event.Data))
		require.Less(t, out[0].Event.Seq, out[1].Event.Seq)

		again := insertEvents(t, b, ev("k1", `{"id":1}`))
		require.True(t, again[0].Duplicate)
		require.Equal(t, out[0].Event.ID, again[0].Event.ID)

		// The key is scoped to the event type: another type's event with
		// the same key is a new event, not a duplicate that would be lost.
		updated := ev("k1", `{"id":1,"status":"paid"}`)
		updated.Type = "order.updated"
		other := insertEvents(t, b, updated)
		require.False(t, other[0].Duplicate)
		require.NotEqual(t, out[0].Event.ID, other[0].Event.ID)

		// Same type and key with different data is a conflict naming the
		// earlier event, whether the earlier one is stored or in the same
		// call.
		for _, batch := range [][]store.EventParams{
			{ev("k1", `{"id":4}`)},
			{ev("k-new", `{"id":5}`), ev("k-new", `{"id":6}`)},
		} {
			tx, err := b.st.DB().BeginTx(b.ctx, nil)
			require.NoError(t, err)
			_, err = b.st.InsertEventsTx(b.ctx, tx, batch)
			require.NoError(t, tx.Rollback())
			var ce *store.IdempotencyConflictError
			require.ErrorAs(t, err, &ce)
			require.Equal(t, batch[len(batch)-1].IdempotencyKey, ce.Key)
			require.Equal(t, len(batch)-1, ce.Index)
			require.Equal(t, "order.created", ce.Type)
			require.NotEmpty(t, ce.EventID)
			if len(batch) == 1 {
				require.Equal(t, out[0].Event.ID, ce.EventID)
			}
			require.Contains(t, ce.Error(), ce.EventID)
		}

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
}
