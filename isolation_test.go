package triggerd_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd"
	"github.com/triggerd/triggerd/catalog"
)

// hangingReceiver accepts every request and answers none of them until the
// test ends: a receiver whose process is stuck. It counts the requests it
// holds, and the most it held at once.
type hangingReceiver struct {
	*httptest.Server
	release  chan struct{}
	inFlight atomic.Int64
	most     atomic.Int64
	total    atomic.Int64
}

func newHangingReceiver(t *testing.T) *hangingReceiver {
	t.Helper()
	h := &hangingReceiver{release: make(chan struct{})}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.total.Add(1)
		n := h.inFlight.Add(1)
		for {
			m := h.most.Load()
			if n <= m || h.most.CompareAndSwap(m, n) {
				break
			}
		}
		select {
		case <-h.release:
		case <-r.Context().Done():
		}
		h.inFlight.Add(-1)
		w.WriteHeader(http.StatusAccepted)
	}))
	var once sync.Once
	t.Cleanup(func() {
		once.Do(func() { close(h.release) })
		h.Server.CloseClientConnections()
		h.Server.Close()
	})
	return h
}

// TestHangingSubscriberDoesNotHoldUpOthers is the README's promise: with a
// subscriber that never answers on the same trigger, every event reaches
// the healthy subscriber while the hanging one's attempts are still
// pending, and the hanging one never holds more than its share of attempts.
// It runs both delivery paths: first attempts made in-process (Publish) and
// queued deliveries (PublishTx), the latter with fewer workers than events
// so that a hanging receiver holding workers would stall everything.
func TestHangingSubscriberDoesNotHoldUpOthers(t *testing.T) {
	t.Parallel()
	for _, queued := range []bool{false, true} {
		name := "fast path"
		if queued {
			name = "queue"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			const events, share = 60, 2
			b := setup(t, &setupOpts{cfg: triggerd.Config{
				// Long enough that no attempt to the hanging receiver ends
				// during the test: everything below happens while they are
				// pending.
				DeliveryTimeout:         2 * time.Minute,
				DeliveryWorkers:         4,
				SubscriptionConcurrency: share,
			}})
			hang := newHangingReceiver(t)
			healthy := newReceiver(t, nil)
			b.register(t, "order.created", hang.URL+"/hang", nil)
			b.register(t, "order.created", healthy.URL+"/ok", nil)

			for i := range events {
				ev := triggerd.Event{Type: "order.created", Data: order(i, "processing")}
				if queued {
					tx, err := b.db.BeginTx(b.ctx, nil)
					require.NoError(t, err)
					_, err = b.p.PublishTx(b.ctx, tx, "acme", ev)
					require.NoError(t, err)
					require.NoError(t, tx.Commit())
				} else {
					_, err := b.p.Publish(b.ctx, "acme", ev)
					require.NoError(t, err)
				}
			}
			for range events {
				healthy.next(t)
			}
			require.LessOrEqual(t, hang.most.Load(), int64(share), "the hanging subscriber holds at most its share of attempts")
			require.Positive(t, hang.inFlight.Load(), "the hanging receiver's attempts are still pending")
		})
	}
}

// TestRecoveredSubscriberRetriesWhileAnotherHangs: a subscriber that failed
// and recovered gets its retries while another subscriber hangs, with
// fewer workers than there are deliveries owed to the hanging one.
func TestRecoveredSubscriberRetriesWhileAnotherHangs(t *testing.T) {
	t.Parallel()
	const events = 20
	b := setup(t, &setupOpts{cfg: triggerd.Config{
		DeliveryTimeout:         2 * time.Minute,
		DeliveryWorkers:         3,
		SubscriptionConcurrency: 2,
		RetrySchedule:           []time.Duration{50 * time.Millisecond, 50 * time.Millisecond},
	}})
	hang := newHangingReceiver(t)
	var failing atomic.Bool
	failing.Store(true)
	flaky := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		if failing.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	b.register(t, "order.created", hang.URL+"/hang", nil)
	flakySub, _ := b.register(t, "order.created", flaky.URL+"/flaky", nil)
	for i := range events {
		_, err := b.p.Publish(b.ctx, "acme", triggerd.Event{Type: "order.created", Data: order(i, "processing")})
		require.NoError(t, err)
	}
	// Every first attempt fails; then the receiver recovers.
	for range events {
		flaky.next(t)
	}
	failing.Store(false)
	delivered := map[string]bool{}
	for len(delivered) < events {
		r := flaky.next(t)
		if !failing.Load() {
			delivered[r.Header.Get("webhook-id")] = true
		}
	}
	d := b.waitWebhook(t, flakySub.ID, "the recovered subscriber's last attempt delivered", func(s subscription) bool {
		return s.ConsecutiveFailures == 0 && s.LastStatus == http.StatusOK
	})
	require.Equal(t, "active", d.State)
	require.Positive(t, hang.inFlight.Load(), "the hanging receiver's attempts are still pending")
	require.LessOrEqual(t, hang.most.Load(), int64(2))
}

// TestTriggerConcurrencyOverride: a trigger's own concurrency in the
// catalog caps its subscriptions below the server's default.
func TestTriggerConcurrencyOverride(t *testing.T) {
	t.Parallel()
	yaml := strings.Replace(string(catalog.DemoYAML()), "  - name: order.created\n", "  - name: order.created\n    concurrency: 1\n", 1)
	require.Contains(t, yaml, "concurrency: 1", "the demo catalog's shape changed; adjust the test")
	cat, err := catalog.Parse([]byte(yaml), "demo.yaml")
	require.NoError(t, err)
	tr, _ := cat.Trigger("order.created")
	require.Equal(t, 1, tr.Concurrency)

	b := setup(t, &setupOpts{cfg: triggerd.Config{Catalog: cat, DeliveryTimeout: 2 * time.Minute, SubscriptionConcurrency: 8}})
	hang := newHangingReceiver(t)
	healthy := newReceiver(t, nil)
	b.register(t, "order.created", hang.URL+"/hang", nil)
	b.register(t, "order.created", healthy.URL+"/ok", nil)
	for i := range 10 {
		_, err := b.p.Publish(b.ctx, "acme", triggerd.Event{Type: "order.created", Data: order(i, "new")})
		require.NoError(t, err)
	}
	for range 10 {
		healthy.next(t)
	}
	require.Equal(t, int64(1), hang.most.Load(), "one attempt at a time, the trigger's own cap")

	_, err = catalog.Parse([]byte(strings.Replace(yaml, "concurrency: 1", "concurrency: -1", 1)), "demo.yaml")
	require.ErrorContains(t, err, "concurrency")
}

// TestTriggerConcurrencyBatchMode: a batch-mode trigger's own concurrency
// holds for its batches too (the seal that schedules a batch carries it).
func TestTriggerConcurrencyBatchMode(t *testing.T) {
	t.Parallel()
	yaml := strings.Replace(batchCatalog, "    mode: batch\n", "    mode: batch\n    concurrency: 1\n", 1)
	require.Contains(t, yaml, "concurrency: 1", "the batch catalog's shape changed; adjust the test")
	yaml = strings.Replace(yaml, "batch: {size: 3, window: 300ms}", "batch: {size: 2, window: 50ms}", 1)
	cat, err := catalog.Parse([]byte(yaml), "batch.yaml")
	require.NoError(t, err)

	b := setup(t, &setupOpts{cfg: triggerd.Config{Catalog: cat, DeliveryTimeout: 2 * time.Minute, SubscriptionConcurrency: 8}})
	hang := newHangingReceiver(t)
	healthy := newReceiver(t, nil)
	b.register(t, "stock.changed", hang.URL+"/hang", nil)
	b.register(t, "stock.changed", healthy.URL+"/ok", nil)
	events := make([]map[string]any, 0, 10)
	for i := range 10 {
		events = append(events, map[string]any{"type": "stock.changed", "data": map[string]any{"sku": fmt.Sprint(i)}})
	}
	b.publish(t, events)
	for range 5 {
		healthy.next(t)
	}
	require.Equal(t, int64(1), hang.most.Load(), "one batch at a time, the trigger's own cap")
}
