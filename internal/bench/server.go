package bench

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"time"
)

const (
	// serverStartTimeout bounds how long triggerd serve may take to print
	// its addresses.
	serverStartTimeout = 30 * time.Second

	// serverStopTimeout is how long the server gets to drain after SIGINT
	// before it is killed.
	serverStopTimeout = 30 * time.Second

	// logTailBytes is how much of the server's log is kept to explain a
	// failure.
	logTailBytes = 16 << 10
)

// server is a `triggerd serve` child process.
type server struct {
	cmd       *exec.Cmd
	addr      string // API, host:port
	debugAddr string // pprof and expvar, host:port
	logs      *tail
	exited    chan struct{}
	waitErr   error
}

// startServer runs `<exe> serve` on loopback ports chosen by the kernel and
// waits until it prints its API address (stdout: "listening on ADDR") and its
// debug address (stderr log line: msg="debug endpoints" addr=ADDR).
func startServer(ctx context.Context, exe, db string, extra []string) (*server, error) {
	args := append([]string{"serve",
		"--addr", "127.0.0.1:0",
		"--db", db,
		"--allow-private-callbacks",
		"--debug-addr", "127.0.0.1:0",
		"--log-level", "info", // the debug address is an info line
	}, extra...)
	if databaseKind(db) == "postgres" && !slices.ContainsFunc(extra, func(a string) bool { return strings.HasPrefix(a, "--encryption-key") }) {
		// PostgreSQL needs an encryption key; a run's data is thrown away
		// with it, so a key of the run's own does.
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("bench: encryption key: %w", err)
		}
		args = append(args, "--encryption-key="+base64.StdEncoding.EncodeToString(key))
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = serverEnv()
	cmd.SysProcAttr = childProcAttr()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("bench: start triggerd serve: %w", err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, fmt.Errorf("bench: start triggerd serve: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("bench: start triggerd serve: %w", err)
	}
	s := &server{cmd: cmd, logs: &tail{max: logTailBytes}, exited: make(chan struct{})}
	addrc := make(chan string, 1)
	debugc := make(chan string, 1)
	var pipes sync.WaitGroup
	pipes.Add(2)
	go func() {
		defer pipes.Done()
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "listening on "); ok {
				select {
				case addrc <- a:
				default:
				}
			}
		}
	}()
	go func() {
		defer pipes.Done()
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			s.logs.WriteLine(line)
			if strings.Contains(line, `msg="debug endpoints"`) {
				if _, a, ok := strings.Cut(line, " addr="); ok {
					a, _, _ = strings.Cut(a, " ")
					select {
					case debugc <- a:
					default:
					}
				}
			}
		}
	}()
	go func() {
		pipes.Wait() // Wait closes the pipes: read them to the end first
		s.waitErr = cmd.Wait()
		close(s.exited)
	}()

	timer := time.NewTimer(serverStartTimeout)
	defer timer.Stop()
	for s.addr == "" || s.debugAddr == "" {
		select {
		case s.addr = <-addrc:
		case s.debugAddr = <-debugc:
		case <-s.exited:
			return nil, fmt.Errorf("bench: triggerd serve exited at start (%v):\n%s", s.waitErr, s.logs)
		case <-timer.C:
			s.kill()
			return nil, fmt.Errorf("bench: triggerd serve printed no addresses within %s:\n%s", serverStartTimeout, s.logs)
		case <-ctx.Done():
			s.kill()
			return nil, ctx.Err()
		}
	}
	return s, nil
}

// serverEnv is the environment without TRIGGERD_* settings, so the server
// under test is configured by the bench's flags alone.
func serverEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TRIGGERD_") {
			env = append(env, kv)
		}
	}
	return env
}

func (s *server) pid() int { return s.cmd.Process.Pid }

// stop interrupts the server and waits for it to drain; it is killed if it
// takes longer than serverStopTimeout.
func (s *server) stop() error {
	select {
	case <-s.exited:
		return fmt.Errorf("bench: triggerd serve exited early (%v):\n%s", s.waitErr, s.logs)
	default:
	}
	_ = s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.exited:
		if s.waitErr != nil {
			return fmt.Errorf("bench: triggerd serve did not stop cleanly (%v):\n%s", s.waitErr, s.logs)
		}
		return nil
	case <-time.After(serverStopTimeout):
		s.kill()
		return fmt.Errorf("bench: triggerd serve did not stop within %s and was killed", serverStopTimeout)
	}
}

func (s *server) kill() {
	_ = s.cmd.Process.Kill()
	<-s.exited
}

// createKey runs `<exe> keys create` for a tenant and returns the key.
func createKey(ctx context.Context, exe, db, tenant string) (string, error) {
	cmd := exec.CommandContext(ctx, exe, "keys", "create", "--tenant", tenant, "--db", db)
	cmd.Env = serverEnv()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("bench: triggerd keys create --db %s: %w: %s", db, err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}

// tail keeps the last max bytes of the lines written to it.
type tail struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tail) WriteLine(line string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(append(t.buf, line...), '\n')
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = t.buf[over:]
	}
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

// api is a client of the server's HTTP API.
type api struct {
	base   string
	client *http.Client
}

func newAPI(addr string) *api {
	return &api{
		base: "http://" + addr,
		client: &http.Client{
			Timeout:   60 * time.Second,
			Transport: &http.Transport{Proxy: nil, MaxIdleConns: 256, MaxIdleConnsPerHost: 256, IdleConnTimeout: time.Minute},
		},
	}
}

// register subscribes callbackURL to a trigger and returns the
// subscription's id.
func (a *api) register(ctx context.Context, key, trigger, callbackURL string) (string, error) {
	body, _ := json.Marshal(map[string]string{"callbackUrl": callbackURL})
	var sub struct {
		ID string `json:"id"`
	}
	if err := a.do(ctx, key, "/v1/webhooks/"+trigger, body, http.StatusCreated, &sub); err != nil {
		return "", fmt.Errorf("bench: register %s: %w", callbackURL, err)
	}
	return sub.ID, nil
}

// published is one event of a POST /v1/events answer.
type published struct {
	ID         string `json:"id"`
	Deliveries int    `json:"deliveries"`
}

// publish posts a request body of events and returns what triggerd
// accepted, checking that each event was scheduled for fanOut subscriptions.
func (a *api) publish(ctx context.Context, key string, body []byte, events, fanOut int) ([]published, error) {
	var res struct {
		Events []published `json:"events"`
	}
	if err := a.do(ctx, key, "/v1/events", body, http.StatusAccepted, &res); err != nil {
		return nil, fmt.Errorf("bench: publish: %w", err)
	}
	if len(res.Events) != events {
		return nil, fmt.Errorf("bench: publish: triggerd accepted %d events of %d", len(res.Events), events)
	}
	for _, e := range res.Events {
		if e.Deliveries != fanOut {
			return nil, fmt.Errorf("bench: publish: event %s was scheduled for %d subscriptions, not %d", e.ID, e.Deliveries, fanOut)
		}
	}
	return res.Events, nil
}

func (a *api) do(ctx context.Context, key, path string, body []byte, want int, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-API-Key", key)
	resp, err := a.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("read answer: %w", err)
	}
	if resp.StatusCode != want {
		return fmt.Errorf("triggerd answered %s: %s", resp.Status, bytes.TrimSpace(raw))
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("decode answer: %w", err)
	}
	return nil
}
