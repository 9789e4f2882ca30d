// Package metric is triggerd's Prometheus instrumentation: the definitions of
// every metric it exports, the counters the delivery engine and the HTTP API
// feed, and the gauges read from the database at scrape time.
//
// Labels are bounded and never carry a tenant name, a callback URL, a
// subscription id or a key: a trigger name comes from the catalog, an HTTP
// route is the mux pattern (never the raw path, whose ids are unbounded),
// and an outcome is one of four values.
package metric

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Path is where the metrics are served, on the API listener unless an
// operator gives them a listener of their own.
const Path = "/metrics"

// gaugeTimeout bounds the database reads of one scrape, so a slow database
// makes a scrape fail rather than pile up.
const gaugeTimeout = 5 * time.Second

// SubscriptionCount is how many subscriptions of a trigger are in a state.
type SubscriptionCount struct {
	Trigger string
	State   string
	Count   int
}

// Backlog is the deliveries accepted and not finished yet, across every node
// on the database.
type Backlog struct {
	Pending int
	// OldestAge is how long the oldest of them has waited; 0 when none.
	OldestAge time.Duration
}

// Source reads the gauges from the database at scrape time, so that every
// node sharing a PostgreSQL database reports the same values.
type Source interface {
	// Backlog counts the deliveries not finished yet.
	Backlog(ctx context.Context) (Backlog, error)
	// SubscriptionCounts counts subscriptions by trigger and state,
	// deleted ones excepted.
	SubscriptionCounts(ctx context.Context) ([]SubscriptionCount, error)
}

// Metrics holds one Publisher's metrics in a registry of its own, so that
// several Publishers in one process (tests, an application embedding two)
// never collide. A nil *Metrics records nothing.
type Metrics struct {
	registry        *prometheus.Registry
	eventsPublished *prometheus.CounterVec
	attempts        *prometheus.CounterVec
	attemptDuration *prometheus.HistogramVec
	deliveryLatency *prometheus.HistogramVec
	httpRequests    *prometheus.CounterVec
	httpDuration    *prometheus.HistogramVec
}

// New defines the metrics and registers them, with the Go runtime and process
// collectors and, when src is set, the gauges read from it.
func New(src Source) *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		eventsPublished: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "triggerd_events_published_total",
			Help: "Events accepted into the log by this node (duplicates of an idempotency key excepted).",
		}, []string{"trigger"}),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "triggerd_delivery_attempts_total",
			Help: "Delivery attempts made by this node, by outcome: delivered, retry, failed or gone.",
		}, []string{"trigger", "outcome"}),
		attemptDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "triggerd_delivery_attempt_duration_seconds",
			Help:    "Duration of one POST to a callback, until its response headers or error.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"trigger"}),
		deliveryLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "triggerd_delivery_latency_seconds",
			Help:    "Time from an event's commit to its first successful attempt to a subscription.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 5, 30, 60, 300, 1800, 3600, 6 * 3600, 24 * 3600},
		}, []string{"trigger"}),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "triggerd_http_requests_total",
			Help: "API requests answered by this node, by route pattern and status code.",
		}, []string{"route", "code"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "triggerd_http_request_duration_seconds",
			Help:    "Duration of API requests, by route pattern.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route"}),
	}
	m.registry.MustRegister(m.eventsPublished, m.attempts, m.attemptDuration, m.deliveryLatency,
		m.httpRequests, m.httpDuration,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if src != nil {
		m.registry.MustRegister(&gauges{src: src})
	}
	return m
}

// Handler serves the metrics in the Prometheus text exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// Registry is where the metrics are registered, for an application that
// gathers them itself.
func (m *Metrics) Registry() *prometheus.Registry { return m.registry }

// EventPublished counts an accepted event.
func (m *Metrics) EventPublished(trigger string) {
	if m == nil {
		return
	}
	m.eventsPublished.WithLabelValues(trigger).Inc()
}

// Attempt counts one delivery attempt and observes its POST's duration.
func (m *Metrics) Attempt(trigger, outcome string, duration time.Duration) {
	if m == nil {
		return
	}
	m.attempts.WithLabelValues(trigger, outcome).Inc()
	m.attemptDuration.WithLabelValues(trigger).Observe(duration.Seconds())
}

// Delivered observes the latency of a first successful delivery.
func (m *Metrics) Delivered(trigger string, latency time.Duration) {
	if m == nil {
		return
	}
	m.deliveryLatency.WithLabelValues(trigger).Observe(max(latency, 0).Seconds())
}

// HTTPRequest counts an answered API request.
func (m *Metrics) HTTPRequest(route string, code int, duration time.Duration) {
	if m == nil {
		return
	}
	m.httpRequests.WithLabelValues(route, strconv.Itoa(code)).Inc()
	m.httpDuration.WithLabelValues(route).Observe(duration.Seconds())
}

var (
	pendingDesc = prometheus.NewDesc("triggerd_deliveries_pending",
		"Deliveries accepted and not finished yet (queued, scheduled for a retry or in flight), read from the database.", nil, nil)
	oldestDesc = prometheus.NewDesc("triggerd_deliveries_oldest_pending_age_seconds",
		"How long the oldest pending delivery job has waited, read from the database.", nil, nil)
	subscriptionsDesc = prometheus.NewDesc("triggerd_subscriptions",
		"Subscriptions by trigger and state (deleted ones excepted), read from the database.", []string{"trigger", "state"}, nil)
)

// gauges reads the database on every scrape: no node keeps a count that
// could drift from another's.
type gauges struct{ src Source }

func (g *gauges) Describe(ch chan<- *prometheus.Desc) {
	ch <- pendingDesc
	ch <- oldestDesc
	ch <- subscriptionsDesc
}

func (g *gauges) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), gaugeTimeout)
	defer cancel()
	if b, err := g.src.Backlog(ctx); err != nil {
		ch <- prometheus.NewInvalidMetric(pendingDesc, err)
	} else {
		ch <- prometheus.MustNewConstMetric(pendingDesc, prometheus.GaugeValue, float64(b.Pending))
		ch <- prometheus.MustNewConstMetric(oldestDesc, prometheus.GaugeValue, b.OldestAge.Seconds())
	}
	counts, err := g.src.SubscriptionCounts(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(subscriptionsDesc, err)
		return
	}
	for _, c := range counts {
		ch <- prometheus.MustNewConstMetric(subscriptionsDesc, prometheus.GaugeValue, float64(c.Count), c.Trigger, c.State)
	}
}
