package publish_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd/catalog"
	"github.com/triggerd/triggerd/internal/delivery"
	"github.com/triggerd/triggerd/internal/netguard"
	"github.com/triggerd/triggerd/internal/publish"
	"github.com/triggerd/triggerd/internal/store"
	"github.com/triggerd/triggerd/internal/store/storetest"
)

// newBundleOn is newBundle on any backend.
func newBundleOn(t *testing.T, be storetest.Backend) *bundle {
	t.Helper()
	return newBundleTimeout(t, be, 5*time.Second)
}

// newBundleTimeout is newBundleOn with the engine's delivery timeout.
func newBundleTimeout(t *testing.T, be storetest.Backend, timeout time.Duration) *bundle {
	t.Helper()
	ctx := context.Background()
	st := be.Store(t)
	require.NoError(t, delivery.Migrate(ctx, st.DB(), st.Dialect()))
	engine, err := delivery.New(st, delivery.Config{
		Guard:         &netguard.Guard{AllowPrivate: true},
		PollInterval:  10 * time.Millisecond,
		RetrySchedule: []time.Duration{20 * time.Millisecond},
		Timeout:       timeout,
		Workers:       delivery.WorkersDefault,
		RescueAfter:   timeout + delivery.RescueAfterMargin,
	})
	require.NoError(t, err)
	return &bundle{ctx: ctx, st: st, engine: engine,
		p: &publish.Publisher{Store: st, Catalog: catalog.Demo(), Engine: engine, Now: time.Now}}
}

// deliverJobs counts the delivery jobs in the queue (the engine is not
// started, so none runs and none takes the fast path).
func (b *bundle) deliverJobs(t *testing.T) int {
	t.Helper()
	var n int
	require.NoError(t, b.st.DB().QueryRowContext(b.ctx, `SELECT COUNT(*) FROM river_job WHERE kind = 'triggerd.deliver'`).Scan(&n))
	return n
}

// holder holds every group commit until release is closed, and counts the
// groups.
type holder struct {
	entered chan struct{}
	release chan struct{}
	groups  atomic.Int32
}

func hold(p *publish.Publisher) *holder {
	h := &holder{entered: make(chan struct{}, 1000), release: make(chan struct{})}
	publish.SetGroupHook(p, func() {
		h.groups.Add(1)
		h.entered <- struct{}{}
		<-h.release
	})
	return h
}

type answer struct {
	results []publish.Result
	err     error
}

// publishAsync starts a Publish and returns where its answer arrives.
func publishAsync(b *bundle, tenant publish.Tenant, inputs ...publish.Input) <-chan answer {
	ch := make(chan answer, 1)
	go func() {
		res, err := b.p.Publish(b.ctx, tenant, inputs)
		ch <- answer{res, err}
	}()
	return ch
}

// queue starts a Publish and waits until it waits for the next group, so
// that calls queue in a known order.
func queue(t *testing.T, b *bundle, tenant publish.Tenant, inputs ...publish.Input) <-chan answer {
	t.Helper()
	before := publish.Waiting(b.p)
	ch := publishAsync(b, tenant, inputs...)
	require.Eventually(t, func() bool { return publish.Waiting(b.p) == before+1 }, 10*time.Second, time.Millisecond)
	return ch
}

func orderInput(key string, n int) publish.Input {
	return publish.Input{Type: "order.created", ID: key, Data: json.RawMessage(fmt.Sprintf(`{"id": %d, "order_key": "wc_%d", "status": "paid"}`, n, n))}
}

// TestGroupCommit queues requests behind a commit in progress, so they go
// together in the next group, and checks that each is answered as if it
// had been alone: duplicates inside the group, a failure inside the shared
// transaction and bad input each reach only their own caller.
func TestGroupCommit(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, be storetest.Backend) {
		b := newBundleOn(t, be)
		acme := b.tenant(t, "acme")
		globex := b.tenant(t, "globex")
		b.subscribe(t, acme, "order.created", "https://example.com/acme", nil)
		b.subscribe(t, globex, "order.created", "https://example.com/globex", nil)
		h := hold(b.p)

		first := publishAsync(b, publish.Tenant{ID: acme}, orderInput("", 1))
		<-h.entered // the first group's commit is in progress

		dupFirst := queue(t, b, publish.Tenant{ID: acme}, orderInput("order-1", 2))
		dupSecond := queue(t, b, publish.Tenant{ID: acme}, orderInput("order-1", 2))
		// The same key with other data conflicts, and fails alone.
		conflict := queue(t, b, publish.Tenant{ID: acme}, orderInput("order-1", 3))
		// A tenant id that does not exist passes validation and fails
		// inside the transaction, on the event's foreign key.
		broken := queue(t, b, publish.Tenant{ID: "ten_missing"}, orderInput("", 4))
		plain := queue(t, b, publish.Tenant{ID: acme}, orderInput("", 5), orderInput("", 6))
		otherTenant := queue(t, b, publish.Tenant{ID: globex}, orderInput("order-1", 7))
		byName := queue(t, b, publish.Tenant{Name: "initech"}, orderInput("order-1", 8))

		// Bad input is refused before it reaches the queue.
		_, err := b.p.Publish(b.ctx, publish.Tenant{ID: acme}, []publish.Input{{Type: "order.created", Data: json.RawMessage(`{"id": "one"}`)}})
		var ie *publish.InputError
		require.ErrorAs(t, err, &ie)
		require.Equal(t, 7, publish.Waiting(b.p))

		close(h.release)
		a := <-first
		require.NoError(t, a.err)
		require.Len(t, a.results, 1)

		d1, d2 := <-dupFirst, <-dupSecond
		require.NoError(t, d1.err)
		require.NoError(t, d2.err)
		require.False(t, d1.results[0].Duplicate)
		require.Equal(t, 1, d1.results[0].Deliveries)
		require.True(t, d2.results[0].Duplicate, "the same key twice in one group")
		require.Equal(t, d1.results[0].ID, d2.results[0].ID)
		require.Zero(t, d2.results[0].Deliveries)

		c := <-conflict
		var ce *store.IdempotencyConflictError
		require.ErrorAs(t, c.err, &ce)
		require.Nil(t, c.results)

		br := <-broken
		require.Error(t, br.err)
		require.Nil(t, br.results)

		p := <-plain
		require.NoError(t, p.err)
		require.Len(t, p.results, 2)
		o := <-otherTenant
		require.NoError(t, o.err)
		require.False(t, o.results[0].Duplicate, "another tenant's key space is its own")
		n := <-byName
		require.NoError(t, n.err)
		require.False(t, n.results[0].Duplicate)

		require.Equal(t, int32(2), h.groups.Load(), "the queued requests went in one group")
		// first 1 + order-1 once + plain 2 + globex 1 + initech 1; nothing
		// of the broken request.
		require.Equal(t, 6, b.count(t, "triggerd_event"))
		require.Equal(t, 5, b.deliverJobs(t), "one delivery per new event with a subscription")
		require.Equal(t, 3, b.count(t, "triggerd_tenant"), "initech created in the group; no tenant for the broken request")
	})
}

// TestGroupQueueFull fills the queue behind a commit in progress: the
// requests past the bound are refused at once with ErrOverloaded and store
// nothing; the others publish once the commit ends.
func TestGroupQueueFull(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, be storetest.Backend) {
		b := newBundleOn(t, be)
		acme := b.tenant(t, "acme")
		b.p.QueueEventsMax = 2
		h := hold(b.p)

		first := publishAsync(b, publish.Tenant{ID: acme}, orderInput("", 1))
		<-h.entered
		waiting := []<-chan answer{
			queue(t, b, publish.Tenant{ID: acme}, orderInput("", 2)),
			queue(t, b, publish.Tenant{ID: acme}, orderInput("", 3)),
		}
		for i := range 3 {
			_, err := b.p.Publish(b.ctx, publish.Tenant{ID: acme}, []publish.Input{orderInput("", 10+i)})
			require.ErrorIs(t, err, publish.ErrOverloaded)
		}
		// An empty queue takes any request, however large, so nothing is
		// refused forever; a full one refuses even one event.
		require.Equal(t, 2, publish.Waiting(b.p))

		close(h.release)
		require.NoError(t, (<-first).err)
		for _, ch := range waiting {
			require.NoError(t, (<-ch).err)
		}
		require.Equal(t, 3, b.count(t, "triggerd_event"))
	})
}

// TestGroupManyConcurrent publishes single events from many goroutines at
// once: every call is answered with its own event, all of them stored.
func TestGroupManyConcurrent(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, be storetest.Backend) {
		b := newBundleOn(t, be)
		acme := b.tenant(t, "acme")
		b.subscribe(t, acme, "order.created", "https://example.com/acme", nil)
		var groups atomic.Int32
		publish.SetGroupHook(b.p, func() { groups.Add(1) })
		const calls = 200
		var (
			wg  sync.WaitGroup
			mu  sync.Mutex
			ids = map[string]bool{}
		)
		errs := make(chan error, calls)
		for i := range calls {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res, err := b.p.Publish(b.ctx, publish.Tenant{ID: acme}, []publish.Input{orderInput(fmt.Sprint("k", i), i)})
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				ids[res[0].ID] = true
				mu.Unlock()
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		require.Len(t, ids, calls)
		require.Equal(t, calls, b.count(t, "triggerd_event"))
		require.Equal(t, calls, b.deliverJobs(t))
		t.Logf("%d single-event calls in %d group commits", calls, groups.Load())
	})
}

// TestGroupCallerGivesUp cancels a call while it waits: it is answered
// with its context's error, and its events are not published.
func TestGroupCallerGivesUp(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	acme := b.tenant(t, "acme")
	h := hold(b.p)
	first := publishAsync(b, publish.Tenant{ID: acme}, orderInput("", 1))
	<-h.entered
	ctx, cancel := context.WithCancel(b.ctx)
	gaveUp := make(chan error, 1)
	go func() {
		_, err := b.p.Publish(ctx, publish.Tenant{ID: acme}, []publish.Input{orderInput("", 2)})
		gaveUp <- err
	}()
	require.Eventually(t, func() bool { return publish.Waiting(b.p) == 1 }, 10*time.Second, time.Millisecond)
	cancel()
	require.ErrorIs(t, <-gaveUp, context.Canceled)
	close(h.release)
	require.NoError(t, (<-first).err)
	require.Eventually(t, func() bool { return publish.Waiting(b.p) == 0 }, 10*time.Second, time.Millisecond)
	// Publish once more and wait for it: the cancelled call's group
	// has been committed (or skipped) before this one.
	_, err := b.p.Publish(b.ctx, publish.Tenant{ID: acme}, []publish.Input{orderInput("", 3)})
	require.NoError(t, err)
	require.Equal(t, 2, b.count(t, "triggerd_event"))
}

// TestGroupCallerGivesUpMidCommit ends a call's context once its group's
// transaction is under way: the events are committed, so the call waits for
// that and answers success, never an error for events that were stored.
func TestGroupCallerGivesUpMidCommit(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	acme := b.tenant(t, "acme")
	entered, release := make(chan struct{}), make(chan struct{})
	publish.SetCommittingHook(b.p, func() {
		entered <- struct{}{}
		<-release
	})
	ctx, cancel := context.WithCancel(b.ctx)
	got := make(chan answer, 1)
	go func() {
		res, err := b.p.Publish(ctx, publish.Tenant{ID: acme}, []publish.Input{orderInput("", 1)})
		got <- answer{res, err}
	}()
	<-entered
	cancel()
	close(release)
	a := <-got
	require.NoError(t, a.err, "the events were committed: the call says so")
	require.Len(t, a.results, 1)
	require.Equal(t, 1, b.count(t, "triggerd_event"))
}

// TestGroupOneSafetyNet checks that the fast path gets a group's deliveries
// at once, under one safety-net job for the group: the receiver holds every
// attempt open, so no attempt is recorded and every safety net stays.
func TestGroupOneSafetyNet(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, be storetest.Backend) {
		b := newBundleTimeout(t, be, time.Minute)
		arrived := make(chan struct{}, 100)
		release := make(chan struct{})
		rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			arrived <- struct{}{}
			<-release
			w.WriteHeader(http.StatusOK)
		}))
		t.Cleanup(rc.Close)
		acme := b.tenant(t, "acme")
		b.subscribe(t, acme, "order.created", rc.URL+"/hook", nil)
		require.NoError(t, b.engine.Start(b.ctx))
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			require.NoError(t, b.engine.Stop(ctx))
		})
		t.Cleanup(func() { close(release) }) // runs before Stop

		h := hold(b.p)
		answers := []<-chan answer{publishAsync(b, publish.Tenant{ID: acme}, orderInput("", 1))}
		<-h.entered
		for i := range 4 {
			answers = append(answers, queue(t, b, publish.Tenant{ID: acme}, orderInput("", 2+i)))
		}
		close(h.release)
		for _, ch := range answers {
			a := <-ch
			require.NoError(t, a.err)
			require.Equal(t, 1, a.results[0].Deliveries)
		}
		for range answers {
			<-arrived // every first attempt is in flight, made in-process
		}
		var nets, jobs int
		require.NoError(t, b.st.DB().QueryRowContext(b.ctx, `SELECT COUNT(*) FROM river_job WHERE kind = 'triggerd.fast_path_rescue'`).Scan(&nets))
		require.NoError(t, b.st.DB().QueryRowContext(b.ctx, `SELECT COUNT(*) FROM river_job WHERE kind = 'triggerd.deliver'`).Scan(&jobs))
		require.Equal(t, 2, nets, "one safety net for the first group, one for the four requests that waited")
		require.Zero(t, jobs, "no delivery took the queue")
		require.Equal(t, int32(2), h.groups.Load())
	})
}

// TestSafetyNetGoesWithLastAttempt checks that a group's safety-net job
// stays while any of its attempts is unrecorded, and goes once the last one
// is recorded (in that attempt's own transaction), when the attempts end
// one at a time and so are recorded in separate transactions.
func TestSafetyNetGoesWithLastAttempt(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, be storetest.Backend) {
		b := newBundleOn(t, be)
		arrived := make(chan struct{}, 100)
		answer, done := make(chan struct{}), make(chan struct{})
		rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			arrived <- struct{}{}
			select {
			case <-answer:
			case <-done:
			}
			w.WriteHeader(http.StatusOK)
		}))
		t.Cleanup(rc.Close)
		acme := b.tenant(t, "acme")
		b.subscribe(t, acme, "order.created", rc.URL+"/hook", nil)
		require.NoError(t, b.engine.Start(b.ctx))
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			require.NoError(t, b.engine.Stop(ctx))
		})
		t.Cleanup(func() { close(done) }) // runs before Stop, even after a failure

		// One request of four events: one group, one safety net.
		ch := publishAsync(b, publish.Tenant{ID: acme}, orderInput("", 1), orderInput("", 2), orderInput("", 3), orderInput("", 4))
		a := <-ch
		require.NoError(t, a.err)
		count := func(q string) int {
			var n int
			require.NoError(t, b.st.DB().QueryRowContext(b.ctx, q).Scan(&n))
			return n
		}
		nets := func() int {
			return count(`SELECT COUNT(*) FROM river_job WHERE kind = 'triggerd.fast_path_rescue'`)
		}
		attempts := func() int { return count(`SELECT COUNT(*) FROM triggerd_attempt`) }
		for range 4 {
			<-arrived // every first attempt is in flight
		}
		require.Equal(t, 1, nets())
		for i := 1; i <= 3; i++ {
			answer <- struct{}{}
			require.Eventually(t, func() bool { return attempts() == i }, 10*time.Second, time.Millisecond)
			require.Equal(t, 1, nets(), "the safety net stays while an attempt of its group is unrecorded")
		}
		answer <- struct{}{}
		require.Eventually(t, func() bool { return attempts() == 4 }, 10*time.Second, time.Millisecond)
		require.Zero(t, nets(), "the last attempt's transaction removes the safety net")
		require.Zero(t, b.deliverJobs(t), "no delivery took the queue")
	})
}
