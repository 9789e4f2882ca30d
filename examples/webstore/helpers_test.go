package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd"
	"github.com/triggerd/triggerd/internal/store/storetest"
)

// waitFor bounds every wait for a delivery; a passing test never reaches it.
const waitFor = 15 * time.Second

// testShop is the web store serving on a loopback port, on a fresh SQLite
// file, the way main runs it.
type testShop struct {
	s    *shop
	db   *sql.DB
	url  string
	logs *logBuffer
}

// backendSQLite is the backend of the tests that need only one.
const backendSQLite = storetest.SQLite

// backends runs test once on SQLite and once on PostgreSQL, the latter
// skipped unless storetest.PostgresURLEnv is set.
func backends(t *testing.T, test func(t *testing.T, backend storetest.Backend)) {
	t.Helper()
	storetest.Backends(t, test)
}

// databaseURL is a fresh database of the backend, as the web store's --db
// flag takes it: a SQLite file in a temporary directory, or a new schema of
// the PostgreSQL test database, dropped when the test ends.
func databaseURL(t *testing.T, backend storetest.Backend) string {
	t.Helper()
	return backend.DSN(t)
}

func startShop(t *testing.T, backend storetest.Backend) *testShop {
	t.Helper()
	ctx := context.Background()
	db, dialect, err := openDatabase(ctx, databaseURL(t, backend))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	logs := &logBuffer{}
	s, err := newShop(ctx, db, dialect, triggerd.Config{
		PublicURL:             "http://" + ln.Addr().String(),
		AllowPrivateCallbacks: true, // the receivers listen on 127.0.0.1
		PollInterval:          10 * time.Millisecond,
		Logger:                slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	require.NoError(t, err)

	sctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	ready := &bannerWriter{printed: make(chan struct{})}
	go func() { done <- s.serve(sctx, ln, ready, "test.db") }()
	// serve prints its banner once deliveries have started and the server
	// is up; a test that ended before that would cancel the start itself.
	select {
	case <-ready.printed:
	case err := <-done:
		t.Fatalf("serve: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
		if t.Failed() {
			t.Logf("logs:\n%s", logs.String())
		}
	})
	return &testShop{s: s, db: db, url: "http://" + ln.Addr().String(), logs: logs}
}

// bannerWriter closes printed when serve writes its banner.
type bannerWriter struct {
	once    sync.Once
	printed chan struct{}
}

func (w *bannerWriter) Write(p []byte) (int, error) {
	w.once.Do(func() { close(w.printed) })
	return len(p), nil
}

// key creates an API key for a tenant.
func (ts *testShop) key(t *testing.T, tenant string) string {
	t.Helper()
	key, err := ts.s.pub.CreateAPIKey(context.Background(), tenant)
	require.NoError(t, err)
	return key
}

// call sends a request with an API key (none if key is "") and returns the
// response and its body; a body that is not a string or []byte is sent as
// JSON.
func call(t *testing.T, method, url, key string, body any) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	switch v := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(v)
	case []byte:
		rd = bytes.NewReader(v)
	default:
		b, err := json.Marshal(v)
		require.NoError(t, err)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	require.NoError(t, err)
	if key != "" {
		req.Header.Set(triggerd.APIKeyHeader, key)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, raw
}

// callJSON is call that requires status and decodes the body into out.
func callJSON(t *testing.T, method, url, key string, body any, status int, out any) *http.Response {
	t.Helper()
	resp, raw := call(t, method, url, key, body)
	require.Equal(t, status, resp.StatusCode, "%s %s: %s", method, url, raw)
	if out != nil {
		require.NoError(t, json.Unmarshal(raw, out), string(raw))
	}
	return resp
}

// errorBody is triggerd's error shape.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// newOrder is a valid POST /v1/orders body; key "" lets the store make one.
func newOrder(key string) map[string]any {
	o := map[string]any{
		"currency": "EUR",
		"customer": map[string]any{"name": "Ana Lima", "email": "ana@example.com"},
		"line_items": []any{
			map[string]any{"sku": "MUG-1", "name": "Mug", "quantity": 2, "price": 12.5},
			map[string]any{"sku": "TEA-7", "name": "Green tea", "quantity": 1, "price": 7.25},
		},
	}
	if key != "" {
		o["order_key"] = key
	}
	return o
}

// subscribe registers a webhook for trigger as the platform does when a
// flow is saved, with filter fields, and returns its Location.
func (ts *testShop) subscribe(t *testing.T, key, trigger, callbackURL string, filters map[string]string) string {
	t.Helper()
	body := map[string]any{"callbackUrl": callbackURL}
	for k, v := range filters {
		body[k] = v
	}
	resp := callJSON(t, http.MethodPost, ts.url+"/v1/webhooks/"+trigger, key, body, http.StatusCreated, nil)
	loc := resp.Header.Get("Location")
	require.True(t, strings.HasPrefix(loc, ts.url+"/v1/webhooks/"), loc)
	return loc
}

// receiver is a loopback stand-in for a flow's callback: it answers 202
// and hands every notification body to the test.
type receiver struct {
	url    string
	bodies chan []byte
}

func newReceiver(t *testing.T) *receiver {
	t.Helper()
	rv := &receiver{bodies: make(chan []byte, 100)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		rv.bodies <- b
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(srv.Close)
	rv.url = srv.URL + "/flows/callback?sig=abc"
	return rv
}

// next waits for the next notification and decodes it.
func (rv *receiver) next(t *testing.T) map[string]any {
	t.Helper()
	select {
	case b := <-rv.bodies:
		var m map[string]any
		require.NoError(t, json.Unmarshal(b, &m), string(b))
		return m
	case <-time.After(waitFor):
		t.Fatalf("no notification within %s", waitFor)
		return nil
	}
}

// requireNone asserts that no notification has arrived so far.
func (rv *receiver) requireNone(t *testing.T) {
	t.Helper()
	select {
	case b := <-rv.bodies:
		t.Fatalf("unexpected notification: %s", b)
	default:
	}
}

// logBuffer collects the JSON log lines of the shop and of its triggerd.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// published returns the "published" records: one per event the shop
// published, with the number of subscriptions it was scheduled for.
func (l *logBuffer) published(t *testing.T) []publishedRecord {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []publishedRecord
	sc := bufio.NewScanner(bytes.NewReader(l.buf.Bytes()))
	for sc.Scan() {
		var r publishedRecord
		require.NoError(t, json.Unmarshal(sc.Bytes(), &r), sc.Text())
		if r.Msg == "published" {
			out = append(out, r)
		}
	}
	return out
}

type publishedRecord struct {
	Msg            string `json:"msg"`
	Tenant         string `json:"tenant"`
	Type           string `json:"type"`
	IdempotencyKey string `json:"idempotency_key"`
	Deliveries     int    `json:"deliveries"`
}
