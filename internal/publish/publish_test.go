package publish_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
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
	"github.com/triggerd/triggerd/internal/store/sqlstore"
	"github.com/triggerd/triggerd/internal/store/storetest"
)

// bundle is a publisher on a fresh SQLite file, with a real delivery engine
// that is not started: deliveries wait in the job queue, where the tests
// read them.
type bundle struct {
	ctx    context.Context
	st     *sqlstore.Store
	engine delivery.Engine
	p      *publish.Publisher
}

func newBundle(t *testing.T) *bundle {
	t.Helper()
	ctx := context.Background()
	st := storetest.SQLite.Store(t)
	require.NoError(t, delivery.Migrate(ctx, st.DB(), st.Dialect()))
	engine, err := delivery.New(st, delivery.Config{
		Guard:         &netguard.Guard{AllowPrivate: true}, // receivers listen on 127.0.0.1
		PollInterval:  10 * time.Millisecond,
		RetrySchedule: []time.Duration{20 * time.Millisecond},
		Timeout:       5 * time.Second,
		Workers:       delivery.WorkersDefault,
		RescueAfter:   5*time.Second + delivery.RescueAfterMargin,
	})
	require.NoError(t, err)
	return &bundle{ctx: ctx, st: st, engine: engine,
		p: &publish.Publisher{Store: st, Catalog: catalog.Demo(), Engine: engine, Now: time.Now}}
}

var ids atomic.Int64

func id(prefix string) string { return fmt.Sprintf("%s_%08d", prefix, ids.Add(1)) }

// tenant creates a tenant and returns its id.
func (b *bundle) tenant(t *testing.T, name string) string {
	t.Helper()
	tx, err := b.st.DB().BeginTx(b.ctx, nil)
	require.NoError(t, err)
	ten, err := b.st.EnsureTenantTx(b.ctx, tx, store.TenantParams{Name: name, NewID: id("ten"), Now: time.Now()})
	require.NoError(t, err)
	require.NoError(t, tx.Commit())
	return ten.ID
}

func (b *bundle) subscribe(t *testing.T, tenantID, trigger, callback string, filters map[string]string) string {
	t.Helper()
	sub, _, err := b.st.CreateSubscription(b.ctx, store.SubscriptionParams{ID: id("sub"), TenantID: tenantID, Trigger: trigger,
		CallbackURL: callback, Filters: filters, Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", Now: time.Now()})
	require.NoError(t, err)
	return sub.ID
}

// queued returns the subscription ids of the delivery jobs waiting in the
// queue, one entry per job. River keeps args as JSONB on SQLite; json()
// reads them back as text.
func (b *bundle) queued(t *testing.T) []string {
	t.Helper()
	rows, err := b.st.DB().QueryContext(b.ctx, `SELECT json(args) FROM river_job WHERE kind = 'triggerd.deliver'`)
	require.NoError(t, err)
	defer rows.Close()
	var subs []string
	for rows.Next() {
		var raw []byte
		require.NoError(t, rows.Scan(&raw))
		var args struct {
			Sub string `json:"sub"`
		}
		require.NoError(t, json.Unmarshal(raw, &args))
		subs = append(subs, args.Sub)
	}
	require.NoError(t, rows.Err())
	return subs
}

func (b *bundle) count(t *testing.T, table string) int {
	t.Helper()
	var n int
	require.NoError(t, b.st.DB().QueryRowContext(b.ctx, `SELECT COUNT(*) FROM `+table).Scan(&n))
	return n
}

// publishTx publishes in a transaction of the test's own and commits it.
func (b *bundle) publishTx(t *testing.T, tenant publish.Tenant, inputs ...publish.Input) []publish.Result {
	t.Helper()
	tx, err := b.st.DB().BeginTx(b.ctx, nil)
	require.NoError(t, err)
	defer tx.Rollback() //nolint:errcheck // no-op after commit
	results, err := b.p.PublishTx(b.ctx, tx, tenant, inputs)
	require.NoError(t, err)
	require.NoError(t, tx.Commit())
	return results
}

const order = `{"id": 1, "order_key": "wc_1", "status": "paid"}`

func TestValidate(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	tooMany := make([]publish.Input, publish.EventsPerRequestMax+1)
	for i := range tooMany {
		tooMany[i] = publish.Input{Type: "order.created", Data: json.RawMessage(order)}
	}
	cases := []struct {
		name     string
		inputs   []publish.Input
		index    int
		path     string
		message  string
		mismatch bool
	}{
		{name: "none", inputs: nil, message: "no events"},
		{name: "too many", inputs: tooMany, index: publish.EventsPerRequestMax, message: fmt.Sprintf("at most %d events", publish.EventsPerRequestMax)},
		{name: "no type", inputs: []publish.Input{{Data: json.RawMessage(order)}}, path: "type", message: "is required"},
		{name: "unknown type", inputs: []publish.Input{{Type: "order.deleted", Data: json.RawMessage(order)}}, path: "type", message: `"order.deleted" is not a trigger`},
		{name: "long id", inputs: []publish.Input{{Type: "order.created", ID: strings.Repeat("k", publish.IdempotencyKeyMaxLen+1), Data: json.RawMessage(order)}},
			path: "id", message: fmt.Sprintf("at most %d", publish.IdempotencyKeyMaxLen)},
		{name: "no data", inputs: []publish.Input{{Type: "order.created"}}, path: "data", message: "is required"},
		{name: "null data", inputs: []publish.Input{{Type: "order.created", Data: json.RawMessage(" null ")}}, path: "data", message: "is required"},
		{name: "schema", inputs: []publish.Input{{Type: "order.created", Data: json.RawMessage(`{"id": 1, "order_key": "wc_1"}`)}}, path: "data", message: "status", mismatch: true},
		{name: "second event", inputs: []publish.Input{{Type: "order.created", Data: json.RawMessage(order)}, {Type: "order.created", Data: json.RawMessage(`{"id": "one"}`)}},
			index: 1, path: "data", mismatch: true},
	}
	for _, c := range cases {
		err := b.p.Validate(c.inputs)
		var ie *publish.InputError
		require.ErrorAs(t, err, &ie, c.name)
		require.Equal(t, c.index, ie.Index, c.name)
		require.True(t, strings.HasPrefix(ie.Path, c.path), "%s: path %q", c.name, ie.Path)
		require.Contains(t, ie.Message, c.message, c.name)
		require.Equal(t, c.mismatch, ie.SchemaMismatch, c.name)
		require.Equal(t, fmt.Sprintf("events[%d].%s: %s", ie.Index, ie.Path, ie.Message), ie.Error())

		// Publishing the same input stores nothing, not even the tenant.
		_, err = b.p.Publish(b.ctx, publish.Tenant{Name: "acme"}, c.inputs)
		require.ErrorAs(t, err, &ie, c.name)
		tx, err := b.st.DB().BeginTx(b.ctx, nil)
		require.NoError(t, err)
		_, err = b.p.PublishTx(b.ctx, tx, publish.Tenant{Name: "acme"}, c.inputs)
		require.ErrorAs(t, err, &ie, c.name)
		require.NoError(t, tx.Commit())
	}
	require.Zero(t, b.count(t, "triggerd_event"))
	require.Zero(t, b.count(t, "triggerd_tenant"))
	require.Empty(t, b.queued(t))
	require.NoError(t, b.p.Validate([]publish.Input{{Type: "order.created", ID: "k", Data: json.RawMessage(order)}}))
}

func TestIdempotency(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	tenantID := b.tenant(t, "acme")
	sub := b.subscribe(t, tenantID, "order.created", "https://example.com/hook", nil)
	first := b.publishTx(t, publish.Tenant{ID: tenantID},
		publish.Input{Type: "order.created", ID: "order-1", Data: json.RawMessage(order)},
		publish.Input{Type: "order.created", ID: "order-1", Data: json.RawMessage(order)},
		publish.Input{Type: "order.created", Data: json.RawMessage(order)})
	require.Len(t, first, 3)
	require.False(t, first[0].Duplicate)
	require.Equal(t, "order-1", first[0].IdempotencyKey)
	require.Equal(t, 1, first[0].Deliveries)
	require.True(t, first[1].Duplicate, "the same key twice in one call")
	require.Equal(t, first[0].ID, first[1].ID)
	require.Zero(t, first[1].Deliveries)
	require.False(t, first[2].Duplicate, "no key, no deduplication")
	require.NotEqual(t, first[0].ID, first[2].ID)

	again := b.publishTx(t, publish.Tenant{ID: tenantID}, publish.Input{Type: "order.created", ID: "order-1", Data: json.RawMessage(order)})
	require.True(t, again[0].Duplicate, "the same key in a later call")
	require.Equal(t, first[0].ID, again[0].ID)
	require.Zero(t, again[0].Deliveries)

	// Another tenant's key space is its own.
	other := b.publishTx(t, publish.Tenant{Name: "globex"}, publish.Input{Type: "order.created", ID: "order-1", Data: json.RawMessage(order)})
	require.False(t, other[0].Duplicate)

	require.Equal(t, []string{sub, sub}, b.queued(t), "one delivery per new event, none for duplicates")
	events, err := b.st.Events(b.ctx, []string{first[0].ID})
	require.NoError(t, err)
	require.Equal(t, `{"id":1,"order_key":"wc_1","status":"paid"}`, string(events[0].Data), "the first data stays, compacted")
}

func TestTenantResolution(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	in := publish.Input{Type: "order.created", Data: json.RawMessage(order)}

	// A name is found, or created, inside the publishing transaction.
	r1, err := b.p.Publish(b.ctx, publish.Tenant{Name: "acme"}, []publish.Input{in})
	require.NoError(t, err)
	r2 := b.publishTx(t, publish.Tenant{Name: "acme"}, in)
	require.Equal(t, 1, b.count(t, "triggerd_tenant"), "the second publish finds the tenant the first created")
	acme := b.tenant(t, "acme")
	events, err := b.st.Events(b.ctx, []string{r1[0].ID, r2[0].ID})
	require.NoError(t, err)
	require.Equal(t, acme, events[0].TenantID)
	require.Equal(t, acme, events[1].TenantID)

	// A known id is used as is, without a lookup by name.
	r3, err := b.p.Publish(b.ctx, publish.Tenant{ID: acme, Name: "ignored"}, []publish.Input{in})
	require.NoError(t, err)
	events, err = b.st.Events(b.ctx, []string{r3[0].ID})
	require.NoError(t, err)
	require.Equal(t, acme, events[0].TenantID)
	require.Equal(t, 1, b.count(t, "triggerd_tenant"))

	// No tenant is an error that stores nothing.
	_, err = b.p.Publish(b.ctx, publish.Tenant{}, []publish.Input{in})
	require.ErrorContains(t, err, "tenant name is required")
	tx, err := b.st.DB().BeginTx(b.ctx, nil)
	require.NoError(t, err)
	_, err = b.p.PublishTx(b.ctx, tx, publish.Tenant{}, []publish.Input{in})
	require.ErrorContains(t, err, "tenant name is required")
	require.NoError(t, tx.Rollback())

	// A new tenant created by a transaction that rolls back is gone with it.
	tx, err = b.st.DB().BeginTx(b.ctx, nil)
	require.NoError(t, err)
	_, err = b.p.PublishTx(b.ctx, tx, publish.Tenant{Name: "initech"}, []publish.Input{in})
	require.NoError(t, err)
	require.NoError(t, tx.Rollback())
	require.Equal(t, 1, b.count(t, "triggerd_tenant"))
	require.Equal(t, 3, b.count(t, "triggerd_event"))
}

func TestFanOut(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	acme := b.tenant(t, "acme")
	globex := b.tenant(t, "globex")
	paid := b.subscribe(t, acme, "order.updated", "https://example.com/paid", map[string]string{"status": "paid"})
	anyStatus := b.subscribe(t, acme, "order.updated", "https://example.com/any", nil)
	b.subscribe(t, acme, "order.updated", "https://example.com/new", map[string]string{"status": "new"})
	created := b.subscribe(t, acme, "order.created", "https://example.com/created", map[string]string{"status": "new"})
	b.subscribe(t, globex, "order.updated", "https://example.com/theirs", nil)
	deleted := b.subscribe(t, acme, "order.updated", "https://example.com/deleted", nil)
	require.NoError(t, b.st.DeleteSubscription(b.ctx, acme, deleted, time.Now()))

	results := b.publishTx(t, publish.Tenant{ID: acme},
		publish.Input{Type: "order.updated", Data: json.RawMessage(order)},
		publish.Input{Type: "order.created", Data: json.RawMessage(order)})
	require.Equal(t, 2, results[0].Deliveries, "the paid filter and the unfiltered subscription")
	require.Equal(t, 1, results[1].Deliveries, "order.created has no filters: its subscriptions get every event")
	require.ElementsMatch(t, []string{paid, anyStatus, created}, b.queued(t),
		"nothing for another filter value, another tenant, or a deleted subscription")
}

// TestPublishDeliversAtOnce checks the fast path: Publish commits itself
// and starts first attempts in this process without waiting for the queue.
func TestPublishDeliversAtOnce(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	var (
		mu   sync.Mutex
		got  []string
		body string
	)
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, r.URL.Path)
		body = string(data)
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(rc.Close)
	acme := b.tenant(t, "acme")
	b.subscribe(t, acme, "order.updated", rc.URL+"/paid", map[string]string{"status": "paid"})
	b.subscribe(t, acme, "order.updated", rc.URL+"/new", map[string]string{"status": "new"})
	require.NoError(t, b.engine.Start(b.ctx))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, b.engine.Stop(ctx))
	})

	results, err := b.p.Publish(b.ctx, publish.Tenant{ID: acme}, []publish.Input{{Type: "order.updated", Data: json.RawMessage(order)}})
	require.NoError(t, err)
	require.Equal(t, 1, results[0].Deliveries)
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) == 1
	}, 10*time.Second, 5*time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, []string{"/paid"}, got)
	require.JSONEq(t, order, body)
}
