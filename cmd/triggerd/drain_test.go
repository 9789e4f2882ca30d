package main_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd"
)

// drainReceiver fails every event's first attempt with 503, so its
// deliveries become queued retries, and holds every retry until retries
// is closed (or answers it after slow). It counts deliveries per webhook-id.
type drainReceiver struct {
	*httptest.Server
	mu       sync.Mutex
	seen     map[string]int
	got      map[string]int
	inRetry  chan struct{}
	release  chan struct{}
	finished atomic.Bool
}

func newDrainReceiver(t *testing.T) *drainReceiver {
	t.Helper()
	d := &drainReceiver{seen: map[string]int{}, got: map[string]int{}, inRetry: make(chan struct{}, 1000), release: make(chan struct{})}
	d.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("webhook-id")
		d.mu.Lock()
		d.seen[id]++
		first := d.seen[id] == 1
		d.mu.Unlock()
		if first && !d.finished.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		d.inRetry <- struct{}{}
		select {
		case <-d.release:
		case <-r.Context().Done():
			return
		}
		d.mu.Lock()
		d.got[id]++
		d.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(d.Server.Close)
	return d
}

func (d *drainReceiver) delivered() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.got)
}

// failedAttempts counts attempts recorded as anything but delivered or a
// scheduled retry, and attempts whose error mentions the shutdown.
func failedAttempts(t *testing.T, db string) (failed, shutdown int) {
	t.Helper()
	conn, err := triggerd.OpenSQLite(db)
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.QueryRow(`SELECT count(*) FROM triggerd_attempt WHERE outcome NOT IN ('delivered', 'retry')`).Scan(&failed))
	require.NoError(t, conn.QueryRow(`SELECT count(*) FROM triggerd_attempt WHERE error LIKE '%signal%' OR error LIKE '%cancel%' OR error LIKE '%shut%'`).Scan(&shutdown))
	return failed, shutdown
}

func publishN(t *testing.T, addr, key string, n int) {
	t.Helper()
	for i := range n {
		body := map[string]any{"type": "order.created", "data": map[string]any{"id": i, "order_key": fmt.Sprint("k", i), "status": "new"}}
		resp, raw := post(t, "http://"+addr+"/v1/events", key, body)
		require.Equal(t, http.StatusAccepted, resp.StatusCode, string(raw))
	}
}

// TestSIGTERMDrainsRetriesInFlight: SIGTERM while queued retries are in
// flight lets them finish, records no failed attempt, answers new requests
// 503 meanwhile, and exits 0.
func TestSIGTERMDrainsRetriesInFlight(t *testing.T) {
	t.Parallel()
	const events = 10
	db := filepath.Join(t.TempDir(), "triggerd.db")
	rc := newDrainReceiver(t)
	args := []string{"--db", db, "--retry-schedule", "50ms,50ms", "--shutdown-timeout", "60s", "--log-level", "info"}
	srv := startServer(t, args...)
	key := strings.TrimSpace(run(t, "keys", "create", "--tenant", "acme", "--db", db))
	resp, raw := post(t, "http://"+srv.addr+"/v1/webhooks/order.created", key, map[string]string{"callbackUrl": rc.URL + "/hook"})
	require.Equal(t, http.StatusCreated, resp.StatusCode, string(raw))
	publishN(t, srv.addr, key, events)

	<-rc.inRetry // a retry is in flight now
	require.NoError(t, srv.cmd.Process.Signal(syscall.SIGTERM))
	// While it drains, a new request is turned away with Retry-After.
	require.Eventually(t, func() bool {
		resp, err := http.Get("http://" + srv.addr + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") != ""
	}, 10*time.Second, 10*time.Millisecond, "draining triggerd answers 503 with Retry-After")
	close(rc.release)
	require.NoError(t, srv.cmd.Wait(), "a completed drain exits 0: %s", srv.logs)
	require.Contains(t, srv.logs.String(), "drained")

	failed, shutdown := failedAttempts(t, db)
	require.Zero(t, failed, "no attempt recorded as failed")
	require.Zero(t, shutdown, "no attempt recorded the shutdown as its error")

	// After the restart, every event reaches the receiver.
	startServer(t, args...)
	require.Eventually(t, func() bool { return rc.delivered() == events }, 60*time.Second, 20*time.Millisecond)
}

// TestSIGTERMAbandonsAttemptsAtTheDeadline: attempts still running when
// --shutdown-timeout ends are abandoned without a record and without using
// a retry step; after the restart every event arrives.
func TestSIGTERMAbandonsAttemptsAtTheDeadline(t *testing.T) {
	t.Parallel()
	const events = 10
	db := filepath.Join(t.TempDir(), "triggerd.db")
	rc := newDrainReceiver(t)
	args := []string{"--db", db, "--retry-schedule", "50ms,50ms", "--shutdown-timeout", "300ms"}
	srv := startServer(t, args...)
	key := strings.TrimSpace(run(t, "keys", "create", "--tenant", "acme", "--db", db))
	resp, raw := post(t, "http://"+srv.addr+"/v1/webhooks/order.created", key, map[string]string{"callbackUrl": rc.URL + "/hook"})
	require.Equal(t, http.StatusCreated, resp.StatusCode, string(raw))
	var sub struct{ ID string }
	require.NoError(t, json.Unmarshal(raw, &sub))
	publishN(t, srv.addr, key, events)

	<-rc.inRetry
	require.NoError(t, srv.cmd.Process.Signal(syscall.SIGTERM))
	err := srv.cmd.Wait()
	require.Error(t, err, "a drain cut off by the deadline does not exit 0")
	require.Contains(t, srv.logs.String(), "shutdown-timeout")

	failed, shutdown := failedAttempts(t, db)
	require.Zero(t, failed, "no attempt recorded as failed")
	require.Zero(t, shutdown, "the abandoned attempts were not recorded")

	rc.finished.Store(true)
	close(rc.release)
	startServer(t, args...)
	require.Eventually(t, func() bool { return rc.delivered() == events }, 60*time.Second, 20*time.Millisecond)
	failed, _ = failedAttempts(t, db)
	require.Zero(t, failed)
}
