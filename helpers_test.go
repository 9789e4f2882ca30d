package triggerd_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd"
	"github.com/triggerd/triggerd/internal/store/storetest"
)

// backends runs a test once per database: SQLite always, PostgreSQL when
// storetest.PostgresURLEnv is set.
func backends(t *testing.T, test func(t *testing.T, postgres bool)) {
	t.Helper()
	storetest.Backends(t, func(t *testing.T, be storetest.Backend) {
		test(t, be == storetest.Postgres)
	})
}

// testBundle is a running publisher on a fresh SQLite file, its API on a
// loopback port, and one tenant's key.
type testBundle struct {
	ctx context.Context
	p   *triggerd.Publisher
	db  *sql.DB
	api *httptest.Server
	key string
}

type setupOpts struct {
	cfg     triggerd.Config
	noStart bool
	// strict keeps the SSRF protection on (callbacks on loopback refused).
	strict bool
	// postgres runs on a fresh schema of the test PostgreSQL database
	// (skipped when none is configured).
	postgres bool
	// db, when set, is the database to run on instead of a fresh one.
	db *sql.DB
}

func setup(t *testing.T, opts *setupOpts) *testBundle {
	t.Helper()
	if opts == nil {
		opts = &setupOpts{}
	}
	ctx := context.Background()
	be := storetest.SQLite
	if opts.postgres {
		be = storetest.Postgres
	}
	db := opts.db
	if db == nil {
		db = be.Open(t)
	}

	cfg := opts.cfg
	cfg.AllowPrivateCallbacks = !opts.strict
	if cfg.RetrySchedule == nil {
		cfg.RetrySchedule = []time.Duration{20 * time.Millisecond, 20 * time.Millisecond, 20 * time.Millisecond}
	}
	if cfg.DeliveryTimeout == 0 {
		cfg.DeliveryTimeout = 5 * time.Second
	}
	if cfg.PollInterval == 0 {
		cfg.PollInterval = 10 * time.Millisecond
	}
	// The API's URL is only known once it listens: start it on a handler
	// that is swapped in after New.
	var handler http.Handler = http.NotFoundHandler()
	var mu sync.RWMutex
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.RLock()
		h := handler
		mu.RUnlock()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(api.Close)
	cfg.PublicURL = api.URL

	p, err := triggerd.New(ctx, db, cfg)
	require.NoError(t, err)
	mu.Lock()
	handler = p.Handler()
	mu.Unlock()
	if !opts.noStart {
		require.NoError(t, p.Start(ctx))
		t.Cleanup(func() {
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			require.NoError(t, p.Stop(sctx))
		})
	}
	key, err := p.CreateAPIKey(ctx, "acme")
	require.NoError(t, err)
	return &testBundle{ctx: ctx, p: p, db: db, api: api, key: key}
}

// call makes an API request with the bundle's key (or key, if given) and
// decodes a JSON answer into out when out is not nil.
func (b *testBundle) call(t *testing.T, method, path, key string, body any, out any) *http.Response {
	t.Helper()
	var rd io.Reader
	switch v := body.(type) {
	case nil:
	case string:
		rd = bytes.NewReader([]byte(v))
	case []byte:
		rd = bytes.NewReader(v)
	default:
		buf, err := json.Marshal(v)
		require.NoError(t, err)
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequestWithContext(b.ctx, method, b.api.URL+path, rd)
	require.NoError(t, err)
	if key == "" {
		key = b.key
	}
	if key != "-" {
		req.Header.Set(triggerd.APIKeyHeader, key)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	if out != nil && len(raw) > 0 {
		require.NoError(t, json.Unmarshal(raw, out), string(raw))
	}
	return resp
}

type subscription struct {
	ID                  string            `json:"id"`
	Trigger             string            `json:"trigger"`
	CallbackURL         string            `json:"callbackUrl"`
	Filters             map[string]string `json:"filters"`
	CreatedAt           time.Time         `json:"createdAt"`
	Secret              string            `json:"secret"`
	State               string            `json:"state"`
	StateReason         string            `json:"stateReason"`
	LastStatus          int               `json:"lastStatus"`
	ConsecutiveFailures int               `json:"consecutiveFailures"`
	Attempts            []struct {
		WebhookID string   `json:"webhookId"`
		EventIDs  []string `json:"eventIds"`
		Attempt   int      `json:"attempt"`
		Status    int      `json:"status"`
		Error     string   `json:"error"`
		Outcome   string   `json:"outcome"`
	} `json:"attempts"`
}

func (b *testBundle) register(t *testing.T, trigger, callback string, filters map[string]string) (subscription, *http.Response) {
	t.Helper()
	body := map[string]any{"callbackUrl": callback}
	for k, v := range filters {
		body[k] = v
	}
	var sub subscription
	resp := b.call(t, http.MethodPost, "/v1/webhooks/"+trigger, "", body, &sub)
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	return sub, resp
}

type publishResult struct {
	Events []struct {
		ID         string `json:"id"`
		Duplicate  bool   `json:"duplicate"`
		Deliveries int    `json:"deliveries"`
	} `json:"events"`
}

// publish posts events as the test tenant and requires 202. A 503 fails
// the test like any other answer, with the server's reason: a test that
// needs a longer bound on the database than the default sets
// Config.DatabaseWait (TestRedeliverCap does) instead of retrying.
func (b *testBundle) publish(t *testing.T, events any) publishResult {
	t.Helper()
	var raw json.RawMessage
	resp := b.call(t, http.MethodPost, "/v1/events", "", events, &raw)
	require.Equal(t, http.StatusAccepted, resp.StatusCode, string(raw))
	var res publishResult
	require.NoError(t, json.Unmarshal(raw, &res), string(raw))
	return res
}

func order(id int, status string) map[string]any {
	return map[string]any{"id": id, "order_key": "wc_order_" + status, "status": status, "currency": "EUR", "total": 12.5}
}

// received is one request a receiver got.
type received struct {
	At         time.Time
	RequestURI string
	Header     http.Header
	Body       []byte
}

// receiver is a loopback HTTP server that records what it receives and
// answers with respond (202 when nil).
type receiver struct {
	*httptest.Server
	ch chan received
}

func newReceiver(t *testing.T, respond func(n int, w http.ResponseWriter, r *http.Request)) *receiver {
	t.Helper()
	rc := &receiver{ch: make(chan received, 1024)}
	var mu sync.Mutex
	n := 0
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		n++
		i := n
		mu.Unlock()
		rc.ch <- received{At: time.Now(), RequestURI: r.RequestURI, Header: r.Header.Clone(), Body: body}
		if respond != nil {
			respond(i, w, r)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(rc.Server.Close)
	return rc
}

// next waits for the next request, failing the test after a deadline.
func (rc *receiver) next(t *testing.T) received {
	t.Helper()
	select {
	case r := <-rc.ch:
		return r
	case <-time.After(15 * time.Second):
		t.Fatal("timed out waiting for a delivery")
		return received{}
	}
}

// none asserts that nothing arrived so far (call it after a later event was
// seen elsewhere, never as a wait).
func (rc *receiver) none(t *testing.T) {
	t.Helper()
	select {
	case r := <-rc.ch:
		t.Fatalf("unexpected delivery: %s", r.Body)
	default:
	}
}

// waitWebhook polls GET /v1/webhooks/{id} until cond holds for it, and
// returns what it read last.
func (b *testBundle) waitWebhook(t *testing.T, id, what string, cond func(subscription) bool) subscription {
	t.Helper()
	var detail subscription
	eventually(t, func() bool {
		detail = subscription{}
		b.call(t, http.MethodGet, "/v1/webhooks/"+id, "", nil, &detail)
		return cond(detail)
	}, what)
	return detail
}

// waitAttempts waits until n attempts of a subscription are recorded.
func (b *testBundle) waitAttempts(t *testing.T, id string, n int) subscription {
	t.Helper()
	return b.waitWebhook(t, id, fmt.Sprintf("%d attempts recorded", n), func(s subscription) bool { return len(s.Attempts) == n })
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, cond func() bool, msg string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition never held: " + msg)
		}
		time.Sleep(5 * time.Millisecond) // polling a condition, not waiting for work blindly
	}
}
