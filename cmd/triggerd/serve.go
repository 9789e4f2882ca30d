package main

import (
	"context"
	"database/sql"
	_ "expvar" // /debug/vars on --debug-addr
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	_ "net/http/pprof" // /debug/pprof on --debug-addr
	"net/url"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/triggerd/triggerd"
	"github.com/triggerd/triggerd/catalog"
	"github.com/triggerd/triggerd/internal/keyring"
	"github.com/triggerd/triggerd/internal/poll"
)

// dbFlags selects the database; shared by every command that opens one.
type dbFlags struct {
	DB string `name:"db" env:"TRIGGERD_DB" default:"triggerd.db" help:"Database: a SQLite file path (created if missing), or a postgres:// URL for several nodes on one PostgreSQL database."`
}

func (f dbFlags) isPostgres() bool {
	return strings.HasPrefix(f.DB, "postgres://") || strings.HasPrefix(f.DB, "postgresql://")
}

func (f dbFlags) open(ctx context.Context) (*sql.DB, error) {
	if f.isPostgres() {
		return triggerd.OpenPostgres(ctx, f.DB)
	}
	return triggerd.OpenSQLite(f.DB)
}

// dbLabel names the database in logs without a PostgreSQL password.
func (f dbFlags) dbLabel() string {
	u, err := url.Parse(f.DB)
	if err != nil || u.Scheme == "" || len(u.Scheme) == 1 {
		return f.DB
	}
	return u.Redacted()
}

type serveCmd struct {
	dbFlags
	Addr                    string        `env:"TRIGGERD_ADDR" default:"127.0.0.1:8080" help:"Address to listen on."`
	Catalog                 string        `env:"TRIGGERD_CATALOG" type:"existingfile" help:"Trigger catalog YAML file (default: the built-in web-store demo catalog)."`
	PublicURL               string        `name:"public-url" env:"TRIGGERD_PUBLIC_URL" help:"Externally visible base URL, used in Location headers and the connector definition (default: http://<addr>)."`
	AllowPrivateCallbacks   bool          `name:"allow-private-callbacks" env:"TRIGGERD_ALLOW_PRIVATE_CALLBACKS" help:"Allow callback URLs on loopback and private addresses (local development and tests only)."`
	DeliveryTimeout         time.Duration `name:"delivery-timeout" env:"TRIGGERD_DELIVERY_TIMEOUT" default:"${delivery_timeout}" help:"Timeout of one POST to a callback (more than 0)."`
	RetrySchedule           string        `name:"retry-schedule" env:"TRIGGERD_RETRY_SCHEDULE" help:"Comma-separated delays before each retry (default: ${retry_schedule})."`
	Workers                 int           `env:"TRIGGERD_WORKERS" default:"${workers}" help:"Queued deliveries in flight at once (at least 1): retries, and events published inside an application's own transaction. First attempts of events published through the API run on their own pool (at least ${fast_path_slots})."`
	SubscriptionConcurrency int           `name:"subscription-concurrency" env:"TRIGGERD_SUBSCRIPTION_CONCURRENCY" default:"${subscription_concurrency}" help:"Attempts in flight to one subscription at once (at least 1). Deliveries beyond it wait (in memory, or in the queue for a failing subscriber) without holding a worker or a slot, so a subscriber that hangs holds this many, not everyone's; one whose attempts time out gets fewer, down to one. A trigger's concurrency in the catalog overrides it."`
	HostConcurrency         int           `name:"host-concurrency" env:"TRIGGERD_HOST_CONCURRENCY" default:"${host_concurrency}" help:"Attempts in flight to one receiver host at once (at least 1)."`
	ShutdownTimeout         time.Duration `name:"shutdown-timeout" env:"TRIGGERD_SHUTDOWN_TIMEOUT" default:"${shutdown_timeout}" help:"On SIGTERM or SIGINT, how long attempts in flight may take to finish (new requests are answered 503 meanwhile). An attempt still running then is abandoned unrecorded and made again after the restart."`
	RescueAfter             time.Duration `name:"rescue-after" env:"TRIGGERD_RESCUE_AFTER" help:"On PostgreSQL, how long a delivery may stay in flight before another node takes it over from a node that died (default: delivery timeout + ${rescue_margin}; at least delivery timeout + ${rescue_min_margin})."`
	RateLimit               float64       `name:"rate-limit" env:"TRIGGERD_RATE_LIMIT" default:"${rate_limit}" help:"API requests per second per tenant, in each process (0: unlimited); beyond it, 429 with Retry-After."`
	KeyRateLimit            float64       `name:"key-rate-limit" env:"TRIGGERD_KEY_RATE_LIMIT" default:"${rate_limit}" help:"API requests per second per key, in each process (0: unlimited)."`
	RateBurst               int           `name:"rate-burst" env:"TRIGGERD_RATE_BURST" default:"${rate_burst}" help:"Requests a tenant or key may make at once above its rate (at least 1)."`
	EncryptionKey           string        `name:"encryption-key" env:"TRIGGERD_ENCRYPTION_KEY" help:"Keyring that encrypts callback URLs and secrets at rest: comma-separated 32-byte base64 keys, the first encrypts, all decrypt (prefer the environment variable: flags show in ps). Default on SQLite: a key generated beside the database file (<db>.key); required on PostgreSQL."`
	SecretGrace             time.Duration `name:"secret-grace" env:"TRIGGERD_SECRET_GRACE" default:"${secret_grace}" help:"After POST /v1/webhooks/{id}/secret, how long deliveries are also signed with the previous secret (0s: not at all)."`
	DebugAddr               string        `name:"debug-addr" env:"TRIGGERD_DEBUG_ADDR" help:"Serve Go's pprof profiles and expvar memory statistics on this address (e.g. 127.0.0.1:6060); off by default."`
	LogLevel                string        `name:"log-level" env:"TRIGGERD_LOG_LEVEL" default:"info" enum:"debug,info,warn,error" help:"Log level: debug, info, warn or error (debug adds a line per successful delivery attempt and per request)."`
	LogFormat               string        `name:"log-format" env:"TRIGGERD_LOG_FORMAT" default:"text" enum:"text,json" help:"Log format: text (logfmt) or json (one object a line)."`
	AttemptRetention        time.Duration `name:"attempt-retention" env:"TRIGGERD_ATTEMPT_RETENTION" default:"${attempt_retention}" help:"How long delivery attempt records are kept (more than 0); older ones are pruned in small batches."`
	DisableAfter            time.Duration `name:"disable-after" env:"TRIGGERD_DISABLE_AFTER" default:"${disable_after}" help:"A subscription whose attempts have all failed for this long turns inactive (reason failing); 0 never disables one."`
	AlertURL                string        `name:"alert-url" env:"TRIGGERD_ALERT_URL" help:"Receives operational webhooks (subscription.inactive, subscription.recovered, delivery.exhausted), signed with --alert-secret and delivered like any event; off by default."`
	AlertSecret             string        `name:"alert-secret" env:"TRIGGERD_ALERT_SECRET" help:"Standard Webhooks secret (whsec_ and base64) that signs the alerts; required with --alert-url."`
	NoTracePropagation      bool          `name:"no-trace-propagation" env:"TRIGGERD_NO_TRACE_PROPAGATION" help:"Send no W3C traceparent header with deliveries (traces are on when OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set)."`
	MetricsAddr             string        `name:"metrics-addr" env:"TRIGGERD_METRICS_ADDR" help:"Serve the Prometheus metrics (GET /metrics) on this address of their own instead of the API's (e.g. 127.0.0.1:9090)."`
	NoMetrics               bool          `name:"no-metrics" env:"TRIGGERD_NO_METRICS" help:"Record and serve no metrics (GET /metrics is a 404): to measure their cost with triggerd bench --serve-arg=--no-metrics."`
	PollingRetryAfter       time.Duration `name:"polling-retry-after" env:"TRIGGERD_POLLING_RETRY_AFTER" default:"${polling_retry_after}" help:"Retry-After of a polling trigger's response when nothing more waits (whole seconds, at least 1s)."`
	PollingPageSize         int           `name:"polling-page-size" env:"TRIGGERD_POLLING_PAGE_SIZE" default:"${polling_page_size}" help:"Most events one polling response carries (1 to ${polling_page_max})."`
	EventRetention          time.Duration `name:"event-retention" env:"TRIGGERD_EVENT_RETENTION" default:"${event_retention}" help:"How long events stay readable by polling triggers; must outlast the retry schedule."`
	ConsoleSessionLifetime  time.Duration `name:"console-session-lifetime" env:"TRIGGERD_CONSOLE_SESSION_LIFETIME" default:"${console_session_lifetime}" help:"How long a sign-in to the web console (/ui/) lasts (more than 0; never longer than the key it was made with)."`
	TriggerStateKey         string        `name:"trigger-state-key" env:"TRIGGERD_TRIGGER_STATE_KEY" help:"Key (at least 32 characters, the same on every node) that signs polling trigger states (default: a random key stored in the database on first use). Changing it invalidates every state handed out."`
}

// Validate rejects flag values outside the ranges --help gives, before
// anything starts: the library reads a zero as "the default", so a 0 typed
// on the command line must not silently become one.
func (c *serveCmd) Validate() error {
	switch {
	case c.DeliveryTimeout <= 0:
		return fmt.Errorf("--delivery-timeout %s: must be more than 0, e.g. 30s", c.DeliveryTimeout)
	case c.Workers < 1:
		return fmt.Errorf("--workers %d: must be at least 1", c.Workers)
	case c.NoMetrics && c.MetricsAddr != "":
		return fmt.Errorf("--no-metrics with --metrics-addr %s: give one of them (with --no-metrics there are no metrics to serve)", c.MetricsAddr)
	case c.SubscriptionConcurrency < 1:
		return fmt.Errorf("--subscription-concurrency %d: must be at least 1", c.SubscriptionConcurrency)
	case c.HostConcurrency < 1:
		return fmt.Errorf("--host-concurrency %d: must be at least 1", c.HostConcurrency)
	case c.ShutdownTimeout <= 0:
		return fmt.Errorf("--shutdown-timeout %s: must be more than 0", c.ShutdownTimeout)
	case c.RescueAfter != 0 && c.RescueAfter < c.DeliveryTimeout+triggerd.RescueAfterMinMargin:
		return fmt.Errorf("--rescue-after %s: must be at least the delivery timeout plus %s (%s)", c.RescueAfter,
			shortDuration(triggerd.RescueAfterMinMargin), c.DeliveryTimeout+triggerd.RescueAfterMinMargin)
	case c.PollingRetryAfter < time.Second:
		return fmt.Errorf("--polling-retry-after %s: must be at least 1s", c.PollingRetryAfter)
	case c.PollingPageSize < 1 || c.PollingPageSize > poll.PageSizeMax:
		return fmt.Errorf("--polling-page-size %d: must be between 1 and %d", c.PollingPageSize, poll.PageSizeMax)
	case c.EventRetention <= 0:
		return fmt.Errorf("--event-retention %s: must be more than 0", c.EventRetention)
	case c.AttemptRetention <= 0:
		return fmt.Errorf("--attempt-retention %s: must be more than 0", c.AttemptRetention)
	case c.AlertURL != "" && c.AlertSecret == "":
		return fmt.Errorf("--alert-url needs --alert-secret (whsec_ followed by base64 of at least 24 random bytes) to sign the alerts")
	case c.ConsoleSessionLifetime <= 0:
		return fmt.Errorf("--console-session-lifetime %s: must be more than 0, e.g. 12h", c.ConsoleSessionLifetime)
	case c.DisableAfter < 0:
		return fmt.Errorf("--disable-after %s: must be 0 (never) or more", c.DisableAfter)
	}
	return nil
}

func (c *serveCmd) Run() error {
	logger := newLogger(os.Stderr, c.LogLevel, c.LogFormat)
	if c.isPostgres() && strings.TrimSpace(c.EncryptionKey) == "" {
		return keyring.ErrKeyRequired
	}
	cat := catalog.Demo()
	if c.Catalog != "" {
		var err error
		if cat, err = catalog.Load(c.Catalog); err != nil {
			return err
		}
	}
	schedule, err := parseSchedule(c.RetrySchedule)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", c.Addr, err)
	}
	publicURL := c.PublicURL
	if publicURL == "" {
		publicURL = "http://" + ln.Addr().String()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	db, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	if c.SecretGrace < 0 {
		return fmt.Errorf("--secret-grace is %s; give 0s (no grace) or more", c.SecretGrace)
	}
	if c.RateLimit < 0 || c.KeyRateLimit < 0 || c.RateBurst < 1 {
		return fmt.Errorf("--rate-limit and --key-rate-limit take 0 (unlimited) or more, --rate-burst 1 or more")
	}
	unlimitedAtZero := func(v float64) float64 {
		if v == 0 {
			return -1 // the library's "unlimited"; its 0 means the default
		}
		return v
	}
	secretGrace := c.SecretGrace
	if secretGrace == 0 {
		secretGrace = -1 // the library's "none"; its 0 means the default
	}
	tp, err := newTracerProvider(ctx)
	if err != nil {
		return err
	}
	var tracerProvider trace.TracerProvider
	if tp != nil {
		tracerProvider = tp
		defer func() {
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := tp.Shutdown(sctx); err != nil {
				logger.Warn("traces: flush at shutdown", "error", err)
			}
		}()
		logger.Info("traces exported over OTLP/HTTP, as the OTEL_* environment configures")
	}
	p, err := triggerd.New(ctx, db, triggerd.Config{
		Catalog:                 cat,
		PublicURL:               publicURL,
		AllowPrivateCallbacks:   c.AllowPrivateCallbacks,
		DeliveryTimeout:         c.DeliveryTimeout,
		DeliveryWorkers:         c.Workers,
		SubscriptionConcurrency: c.SubscriptionConcurrency,
		HostConcurrency:         c.HostConcurrency,
		RetrySchedule:           schedule,
		RescueAfter:             c.RescueAfter,
		PollingRetryAfter:       c.PollingRetryAfter,
		PollingPageSize:         c.PollingPageSize,
		EventRetention:          c.EventRetention,
		TriggerStateKey:         []byte(c.TriggerStateKey),
		SecretGrace:             secretGrace,
		EncryptionKey:           c.EncryptionKey,
		RatePerSecond:           unlimitedAtZero(c.RateLimit),
		KeyRatePerSecond:        unlimitedAtZero(c.KeyRateLimit),
		RateBurst:               c.RateBurst,
		Logger:                  logger,
		NoMetricsRoute:          c.MetricsAddr != "",
		NoMetrics:               c.NoMetrics,
		AttemptRetention:        c.AttemptRetention,
		DisableAfter:            disableAfter(c.DisableAfter),
		AlertURL:                c.AlertURL,
		TracerProvider:          tracerProvider,
		NoTracePropagation:      c.NoTracePropagation,
		AlertSecret:             c.AlertSecret,
		ConsoleSessionLifetime:  c.ConsoleSessionLifetime,
	})
	if err != nil {
		return err
	}
	if err := p.Start(ctx); err != nil {
		return err
	}
	drain := &drainHandler{next: p.Handler()}
	srv := &http.Server{
		Handler:           drain,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	if c.MetricsAddr != "" {
		mln, err := net.Listen("tcp", c.MetricsAddr)
		if err != nil {
			return fmt.Errorf("listen on --metrics-addr %s: %w", c.MetricsAddr, err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET "+triggerd.MetricsPath, p.MetricsHandler())
		msrv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = msrv.Serve(mln) }()
		defer msrv.Close()
		logger.Info("metrics endpoint", "addr", mln.Addr().String(), "path", triggerd.MetricsPath)
	}
	if c.DebugAddr != "" {
		dln, err := net.Listen("tcp", c.DebugAddr)
		if err != nil {
			return fmt.Errorf("listen on %s: %w", c.DebugAddr, err)
		}
		// http.DefaultServeMux carries net/http/pprof and expvar's
		// /debug/vars (memstats), registered by their imports.
		go func() { _ = http.Serve(dln, http.DefaultServeMux) }()
		logger.Info("debug endpoints", "addr", dln.Addr().String())
	}
	logger.Info("triggerd serving", "addr", ln.Addr().String(), "public_url", publicURL, "console", publicURL+triggerd.ConsolePath, "db", c.dbLabel(),
		"triggers", cat.TriggerNames(), "allow_private_callbacks", c.AllowPrivateCallbacks)
	// The address alone on stdout, for scripts and tests that listen on :0.
	fmt.Printf("listening on %s\n", ln.Addr().String())

	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	return c.drain(logger, srv, drain, p)
}

// drain shuts down gracefully: new requests are answered 503 with
// Retry-After (a load balancer or the platform tries another node, or
// again), requests in flight finish, then deliveries in flight get until
// --shutdown-timeout. What is still running then is abandoned without a
// record, so no retry step is used, and made again after the restart.
func (c *serveCmd) drain(logger *slog.Logger, srv *http.Server, drain *drainHandler, p *triggerd.Publisher) error {
	start := time.Now()
	logger.Info("shutting down: draining", "shutdown_timeout", c.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), c.ShutdownTimeout)
	defer cancel()
	drain.start()
	drain.wait(sctx)
	stopErr := p.Stop(sctx)
	hctx, hcancel := context.WithTimeout(context.Background(), time.Second)
	defer hcancel()
	if err := srv.Shutdown(hctx); err != nil {
		logger.Warn("http shutdown", "error", err)
	}
	if stopErr != nil {
		return fmt.Errorf("drain did not complete within --shutdown-timeout %s: %w", c.ShutdownTimeout, stopErr)
	}
	logger.Info("drained", "took", time.Since(start).Round(time.Millisecond).String())
	return nil
}

// drainHandler answers 503 once a drain has started and counts the
// requests still being served, so the drain can wait for them.
type drainHandler struct {
	next http.Handler

	mu       sync.Mutex
	draining bool
	inFlight int
	idle     chan struct{} // closed when draining and nothing is in flight
}

func (d *drainHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	d.mu.Lock()
	draining := d.draining
	if !draining {
		d.inFlight++
	}
	d.mu.Unlock()
	if draining {
		w.Header().Set("Retry-After", "5")
		w.Header().Set("Connection", "close")
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, `{"error":{"code":"shutting_down","message":"this triggerd is shutting down; retry in a few seconds (another node, or this one after its restart)"}}`+"\n")
		return
	}
	defer d.done()
	d.next.ServeHTTP(w, r)
}

func (d *drainHandler) done() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.inFlight--
	if d.draining && d.inFlight == 0 {
		close(d.idle)
	}
}

// start turns new requests away from now on.
func (d *drainHandler) start() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.draining = true
	d.idle = make(chan struct{})
	if d.inFlight == 0 {
		close(d.idle)
	}
}

// wait returns once every request that was being served when the drain
// started has finished, or ctx ends.
func (d *drainHandler) wait(ctx context.Context) {
	select {
	case <-d.idle:
	case <-ctx.Done():
	}
}

// disableAfter maps the flag's 0 (never) to the library's negative value,
// since the library reads 0 as its default.
func disableAfter(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

func parseSchedule(s string) ([]time.Duration, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []time.Duration
	for _, part := range strings.Split(s, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(part))
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("--retry-schedule: %q is not a positive duration like 5s or 2h", part)
		}
		out = append(out, d)
	}
	return out, nil
}

// newLogger writes logs of at least level to w, as logfmt text or as one
// JSON object a line (for a log pipeline that indexes fields).
func newLogger(w io.Writer, level, format string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level)) // kong's enum already checked it
	opts := &slog.HandlerOptions{Level: l}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

type migrateCmd struct {
	dbFlags
}

func (c *migrateCmd) Run() error {
	ctx := context.Background()
	db, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := triggerd.Migrate(ctx, db); err != nil {
		return err
	}
	fmt.Println("database is at the current schema")
	return nil
}
