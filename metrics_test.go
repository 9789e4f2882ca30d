package triggerd_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd"
)

// scrape reads GET /metrics from url and returns its text and the values of
// its samples, keyed by name and sorted labels, e.g.
// `triggerd_delivery_attempts_total{outcome="retry",trigger="order.created"}`.
func scrape(t *testing.T, url string) (string, map[string]float64) {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(string(raw)))
	require.NoError(t, err, string(raw))
	out := map[string]float64{}
	for name, f := range families {
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+`"`+l.GetValue()+`"`)
			}
			key := name
			if len(labels) > 0 {
				key += "{" + strings.Join(labels, ",") + "}"
			}
			switch {
			case m.GetCounter() != nil:
				out[key] = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				out[key] = m.GetGauge().GetValue()
			case m.GetHistogram() != nil:
				out[key+"_count"] = float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return string(raw), out
}

// TestMetrics runs deliveries that succeed, retry until they fail, and find
// their flow gone, and reads every listed metric off GET /metrics on the API
// listener.
func TestMetrics(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, postgres bool) {
		// One retry: each retry waits for the queue's scheduler, so more
		// would only make the test slow.
		b := setup(t, &setupOpts{postgres: postgres, cfg: triggerd.Config{RetrySchedule: []time.Duration{20 * time.Millisecond}}})
		ok := newReceiver(t, nil)
		failing := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusInternalServerError) })
		gone := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusGone) })
		okSub, _ := b.register(t, "order.created", ok.URL+"/cb?sig=okSecretSig", nil)
		failSub, _ := b.register(t, "order.created", failing.URL+"/cb?sig=failSecretSig", nil)
		goneSub, _ := b.register(t, "order.created", gone.URL+"/cb?sig=goneSecretSig", nil)

		_, before := scrape(t, b.api.URL)
		require.Zero(t, before[`triggerd_events_published_total{trigger="order.created"}`])
		require.Equal(t, 3.0, before[`triggerd_subscriptions{state="active",trigger="order.created"}`])

		b.publish(t, map[string]any{"type": "order.created", "data": order(1, "processing")})
		b.waitAttempts(t, okSub.ID, 1)
		b.waitAttempts(t, failSub.ID, 2) // the first and the one retry
		b.waitAttempts(t, goneSub.ID, 1)

		text, after := scrape(t, b.api.URL)
		require.Equal(t, 1.0, after[`triggerd_events_published_total{trigger="order.created"}`])
		require.Equal(t, 1.0, after[`triggerd_delivery_attempts_total{outcome="delivered",trigger="order.created"}`])
		require.Equal(t, 1.0, after[`triggerd_delivery_attempts_total{outcome="retry",trigger="order.created"}`])
		require.Equal(t, 1.0, after[`triggerd_delivery_attempts_total{outcome="failed",trigger="order.created"}`])
		require.Equal(t, 1.0, after[`triggerd_delivery_attempts_total{outcome="gone",trigger="order.created"}`])
		require.Equal(t, 4.0, after[`triggerd_delivery_attempt_duration_seconds{trigger="order.created"}_count`])
		require.Equal(t, 1.0, after[`triggerd_delivery_latency_seconds{trigger="order.created"}_count`])
		require.Equal(t, 2.0, after[`triggerd_subscriptions{state="active",trigger="order.created"}`])
		require.Equal(t, 1.0, after[`triggerd_subscriptions{state="inactive",trigger="order.created"}`])
		require.Equal(t, 1.0, after[`triggerd_http_requests_total{code="202",route="POST /v1/events"}`])
		require.Equal(t, 3.0, after[`triggerd_http_requests_total{code="201",route="POST /v1/webhooks/{trigger}"}`])
		require.Positive(t, after[`triggerd_http_requests_total{code="200",route="GET /v1/webhooks/{id}"}`])
		require.Contains(t, after, "triggerd_deliveries_pending")
		require.Contains(t, after, "triggerd_deliveries_oldest_pending_age_seconds")
		require.Contains(t, after, "go_goroutines")
		require.Contains(t, after, "process_resident_memory_bytes")
		// Everything finished: nothing is pending any more (River marks a
		// job finished just after its attempt is recorded).
		eventually(t, func() bool {
			_, m := scrape(t, b.api.URL)
			return m["triggerd_deliveries_pending"] == 0
		}, "no delivery pending")

		// Raw paths never become labels; tenants, callbacks and keys never
		// appear.
		for _, secret := range []string{"acme", "SecretSig", ok.URL, b.key, okSub.ID, okSub.Secret} {
			require.NotContains(t, text, secret)
		}
	})
}

// TestMetricsPending sees a delivery waiting for its retry counted as pending
// in the gauges read from the database, and its age grow.
func TestMetricsPending(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, postgres bool) {
		b := setup(t, &setupOpts{postgres: postgres, cfg: triggerd.Config{RetrySchedule: []time.Duration{time.Hour}}})
		failing := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) })
		sub, _ := b.register(t, "order.created", failing.URL+"/cb", nil)
		_, before := scrape(t, b.api.URL)
		require.Zero(t, before["triggerd_deliveries_pending"])
		require.Zero(t, before["triggerd_deliveries_oldest_pending_age_seconds"])

		b.publish(t, map[string]any{"type": "order.created", "data": order(1, "processing")})
		b.waitAttempts(t, sub.ID, 1)
		var m map[string]float64
		eventually(t, func() bool {
			_, m = scrape(t, b.api.URL)
			return m["triggerd_deliveries_pending"] == 1 && m["triggerd_deliveries_oldest_pending_age_seconds"] > 0
		}, "the retry is pending and ageing")
		require.Less(t, m["triggerd_deliveries_oldest_pending_age_seconds"], 600.0)
	})
}

// TestMetricsPendingInFlight sees a first attempt in flight on the fast path
// (its receiver has not answered yet) counted as pending, and not any more
// once the receiver answers: the gauge counts what is not finished, not only
// what waits in the queue.
func TestMetricsPendingInFlight(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, postgres bool) {
		b := setup(t, &setupOpts{postgres: postgres})
		release := make(chan struct{})
		arrived := make(chan struct{}, 1)
		slow := newReceiver(t, func(_ int, w http.ResponseWriter, r *http.Request) {
			select {
			case arrived <- struct{}{}:
			default:
			}
			select {
			case <-release:
			case <-r.Context().Done():
			}
		})
		var once sync.Once
		open := func() { once.Do(func() { close(release) }) }
		t.Cleanup(open) // before the receiver closes, which waits for its handlers
		sub, _ := b.register(t, "order.created", slow.URL+"/cb", nil)

		b.publish(t, map[string]any{"type": "order.created", "data": order(1, "processing")})
		select {
		case <-arrived:
		case <-time.After(15 * time.Second):
			t.Fatal("the first attempt never reached the receiver")
		}
		_, m := scrape(t, b.api.URL)
		require.Equal(t, 1.0, m["triggerd_deliveries_pending"], "the attempt in flight is pending")
		require.Positive(t, m["triggerd_deliveries_oldest_pending_age_seconds"])

		open()
		b.waitAttempts(t, sub.ID, 1)
		eventually(t, func() bool {
			_, m = scrape(t, b.api.URL)
			return m["triggerd_deliveries_pending"] == 0
		}, "nothing pending once the receiver answered")
	})
}

// TestNoMetrics turns the metrics off, as the benchmark's comparison does:
// nothing is served at GET /metrics or by MetricsHandler, and deliveries go
// on as before.
func TestNoMetrics(t *testing.T) {
	t.Parallel()
	b := setup(t, &setupOpts{cfg: triggerd.Config{NoMetrics: true}})
	ok := newReceiver(t, nil)
	sub, _ := b.register(t, "order.created", ok.URL+"/cb", nil)
	b.publish(t, map[string]any{"type": "order.created", "data": order(1, "processing")})
	b.waitAttempts(t, sub.ID, 1)

	resp, err := http.Get(b.api.URL + triggerd.MetricsPath)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	rec := httptest.NewRecorder()
	b.p.MetricsHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, triggerd.MetricsPath, nil))
	require.Equal(t, http.StatusNotFound, rec.Code)
}
