package main

import (
	"context"
	"database/sql"
	_ "expvar" // /debug/vars on --debug-addr
	"fmt"
	"log/slog"
	"net"
	"net/http"
	_ "net/http/pprof" // /debug/pprof on --debug-addr
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/triggerd/triggerd"
	"github.com/triggerd/triggerd/catalog"
)

// dbFlags selects the database; shared by every command that opens one.
type dbFlags struct {
	DB string `name:"db" env:"TRIGGERD_DB" default:"triggerd.db" help:"Database: a SQLite file path (created if missing), or a postgres:// URL for several nodes on one PostgreSQL database."`
}

func (f dbFlags) open(ctx context.Context) (*sql.DB, error) {
	if strings.HasPrefix(f.DB, "postgres://") || strings.HasPrefix(f.DB, "postgresql://") {
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
	Addr                  string        `env:"TRIGGERD_ADDR" default:"127.0.0.1:8080" help:"Address to listen on."`
	Catalog               string        `env:"TRIGGERD_CATALOG" type:"existingfile" help:"Trigger catalog YAML file (default: the built-in web-store demo catalog)."`
	PublicURL             string        `name:"public-url" env:"TRIGGERD_PUBLIC_URL" help:"Externally visible base URL, used in Location headers and the connector definition (default: http://<addr>)."`
	AllowPrivateCallbacks bool          `name:"allow-private-callbacks" env:"TRIGGERD_ALLOW_PRIVATE_CALLBACKS" help:"Allow callback URLs on loopback and private addresses (local development and tests only)."`
	DeliveryTimeout       time.Duration `name:"delivery-timeout" env:"TRIGGERD_DELIVERY_TIMEOUT" default:"30s" help:"Timeout of one POST to a callback."`
	RetrySchedule         string        `name:"retry-schedule" env:"TRIGGERD_RETRY_SCHEDULE" help:"Comma-separated delays before each retry (default: 5s,5m,30m,2h,5h,10h,14h,20h,24h)."`
	Workers               int           `env:"TRIGGERD_WORKERS" default:"200" help:"Queued deliveries in flight at once: retries, and events published inside an application's own transaction. First attempts of events published through the API run on their own pool (at least 5,000)."`
	RescueAfter           time.Duration `name:"rescue-after" env:"TRIGGERD_RESCUE_AFTER" help:"On PostgreSQL, how long a delivery may stay in flight before another node takes it over from a node that died (default: delivery timeout + 30s; at least delivery timeout + 20s)."`
	DebugAddr             string        `name:"debug-addr" env:"TRIGGERD_DEBUG_ADDR" help:"Serve Go's pprof profiles and expvar memory statistics on this address (e.g. 127.0.0.1:6060); off by default."`
	LogLevel              string        `name:"log-level" env:"TRIGGERD_LOG_LEVEL" default:"info" enum:"debug,info,warn,error" help:"Log level: debug, info, warn or error."`
	PollingRetryAfter     time.Duration `name:"polling-retry-after" env:"TRIGGERD_POLLING_RETRY_AFTER" default:"15s" help:"Retry-After of a polling trigger's response when nothing more waits (whole seconds, at least 1s)."`
	PollingPageSize       int           `name:"polling-page-size" env:"TRIGGERD_POLLING_PAGE_SIZE" default:"100" help:"Most events one polling response carries (1 to 1000)."`
	EventRetention        time.Duration `name:"event-retention" env:"TRIGGERD_EVENT_RETENTION" default:"168h" help:"How long events stay readable by polling triggers; must outlast the retry schedule."`
	TriggerStateKey       string        `name:"trigger-state-key" env:"TRIGGERD_TRIGGER_STATE_KEY" help:"Key (at least 32 characters, the same on every node) that signs polling trigger states (default: a random key stored in the database on first use). Changing it invalidates every state handed out."`
}

func (c *serveCmd) Run() error {
	logger := newLogger(c.LogLevel)
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
	p, err := triggerd.New(ctx, db, triggerd.Config{
		Catalog:               cat,
		PublicURL:             publicURL,
		AllowPrivateCallbacks: c.AllowPrivateCallbacks,
		DeliveryTimeout:       c.DeliveryTimeout,
		DeliveryWorkers:       c.Workers,
		RetrySchedule:         schedule,
		RescueAfter:           c.RescueAfter,
		PollingRetryAfter:     c.PollingRetryAfter,
		PollingPageSize:       c.PollingPageSize,
		EventRetention:        c.EventRetention,
		TriggerStateKey:       []byte(c.TriggerStateKey),
		Logger:                logger,
	})
	if err != nil {
		return err
	}
	if err := p.Start(ctx); err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           p.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
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
	logger.Info("triggerd serving", "addr", ln.Addr().String(), "public_url", publicURL, "db", c.dbLabel(),
		"triggers", cat.TriggerNames(), "allow_private_callbacks", c.AllowPrivateCallbacks)
	// The address alone on stdout, for scripts and tests that listen on :0.
	fmt.Printf("listening on %s\n", ln.Addr().String())

	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		logger.Warn("http shutdown", "error", err)
	}
	return p.Stop(sctx)
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

func newLogger(level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level)) // kong's enum already checked it
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l}))
}

type keysCmd struct {
	Create keysCreateCmd `cmd:"" help:"Create an API key for a tenant (creating the tenant if new) and print it."`
}

type keysCreateCmd struct {
	dbFlags
	Tenant string `required:"" help:"Tenant that owns the key; every subscription and event belongs to one tenant."`
}

func (c *keysCreateCmd) Run() error {
	ctx := context.Background()
	db, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	// Only the store: issuing a key needs no delivery engine, job queue
	// client or connector definition.
	key, err := triggerd.CreateAPIKey(ctx, db, c.Tenant)
	if err != nil {
		return err
	}
	fmt.Println(key)
	return nil
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
