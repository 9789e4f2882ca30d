package main_test

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd/internal/store/storetest"
)

// TestClusterSurvivesSIGKILL runs three nodes — separate processes of the
// real binary — on one PostgreSQL schema, publishes 10,000 events through
// all three to 20 subscribers, SIGKILLs one node in the middle, and checks
// that every (event, subscriber) pair is delivered at least once.
func TestClusterSurvivesSIGKILL(t *testing.T) {
	t.Parallel()
	dbURL := storetest.PostgresURL(t)
	if testing.Short() {
		t.Skip("the cluster test publishes 10,000 events; skipped in -short mode")
	}
	const (
		events      = 10_000
		subscribers = 20
		perRequest  = 100
	)
	// A plain build: the race detector would slow three nodes tenfold and
	// this test is about the cluster, not data races (those run in-process).
	bin := filepath.Join(t.TempDir(), "triggerd")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, string(out))

	var (
		mu        sync.Mutex
		delivered = map[string]map[int]int{} // webhook-id → subscriber → count
		total     atomic.Int64
	)
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var sub int
		_, _ = fmt.Sscanf(r.URL.Path, "/hook/%d", &sub)
		id := r.Header.Get("webhook-id")
		mu.Lock()
		if delivered[id] == nil {
			delivered[id] = map[int]int{}
		}
		delivered[id][sub]++
		mu.Unlock()
		total.Add(1)
		w.WriteHeader(http.StatusAccepted)
	}))
	defer rc.Close()

	args := []string{"--db", dbURL, "--delivery-timeout", "5s", "--workers", "100"}
	// The first node migrates; the others find the schema in place.
	nodes := []*server{startServerBin(t, bin, args...)}
	for range 2 {
		nodes = append(nodes, startServerBin(t, bin, args...))
	}
	key := strings.TrimSpace(runBin(t, bin, "keys", "create", "--tenant", "acme", "--db", dbURL))
	for i := range subscribers {
		resp, raw := post(t, "http://"+nodes[i%3].addr+"/v1/webhooks/order.created", key,
			map[string]string{"callbackUrl": fmt.Sprintf("%s/hook/%d", rc.URL, i)})
		require.Equal(t, http.StatusCreated, resp.StatusCode, string(raw))
	}

	accepted := make([]string, 0, events)
	killed := false
	start := time.Now()
	for i := 0; i < events/perRequest; i++ {
		batch := make([]map[string]any, perRequest)
		for j := range batch {
			n := i*perRequest + j
			// An id of the publisher's own, so a request sent again after
			// a 503 cannot store its events twice.
			batch[j] = map[string]any{"type": "order.created", "id": fmt.Sprint("order-", n),
				"data": map[string]any{"id": n, "order_key": fmt.Sprint("k", n), "status": "new"}}
		}
		// Round-robin over the nodes still alive, as a load balancer would,
		// and a 503 (a node whose database work outlasted its bound, which
		// a machine running every other suite at once can cause) goes to
		// the next node, as a load balancer's retry would.
		alive := nodes
		if killed {
			alive = nodes[1:]
		}
		var (
			resp *http.Response
			raw  []byte
		)
		for try := 0; ; try++ {
			resp, raw = post(t, "http://"+alive[(i+try)%len(alive)].addr+"/v1/events", key, batch)
			if resp.StatusCode != http.StatusServiceUnavailable || try == 4 {
				break
			}
			t.Logf("request %d answered 503 (%s); sent to the next node", i, raw)
		}
		require.Equal(t, http.StatusAccepted, resp.StatusCode, string(raw))
		var res struct{ Events []struct{ ID string } }
		require.NoError(t, json.Unmarshal(raw, &res))
		for _, e := range res.Events {
			accepted = append(accepted, e.ID)
		}
		if !killed && i == events/perRequest/2 {
			// Mid-flight: deliveries are running on every node.
			require.NoError(t, nodes[0].cmd.Process.Signal(syscall.SIGKILL))
			_, _ = nodes[0].cmd.Process.Wait()
			killed = true
		}
	}
	published := time.Since(start)

	want := int64(events * subscribers)
	deadline := time.Now().Add(5 * time.Minute)
	for total.Load() < want || missing(&mu, delivered, accepted, subscribers) > 0 {
		require.True(t, time.Now().Before(deadline), "after 5 minutes %d (event, subscriber) pairs were still missing",
			missing(&mu, delivered, accepted, subscribers))
		time.Sleep(100 * time.Millisecond) // polling a condition
	}
	took := time.Since(start)

	mu.Lock()
	duplicates := 0
	for _, subs := range delivered {
		for _, n := range subs {
			duplicates += n - 1
		}
	}
	mu.Unlock()

	db, err := sql.Open("pgx", dbURL)
	require.NoError(t, err)
	defer db.Close()
	// Each node makes the first attempts of the events it accepted (the
	// fast path), so the load balancer's round-robin spreads the work; the
	// River jobs worked here are the dead node's safety nets, taken over by
	// the survivors, and any retries.
	var workers int
	require.NoError(t, db.QueryRow(`SELECT COUNT(DISTINCT attempted_by[array_length(attempted_by, 1)]) FROM river_job WHERE kind = 'triggerd.deliver'`).Scan(&workers))
	t.Logf("%d events × %d subscribers = %d pairs all delivered across 3 nodes (one SIGKILLed mid-run); "+
		"%d duplicate deliveries; published in %s, all delivered after %s; %d nodes worked queued deliveries",
		events, subscribers, want, duplicates, published.Round(time.Millisecond), took.Round(time.Millisecond), workers)
}

func missing(mu *sync.Mutex, delivered map[string]map[int]int, accepted []string, subscribers int) int {
	mu.Lock()
	defer mu.Unlock()
	n := 0
	for _, id := range accepted {
		n += subscribers - len(delivered[id])
	}
	return n
}
