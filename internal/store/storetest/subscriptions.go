package storetest

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd/internal/store"
)

// subscriptions checks the life cycle of a subscription.
func (s suite) subscriptions(t *testing.T) {
	t.Parallel()
	t.Run("SubscriptionLifecycle", func(t *testing.T) {
		t.Parallel()
		b := s.setup(t)
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
}
