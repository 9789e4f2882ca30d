package metric_test

import (
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd/internal/metric"
)

type source struct {
	backlog metric.Backlog
	err     error
}

func (s source) Backlog(context.Context) (metric.Backlog, error) { return s.backlog, s.err }

func (s source) SubscriptionCounts(context.Context) ([]metric.SubscriptionCount, error) {
	return []metric.SubscriptionCount{{Trigger: "order.created", State: "active", Count: 3}}, nil
}

func scrape(t *testing.T, m *metric.Metrics) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", metric.Path, nil))
	body, err := io.ReadAll(rec.Body)
	require.NoError(t, err)
	return rec.Code, string(body)
}

func TestNilMetricsRecordNothing(t *testing.T) {
	t.Parallel()
	var m *metric.Metrics
	m.EventPublished("a")
	m.Attempt("a", "delivered", time.Second)
	m.Delivered("a", time.Second)
	m.HTTPRequest("GET /x", 200, time.Second)
}

func TestExposition(t *testing.T) {
	t.Parallel()
	m := metric.New(source{backlog: metric.Backlog{Pending: 7, OldestAge: 90 * time.Second}})
	m.EventPublished("order.created")
	m.Attempt("order.created", "retry", 250*time.Millisecond)
	m.Delivered("order.created", -time.Second) // a clock step back is observed as 0
	m.HTTPRequest("POST /v1/events", 202, time.Millisecond)
	code, text := scrape(t, m)
	require.Equal(t, 200, code)
	for _, want := range []string{
		`triggerd_events_published_total{trigger="order.created"} 1`,
		`triggerd_delivery_attempts_total{outcome="retry",trigger="order.created"} 1`,
		`triggerd_delivery_attempt_duration_seconds_bucket{trigger="order.created",le="0.25"} 1`,
		`triggerd_delivery_latency_seconds_bucket{trigger="order.created",le="0.01"} 1`,
		`triggerd_http_requests_total{code="202",route="POST /v1/events"} 1`,
		`triggerd_deliveries_pending 7`,
		`triggerd_deliveries_oldest_pending_age_seconds 90`,
		`triggerd_subscriptions{state="active",trigger="order.created"} 3`,
		`go_goroutines`,
	} {
		require.Contains(t, text, want)
	}
}

// TestGaugeErrorKeepsTheRest: while the database does not answer, its
// gauges are left out of the scrape and the counters are still served.
func TestGaugeErrorKeepsTheRest(t *testing.T) {
	t.Parallel()
	m := metric.New(source{err: errors.New("database is down")})
	m.EventPublished("order.created")
	code, text := scrape(t, m)
	require.Equal(t, 200, code)
	require.Contains(t, text, `triggerd_events_published_total{trigger="order.created"} 1`)
	require.NotContains(t, text, "triggerd_deliveries_pending ")
}
