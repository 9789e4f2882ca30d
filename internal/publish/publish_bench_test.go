package publish_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/triggerd/triggerd/catalog"
	"github.com/triggerd/triggerd/internal/delivery"
	"github.com/triggerd/triggerd/internal/netguard"
	"github.com/triggerd/triggerd/internal/publish"
	"github.com/triggerd/triggerd/internal/store"
	"github.com/triggerd/triggerd/internal/store/storetest"
)

// BenchmarkPublishDeliver is one event published with Publish and delivered
// on the fast path to each of its trigger's subscriptions (1 or 100, all on
// one loopback receiver that answers 204), one publish after the other (the
// deliveries of one overlap the next, at most two behind), until every
// attempt is recorded: the whole life of a notification in one process. Divide
// allocs/op by the fan-out for the garbage of one delivery (the receiver's
// own allocations are counted too); ns/delivery is the wall clock per
// delivery, which on SQLite includes the fsyncs of two commits per op;
// cpu-ns/delivery is the process's CPU time (user and system, every
// goroutine, the receiver's too) per delivery, steadier than the wall clock
// on a shared machine.
func BenchmarkPublishDeliver(b *testing.B) {
	for _, fanOut := range []int{1, 100} {
		b.Run(fmt.Sprintf("fanout=%d", fanOut), func(b *testing.B) {
			ctx := context.Background()
			st := storetest.SQLite.Store(b)
			if err := delivery.Migrate(ctx, st.DB(), st.Dialect()); err != nil {
				b.Fatal(err)
			}
			var recorded atomic.Int64
			tick := make(chan struct{}, 1)
			engine, err := delivery.New(st, delivery.Config{
				Guard:         &netguard.Guard{AllowPrivate: true},
				RetrySchedule: []time.Duration{time.Second},
				Timeout:       5 * time.Second,
				Workers:       delivery.WorkersDefault,
				RescueAfter:   5*time.Second + delivery.RescueAfterMargin,
				OnAttempt: func(delivery.Notice) {
					recorded.Add(1)
					select {
					case tick <- struct{}{}:
					default:
					}
				},
			})
			if err != nil {
				b.Fatal(err)
			}
			rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				w.WriteHeader(http.StatusNoContent)
			}))
			b.Cleanup(rc.Close)
			tx, err := st.DB().BeginTx(ctx, nil)
			if err != nil {
				b.Fatal(err)
			}
			ten, err := st.EnsureTenantTx(ctx, tx, store.TenantParams{Name: "acme", NewID: "ten_bench", Now: time.Now()})
			if err != nil {
				b.Fatal(err)
			}
			if err := tx.Commit(); err != nil {
				b.Fatal(err)
			}
			for i := range fanOut {
				if _, _, err := st.CreateSubscription(ctx, store.SubscriptionParams{ID: fmt.Sprintf("sub_bench_%04d", i), TenantID: ten.ID,
					Trigger: "order.created", CallbackURL: fmt.Sprintf("%s/hook/%d?sig=abc", rc.URL, i),
					Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", Now: time.Now()}); err != nil {
					b.Fatal(err)
				}
			}
			if err := engine.Start(ctx); err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() {
				sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				_ = engine.Stop(sctx)
			})
			p := &publish.Publisher{Store: st, Catalog: catalog.Demo(), Engine: engine, Now: time.Now}
			n := 0
			cpu0 := processCPU(b)
			b.ReportAllocs()
			for b.Loop() {
				n++
				if _, err := p.Publish(ctx, publish.Tenant{ID: ten.ID}, []publish.Input{orderInput("", n)}); err != nil {
					b.Fatal(err)
				}
				// Deliveries overlap the next publish, as with a real
				// publisher, but never run far ahead of the loop.
				for int64(n-2)*int64(fanOut) > recorded.Load() {
					<-tick
				}
			}
			for int64(n)*int64(fanOut) > recorded.Load() {
				<-tick
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*fanOut), "ns/delivery")
			b.ReportMetric(float64((processCPU(b)-cpu0).Nanoseconds())/float64(b.N*fanOut), "cpu-ns/delivery")
		})
	}
}

// processCPU is the CPU time this process has used so far.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
