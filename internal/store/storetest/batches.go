package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd/internal/store"
)

// batches checks the events waiting for a batch-mode subscription.
func (s suite) batches(t *testing.T) {
	t.Parallel()
	t.Run("BatchItems", func(t *testing.T) {
		t.Parallel()
		b := s.setup(t)
		sub, _, err := b.st.CreateSubscription(b.ctx, subParams(b, "https://example.com/batch"))
		require.NoError(t, err)
		tx, err := b.st.DB().BeginTx(b.ctx, nil)
		require.NoError(t, err)
		for i := int64(1); i <= 5; i++ {
			n, err := b.st.AddBatchItemTx(b.ctx, tx, store.BatchItemParams{SubscriptionID: sub.ID, EventSeq: i, EventID: fmt.Sprintf("evt_%d", i), Now: b.now.Add(time.Duration(i) * time.Second)})
			require.NoError(t, err)
			require.Equal(t, int(i), n)
		}
		n, err := b.st.AddBatchItemTx(b.ctx, tx, store.BatchItemParams{SubscriptionID: sub.ID, EventSeq: 5, EventID: "evt_5", Now: b.now})
		require.NoError(t, err)
		require.Equal(t, 5, n, "queueing the same event twice is a no-op")

		ids, remaining, oldest, err := takeBatch(b, tx, sub.ID, 3, b.now)
		require.NoError(t, err)
		require.Equal(t, []string{"evt_1", "evt_2", "evt_3"}, ids, "a full batch is due at once")
		require.Equal(t, 2, remaining)
		require.Equal(t, b.now.Add(4*time.Second), oldest)

		ids, remaining, oldest, err = takeBatch(b, tx, sub.ID, 3, b.now.Add(3*time.Second))
		require.NoError(t, err)
		require.Empty(t, ids, "a partial batch waits until its oldest event is due")
		require.Equal(t, 2, remaining)
		require.Equal(t, b.now.Add(4*time.Second), oldest)

		ids, remaining, _, err = takeBatch(b, tx, sub.ID, 3, b.now.Add(4*time.Second))
		require.NoError(t, err)
		require.Equal(t, []string{"evt_4", "evt_5"}, ids)
		require.Zero(t, remaining)
		ids, _, _, err = takeBatch(b, tx, sub.ID, 3, b.now.Add(time.Hour))
		require.NoError(t, err)
		require.Empty(t, ids)
		require.NoError(t, tx.Commit())
	})
}
