package flow_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd/internal/flow"
)

// connector returns the path of a real connector definition in shared/,
// which sits beside the repository (<repo root>/../shared).
func connector(t *testing.T, name string) string {
	t.Helper()
	p := filepath.Join("..", "..", "..", "shared", "powerplatform", "connectors", name+"-apiDefinition.swagger.json")
	if _, err := os.Stat(p); err != nil {
		t.Skipf("shared/ is not beside the repository, so the real connector definitions are missing: %v", err)
	}
	return p
}

// capture is one request a fake backend received.
type capture struct {
	Method   string
	Path     string
	RawQuery string
	Header   http.Header
	Body     []byte
}

func (c capture) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(c.Body, &m), "body: %s", c.Body)
	return m
}

// backend is a fake publisher on 127.0.0.1 that records every request before
// the routes answer it.
type backend struct {
	*httptest.Server
	mu  sync.Mutex
	got []capture
}

func newBackend(t *testing.T, mux *http.ServeMux) *backend {
	t.Helper()
	b := &backend{}
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		b.mu.Lock()
		b.got = append(b.got, capture{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Header: r.Header.Clone(), Body: body})
		b.mu.Unlock()
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(b.Close)
	return b
}

// requests returns the recorded requests with this method.
func (b *backend) requests(method string) []capture {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []capture
	for _, c := range b.got {
		if c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

// notifier plays the publisher's delivery engine: it POSTs bodies to a
// callback URL in order, in the background, and remembers the statuses.
type notifier struct {
	wg       sync.WaitGroup
	mu       sync.Mutex
	statuses []int
	errs     []error
}

// post sends the bodies one after another, starting now. A registration
// handler calls it before returning, as a publisher that fires at once would.
func (n *notifier) post(target string, bodies ...string) {
	n.postAs(target, "application/json", bodies...)
}

func (n *notifier) postAs(target, contentType string, bodies ...string) {
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		client := &http.Client{Timeout: 10 * time.Second}
		for _, b := range bodies {
			resp, err := client.Post(target, contentType, strings.NewReader(b))
			n.mu.Lock()
			if err != nil {
				n.errs = append(n.errs, err)
			} else {
				n.statuses = append(n.statuses, resp.StatusCode)
				resp.Body.Close()
			}
			n.mu.Unlock()
		}
	}()
}

// wait returns the statuses once every post has finished.
func (n *notifier) wait(t *testing.T) []int {
	t.Helper()
	n.wg.Wait()
	n.mu.Lock()
	defer n.mu.Unlock()
	require.Empty(t, n.errs)
	return n.statuses
}

// run runs flow with test defaults: a safety timeout, tiny poll waits, and
// the output logged when the test fails.
func run(t *testing.T, cfg flow.Config) *flow.Report {
	t.Helper()
	rep, err := runErr(t, context.Background(), cfg)
	require.NoError(t, err)
	return rep
}

func runErr(t *testing.T, ctx context.Context, cfg flow.Config) (*flow.Report, error) {
	t.Helper()
	var out bytes.Buffer
	if cfg.Output == nil {
		cfg.Output = &out
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 20 * time.Second // a guard: every test ends by --runs first
	}
	if cfg.RetryAfterUnit == 0 {
		cfg.RetryAfterUnit = time.Millisecond
	}
	if cfg.Interval == 0 {
		cfg.Interval = time.Millisecond
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("flow output:\n%s", out.String())
		}
	})
	return flow.Run(ctx, cfg)
}

// codes lists the deviation codes of a report by severity.
func codes(rep *flow.Report, sev flow.Severity) []string {
	var out []string
	for _, d := range rep.Deviations {
		if d.Severity == sev {
			out = append(out, d.Code)
		}
	}
	return out
}

// deviation returns the first deviation with this code.
func deviation(t *testing.T, rep *flow.Report, code string) flow.Deviation {
	t.Helper()
	for _, d := range rep.Deviations {
		if d.Code == code {
			return d
		}
	}
	require.Failf(t, "deviation not reported", "want %q, got %v", code, rep.Deviations)
	return flow.Deviation{}
}

// absolute builds an absolute URL on the server that received r, the way a
// publisher builds its Location.
func absolute(r *http.Request, path string) string {
	return "http://" + r.Host + path
}

// dig returns the string at a path of a JSON body, "" when there is none.
// Handlers use it (they run off the test goroutine, so they cannot fail the
// test); the test then asserts on the captured body.
func dig(body []byte, path ...string) string {
	var v any
	if json.Unmarshal(body, &v) != nil {
		return ""
	}
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = m[k]
	}
	s, _ := v.(string)
	return s
}

// callbackShape is the platform's callback URL
// (https://learn.microsoft.com/azure/logic-apps/logic-apps-workflow-actions-triggers).
const callbackShape = `^http://127\.0\.0\.1:\d+/workflows/[0-9a-f]{32}/triggers/%s/versions/08585\d{15}/run\?api-version=2016-06-01&sp=%%2Ftriggers%%2F%s%%2Fversions%%2F08585\d{15}%%2Frun%%2C%%2Ftriggers%%2F%s%%2Fversions%%2F08585\d{15}%%2Fread&sv=1\.0&sig=[A-Za-z0-9_-]{43}$`
