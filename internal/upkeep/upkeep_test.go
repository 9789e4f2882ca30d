package upkeep_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd/internal/store"
	"github.com/triggerd/triggerd/internal/store/storetest"
	"github.com/triggerd/triggerd/internal/upkeep"
)

// TestPruneAttemptsInBatches deletes a backlog larger than one batch, and
// nothing newer than the retention.
func TestPruneAttemptsInBatches(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, be storetest.Backend) {
		st := be.Store(t)
		ctx := context.Background()
		now := time.Now()
		ten, err := st.CreateAPIKey(ctx, store.APIKeyParams{Tenant: store.TenantParams{Name: "acme", NewID: "ten_1", Now: now}, KeyHash: []byte("h")})
		require.NoError(t, err)
		sub, _, err := st.CreateSubscription(ctx, store.SubscriptionParams{ID: "sub_1", TenantID: ten.ID, Trigger: "order.created",
			CallbackURL: "https://hooks.example.com/1", Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", Now: now})
		require.NoError(t, err)
		record := func(n int, at time.Time) {
			tx, err := st.DB().BeginTx(ctx, nil)
			require.NoError(t, err)
			recs := make([]store.AttemptRecord, n)
			for i := range recs {
				id := fmt.Sprintf("evt_%d_%d", at.UnixNano(), i)
				recs[i] = store.AttemptRecord{Attempt: store.Attempt{SubscriptionID: sub.ID, WebhookID: id, EventIDs: []string{id},
					Number: 1, StartedAt: at, Status: 200, Outcome: store.AttemptDelivered}}
			}
			require.NoError(t, st.RecordAttemptsTx(ctx, tx, recs))
			require.NoError(t, tx.Commit())
		}
		record(2500, now.Add(-48*time.Hour))
		record(3, now.Add(-time.Minute))

		off := &upkeep.Upkeep{Store: st}
		n, err := off.PruneAttempts(ctx)
		require.NoError(t, err)
		require.Zero(t, n, "no retention, nothing pruned")

		u := &upkeep.Upkeep{Store: st, AttemptRetention: 24 * time.Hour}
		n, err = u.PruneAttempts(ctx)
		require.NoError(t, err)
		require.Equal(t, 2500, n)
		left, err := st.Attempts(ctx, ten.ID, sub.ID, 10)
		require.NoError(t, err)
		require.Len(t, left, 3)

	})
}

// TestDisableFailing turns off a subscription failing for longer than
// DisableAfter, not one that recovered since, and nothing when it is off.
func TestDisableFailing(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, be storetest.Backend) {
		st := be.Store(t)
		ctx := context.Background()
		now := time.Now()
		ten, err := st.CreateAPIKey(ctx, store.APIKeyParams{Tenant: store.TenantParams{Name: "acme", NewID: "ten_1", Now: now}, KeyHash: []byte("h")})
		require.NoError(t, err)
		var subs []store.Subscription
		for i := range 2 {
			sub, _, err := st.CreateSubscription(ctx, store.SubscriptionParams{ID: fmt.Sprintf("sub_%d", i), TenantID: ten.ID, Trigger: "order.created",
				CallbackURL: fmt.Sprintf("https://hooks.example.com/%d", i), Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", Now: now})
			require.NoError(t, err)
			subs = append(subs, sub)
		}
		attempt := func(sub string, at time.Time, outcome store.AttemptOutcome) {
			tx, err := st.DB().BeginTx(ctx, nil)
			require.NoError(t, err)
			id := fmt.Sprintf("evt_%s_%d", sub, at.UnixNano())
			require.NoError(t, st.RecordAttemptsTx(ctx, tx, []store.AttemptRecord{{Attempt: store.Attempt{SubscriptionID: sub, WebhookID: id,
				EventIDs: []string{id}, Number: 1, StartedAt: at, Status: 500, Outcome: outcome}}}))
			require.NoError(t, tx.Commit())
		}
		// Both failed two days ago; the second has succeeded since.
		for _, s := range subs {
			attempt(s.ID, now.Add(-48*time.Hour), store.AttemptFailed)
		}
		attempt(subs[1].ID, now.Add(-time.Hour), store.AttemptDelivered)

		off, err := (&upkeep.Upkeep{Store: st}).DisableFailing(ctx)
		require.NoError(t, err)
		require.Empty(t, off, "DisableAfter 0 disables nothing")

		var heard []string
		u := &upkeep.Upkeep{Store: st, DisableAfter: 24 * time.Hour, OnDisabled: func(s store.Subscription) { heard = append(heard, s.ID) }}
		disabled, err := u.DisableFailing(ctx)
		require.NoError(t, err)
		require.Len(t, disabled, 1)
		require.Equal(t, subs[0].ID, disabled[0].ID)
		require.Equal(t, []string{subs[0].ID}, heard)
		got, err := st.Subscription(ctx, ten.ID, subs[0].ID)
		require.NoError(t, err)
		require.Equal(t, store.SubscriptionInactive, got.State)
		require.Equal(t, "failing", got.StateReason)
		again, err := u.DisableFailing(ctx)
		require.NoError(t, err)
		require.Empty(t, again, "an inactive subscription is not disabled twice")
	})
}

// TestPruneSessions deletes every expired console session, more than one
// batch of them, and none that is still valid; Run includes it.
func TestPruneSessions(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, be storetest.Backend) {
		st := be.Store(t)
		ctx := context.Background()
		now := time.Now()
		ten, err := st.CreateAPIKey(ctx, store.APIKeyParams{Tenant: store.TenantParams{Name: "acme", NewID: "ten_1", Now: now},
			KeyHash: []byte("h"), ID: "key_1"})
		require.NoError(t, err)
		session := func(name string, expires time.Time) {
			require.NoError(t, st.CreateSession(ctx, store.SessionParams{TokenHash: []byte(name), KeyID: "key_1", TenantID: ten.ID,
				Now: now.Add(-13 * time.Hour), ExpiresAt: expires}))
		}
		for i := range 1001 {
			session(fmt.Sprintf("expired-%d", i), now.Add(-time.Hour))
		}
		session("valid", now.Add(time.Hour))

		require.NoError(t, (&upkeep.Upkeep{Store: st}).Run(ctx))
		for _, name := range []string{"expired-0", "expired-1000"} {
			_, err := st.SessionByHash(ctx, []byte(name))
			require.ErrorIs(t, err, store.ErrNotFound, name)
		}
		got, err := st.SessionByHash(ctx, []byte("valid"))
		require.NoError(t, err)
		require.Equal(t, "key_1", got.KeyID)
		n, err := (&upkeep.Upkeep{Store: st}).PruneSessions(ctx)
		require.NoError(t, err)
		require.Zero(t, n, "nothing left to prune")
	})
}
