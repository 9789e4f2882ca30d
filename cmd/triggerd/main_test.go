package main_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// binary is the triggerd command built once for every test in this package:
// these tests run the real process, so a crash is a real SIGKILL.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "triggerd-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "triggerd")
	build := exec.Command("go", "build", "-race", "-o", binary, ".")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		// -race needs cgo; fall back to a plain build where it is missing.
		build = exec.Command("go", "build", "-o", binary, ".")
		build.Stdout, build.Stderr = os.Stdout, os.Stderr
		if err := build.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "build triggerd:", err)
			os.Exit(1)
		}
	}
	// serve on PostgreSQL requires a keyring; the processes of every test
	// share one (on SQLite it replaces the key file beside each database).
	if os.Getenv("TRIGGERD_ENCRYPTION_KEY") == "" {
		os.Setenv("TRIGGERD_ENCRYPTION_KEY", "dHJpZ2dlcmQgdGVzdCBrZXkgLSBub3QgYSBzZWNyZXQ=")
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// server is a running `triggerd serve` process.
type server struct {
	cmd  *exec.Cmd
	addr string
	logs *bytes.Buffer
}

func startServer(t *testing.T, args ...string) *server {
	t.Helper()
	return startServerBin(t, binary, args...)
}

func startServerBin(t *testing.T, bin string, args ...string) *server {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0", "--allow-private-callbacks", "--log-level", "warn"}, args...)...)
	cmd.Env = append(os.Environ(), "TRIGGERD_PUBLIC_URL=")
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	logs := &bytes.Buffer{}
	cmd.Stderr = &lockedWriter{w: logs}
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("server logs:\n%s", logs.String())
		}
	})
	lines := bufio.NewScanner(stdout)
	addrc := make(chan string, 1)
	go func() {
		for lines.Scan() {
			if a, ok := strings.CutPrefix(lines.Text(), "listening on "); ok {
				addrc <- a
			}
		}
	}()
	select {
	case a := <-addrc:
		return &server{cmd: cmd, addr: a, logs: logs}
	case <-time.After(30 * time.Second):
		t.Fatalf("triggerd did not start: %s", logs.String())
		return nil
	}
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func run(t *testing.T, args ...string) string {
	t.Helper()
	return runBin(t, binary, args...)
}

func runBin(t *testing.T, bin string, args ...string) string {
	t.Helper()
	out, err := exec.Command(bin, args...).Output()
	if ee, ok := err.(*exec.ExitError); ok {
		t.Fatalf("triggerd %v: %v\n%s", args, err, ee.Stderr)
	}
	require.NoError(t, err)
	return string(out)
}

func post(t *testing.T, url, key string, body any) (*http.Response, []byte) {
	t.Helper()
	buf, err := json.Marshal(body)
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(buf))
	require.NoError(t, err)
	req.Header.Set("X-API-Key", key)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, raw
}

// TestCrashLosesNothing kills the server with SIGKILL while deliveries are in
// flight, restarts it on the same database file, and checks that every
// accepted event reaches the subscriber.
func TestCrashLosesNothing(t *testing.T) {
	t.Parallel()
	const events = 60
	db := filepath.Join(t.TempDir(), "triggerd.db")

	var (
		healthy  atomic.Bool
		inFlight = make(chan struct{}, events)
		release  = make(chan struct{})
		mu       sync.Mutex
		got      = map[string]int{}
	)
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !healthy.Load() {
			inFlight <- struct{}{}
			<-release // hang until the server that sent this is dead
			return
		}
		mu.Lock()
		got[r.Header.Get("webhook-id")]++
		mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	defer rc.Close()
	defer close(release)

	// A long delivery timeout puts the in-flight deliveries' safety nets
	// 75 s ahead, past this test's 60 s deadline: only the restart's reclaim
	// of a dead process's work can make them arrive in time.
	args := []string{"--db", db, "--delivery-timeout", "60s"}
	first := startServer(t, args...)
	key := strings.TrimSpace(run(t, "keys", "create", "--tenant", "acme", "--db", db))
	require.True(t, strings.HasPrefix(key, "tdk_"), key)

	resp, raw := post(t, "http://"+first.addr+"/v1/webhooks/order.created", key, map[string]string{"callbackUrl": rc.URL + "/hook"})
	require.Equal(t, http.StatusCreated, resp.StatusCode, string(raw))

	accepted := map[string]bool{}
	for i := range events / 10 {
		batch := make([]map[string]any, 10)
		for j := range batch {
			n := i*10 + j
			batch[j] = map[string]any{"type": "order.created", "data": map[string]any{"id": n, "order_key": fmt.Sprint("k", n), "status": "new"}}
		}
		resp, raw := post(t, "http://"+first.addr+"/v1/events", key, batch)
		require.Equal(t, http.StatusAccepted, resp.StatusCode, string(raw))
		var res struct{ Events []struct{ ID string } }
		require.NoError(t, json.Unmarshal(raw, &res))
		for _, e := range res.Events {
			accepted[e.ID] = true
		}
	}
	require.Len(t, accepted, events)

	<-inFlight // at least one delivery is in flight right now
	require.NoError(t, first.cmd.Process.Signal(syscall.SIGKILL))
	_, _ = first.cmd.Process.Wait()
	healthy.Store(true)

	startServer(t, args...)
	deadline := time.Now().Add(60 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n == events {
			break
		}
		require.True(t, time.Now().Before(deadline), "only %d of %d events delivered after the restart", n, events)
		time.Sleep(20 * time.Millisecond) // polling a condition
	}
	mu.Lock()
	defer mu.Unlock()
	duplicates := 0
	for id, n := range got {
		require.True(t, accepted[id], "unexpected webhook-id %s", id)
		duplicates += n - 1
	}
	t.Logf("all %d events delivered after SIGKILL; %d duplicate deliveries", events, duplicates)
}

func TestSecondProcessOnSameDatabaseRefused(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "triggerd.db")
	startServer(t, "--db", db)
	out, err := exec.Command(binary, "serve", "--addr", "127.0.0.1:0", "--db", db).CombinedOutput()
	require.Error(t, err)
	require.Contains(t, string(out), "another triggerd process is already delivering")
}

func TestMigrateCommand(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "triggerd.db")
	require.Contains(t, run(t, "migrate", "--db", db), "current schema")
	require.Contains(t, run(t, "migrate", "--db", db), "current schema", "migrating again is a no-op")
}

func TestHelp(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"--help"}, {"serve", "--help"}, {"keys", "create", "--help"}, {"publish", "--help"}} {
		out := run(t, args...)
		require.Contains(t, out, "Usage: triggerd", args)
	}
	out := run(t, "serve", "--help")
	for _, flag := range []string{"--addr", "--db", "--catalog", "--public-url", "--allow-private-callbacks", "TRIGGERD_ADDR", "TRIGGERD_DB", "TRIGGERD_CATALOG", "TRIGGERD_PUBLIC_URL", "TRIGGERD_ALLOW_PRIVATE_CALLBACKS"} {
		require.Contains(t, out, flag)
	}
}

func TestPublishCommand(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "triggerd.db")
	srv := startServer(t, "--db", db)
	key := strings.TrimSpace(run(t, "keys", "create", "--tenant", "acme", "--db", db))
	dataFile := filepath.Join(t.TempDir(), "order.json")
	require.NoError(t, os.WriteFile(dataFile, []byte(`{"id":7,"order_key":"k7","status":"new"}`), 0o600))
	out := run(t, "publish", "--url", "http://"+srv.addr, "--api-key", key, "--type", "order.created", "--data", "@"+dataFile, "--id", "o-7")
	require.Contains(t, out, `"duplicate":false`)
	out = run(t, "publish", "--url", "http://"+srv.addr, "--api-key", key, "--type", "order.created", "--data", "@"+dataFile, "--id", "o-7")
	require.Contains(t, out, `"duplicate":true`)

	cmd := exec.Command(binary, "publish", "--url", "http://"+srv.addr, "--api-key", key, "--type", "order.created", "--data", `{"id":"seven"}`)
	outb, err := cmd.CombinedOutput()
	require.Error(t, err)
	require.Contains(t, string(outb), "422")
}
