package triggerd

import (
	"context"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/triggerd/triggerd/internal/alert"
	"github.com/triggerd/triggerd/internal/console"
	"github.com/triggerd/triggerd/internal/delivery"
	"github.com/triggerd/triggerd/internal/httpapi"
	"github.com/triggerd/triggerd/internal/metric"
	"github.com/triggerd/triggerd/internal/publish"
	"github.com/triggerd/triggerd/internal/store"
	"github.com/triggerd/triggerd/internal/store/sqlstore"
)

// MetricsPath is where Handler serves the Prometheus metrics unless
// Config.NoMetricsRoute is set.
const MetricsPath = metric.Path

// MetricsHandler serves the Publisher's Prometheus metrics (text exposition
// format), for a listener of their own: counters of this process, and gauges
// read from the database that agree between the nodes sharing it. Nothing in
// them names a tenant, a callback URL or a key. With Config.NoMetrics it
// answers 404.
func (p *Publisher) MetricsHandler() http.Handler {
	if p.metrics == nil {
		return http.NotFoundHandler()
	}
	return p.metrics.Handler()
}

// ConsolePath is where Handler serves the web console unless
// Config.NoConsole is set; ConsoleHandler must be mounted there too.
const ConsolePath = console.Path

// ConsoleHandler serves the web console, for an application that mounts it
// in its own mux at ConsolePath (with Config.NoConsole, or beside Handler).
// Every page and action is a request to Handler's API made in-process as
// the signed-in key, so a tenant sees and does exactly what its key may do
// through the API.
func (p *Publisher) ConsoleHandler() http.Handler { return p.console }

// pendingSource finds a tenant's oldest pending delivery in the delivery
// queue, for the API's overview.
type pendingSource struct{ st *sqlstore.Store }

func (s pendingSource) OldestPending(ctx context.Context, tenantID string) (store.PendingDelivery, bool, error) {
	return delivery.OldestPending(ctx, s.st.DB(), s.st.Dialect(), tenantID, time.Now())
}

func (s pendingSource) RetryingSubscriptions(ctx context.Context, tenantID string, limit int) ([]string, error) {
	return delivery.RetryingSubscriptions(ctx, s.st.DB(), s.st.Dialect(), tenantID, limit)
}

// metricSource reads the database's gauges for the metrics.
type metricSource struct{ st *sqlstore.Store }

func (s metricSource) Backlog(ctx context.Context) (metric.Backlog, error) {
	n, age, err := delivery.Backlog(ctx, s.st.DB(), s.st.Dialect())
	return metric.Backlog{Pending: n, OldestAge: age}, err
}

func (s metricSource) SubscriptionCounts(ctx context.Context) ([]metric.SubscriptionCount, error) {
	counts, err := s.st.SubscriptionCounts(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]metric.SubscriptionCount, len(counts))
	for i, c := range counts {
		out[i] = metric.SubscriptionCount{Trigger: c.Trigger, State: string(c.State), Count: c.Count}
	}
	return out, nil
}

// observer is the Alerter as the API's state observer, nil (not a nil
// pointer in an interface) when alerts are off.
func observer(a *alert.Alerter) httpapi.StateObserver {
	if a == nil {
		return nil
	}
	return a
}

// tracer is triggerd's tracer of tp; nil when tracing is off.
func tracer(tp trace.TracerProvider) trace.Tracer {
	if tp == nil {
		return nil
	}
	return tp.Tracer("github.com/triggerd/triggerd", trace.WithInstrumentationVersion(Version))
}

// countPublished counts the events of a publish call that were new.
func (p *Publisher) countPublished(results []publish.Result, err error) ([]publish.Result, error) {
	if err == nil {
		for _, r := range results {
			if !r.Duplicate {
				p.metrics.EventPublished(r.Type)
			}
		}
	}
	return results, err
}
