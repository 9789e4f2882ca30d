package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd/internal/store"
)

// attempts checks the record of delivery attempts and the health derived from it.
func (s suite) attempts(t *testing.T) {
	t.Parallel()
	t.Run("Attempts", func(t *testing.T) {
		t.Parallel()
		b := s.setup(t)
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

		other, err := b.st.CreateAPIKey(b.ctx, store.APIKeyParams{Tenant: store.TenantParams{Name: "globex", NewID: id("ten"), Now: b.now}, KeyHash: hash("key-globex")})
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
	t.Run("RecordManyAttempts", func(t *testing.T) {
		t.Parallel()
		b := s.setup(t)
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
		b := s.setup(t)
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
}
