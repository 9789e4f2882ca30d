package triggerd_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd"
	"github.com/triggerd/triggerd/catalog"
	"github.com/triggerd/triggerd/internal/flow"
	"github.com/triggerd/triggerd/internal/store/sqlstore"
)

// pollResponse is one answer of GET /v1/trigger/{trigger}.
type pollResponse struct {
	status     int
	location   string
	retryAfter int
	pruned     bool
	orders     []int // the order ids in value, in order
	body       []byte
}

// pollURL sends one poll to an absolute URL, as the platform sends it to a
// Location: verbatim, with the connection's key. It returns an error rather
// than failing the test, so pollers can run in goroutines.
func pollURL(ctx context.Context, rawURL, key string) (pollResponse, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return pollResponse{}, err
	}
	req.Header.Set(triggerd.APIKeyHeader, key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return pollResponse{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return pollResponse{}, err
	}
	r := pollResponse{status: resp.StatusCode, location: resp.Header.Get("Location"), body: body,
		pruned: resp.Header.Get("X-Triggerd-Events-Pruned") == "true"}
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusAccepted {
		return r, nil
	}
	if r.retryAfter, err = strconv.Atoi(resp.Header.Get("Retry-After")); err != nil {
		return r, fmt.Errorf("poll %s: Retry-After %q: %w", resp.Status, resp.Header.Get("Retry-After"), err)
	}
	if !strings.HasPrefix(r.location, "http://") {
		return r, fmt.Errorf("poll %s: Location %q is not absolute", resp.Status, r.location)
	}
	if resp.StatusCode == http.StatusAccepted {
		if len(body) > 0 {
			return r, fmt.Errorf("poll 202 has a body: %s", body)
		}
		return r, nil
	}
	var page struct {
		Value []struct {
			ID *int `json:"id"`
		} `json:"value"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		return r, fmt.Errorf("poll 200 body: %w: %s", err, body)
	}
	if len(page.Value) == 0 {
		return r, fmt.Errorf("poll 200 with no events: %s", body)
	}
	for _, o := range page.Value {
		if o.ID == nil {
			return r, fmt.Errorf("poll 200 item without id: %s", body)
		}
		r.orders = append(r.orders, *o.ID)
	}
	return r, nil
}

func (b *testBundle) poll(t *testing.T, rawURL, key string) pollResponse {
	t.Helper()
	if key == "" {
		key = b.key
	}
	r, err := pollURL(b.ctx, rawURL, key)
	require.NoError(t, err)
	return r
}

// pollerClient polls as the Logic Apps engine does (https://learn.microsoft.com/en-us/azure/logic-apps/logic-apps-create-api-app): it starts without a state, follows each Location verbatim and waits
// Retry-After between polls, one second of it counting as unit.
type pollerClient struct {
	key  string
	next string
	unit time.Duration

	mu       sync.Mutex
	received []int
	polls    int
	err      error
}

// start makes the first call, which establishes the state.
func (c *pollerClient) start(ctx context.Context, first string) error {
	r, err := pollURL(ctx, first, c.key)
	if err != nil {
		return err
	}
	if r.status != http.StatusAccepted || len(r.orders) > 0 {
		return fmt.Errorf("first poll answered %d (%s); want 202 and no events", r.status, r.body)
	}
	c.next = r.location
	return nil
}

// run polls until ctx ends, recording every order received.
func (c *pollerClient) run(ctx context.Context) {
	for ctx.Err() == nil {
		r, err := pollURL(ctx, c.next, c.key)
		if err == nil && r.status != http.StatusOK && r.status != http.StatusAccepted {
			err = fmt.Errorf("poll answered %d: %s", r.status, r.body)
		}
		if err != nil {
			if ctx.Err() == nil {
				c.mu.Lock()
				c.err = errors.Join(c.err, err)
				c.mu.Unlock()
			}
			return
		}
		c.mu.Lock()
		c.received = append(c.received, r.orders...)
		c.polls++
		c.mu.Unlock()
		c.next = r.location
		if r.retryAfter > 0 {
			wait := time.NewTimer(time.Duration(r.retryAfter) * c.unit)
			select {
			case <-ctx.Done():
				wait.Stop()
				return
			case <-wait.C:
			}
		}
	}
}

func (c *pollerClient) snapshot() ([]int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]int(nil), c.received...), c.err
}

// logOrder is the order ids of a tenant's events of a type, in the order of
// the log polling reads: (xid, seq) on PostgreSQL, seq on SQLite.
func logOrder(t *testing.T, db *sql.DB, postgres bool, eventType string, keep func(status string) bool) []int {
	t.Helper()
	query := `SELECT data FROM triggerd_event WHERE type = ? ORDER BY seq`
	if postgres {
		query = `SELECT data FROM triggerd_event WHERE type = $1 ORDER BY xid, seq`
	}
	rows, err := db.Query(query, eventType)
	require.NoError(t, err)
	defer rows.Close()
	var out []int
	for rows.Next() {
		var data []byte
		require.NoError(t, rows.Scan(&data))
		var o struct {
			ID     int    `json:"id"`
			Status string `json:"status"`
		}
		require.NoError(t, json.Unmarshal(data, &o))
		if keep == nil || keep(o.Status) {
			out = append(out, o.ID)
		}
	}
	require.NoError(t, rows.Err())
	return out
}

// The walk-through of docs/polling.md: 202 → Location → 200 pages → 202.
func TestPollingLifecycle(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, postgres bool) {
		b := setup(t, &setupOpts{postgres: postgres, cfg: triggerd.Config{PollingPageSize: 2, PollingRetryAfter: 7 * time.Second}})
		base := b.api.URL + "/v1/trigger/order.created"

		first := b.poll(t, base, "")
		require.Equal(t, http.StatusAccepted, first.status, "the first call establishes the state")
		require.Equal(t, 7, first.retryAfter)
		loc, err := url.Parse(first.location)
		require.NoError(t, err)
		require.Equal(t, base, loc.Scheme+"://"+loc.Host+loc.Path, "Location names the same operation, absolutely")
		require.NotEmpty(t, loc.Query().Get("triggerState"))

		again := b.poll(t, first.location, "")
		require.Equal(t, http.StatusAccepted, again.status)
		require.Equal(t, first.location, again.location, "nothing new: the same Location")

		b.publish(t, []any{
			map[string]any{"type": "order.created", "data": order(1, "new")},
			map[string]any{"type": "order.updated", "data": order(50, "paid")},
			map[string]any{"type": "order.created", "data": order(2, "new")},
			map[string]any{"type": "order.created", "data": order(3, "new")},
		})
		var pages [][]int
		var waits []int
		next := first.location
		eventually(t, func() bool {
			r := b.poll(t, next, "")
			next = r.location
			if r.status == http.StatusOK {
				pages = append(pages, r.orders)
				waits = append(waits, r.retryAfter)
			}
			return len(pages) == 2
		}, "two pages")
		require.Equal(t, [][]int{{1, 2}, {3}}, pages)
		require.Equal(t, []int{0, 7}, waits, "Retry-After 0 while another page waits")
		last := b.poll(t, next, "")
		require.Equal(t, http.StatusAccepted, last.status)
		require.Equal(t, next, last.location)

		// The body is the event data as published, under value.
		b.publish(t, map[string]any{"type": "order.created", "data": order(4, "processing")})
		var got pollResponse
		eventually(t, func() bool { got = b.poll(t, next, ""); return got.status == http.StatusOK }, "order 4")
		require.JSONEq(t, `{"value":[{"id":4,"order_key":"wc_order_processing","status":"processing","currency":"EUR","total":12.5}]}`, string(got.body))
	})
}

func TestPollingRequestErrors(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	base := b.api.URL + "/v1/trigger/"
	for _, tc := range []struct {
		url, key string
		status   int
		want     string
	}{
		{base + "order.updated?colour=red", "", http.StatusUnprocessableEntity, "allowed parameters: status, triggerState"},
		{base + "order.updated?status=a&status=b", "", http.StatusUnprocessableEntity, "give it once"},
		{base + "order.created?status=paid", "", http.StatusUnprocessableEntity, "allowed parameters: triggerState"},
		{base + "order.created?triggerState=bogus", "", http.StatusBadRequest, "not a state triggerd issued"},
		{base + "order.created?x=%zz", "", http.StatusBadRequest, "does not decode"},
		{base + "order.deleted", "", http.StatusNotFound, "no trigger"},
		{base + "order.created", "-", http.StatusUnauthorized, "X-API-Key"},
		{base + "order.created", "tdk_wrong", http.StatusUnauthorized, "no valid key"},
	} {
		r := b.poll(t, tc.url, tc.key)
		require.Equal(t, tc.status, r.status, tc.url)
		require.Contains(t, string(r.body), tc.want, tc.url)
	}

	// A trigger offered as a webhook only has no polling operation.
	cat, err := catalog.Parse([]byte(strings.Replace(string(catalog.DemoYAML()), "kinds: [webhook, polling]", "kinds: [webhook]", 1)), "demo.yaml")
	require.NoError(t, err)
	wb := setup(t, &setupOpts{cfg: triggerd.Config{Catalog: cat}, noStart: true})
	r := wb.poll(t, wb.api.URL+"/v1/trigger/order.created", "")
	require.Equal(t, http.StatusNotFound, r.status)
	require.Contains(t, string(r.body), "not offered for polling")
	require.Equal(t, http.StatusAccepted, wb.poll(t, wb.api.URL+"/v1/trigger/order.updated", "").status)
}

func TestPollingFilters(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, postgres bool) {
		b := setup(t, &setupOpts{postgres: postgres})
		paid := b.poll(t, b.api.URL+"/v1/trigger/order.updated?status=paid", "")
		require.Equal(t, http.StatusAccepted, paid.status)
		require.Contains(t, paid.location, "?status=paid&triggerState=", "Location keeps the poller's filter")
		all := b.poll(t, b.api.URL+"/v1/trigger/order.updated", "")

		var batch []any
		for i := 1; i <= 6; i++ {
			status := "new"
			if i%3 == 0 {
				status = "paid"
			}
			batch = append(batch, map[string]any{"type": "order.updated", "data": order(i, status)})
		}
		b.publish(t, batch)

		collect := func(start string, want int) []int {
			var got []int
			next := start
			eventually(t, func() bool {
				r := b.poll(t, next, "")
				require.Contains(t, []int{http.StatusOK, http.StatusAccepted}, r.status, string(r.body))
				got = append(got, r.orders...)
				next = r.location
				return len(got) >= want && r.retryAfter > 0
			}, "filtered events")
			return got
		}
		require.Equal(t, []int{3, 6}, collect(paid.location, 2))
		require.Equal(t, []int{1, 2, 3, 4, 5, 6}, collect(all.location, 6))

		// The state is bound to the filter values: it cannot be reused to
		// drop or change them.
		state := strings.SplitN(paid.location, "triggerState=", 2)[1]
		for _, q := range []string{"?triggerState=" + state, "?status=new&triggerState=" + state} {
			r := b.poll(t, b.api.URL+"/v1/trigger/order.updated"+q, "")
			require.Equal(t, http.StatusBadRequest, r.status, q)
			require.Contains(t, string(r.body), "not issued for this tenant, trigger and filter values")
		}
		r := b.poll(t, b.api.URL+"/v1/trigger/order.created?triggerState="+state, "")
		require.Equal(t, http.StatusBadRequest, r.status, "another trigger")
	})
}

// Another tenant's key with a valid state gets a 400, never the events.
func TestPollingTenantIsolation(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, postgres bool) {
		b := setup(t, &setupOpts{postgres: postgres})
		globex, err := b.p.CreateAPIKey(b.ctx, "globex")
		require.NoError(t, err)
		acme := b.poll(t, b.api.URL+"/v1/trigger/order.created", "")
		theirs := b.poll(t, b.api.URL+"/v1/trigger/order.created", globex)
		b.publish(t, map[string]any{"type": "order.created", "data": order(1, "new")})

		// acme sees its event.
		next := acme.location
		eventually(t, func() bool { r := b.poll(t, next, ""); next = r.location; return r.status == http.StatusOK }, "acme's event")

		r := b.poll(t, acme.location, globex)
		require.Equal(t, http.StatusBadRequest, r.status)
		require.NotContains(t, string(r.body), "wc_order")
		require.Contains(t, string(r.body), "not issued for this tenant")

		// globex's own poll sees nothing of acme's.
		r = b.poll(t, theirs.location, globex)
		require.Equal(t, http.StatusAccepted, r.status)
		require.Empty(t, r.orders)
	})
}

func TestPollingTamperedState(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	first := b.poll(t, b.api.URL+"/v1/trigger/order.created", "")
	u, err := url.Parse(first.location)
	require.NoError(t, err)
	state := u.Query().Get("triggerState")
	flip := "A"
	if state[3] == 'A' {
		flip = "B"
	}
	q := u.Query()
	q.Set("triggerState", state[:3]+flip+state[4:])
	u.RawQuery = q.Encode()
	r := b.poll(t, u.String(), "")
	require.Equal(t, http.StatusBadRequest, r.status)
	require.Contains(t, string(r.body), `"code":"invalid_trigger_state"`)

	// A state signed with another key (another deployment, or a rotated
	// key) is refused the same way.
	other := setup(t, &setupOpts{cfg: triggerd.Config{TriggerStateKey: []byte(strings.Repeat("s", 32))}, noStart: true})
	r = other.poll(t, other.api.URL+"/v1/trigger/order.created?triggerState="+url.QueryEscape(state), other.key)
	require.Equal(t, http.StatusBadRequest, r.status)
}

// A state older than the retention resumes at the oldest event kept, and
// says so.
func TestPollingPrunedState(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, postgres bool) {
		b := setup(t, &setupOpts{postgres: postgres})
		old := b.poll(t, b.api.URL+"/v1/trigger/order.created", "")
		b.publish(t, []any{
			map[string]any{"type": "order.created", "data": order(1, "new")},
			map[string]any{"type": "order.created", "data": order(2, "new")},
		})
		// Wait until they are readable, then prune them directly: the
		// periodic pruner does the same with now - retention.
		probe := old.location
		eventually(t, func() bool { r := b.poll(t, probe, ""); probe = r.location; return r.status == http.StatusOK }, "events readable")
		dialect, err := sqlstore.DetectDialect(b.db)
		require.NoError(t, err)
		st, err := sqlstore.New(b.db, dialect)
		require.NoError(t, err)
		n, err := st.PruneEvents(b.ctx, time.Now().Add(time.Minute), 1000)
		require.NoError(t, err)
		require.Equal(t, 2, n)
		b.publish(t, map[string]any{"type": "order.created", "data": order(3, "new")})

		var r pollResponse
		eventually(t, func() bool { r = b.poll(t, old.location, ""); return r.status == http.StatusOK }, "order 3")
		require.True(t, r.pruned, "the poller learns that events were pruned")
		require.Equal(t, []int{3}, r.orders, "and resumes at the oldest event kept")

		// A poller that had read 1 and 2 lost nothing and is told nothing.
		r = b.poll(t, probe, "")
		require.Equal(t, http.StatusOK, r.status)
		require.False(t, r.pruned)
		require.Equal(t, []int{3}, r.orders)
	})
}

func TestPollingConfigErrors(t *testing.T) {
	t.Parallel()
	db, err := triggerd.OpenSQLite(t.TempDir() + "/triggerd.db")
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	for _, tc := range []struct {
		cfg  triggerd.Config
		want string
	}{
		{triggerd.Config{EventRetention: 80 * time.Hour}, "event retention 80h0m0s is too short"},
		{triggerd.Config{EventRetention: time.Minute, RetrySchedule: []time.Duration{time.Minute}}, "too short"},
		{triggerd.Config{PollingRetryAfter: time.Millisecond}, "at least 1s"},
		{triggerd.Config{PollingPageSize: 5000}, "between 1 and 1000"},
		{triggerd.Config{TriggerStateKey: []byte("short")}, "at least 32"},
	} {
		tc.cfg.PublicURL = "http://127.0.0.1:8080"
		_, err := triggerd.New(context.Background(), db, tc.cfg)
		require.ErrorContains(t, err, tc.want)
	}
	_, err = triggerd.New(context.Background(), db, triggerd.Config{PublicURL: "http://127.0.0.1:8080",
		EventRetention: time.Hour, RetrySchedule: []time.Duration{time.Minute}, DeliveryTimeout: time.Second})
	require.NoError(t, err, "a short retention is fine with a short retry schedule")
}

// On PostgreSQL transactions commit in any order. An event inserted by a
// transaction that is still open must not be passed by a poll that sees a
// later one: the poller would never see it.
func TestPollingHeldOpenTransaction(t *testing.T) {
	t.Parallel()
	b := setup(t, &setupOpts{postgres: true})
	first := b.poll(t, b.api.URL+"/v1/trigger/order.created", "")

	tx, err := b.db.BeginTx(b.ctx, nil)
	require.NoError(t, err)
	defer tx.Rollback() //nolint:errcheck // no-op after commit
	_, err = b.p.PublishTx(b.ctx, tx, "acme", triggerd.Event{Type: "order.created", Data: order(1, "new")})
	require.NoError(t, err)
	b.publish(t, map[string]any{"type": "order.created", "data": order(2, "new")}) // committed

	r := b.poll(t, first.location, "")
	require.Equal(t, http.StatusAccepted, r.status, "order 2 waits for the open transaction: answering it would move the state past order 1")
	require.Equal(t, first.location, r.location)

	require.NoError(t, tx.Commit())
	var got []int
	next := first.location
	eventually(t, func() bool {
		r := b.poll(t, next, "")
		got = append(got, r.orders...)
		next = r.location
		return len(got) >= 2
	}, "both orders")
	require.Equal(t, []int{1, 2}, got, "each exactly once, in commit order")
	r = b.poll(t, next, "")
	require.Equal(t, http.StatusAccepted, r.status)
	require.Equal(t, next, r.location)
}

// A client polling exactly as the platform does, while 1,000 events are
// published concurrently (some inside longer application transactions),
// receives each matching event exactly once, in the log's order.
func TestPollingUnderConcurrentPublishing(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, postgres bool) {
		b := setup(t, &setupOpts{postgres: postgres, cfg: triggerd.Config{PollingRetryAfter: time.Second, PollingPageSize: 25}})
		ctx, cancel := context.WithCancel(b.ctx)
		defer cancel()
		created := &pollerClient{key: b.key, unit: time.Millisecond}
		paid := &pollerClient{key: b.key, unit: time.Millisecond}
		require.NoError(t, created.start(ctx, b.api.URL+"/v1/trigger/order.created"))
		require.NoError(t, paid.start(ctx, b.api.URL+"/v1/trigger/order.updated?status=paid"))
		var pollers sync.WaitGroup
		for _, c := range []*pollerClient{created, paid} {
			pollers.Add(1)
			go func() { defer pollers.Done(); c.run(ctx) }()
		}

		var ids atomic.Int64
		event := func() map[string]any {
			n := int(ids.Add(1))
			typ, status := "order.created", "new"
			switch n % 4 {
			case 1:
				typ, status = "order.updated", "paid"
			case 2:
				typ, status = "order.updated", "shipped"
			}
			return map[string]any{"type": typ, "data": order(n, status)}
		}
		const (
			httpPublishers = 4
			httpRequests   = 20 // of 10 events each: 800
			txPublishers   = 2
			txs            = 10 // of 10 events each: 200
		)
		var publishers sync.WaitGroup
		errs := make(chan error, httpPublishers+txPublishers)
		for range httpPublishers {
			publishers.Add(1)
			go func() {
				defer publishers.Done()
				for range httpRequests {
					batch := make([]any, 10)
					for i := range batch {
						batch[i] = event()
					}
					body, _ := json.Marshal(batch)
					req, _ := http.NewRequestWithContext(ctx, http.MethodPost, b.api.URL+"/v1/events", strings.NewReader(string(body)))
					req.Header.Set(triggerd.APIKeyHeader, b.key)
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						errs <- err
						return
					}
					resp.Body.Close()
					if resp.StatusCode != http.StatusAccepted {
						errs <- fmt.Errorf("publish answered %s", resp.Status)
						return
					}
				}
			}()
		}
		// Longer transactions: ten separate PublishTx calls in one
		// application transaction, committed while the others publish.
		for range txPublishers {
			publishers.Add(1)
			go func() {
				defer publishers.Done()
				for range txs {
					tx, err := b.db.BeginTx(ctx, nil)
					if err != nil {
						errs <- err
						return
					}
					for range 10 {
						ev := event()
						if _, err := b.p.PublishTx(ctx, tx, "acme", triggerd.Event{Type: ev["type"].(string), Data: ev["data"]}); err != nil {
							_ = tx.Rollback()
							errs <- err
							return
						}
					}
					if err := tx.Commit(); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		publishers.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		require.EqualValues(t, 1000, ids.Load())

		wantCreated := logOrder(t, b.db, postgres, "order.created", nil)
		wantPaid := logOrder(t, b.db, postgres, "order.updated", func(s string) bool { return s == "paid" })
		require.Len(t, wantCreated, 500)
		require.Len(t, wantPaid, 250)
		eventually(t, func() bool {
			c, errC := created.snapshot()
			p, errP := paid.snapshot()
			require.NoError(t, errors.Join(errC, errP))
			return len(c) >= len(wantCreated) && len(p) >= len(wantPaid)
		}, "every event polled")
		// One more round each: nothing beyond.
		for _, c := range []*pollerClient{created, paid} {
			c.mu.Lock()
			before := c.polls
			c.mu.Unlock()
			eventually(t, func() bool { c.mu.Lock(); defer c.mu.Unlock(); return c.polls > before+1 }, "a poll after the last event")
		}
		cancel()
		pollers.Wait()
		gotCreated, err := created.snapshot()
		require.NoError(t, err)
		gotPaid, err := paid.snapshot()
		require.NoError(t, err)
		require.Equal(t, wantCreated, gotCreated, "each order.created exactly once, in log order")
		require.Equal(t, wantPaid, gotPaid, "each paid order.updated exactly once, in log order")
	})
}

// The platform emulator polls the served connector definition's polling
// trigger while events are published, and finds nothing to object to.
func TestPollingWithFlow(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, postgres bool) {
		b := setup(t, &setupOpts{postgres: postgres, cfg: triggerd.Config{PollingPageSize: 3}})
		const runs = 10
		// Publish once flow's first poll, which sets the state, is done.
		firstPoll := make(chan struct{})
		var once sync.Once
		client := &http.Client{
			Timeout: 30 * time.Second,
			Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
				resp, err := http.DefaultTransport.RoundTrip(r)
				if err == nil && strings.Contains(r.URL.Path, "/v1/trigger/") {
					once.Do(func() { close(firstPoll) })
				}
				return resp, err
			}),
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
		published := make(chan error, 1)
		go func() {
			select {
			case <-firstPoll:
			case <-time.After(30 * time.Second):
				published <- errors.New("flow never polled")
				return
			}
			var batch []any
			for i := 1; i <= runs; i++ {
				batch = append(batch, map[string]any{"type": "order.created", "data": order(i, "new")})
			}
			body, _ := json.Marshal(batch)
			req, _ := http.NewRequestWithContext(b.ctx, http.MethodPost, b.api.URL+"/v1/events", strings.NewReader(string(body)))
			req.Header.Set(triggerd.APIKeyHeader, b.key)
			resp, err := http.DefaultClient.Do(req)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode != http.StatusAccepted {
					err = fmt.Errorf("publish answered %s", resp.Status)
				}
			}
			published <- err
		}()

		report, err := flow.Run(b.ctx, flow.Config{
			Connector:      b.api.URL + "/v1/openapi.json",
			Trigger:        "OrderCreatedPoll",
			APIKey:         b.key,
			Runs:           runs,
			Timeout:        30 * time.Second,
			RetryAfterUnit: time.Millisecond,
			HTTPClient:     client,
		})
		require.NoError(t, err)
		require.NoError(t, <-published)
		require.Equal(t, flow.KindPolling, report.Kind)
		require.Empty(t, report.Deviations, "flow found deviations: %+v", report.Deviations)
		require.Len(t, report.Runs, runs)
		for i, run := range report.Runs {
			require.True(t, run.Valid, "run %d: %+v", i+1, run.Errors)
			require.EqualValues(t, json.Number(strconv.Itoa(i+1)), run.Body.(map[string]any)["id"], "run %d", i+1)
		}
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
