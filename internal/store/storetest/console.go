package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd/internal/store"
)

// console checks the console's sessions and the overview's queries.
func (s suite) console(t *testing.T) {
	t.Parallel()
	t.Run("Sessions", func(t *testing.T) {
		t.Parallel()
		b := s.setup(t)
		keyID := id("key")
		tenant, err := b.st.CreateAPIKey(b.ctx, store.APIKeyParams{Tenant: store.TenantParams{Name: "acme"}, KeyHash: hash("session-key"),
			ID: keyID, Scopes: []string{"connection"}})
		require.NoError(t, err)
		require.Equal(t, b.tenant.ID, tenant.ID)
		token := hash("token-1")
		require.NoError(t, b.st.CreateSession(b.ctx, store.SessionParams{TokenHash: token, KeyID: keyID, TenantID: tenant.ID,
			Now: b.now, ExpiresAt: b.now.Add(time.Hour)}))

		got, err := b.st.SessionByHash(b.ctx, token)
		require.NoError(t, err)
		require.Equal(t, keyID, got.KeyID)
		require.Equal(t, keyID, got.Key.ID)
		require.Equal(t, tenant.ID, got.Key.Tenant.ID)
		require.Equal(t, "acme", got.Key.Tenant.Name)
		require.Equal(t, []string{"connection"}, got.Key.Scopes)
		require.Equal(t, b.now, got.CreatedAt)
		require.Equal(t, b.now.Add(time.Hour), got.ExpiresAt)
		require.Nil(t, got.Key.RevokedAt)

		_, err = b.st.SessionByHash(b.ctx, hash("token-unknown"))
		require.ErrorIs(t, err, store.ErrNotFound)

		// A revoked key is returned revoked: the console ends the session.
		_, err = b.st.RevokeAPIKey(b.ctx, tenant.ID, keyID, b.now.Add(time.Minute))
		require.NoError(t, err)
		got, err = b.st.SessionByHash(b.ctx, token)
		require.NoError(t, err)
		require.NotNil(t, got.Key.RevokedAt)

		require.NoError(t, b.st.DeleteSession(b.ctx, token))
		_, err = b.st.SessionByHash(b.ctx, token)
		require.ErrorIs(t, err, store.ErrNotFound)
		require.NoError(t, b.st.DeleteSession(b.ctx, token), "a second sign-out is no error")

		// A session naming a key of another tenant is no session.
		other, err := b.st.CreateAPIKey(b.ctx, store.APIKeyParams{Tenant: store.TenantParams{Name: "globex", NewID: id("ten"), Now: b.now},
			KeyHash: hash("globex-key"), ID: id("key")})
		require.NoError(t, err)
		require.NoError(t, b.st.CreateSession(b.ctx, store.SessionParams{TokenHash: hash("token-mixed"), KeyID: keyID, TenantID: other.ID,
			Now: b.now, ExpiresAt: b.now.Add(time.Hour)}))
		_, err = b.st.SessionByHash(b.ctx, hash("token-mixed"))
		require.ErrorIs(t, err, store.ErrNotFound)

		// Pruning deletes expired sessions only, oldest first, in batches.
		for i, exp := range []time.Duration{-3 * time.Hour, -2 * time.Hour, -time.Hour, time.Hour} {
			require.NoError(t, b.st.CreateSession(b.ctx, store.SessionParams{TokenHash: hash("prune-" + string(rune('a'+i))), KeyID: keyID,
				TenantID: tenant.ID, Now: b.now, ExpiresAt: b.now.Add(exp)}))
		}
		n, err := b.st.PruneSessions(b.ctx, b.now, 2)
		require.NoError(t, err)
		require.Equal(t, 2, n)
		_, err = b.st.SessionByHash(b.ctx, hash("prune-a"))
		require.ErrorIs(t, err, store.ErrNotFound, "the oldest went first")
		_, err = b.st.SessionByHash(b.ctx, hash("prune-c"))
		require.NoError(t, err, "the batch stopped at its limit")
		n, err = b.st.PruneSessions(b.ctx, b.now, 100)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		_, err = b.st.SessionByHash(b.ctx, hash("prune-d"))
		require.NoError(t, err, "a live session stays")
	})
	t.Run("Overview", func(t *testing.T) {
		t.Parallel()
		b := s.setup(t)
		since := b.now.Add(-time.Hour)
		create := func(callback, trigger string) store.Subscription {
			p := subParams(b, callback)
			p.Trigger = trigger
			sub, _, err := b.st.CreateSubscription(b.ctx, p)
			require.NoError(t, err)
			return sub
		}
		healthy := create("https://example.com/healthy", "order.created")
		failing := create("https://example.com/failing", "order.created")
		recovered := create("https://example.com/recovered", "order.created")
		disabled := create("https://example.com/disabled", "order.updated")
		deleted := create("https://example.com/deleted", "order.updated")
		attempt := func(sub store.Subscription, at time.Time, outcome store.AttemptOutcome) {
			t.Helper()
			status := 200
			if outcome != store.AttemptDelivered {
				status = 503
			}
			require.NoError(t, recordAttempt(b.ctx, b.st, store.Attempt{SubscriptionID: sub.ID, WebhookID: id("evt"), EventIDs: []string{"e"},
				Number: 1, StartedAt: at, Status: status, Outcome: outcome}, ""))
		}
		attempt(healthy, b.now.Add(-2*time.Hour), store.AttemptFailed) // before the window: not counted, not failing
		attempt(healthy, b.now.Add(-time.Minute), store.AttemptDelivered)
		attempt(failing, b.now.Add(-30*time.Minute), store.AttemptDelivered)
		attempt(failing, b.now.Add(-20*time.Minute), store.AttemptRetry)
		attempt(failing, b.now.Add(-10*time.Minute), store.AttemptFailed)
		attempt(recovered, b.now.Add(-20*time.Minute), store.AttemptRetry)
		attempt(recovered, b.now.Add(-10*time.Minute), store.AttemptDelivered)
		attempt(disabled, b.now.Add(-5*time.Minute), store.AttemptRetry)
		_, err := b.st.SetSubscriptionState(b.ctx, store.StateChange{TenantID: b.tenant.ID, SubscriptionID: disabled.ID,
			State: store.SubscriptionInactive, Reason: "disabled", Now: b.now})
		require.NoError(t, err)
		require.NoError(t, b.st.DeleteSubscription(b.ctx, b.tenant.ID, deleted.ID, b.now))

		// Another tenant's subscriptions and attempts count for it alone.
		other, err := b.st.CreateAPIKey(b.ctx, store.APIKeyParams{Tenant: store.TenantParams{Name: "globex", NewID: id("ten"), Now: b.now}, KeyHash: hash("globex")})
		require.NoError(t, err)
		op := subParams(b, "https://example.com/globex")
		op.TenantID = other.ID
		theirs, _, err := b.st.CreateSubscription(b.ctx, op)
		require.NoError(t, err)
		attempt(theirs, b.now.Add(-time.Minute), store.AttemptFailed)

		ov, err := b.st.Overview(b.ctx, store.OverviewQuery{TenantID: b.tenant.ID, Since: since, Problems: 10})
		require.NoError(t, err)
		require.Equal(t, []store.SubscriptionCount{
			{Trigger: "order.created", State: store.SubscriptionActive, Count: 3},
			{Trigger: "order.updated", State: store.SubscriptionInactive, Count: 1},
		}, ov.Subscriptions)
		require.Equal(t, []store.OutcomeCount{
			{Trigger: "order.created", Outcome: store.AttemptDelivered, Count: 3},
			{Trigger: "order.created", Outcome: store.AttemptFailed, Count: 1},
			{Trigger: "order.created", Outcome: store.AttemptRetry, Count: 2},
			{Trigger: "order.updated", Outcome: store.AttemptRetry, Count: 1},
		}, ov.Attempts)
		require.Len(t, ov.Problems, 2)
		require.Equal(t, failing.ID, ov.Problems[0].ID, "failing first")
		require.Equal(t, 2, ov.Problems[0].ConsecutiveFailures, "with its health")
		require.Equal(t, disabled.ID, ov.Problems[1].ID, "then inactive")
		require.Equal(t, "disabled", ov.Problems[1].StateReason)

		// Re-enabling starts the failures afresh: no longer failing.
		_, err = b.st.SetSubscriptionState(b.ctx, store.StateChange{TenantID: b.tenant.ID, SubscriptionID: failing.ID,
			State: store.SubscriptionActive, Now: b.now})
		require.NoError(t, err)
		ov, err = b.st.Overview(b.ctx, store.OverviewQuery{TenantID: b.tenant.ID, Since: since, Problems: 1})
		require.NoError(t, err)
		require.Len(t, ov.Problems, 1)
		require.Equal(t, disabled.ID, ov.Problems[0].ID)

		// A subscription whose last attempt failed hours ago is listed when
		// the queue says it is in retries; another tenant's id and an
		// inactive one named so are not listed as failing.
		quiet := create("https://example.com/quiet", "order.created")
		attempt(quiet, b.now.Add(-3*time.Hour), store.AttemptRetry)
		ov, err = b.st.Overview(b.ctx, store.OverviewQuery{TenantID: b.tenant.ID, Since: since, Problems: 10})
		require.NoError(t, err)
		require.Len(t, ov.Problems, 1, "outside the window and not named: not listed")
		ov, err = b.st.Overview(b.ctx, store.OverviewQuery{TenantID: b.tenant.ID, Since: since, Problems: 10,
			Retrying: []string{quiet.ID, theirs.ID, disabled.ID}})
		require.NoError(t, err)
		require.Len(t, ov.Problems, 2)
		require.Equal(t, quiet.ID, ov.Problems[0].ID)
		require.Equal(t, 1, ov.Problems[0].ConsecutiveFailures)
		require.Equal(t, disabled.ID, ov.Problems[1].ID, "listed once, as inactive")

		theirOv, err := b.st.Overview(b.ctx, store.OverviewQuery{TenantID: other.ID, Since: since, Problems: 10})
		require.NoError(t, err)
		require.Equal(t, []store.OutcomeCount{{Trigger: "order.created", Outcome: store.AttemptFailed, Count: 1}}, theirOv.Attempts)
		require.Len(t, theirOv.Problems, 1)
		require.Equal(t, theirs.ID, theirOv.Problems[0].ID)
	})
}
