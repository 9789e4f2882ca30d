package delivery

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd/internal/netguard"
	"github.com/triggerd/triggerd/internal/store"
	"github.com/triggerd/triggerd/internal/store/storetest"
)

// TestRecorderSharesAPublishingCommit checks the SQLite recorder's offer: a
// batch waiting for a commit is written by the publishing transaction that
// claims it and answered only once that transaction has committed; when
// the transaction rolls back instead, the recorder commits the batch by
// itself, so no attempt is lost either way.
func TestRecorderSharesAPublishingCommit(t *testing.T) {
	t.Parallel()
	for _, committed := range []bool{true, false} {
		name := map[bool]string{true: "committed", false: "rolled back"}[committed]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st := storetest.SQLite.Store(t)
			require.NoError(t, Migrate(ctx, st.DB(), st.Dialect()))
			eng, err := New(st, Config{Guard: &netguard.Guard{AllowPrivate: true}, Timeout: time.Second, Workers: WorkersDefault,
				RescueAfter: time.Second + RescueAfterMargin, RetrySchedule: DefaultRetrySchedule()})
			require.NoError(t, err)
			e := eng.(*riverEngine)
			// A linger longer than the test: only a claim, or the
			// fallback after a rollback, can write the batch.
			r := newRecorder(e, time.Hour)
			r.start()
			t.Cleanup(r.stop)

			tx, err := st.DB().BeginTx(ctx, nil)
			require.NoError(t, err)
			ten, err := st.EnsureTenantTx(ctx, tx, store.TenantParams{Name: "acme", NewID: "ten_rec", Now: time.Now()})
			require.NoError(t, err)
			require.NoError(t, tx.Commit())
			sub, _, err := st.CreateSubscription(ctx, store.SubscriptionParams{ID: "sub_rec", TenantID: ten.ID, Trigger: "order.created",
				CallbackURL: "http://127.0.0.1:1/hook", Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", Now: time.Now()})
			require.NoError(t, err)

			done := make(chan error, 1)
			go func() {
				done <- r.record(ctx, recordRequest{record: store.AttemptRecord{Attempt: store.Attempt{
					SubscriptionID: sub.ID, WebhookID: "evt_rec", EventIDs: []string{"evt_rec"}, Number: 1,
					StartedAt: time.Now(), Status: 200, Outcome: store.AttemptDelivered}}})
			}()
			require.Eventually(t, func() bool {
				r.mu.Lock()
				defer r.mu.Unlock()
				return r.offered != nil
			}, 10*time.Second, time.Millisecond, "the attempt waits on offer")

			tx, err = st.DB().BeginTx(ctx, nil)
			require.NoError(t, err)
			finish := r.claimTx(ctx, tx)
			require.NotNil(t, finish, "the publishing transaction takes the batch on offer")
			require.Nil(t, r.claimTx(ctx, tx), "a batch is claimed once")
			select {
			case err := <-done:
				t.Fatalf("answered before the transaction ended: %v", err)
			default:
			}
			if committed {
				require.NoError(t, tx.Commit())
			} else {
				require.NoError(t, tx.Rollback())
			}
			finish(committed)
			require.NoError(t, <-done)
			var n int
			require.NoError(t, st.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM triggerd_attempt WHERE webhook_id = 'evt_rec'`).Scan(&n))
			require.Equal(t, 1, n, "the attempt is recorded exactly once")
		})
	}
}
