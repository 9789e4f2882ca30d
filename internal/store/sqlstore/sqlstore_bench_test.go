package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/triggerd/triggerd/internal/store"
	"github.com/triggerd/triggerd/internal/store/sqlstore"
	"github.com/triggerd/triggerd/internal/store/storetest"
)

// The store's hot paths, per backend: what publishing writes for every
// event, and what delivering reads and writes for every notification. Each
// write benchmark includes its commit, because on SQLite (synchronous=FULL)
// the commit's fsync is most of the cost and decides how many transactions
// per second one connection can do. PostgreSQL runs when
// TRIGGERD_TEST_DATABASE_URL is set.

// benchOrder is the notification body of every benchmark (about 120 bytes).
var benchOrder = []byte(`{"id":123,"order_key":"wc_order_123","status":"processing","currency":"EUR","date_created":"2026-11-27T12:00:00Z","total":42.5}`)

type benchStore struct {
	st     *sqlstore.Store
	tenant store.Tenant
	subs   []store.Subscription
}

// backends runs fn against a fresh store on each available database, with
// one tenant and subs active subscriptions to order.created.
func backends(b *testing.B, subs int, fn func(b *testing.B, s *benchStore)) {
	storetest.BenchBackends(b, func(b *testing.B, be storetest.Backend) {
		fn(b, newBenchStore(b, be.Store(b), subs))
	})
}

func newBenchStore(b *testing.B, st *sqlstore.Store, subs int) *benchStore {
	ctx := context.Background()
	now := time.Now()
	t, err := st.CreateAPIKey(ctx, store.APIKeyParams{
		Tenant: store.TenantParams{Name: "bench", NewID: "ten_bench", Now: now}, KeyHash: []byte("bench-key-hash")})
	if err != nil {
		b.Fatal(err)
	}
	s := &benchStore{st: st, tenant: t}
	for i := range subs {
		sub, _, err := st.CreateSubscription(ctx, store.SubscriptionParams{
			ID: fmt.Sprintf("sub_%06d", i), TenantID: t.ID, Trigger: "order.created",
			CallbackURL: fmt.Sprintf("https://hooks.example.com/hook/%d", i), Filters: map[string]string{},
			Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", Now: now,
		})
		if err != nil {
			b.Fatal(err)
		}
		s.subs = append(s.subs, sub)
	}
	return s
}

// insertEvents appends n events in one transaction and commits.
func (s *benchStore) insertEvents(b *testing.B, seq *int, n int) []store.InsertedEvent {
	ctx := context.Background()
	tx, err := s.st.DB().BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after commit
	params := make([]store.EventParams, n)
	now := time.Now()
	for i := range params {
		*seq++
		params[i] = store.EventParams{ID: fmt.Sprintf("evt_%012d", *seq), TenantID: s.tenant.ID, Type: "order.created", Data: benchOrder, Now: now}
	}
	ins, err := s.st.InsertEventsTx(ctx, tx, params)
	if err != nil {
		b.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	return ins
}

// BenchmarkInsertEventsTx appends events in one transaction and commits, as
// one POST /v1/events does (without the deliveries it schedules).
func BenchmarkInsertEventsTx(b *testing.B) {
	for _, n := range []int{1, 100} {
		b.Run(fmt.Sprintf("events=%d", n), func(b *testing.B) {
			backends(b, 0, func(b *testing.B, s *benchStore) {
				seq := 0
				b.ReportAllocs()
				for b.Loop() {
					s.insertEvents(b, &seq, n)
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/event")
			})
		})
	}
}

// BenchmarkInsertEventsTxIdempotent publishes with idempotency keys, the
// conflict-checking path.
func BenchmarkInsertEventsTxIdempotent(b *testing.B) {
	backends(b, 0, func(b *testing.B, s *benchStore) {
		ctx := context.Background()
		seq := 0
		b.ReportAllocs()
		for b.Loop() {
			tx, err := s.st.DB().BeginTx(ctx, nil)
			if err != nil {
				b.Fatal(err)
			}
			seq++
			if _, err := s.st.InsertEventsTx(ctx, tx, []store.EventParams{{ID: fmt.Sprintf("evt_%012d", seq), TenantID: s.tenant.ID,
				Type: "order.created", IdempotencyKey: fmt.Sprintf("order-%d", seq), Data: benchOrder, Now: time.Now()}}); err != nil {
				b.Fatal(err)
			}
			if err := tx.Commit(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkRecordAttempt is one attempt in a transaction of its own: what
// every delivery cost before the recorder's group commit shared commits.
func BenchmarkRecordAttempt(b *testing.B) {
	backends(b, 1, func(b *testing.B, s *benchStore) {
		ctx := context.Background()
		sub := s.subs[0]
		n := 0
		b.ReportAllocs()
		for b.Loop() {
			n++
			tx, err := s.st.DB().BeginTx(ctx, nil)
			if err != nil {
				b.Fatal(err)
			}
			if err := s.st.RecordAttemptsTx(ctx, tx, []store.AttemptRecord{{Attempt: store.Attempt{
				SubscriptionID: sub.ID, WebhookID: fmt.Sprintf("evt_%012d", n), EventIDs: []string{fmt.Sprintf("evt_%012d", n)},
				Number: 1, StartedAt: time.Now(), Duration: time.Millisecond, Status: 200, Outcome: store.AttemptDelivered,
			}}}); err != nil {
				b.Fatal(err)
			}
			if err := tx.Commit(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkDeliveryReads is what a delivery reads before its POST: the
// subscription, then the event's data.
func BenchmarkDeliveryReads(b *testing.B) {
	backends(b, 1, func(b *testing.B, s *benchStore) {
		ctx := context.Background()
		seq := 0
		ins := s.insertEvents(b, &seq, 1)
		ids := []string{ins[0].Event.ID}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.st.SubscriptionByID(ctx, s.subs[0].ID); err != nil {
				b.Fatal(err)
			}
			if _, err := s.st.Events(ctx, ids); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkActiveSubscriptionsTx reads a trigger's subscriptions inside the
// publishing transaction, once per trigger per request.
func BenchmarkActiveSubscriptionsTx(b *testing.B) {
	for _, n := range []int{1, 1000} {
		b.Run(fmt.Sprintf("subscriptions=%d", n), func(b *testing.B) {
			backends(b, n, func(b *testing.B, s *benchStore) {
				ctx := context.Background()
				b.ReportAllocs()
				for b.Loop() {
					tx, err := s.st.DB().BeginTx(ctx, &sql.TxOptions{ReadOnly: false})
					if err != nil {
						b.Fatal(err)
					}
					subs, err := s.st.ActiveSubscriptionsTx(ctx, tx, s.tenant.ID, "order.created")
					if err != nil {
						b.Fatal(err)
					}
					if len(subs) != n {
						b.Fatalf("%d active subscriptions, want %d", len(subs), n)
					}
					if err := tx.Rollback(); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
