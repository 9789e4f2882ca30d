package main_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
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
)

// TestGroupCommitCrashLosesNothing publishes one event per request from
// many publishers at once, so the server commits them in groups, kills it
// with SIGKILL in the middle, restarts it on the same file and checks that
// every event answered 202 is delivered: a group's callers are answered
// only after its commit.
func TestGroupCommitCrashLosesNothing(t *testing.T) {
	t.Parallel()
	const (
		publishers = 32
		killAfter  = 300 // accepted events before the SIGKILL
	)
	db := filepath.Join(t.TempDir(), "triggerd.db")
	var (
		mu  sync.Mutex
		got = map[string]int{}
	)
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got[r.Header.Get("webhook-id")]++
		mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	defer rc.Close()

	args := []string{"--db", db}
	first := startServer(t, args...)
	key := strings.TrimSpace(run(t, "keys", "create", "--tenant", "acme", "--db", db))
	resp, raw := post(t, "http://"+first.addr+"/v1/webhooks/order.created", key, map[string]string{"callbackUrl": rc.URL + "/hook"})
	require.Equal(t, http.StatusCreated, resp.StatusCode, string(raw))

	var (
		accepted   sync.Map // event id → true, for every 202
		nAccepted  atomic.Int64
		n          atomic.Int64
		wg         sync.WaitGroup
		unexpected = make(chan string, publishers)
	)
	client := &http.Client{Timeout: 30 * time.Second}
	for range publishers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := n.Add(1)
				body := fmt.Sprintf(`{"type":"order.created","data":{"id":%d,"order_key":"k%d","status":"new"}}`, i, i)
				req, err := http.NewRequest(http.MethodPost, "http://"+first.addr+"/v1/events", bytes.NewReader([]byte(body)))
				if err != nil {
					unexpected <- err.Error()
					return
				}
				req.Header.Set("X-API-Key", key)
				resp, err := client.Do(req)
				if err != nil {
					return // the server is dead: this request was never answered 202
				}
				raw, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil {
					return
				}
				if resp.StatusCode != http.StatusAccepted {
					unexpected <- fmt.Sprintf("%d %s", resp.StatusCode, raw)
					return
				}
				var res struct{ Events []struct{ ID string } }
				if err := json.Unmarshal(raw, &res); err != nil || len(res.Events) != 1 {
					unexpected <- fmt.Sprintf("unreadable 202 body %q: %v", raw, err)
					return
				}
				accepted.Store(res.Events[0].ID, true)
				nAccepted.Add(1)
			}
		}()
	}
	require.Eventually(t, func() bool { return nAccepted.Load() >= killAfter }, 60*time.Second, 5*time.Millisecond)
	require.NoError(t, first.cmd.Process.Signal(syscall.SIGKILL))
	_, _ = first.cmd.Process.Wait()
	wg.Wait()
	close(unexpected)
	for msg := range unexpected {
		require.Fail(t, "publish answered other than 202 before the crash", msg)
	}

	var want []string
	accepted.Range(func(k, _ any) bool { want = append(want, k.(string)); return true })
	startServer(t, args...)
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, id := range want {
			if got[id] == 0 {
				return false
			}
		}
		return true
	}, 60*time.Second, 20*time.Millisecond, "events answered 202 were lost in the crash")
	t.Logf("%d events answered 202 of %d sent before SIGKILL, all delivered after the restart", len(want), n.Load())
}
