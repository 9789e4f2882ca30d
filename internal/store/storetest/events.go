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
}
