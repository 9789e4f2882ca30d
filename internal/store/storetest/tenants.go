package storetest

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd/internal/store"
)

// tenants checks tenants and their API keys, and the isolation between tenants.
func (s suite) tenants(t *testing.T) {
	t.Parallel()
	t.Run("APIKeys", func(t *testing.T) {
		t.Parallel()
		b := s.setup(t)
		got, err := b.st.TenantByAPIKey(b.ctx, hash("key-acme"))
		require.NoError(t, err)
		require.Equal(t, b.tenant, got)

		// A second key for the same tenant name joins that tenant.
		again, err := b.st.CreateAPIKey(b.ctx, store.APIKeyParams{Tenant: store.TenantParams{Name: "acme", NewID: id("ten"), Now: b.now}, KeyHash: hash("key-acme-2")})
		require.NoError(t, err)
		require.Equal(t, b.tenant.ID, again.ID)

		_, err = b.st.TenantByAPIKey(b.ctx, hash("nope"))
		require.ErrorIs(t, err, store.ErrNotFound)

		// The tenant is found by name inside a transaction, whatever new id
		// is offered; an unknown name is created with the new id.
		tx, err := b.st.DB().BeginTx(b.ctx, nil)
		require.NoError(t, err)
		byName, err := b.st.EnsureTenantTx(b.ctx, tx, store.TenantParams{Name: "acme", NewID: id("ten"), Now: b.now})
		require.NoError(t, err)
		require.Equal(t, b.tenant.ID, byName.ID)
		newID := id("ten")
		fresh, err := b.st.EnsureTenantTx(b.ctx, tx, store.TenantParams{Name: "initech", NewID: newID, Now: b.now})
		require.NoError(t, err)
		require.Equal(t, newID, fresh.ID)
		require.Equal(t, "initech", fresh.Name)
		require.NoError(t, tx.Commit())
	})
	t.Run("TenantIsolation", func(t *testing.T) {
		t.Parallel()
		b := s.setup(t)
		other, err := b.st.CreateAPIKey(b.ctx, store.APIKeyParams{Tenant: store.TenantParams{Name: "globex", NewID: id("ten"), Now: b.now}, KeyHash: hash("key-globex")})
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
}
