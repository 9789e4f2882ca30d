package poll_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd/catalog"
	"github.com/triggerd/triggerd/internal/poll"
	"github.com/triggerd/triggerd/internal/store"
	"github.com/triggerd/triggerd/internal/store/sqlstore"
	"github.com/triggerd/triggerd/internal/store/storetest"
)

var ids atomic.Int64

func id(prefix string) string { return fmt.Sprintf("%s_%08d", prefix, ids.Add(1)) }

// bundle is a migrated store with one tenant, and the demo catalog.
type bundle struct {
	ctx    context.Context
	st     *sqlstore.Store
	tenant string
	cat    *catalog.Catalog
	now    time.Time
}

// backends runs test on SQLite, and on PostgreSQL when configured.
func backends(t *testing.T, test func(t *testing.T, b *bundle)) {
	t.Helper()
	storetest.Backends(t, func(t *testing.T, be storetest.Backend) {
		test(t, newBundle(t, be))
	})
}

func newBundle(t *testing.T, be storetest.Backend) *bundle {
	t.Helper()
	ctx := context.Background()
	st := be.Store(t)
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	tenant, err := st.CreateAPIKey(ctx, store.APIKeyParams{
		Tenant: store.TenantParams{Name: "acme", NewID: id("ten"), Now: now}, KeyHash: hash("acme")})
	require.NoError(t, err)
	return &bundle{ctx: ctx, st: st, tenant: tenant.ID, cat: catalog.Demo(), now: now}
}

func hash(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

func (b *bundle) trigger(name string) *catalog.Trigger {
	tr, ok := b.cat.Trigger(name)
	if !ok {
		panic(name)
	}
	return tr
}

// insert appends events (order data with these ids and statuses) to the log
// in one transaction.
func (b *bundle) insert(t *testing.T, tenant, typ string, age time.Duration, orders ...string) {
	t.Helper()
	tx, err := b.st.DB().BeginTx(b.ctx, nil)
	require.NoError(t, err)
	var params []store.EventParams
	for _, o := range orders {
		num, status, _ := strings.Cut(o, ":")
		params = append(params, store.EventParams{ID: id("evt"), TenantID: tenant, Type: typ,
			Data: []byte(`{"id":` + num + `,"order_key":"k","status":"` + status + `"}`), Now: b.now.Add(-age)})
	}
	_, err = b.st.InsertEventsTx(b.ctx, tx, params)
	require.NoError(t, err)
	require.NoError(t, tx.Commit())
}

func newPoller(t *testing.T, b *bundle, cfg poll.Config) *poll.Poller {
	t.Helper()
	cfg.Store = b.st
	p, err := poll.New(cfg)
	require.NoError(t, err)
	return p
}

func orderIDs(t *testing.T, events []json.RawMessage) []int {
	t.Helper()
	out := make([]int, len(events))
	for i, e := range events {
		var o struct{ ID int }
		require.NoError(t, json.Unmarshal(e, &o))
		out[i] = o.ID
	}
	return out
}

// pollUntil polls from state until at least want events have arrived or
// the state stops moving with nothing more to read, as the platform would,
// at once whenever Retry-After is 0; on PostgreSQL an event is readable once
// every older transaction of the cluster has ended, so it waits for that.
func pollUntil(t *testing.T, p *poll.Poller, req poll.Request, want int) ([]int, poll.Result) {
	t.Helper()
	var (
		got  []int
		last poll.Result
	)
	deadline := time.Now().Add(15 * time.Second)
	for {
		res, err := p.Poll(context.Background(), req)
		require.NoError(t, err)
		got = append(got, orderIDs(t, res.Events)...)
		last = res
		req.State = res.State
		if len(got) >= want && res.RetryAfter > 0 {
			return got, last
		}
		if time.Now().After(deadline) {
			t.Fatalf("polled for 15s and got %d of %d events", len(got), want)
		}
		if res.RetryAfter > 0 {
			time.Sleep(5 * time.Millisecond) // the platform's Retry-After, shortened
		}
	}
}

func TestFirstPollStartsAtTheEnd(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, b *bundle) {
		p := newPoller(t, b, poll.Config{})
		b.insert(t, b.tenant, "order.created", 0, "1:new", "2:new")
		// The first state is the end of the final part of the log. On
		// PostgreSQL, while any older transaction of the cluster (a test
		// running beside this one) is open, events that just committed are
		// not final yet and would come after that state rather than be
		// lost; the test waits until 1 and 2 are final, so the state is
		// exact on both databases.
		require.Eventually(t, func() bool {
			got, err := b.st.EventsAfter(b.ctx, store.LogQuery{TenantID: b.tenant, EventType: "order.created", Limit: 10})
			require.NoError(t, err)
			return len(got) == 2
		}, 15*time.Second, 5*time.Millisecond)
		req := poll.Request{TenantID: b.tenant, Trigger: b.trigger("order.created")}
		first, err := p.Poll(b.ctx, req)
		require.NoError(t, err)
		require.Empty(t, first.Events, "the first call only establishes the state")
		require.NotEmpty(t, first.State)
		require.Equal(t, poll.RetryAfterDefault, first.RetryAfter)
		require.False(t, first.Pruned)

		// Nothing new: the same state.
		req.State = first.State
		again, err := p.Poll(b.ctx, req)
		require.NoError(t, err)
		require.Empty(t, again.Events)
		require.Equal(t, first.State, again.State)
		require.Equal(t, poll.RetryAfterDefault, again.RetryAfter)

		b.insert(t, b.tenant, "order.created", 0, "3:new")
		got, _ := pollUntil(t, p, req, 1)
		require.Equal(t, []int{3}, got, "only what came after the first call")
	})
}

func TestPages(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, b *bundle) {
		p := newPoller(t, b, poll.Config{PageSize: 3, RetryAfter: 7 * time.Second})
		req := poll.Request{TenantID: b.tenant, Trigger: b.trigger("order.created")}
		first, err := p.Poll(b.ctx, req)
		require.NoError(t, err)
		require.Equal(t, 7*time.Second, first.RetryAfter)
		var orders []string
		for i := 1; i <= 7; i++ {
			orders = append(orders, fmt.Sprintf("%d:new", i))
		}
		b.insert(t, b.tenant, "order.created", 0, orders...)
		b.insert(t, b.tenant, "order.updated", 0, "100:new")

		// The full pages say more waits; the last one does not.
		req.State = first.State
		var pages [][]int
		var waits []time.Duration
		deadline := time.Now().Add(15 * time.Second)
		for total := 0; total < 7; {
			res, err := p.Poll(b.ctx, req)
			require.NoError(t, err)
			if len(res.Events) == 0 {
				require.Equal(t, req.State, res.State, "nothing read, nothing moves")
				require.Less(t, time.Now(), deadline, "events never became readable")
				time.Sleep(5 * time.Millisecond) // waiting for PostgreSQL's horizon
				continue
			}
			require.NotEqual(t, req.State, res.State)
			pages = append(pages, orderIDs(t, res.Events))
			waits = append(waits, res.RetryAfter)
			total += len(res.Events)
			req.State = res.State
		}
		require.Equal(t, [][]int{{1, 2, 3}, {4, 5, 6}, {7}}, pages)
		require.Equal(t, []time.Duration{0, 0, 7 * time.Second}, waits)
	})
}

func TestFiltersSkipButAdvance(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, b *bundle) {
		p := newPoller(t, b, poll.Config{PageSize: 2})
		req := poll.Request{TenantID: b.tenant, Trigger: b.trigger("order.updated"), Filters: map[string]string{"status": "paid"}}
		first, err := p.Poll(b.ctx, req)
		require.NoError(t, err)
		req.State = first.State

		// Many non-matching events: the poll moves past them in bounded
		// steps, answering 202 with a new state and Retry-After 0.
		var orders []string
		for i := 1; i <= 25; i++ {
			orders = append(orders, fmt.Sprintf("%d:new", i))
		}
		b.insert(t, b.tenant, "order.updated", 0, orders...)
		b.insert(t, b.tenant, "order.updated", 0, "26:paid", "27:new", "28:paid")
		var (
			got []int
			cut int
		)
		deadline := time.Now().Add(15 * time.Second)
		for len(got) < 2 {
			res, err := p.Poll(b.ctx, req)
			require.NoError(t, err)
			if len(res.Events) == 0 && res.State != req.State && res.RetryAfter == 0 {
				cut++ // stopped scanning early: call again at once
			}
			got = append(got, orderIDs(t, res.Events)...)
			req.State = res.State
			if res.RetryAfter > 0 {
				require.Less(t, time.Now(), deadline)
				time.Sleep(5 * time.Millisecond) // waiting for PostgreSQL's horizon
			}
		}
		require.Equal(t, []int{26, 28}, got)
		require.Positive(t, cut, "25 skipped events take more than one poll of 2×10 rows, and the first asks for the next at once")

		// The state is bound to the filter values.
		for _, filters := range []map[string]string{nil, {"status": "new"}, {"status": "paid", "other": "x"}} {
			_, err := p.Poll(b.ctx, poll.Request{TenantID: b.tenant, Trigger: req.Trigger, Filters: filters, State: req.State})
			var se *poll.StateError
			require.ErrorAs(t, err, &se, "filters %v", filters)
		}
		// Empty values are the same as no value.
		_, err = p.Poll(b.ctx, poll.Request{TenantID: b.tenant, Trigger: req.Trigger, Filters: map[string]string{"status": "paid", "x": ""}, State: req.State})
		require.NoError(t, err)
	})
}

func TestStateIsBoundAndTamperEvident(t *testing.T) {
	t.Parallel()
	b := newBundle(t, storetest.SQLite)
	p := newPoller(t, b, poll.Config{})
	other, err := b.st.CreateAPIKey(b.ctx, store.APIKeyParams{
		Tenant: store.TenantParams{Name: "globex", NewID: id("ten"), Now: b.now}, KeyHash: hash("globex")})
	require.NoError(t, err)
	req := poll.Request{TenantID: b.tenant, Trigger: b.trigger("order.created")}
	first, err := p.Poll(b.ctx, req)
	require.NoError(t, err)
	b.insert(t, b.tenant, "order.created", 0, "1:new")

	bad := func(mutate func(r *poll.Request), want string) {
		t.Helper()
		r := req
		r.State = first.State
		mutate(&r)
		res, err := p.Poll(b.ctx, r)
		var se *poll.StateError
		require.ErrorAs(t, err, &se)
		require.Contains(t, se.Error(), want)
		require.Empty(t, res.Events)
	}
	bad(func(r *poll.Request) { r.TenantID = other.ID }, "not issued for this tenant, trigger and filter values")
	bad(func(r *poll.Request) { r.Trigger = b.trigger("order.updated") }, "not issued for this tenant")
	bad(func(r *poll.Request) { r.State = "not-a-state!" }, "not a state triggerd issued")
	bad(func(r *poll.Request) { r.State = "AAAA" }, "not a state triggerd issued")

	// Any changed byte fails, as does a state from another key.
	raw, err := base64.RawURLEncoding.DecodeString(first.State)
	require.NoError(t, err)
	for i := range raw {
		changed := append([]byte(nil), raw...)
		changed[i] ^= 0x01
		bad(func(r *poll.Request) { r.State = base64.RawURLEncoding.EncodeToString(changed) }, "")
	}
	otherKey := newPoller(t, b, poll.Config{Key: []byte(strings.Repeat("k", 32))})
	_, err = otherKey.Poll(b.ctx, poll.Request{TenantID: b.tenant, Trigger: req.Trigger, State: first.State})
	var se *poll.StateError
	require.ErrorAs(t, err, &se)

	// The untouched state works.
	r := req
	r.State = first.State
	got, _ := pollUntil(t, p, r, 1)
	require.Equal(t, []int{1}, got)
}

// Every node of a deployment signs with the key stored on first use.
func TestStoredKeyIsShared(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, b *bundle) {
		nodeA, nodeB := newPoller(t, b, poll.Config{}), newPoller(t, b, poll.Config{})
		req := poll.Request{TenantID: b.tenant, Trigger: b.trigger("order.created")}
		first, err := nodeA.Poll(b.ctx, req)
		require.NoError(t, err)
		b.insert(t, b.tenant, "order.created", 0, "5:new")
		req.State = first.State
		got, _ := pollUntil(t, nodeB, req, 1)
		require.Equal(t, []int{5}, got)
	})
}

func TestPruned(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, b *bundle) {
		p := newPoller(t, b, poll.Config{})
		req := poll.Request{TenantID: b.tenant, Trigger: b.trigger("order.created")}
		first, err := p.Poll(b.ctx, req)
		require.NoError(t, err)
		b.insert(t, b.tenant, "order.created", 3*time.Hour, "1:new", "2:new")
		// A poller that reads 1 and 2 before they are pruned.
		early := req
		early.State = first.State
		got, afterTwo := pollUntil(t, p, early, 2)
		require.Equal(t, []int{1, 2}, got)
		b.insert(t, b.tenant, "order.created", 0, "3:new")
		early.State = afterTwo.State
		got, _ = pollUntil(t, p, early, 1) // 3 is final: what follows is exact
		require.Equal(t, []int{3}, got)

		pruner := &poll.Pruner{Store: b.st, Retention: time.Hour, Now: func() time.Time { return b.now }}
		n, err := pruner.Prune(b.ctx)
		require.NoError(t, err)
		require.Equal(t, 2, n)

		// The state from before 1 and 2 resumes at 3 and says events were
		// pruned.
		req.State = first.State
		res, err := p.Poll(b.ctx, req)
		require.NoError(t, err)
		require.True(t, res.Pruned)
		require.Equal(t, []int{3}, orderIDs(t, res.Events))
		req.State = res.State
		res, err = p.Poll(b.ctx, req)
		require.NoError(t, err)
		require.False(t, res.Pruned, "once past the pruned events, nothing more is reported")

		// The poller that had read them lost nothing.
		early.State = afterTwo.State
		res, err = p.Poll(b.ctx, early)
		require.NoError(t, err)
		require.False(t, res.Pruned)
		require.Equal(t, []int{3}, orderIDs(t, res.Events))

		// Another tenant's pruning is not this tenant's concern, and a new
		// poller starts after the pruned events.
		fresh, err := p.Poll(b.ctx, poll.Request{TenantID: b.tenant, Trigger: req.Trigger})
		require.NoError(t, err)
		res, err = p.Poll(b.ctx, poll.Request{TenantID: b.tenant, Trigger: req.Trigger, State: fresh.State})
		require.NoError(t, err)
		require.False(t, res.Pruned)
		require.Empty(t, res.Events)
	})
}

func TestPrunerRunsPeriodically(t *testing.T) {
	t.Parallel()
	b := newBundle(t, storetest.SQLite)
	var clock atomic.Int64
	clock.Store(b.now.UnixNano())
	pruner := &poll.Pruner{Store: b.st, Retention: time.Hour, Interval: time.Millisecond,
		Now: func() time.Time { return time.Unix(0, clock.Load()) }}
	b.insert(t, b.tenant, "order.created", 0, "1:new")
	require.NoError(t, pruner.Start(b.ctx))
	require.Error(t, pruner.Start(b.ctx), "one start at a time")
	t.Cleanup(func() { require.NoError(t, pruner.Stop(context.Background())) })

	start, err := b.st.LogEnd(b.ctx)
	require.NoError(t, err)
	require.Equal(t, store.Cursor{}, must(b.st.PrunedThrough(b.ctx, b.tenant, "order.created")))
	clock.Store(b.now.Add(2 * time.Hour).UnixNano())
	require.Eventually(t, func() bool {
		return must(b.st.PrunedThrough(b.ctx, b.tenant, "order.created")) == start
	}, 15*time.Second, 5*time.Millisecond, "the pruner deletes the event once it is older than the retention")
	require.NoError(t, pruner.Stop(b.ctx))
	require.NoError(t, pruner.Stop(b.ctx), "stopping twice is fine")
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	b := newBundle(t, storetest.SQLite)
	for _, tc := range []struct {
		cfg  poll.Config
		want string
	}{
		{poll.Config{RetryAfter: 500 * time.Millisecond}, "at least 1s"},
		{poll.Config{PageSize: poll.PageSizeMax + 1}, "between 1 and 1000"},
		{poll.Config{PageSize: -1}, "between 1 and 1000"},
		{poll.Config{Key: []byte("short")}, "at least 32"},
	} {
		tc.cfg.Store = b.st
		_, err := poll.New(tc.cfg)
		require.ErrorContains(t, err, tc.want)
	}
	_, err := poll.New(poll.Config{})
	require.ErrorContains(t, err, "store is required")

	p := newPoller(t, b, poll.Config{RetryAfter: 1500 * time.Millisecond})
	require.Equal(t, 2*time.Second, p.RetryAfter(), "rounded up to whole seconds")
}
