// Package triggerd is a webhook-trigger publisher for Power Automate and Azure
// Logic Apps custom connectors, as a library.
//
// A custom connector's webhook trigger registers a callback URL with the
// publisher (which answers 201 and an absolute Location), receives a POST for
// every event, and sends DELETE to the Location when the flow's trigger is
// removed (https://learn.microsoft.com/en-us/connectors/custom-connectors/create-webhook-trigger). A Publisher does all of that on the
// application's own database:
//
//	db, _ := triggerd.OpenSQLite("app.db")
//	p, _ := triggerd.New(ctx, db, triggerd.Config{Catalog: cat, PublicURL: "https://api.example.com"})
//	mux.Handle("/v1/", p.Handler())
//	_ = p.Start(ctx)
//	// …inside the application's own transaction:
//	_, err := p.PublishTx(ctx, tx, "acme", triggerd.Event{Type: "order.created", Data: order})
//
// An event published with PublishTx is delivered if and only if the
// transaction commits.
package triggerd

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/triggerd/triggerd/catalog"
	"github.com/triggerd/triggerd/connector"
	"github.com/triggerd/triggerd/internal/alert"
	"github.com/triggerd/triggerd/internal/apikey"
	"github.com/triggerd/triggerd/internal/console"
	"github.com/triggerd/triggerd/internal/delivery"
	"github.com/triggerd/triggerd/internal/httpapi"
	"github.com/triggerd/triggerd/internal/keyring"
	"github.com/triggerd/triggerd/internal/metric"
	"github.com/triggerd/triggerd/internal/netguard"
	"github.com/triggerd/triggerd/internal/poll"
	"github.com/triggerd/triggerd/internal/publish"
	"github.com/triggerd/triggerd/internal/store"
	"github.com/triggerd/triggerd/internal/store/sqlstore"
	"github.com/triggerd/triggerd/internal/upkeep"
)

// Defaults of Config, named so that documentation and flags can refer to them.
const (
	// DeliveryTimeoutDefault bounds one POST to a callback.
	DeliveryTimeoutDefault = delivery.TimeoutDefault

	// DeliveryWorkersDefault is how many deliveries run at once.
	DeliveryWorkersDefault = delivery.WorkersDefault

	// SubscriptionConcurrencyDefault is how many attempts to one
	// subscription are in flight at once in one process.
	SubscriptionConcurrencyDefault = delivery.SubscriptionConcurrencyDefault

	// HostConcurrencyDefault is how many attempts to one receiver host are
	// in flight at once in one process.
	HostConcurrencyDefault = delivery.HostConcurrencyDefault

	// EventsBodyMaxDefault bounds a POST /v1/events request body.
	EventsBodyMaxDefault = httpapi.EventsBodyMaxDefault

	// SecretGraceDefault is how long a rotated-out subscription secret
	// still signs deliveries.
	SecretGraceDefault = httpapi.SecretGraceDefault

	// RatePerSecondDefault is each tenant's and each key's API request
	// rate, and RateBurstDefault the requests it may make at once.
	RatePerSecondDefault = httpapi.RatePerSecondDefault
	RateBurstDefault     = httpapi.RateBurstDefault

	// APIKeyHeader is the header that carries API keys.
	APIKeyHeader = httpapi.APIKeyHeader

	// PollingRetryAfterDefault is the Retry-After of a polling trigger's
	// response when nothing more waits.
	PollingRetryAfterDefault = poll.RetryAfterDefault

	// PollingPageSizeDefault is the most events one polling response
	// carries.
	PollingPageSizeDefault = poll.PageSizeDefault

	// EventRetentionDefault is how long events stay readable by polling
	// triggers.
	EventRetentionDefault = poll.RetentionDefault

	// AttemptRetentionDefault is how long delivery attempt records are
	// kept.
	AttemptRetentionDefault = upkeep.AttemptRetentionDefault

	// DisableAfterDefault is how long a subscription's attempts may all
	// fail before it turns inactive.
	DisableAfterDefault = upkeep.DisableAfterDefault

	// UpkeepIntervalDefault is how often attempts are pruned and failing
	// subscriptions disabled.
	UpkeepIntervalDefault = upkeep.IntervalDefault

	// ConsoleSessionLifetimeDefault is how long a sign-in to the console
	// lasts.
	ConsoleSessionLifetimeDefault = console.SessionLifetimeDefault

	// DatabaseWaitDefault bounds each API request's database work (and is
	// SQLite's busy timeout, set by OpenSQLite): past it the request is a
	// 503 with Retry-After, never a request that hangs.
	DatabaseWaitDefault = sqlstore.WaitDefault
)

// Config configures a Publisher. Only PublicURL is required.
type Config struct {
	// Catalog declares the triggers; nil means the built-in demo catalog.
	Catalog *catalog.Catalog

	// PublicURL is the externally visible base URL of the API, e.g.
	// https://api.example.com. Location headers are built from it and must
	// resolve to the connector's host and basePath, or the platform's DELETE
	// will not carry the connection's credentials (https://learn.microsoft.com/en-us/connectors/custom-connectors/create-webhook-trigger).
	PublicURL string

	// AllowPrivateCallbacks lets callback URLs reach loopback and private
	// addresses: for local development and tests only.
	AllowPrivateCallbacks bool

	// DeliveryTimeout bounds one POST to a callback; 0 means
	// DeliveryTimeoutDefault.
	DeliveryTimeout time.Duration

	// DeliveryWorkers is how many queued deliveries (retries, and events
	// published with PublishTx) run at once; 0 means DeliveryWorkersDefault.
	// First attempts of events published with Publish or the HTTP API run
	// on a pool of their own, at least this large.
	DeliveryWorkers int

	// SubscriptionConcurrency caps the attempts in flight to one
	// subscription in this process; 0 means SubscriptionConcurrencyDefault.
	// Deliveries beyond it wait without holding a worker or a fast-path
	// slot (in memory, or in the queue for a failing subscriber), so a
	// receiver that hangs holds this many attempts, not everyone's. A
	// trigger's Concurrency in the catalog overrides it.
	SubscriptionConcurrency int

	// HostConcurrency caps the attempts in flight to one receiver host in
	// this process; 0 means HostConcurrencyDefault.
	HostConcurrency int

	// RetrySchedule is the delay before each retry; nil means
	// DefaultRetrySchedule(), empty means no retries. Its length is the
	// number of retries. The Publisher keeps a copy.
	RetrySchedule []time.Duration

	// PollInterval is how often the delivery engine looks for due work that
	// was not announced in-process; 0 means the engine's default.
	PollInterval time.Duration

	// RescueAfter is how long a delivery may stay in flight before it is
	// considered abandoned by a dead process and run again; 0 means the
	// delivery timeout plus RescueAfterMargin; otherwise at least the
	// timeout plus RescueAfterMinMargin.
	RescueAfter time.Duration

	// EventsBodyMax bounds a POST /v1/events body; 0 means
	// EventsBodyMaxDefault.
	EventsBodyMax int64

	// SecretGrace is how long after a secret rotation deliveries are also
	// signed with the previous secret; 0 means SecretGraceDefault, negative
	// means not at all.
	SecretGrace time.Duration

	// RatePerSecond and KeyRatePerSecond bound each tenant's and each
	// key's API requests (token buckets of RateBurst, in this process);
	// 0 means RatePerSecondDefault, negative means unlimited. Over the
	// rate, requests are answered 429 with Retry-After.
	RatePerSecond    float64
	KeyRatePerSecond float64
	// RateBurst is the buckets' size; 0 means RateBurstDefault.
	RateBurst int

	// PollingRetryAfter is the Retry-After (whole seconds, at least 1s) of
	// a polling trigger's response when nothing more waits; 0 means
	// PollingRetryAfterDefault.
	PollingRetryAfter time.Duration

	// PollingPageSize is the most events one polling response carries; 0
	// means PollingPageSizeDefault.
	PollingPageSize int

	// EventRetention is how long events stay in the log for polling
	// triggers; 0 means EventRetentionDefault. Pending deliveries read
	// their event's data, so it must outlast the retry schedule.
	EventRetention time.Duration

	// TriggerStateKey signs polling trigger states: at least 32 bytes, the
	// same on every node. Empty means a random key stored in the database
	// on first use. Changing it invalidates every state handed out.
	TriggerStateKey []byte

	// EncryptionKey is the keyring that encrypts callback URLs and
	// subscription secrets at rest (AES-256-GCM): comma-separated 32-byte
	// keys in base64; the first encrypts, all decrypt. Empty means, on
	// SQLite, a key generated once and kept beside the database file
	// (<file>.key, mode 0600); on PostgreSQL, no encryption (logged as a
	// warning; triggerd serve refuses to run so).
	EncryptionKey string

	// Logger receives operational logs; nil discards them. Callback URLs and
	// secrets are never logged.
	Logger *slog.Logger

	// Actions are operations the application serves itself (such as "Get
	// order details") that the generated connector definition lists beside
	// the triggers.
	Actions []connector.Action

	// Routes are extra handlers mounted beside the API, keyed by
	// http.ServeMux pattern.
	Routes map[string]http.Handler

	// NoMetricsRoute keeps GET /metrics off Handler, for a deployment that
	// serves MetricsHandler on a listener of its own.
	NoMetricsRoute bool

	// DatabaseWait bounds each API request's database work, waiting for a
	// connection or a lock included; past it the request answers 503 with
	// Retry-After and changes nothing. 0 means DatabaseWaitDefault. SQLite's
	// own busy timeout, set by OpenSQLite, stays DatabaseWaitDefault.
	DatabaseWait time.Duration

	// NoMetrics records no metrics at all and serves none (GET /metrics is
	// a 404, MetricsHandler answers 404 too): for measuring what the
	// metrics cost, with `triggerd bench --serve-arg=--no-metrics`. The
	// tracing and the logs are unaffected.
	NoMetrics bool

	// NoConsole keeps the web console (ConsolePath) and the redirect of /
	// to it off Handler, for an application that mounts ConsoleHandler
	// itself, or none.
	NoConsole bool

	// ConsoleSessionLifetime is how long a sign-in to the console lasts
	// (never longer than its key); 0 means ConsoleSessionLifetimeDefault.
	ConsoleSessionLifetime time.Duration

	// AttemptRetention is how long delivery attempt records are kept; 0
	// means AttemptRetentionDefault. Older ones are pruned in small
	// batches. (The event log has its own, EventRetention.)
	AttemptRetention time.Duration

	// DisableAfter is how long a subscription's attempts may all fail
	// before it turns inactive with reason "failing"; 0 means
	// DisableAfterDefault, a negative value never disables one.
	DisableAfter time.Duration

	// UpkeepInterval is how often attempts are pruned and failing
	// subscriptions disabled; 0 means UpkeepIntervalDefault.
	UpkeepInterval time.Duration

	// AlertURL, when set, receives operational webhooks
	// (subscription.inactive, subscription.recovered, delivery.exhausted),
	// signed with AlertSecret (a Standard Webhooks "whsec_…" secret) and
	// delivered like any event: same retries, same SSRF rules.
	AlertURL    string
	AlertSecret string

	// TracerProvider receives a span per API request, per publish and per
	// delivery attempt (linked to its publish); nil means none. Attempts
	// carry their span to the receiver as a W3C traceparent header unless
	// NoTracePropagation is set.
	TracerProvider     trace.TracerProvider
	NoTracePropagation bool
}

// Publisher is a running triggerd: the HTTP API, the event log and the
// delivery engine on one database.
type Publisher struct {
	cfg       Config
	store     *sqlstore.Store
	engine    delivery.Engine
	publisher *publish.Publisher
	handler   http.Handler
	connector *connector.Files
	pruner    *poll.Pruner
	metrics   *metric.Metrics
	upkeep    *upkeep.Upkeep
	console   *console.Console
}

// OpenPostgres opens a PostgreSQL database (pgx's database/sql driver) for
// triggerd; url is a postgres:// URL. Several triggerd nodes can share one
// database. The application may use the same pool for its own tables and
// publish inside its own transactions.
func OpenPostgres(ctx context.Context, url string) (*sql.DB, error) {
	return sqlstore.OpenPostgres(ctx, url)
}

// OpenSQLite opens a SQLite database file configured for triggerd (WAL,
// synchronous FULL, one connection). An application can keep its own tables
// in the same file and publish inside its own transactions.
func OpenSQLite(path string) (*sql.DB, error) { return sqlstore.OpenSQLite(path) }

// New creates the schema if needed and returns a Publisher on db. Deliveries
// start with Start.
func New(ctx context.Context, db *sql.DB, cfg Config) (*Publisher, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Catalog.Validate(); err != nil {
		return nil, fmt.Errorf("triggerd: %w", err)
	}
	pu, err := url.Parse(cfg.PublicURL)
	if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" || pu.RawQuery != "" {
		return nil, fmt.Errorf("triggerd: public URL %q must be an absolute http(s) URL without a query, like https://api.example.com", cfg.PublicURL)
	}
	cfg.PublicURL = strings.TrimSuffix(cfg.PublicURL, "/")
	st, err := openStore(ctx, db, cfg.Logger)
	if err != nil {
		return nil, err
	}
	if err := useKeyring(ctx, st, cfg.EncryptionKey, cfg.Logger); err != nil {
		return nil, err
	}
	guard := &netguard.Guard{AllowPrivate: cfg.AllowPrivateCallbacks}
	poller, pruner, err := newPolling(st, cfg)
	if err != nil {
		return nil, fmt.Errorf("triggerd: %w", err)
	}
	var metrics *metric.Metrics // nil records nothing
	if !cfg.NoMetrics {
		metrics = metric.New(metricSource{st: st})
	}
	var alerts *alert.Alerter
	if cfg.AlertURL != "" {
		if err := guard.CheckURL(ctx, cfg.AlertURL); err != nil {
			return nil, fmt.Errorf("triggerd: alert URL: %w", err)
		}
		if alerts, err = alert.New(ctx, st, cfg.AlertURL, cfg.AlertSecret, cfg.Logger); err != nil {
			return nil, fmt.Errorf("triggerd: %w", err)
		}
	}
	engine, err := delivery.New(st, delivery.Config{
		Metrics:                 metrics,
		OnAttempt:               alerts.Attempt,
		Tracer:                  tracer(cfg.TracerProvider),
		NoTracePropagation:      cfg.NoTracePropagation,
		Timeout:                 cfg.DeliveryTimeout,
		Workers:                 cfg.DeliveryWorkers,
		RetrySchedule:           cfg.RetrySchedule,
		PollInterval:            cfg.PollInterval,
		RescueAfter:             cfg.RescueAfter,
		SubscriptionConcurrency: cfg.SubscriptionConcurrency,
		HostConcurrency:         cfg.HostConcurrency,
		Guard:                   guard,
		Logger:                  cfg.Logger,
		UserAgent:               "triggerd/" + Version,
	})
	if err != nil {
		return nil, fmt.Errorf("triggerd: %w", err)
	}
	alerts.SetEngine(engine)
	// The connector definition is generated once, from the same catalog and
	// public URL the API builds Location headers from, so the two always
	// agree (https://learn.microsoft.com/en-us/connectors/custom-connectors/create-webhook-trigger).
	files, err := connector.Generate(cfg.Catalog, connector.Options{PublicURL: cfg.PublicURL, Actions: cfg.Actions})
	if err != nil {
		return nil, fmt.Errorf("triggerd: connector definition: %w", err)
	}
	p := &Publisher{cfg: cfg, store: st, engine: engine, connector: files, pruner: pruner, metrics: metrics,
		upkeep: &upkeep.Upkeep{Store: st, AttemptRetention: cfg.AttemptRetention, DisableAfter: max(cfg.DisableAfter, 0),
			Interval: cfg.UpkeepInterval, Logger: cfg.Logger}}
	if alerts != nil {
		p.upkeep.OnDisabled = func(s store.Subscription) { alerts.SubscriptionInactive(s, "failing") }
	}
	p.publisher = &publish.Publisher{Store: st, Catalog: cfg.Catalog, Engine: engine, Now: time.Now}
	// The console calls the API in-process, and Handler serves the
	// console: it reaches the API through p.handler, set just below.
	p.console, err = console.New(console.Config{
		API:             http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { p.handler.ServeHTTP(w, r) }),
		Sessions:        st,
		Connector:       files,
		SecureCookies:   strings.HasPrefix(cfg.PublicURL, "https://"),
		SessionLifetime: cfg.ConsoleSessionLifetime,
		Logger:          cfg.Logger,
	})
	if err != nil {
		return nil, fmt.Errorf("triggerd: %w", err)
	}
	routes := map[string]http.Handler{http.MethodGet + " " + connector.APIVersionPath + connector.OpenAPIPath: connector.Handler(files)}
	if !cfg.NoMetricsRoute && metrics != nil {
		routes[http.MethodGet+" "+metric.Path] = metrics.Handler()
	}
	if !cfg.NoConsole {
		routes[ConsolePath] = p.console
		routes[http.MethodGet+" /{$}"] = http.RedirectHandler(ConsolePath, http.StatusFound)
	}
	for pattern, h := range cfg.Routes {
		routes[pattern] = h
	}
	p.handler = httpapi.New(httpapi.Config{
		Store:         st,
		Catalog:       cfg.Catalog,
		Publisher:     p.publisher,
		Guard:         guard,
		PublicURL:     cfg.PublicURL,
		EventsBodyMax: cfg.EventsBodyMax,
		DatabaseWait:  cfg.DatabaseWait,
		SecretGrace:   cfg.SecretGrace,
		RateLimit:     httpapi.RateLimit{TenantPerSecond: cfg.RatePerSecond, KeyPerSecond: cfg.KeyRatePerSecond, Burst: cfg.RateBurst},
		Logger:        cfg.Logger,
		Extra:         routes,
		Poller:        poller,
		Metrics:       metrics,
		Engine:        engine,
		Alerts:        observer(alerts),
		Tracer:        tracer(cfg.TracerProvider),
		Pending:       pendingSource{st: st},
	})
	return p, nil
}

// Version is triggerd's version, sent in the User-Agent of deliveries.
const Version = "0.1.0"

// useKeyring resolves the deployment's encryption keyring and gives it to
// the store (keyring.Resolve says where it comes from).
func useKeyring(ctx context.Context, st *sqlstore.Store, spec string, logger *slog.Logger) error {
	file, err := st.SQLiteFile(ctx)
	if err != nil {
		return fmt.Errorf("triggerd: %w", err)
	}
	kr, generated, err := keyring.Resolve(spec, file, st.Dialect() == sqlstore.Postgres)
	if errors.Is(err, keyring.ErrKeyRequired) {
		// The command line refuses to serve PostgreSQL without a key; an
		// embedding application that gives none keeps working, in clear,
		// and is told so.
		if logger != nil {
			logger.Warn("no encryption key: callback URLs and secrets are stored in clear on PostgreSQL; set Config.EncryptionKey")
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("triggerd: %w", err)
	}
	if generated != "" && logger != nil {
		logger.Warn("generated the key that encrypts callback URLs and secrets; back it up with the database, which cannot be read without it",
			"file", generated)
	}
	st.SetKeyring(kr)
	return nil
}

// ReencryptSubscriptions re-encrypts every stored callback URL and secret
// with the first key of keyring (comma-separated base64 keys, the new one
// first, the old ones after it), in batches, so the old keys can then be
// dropped. It returns how many subscriptions it rewrote.
func ReencryptSubscriptions(ctx context.Context, db *sql.DB, keys string, batch int) (int, error) {
	st, err := openStore(ctx, db, nil)
	if err != nil {
		return 0, err
	}
	if err := useKeyring(ctx, st, keys, nil); err != nil {
		return 0, err
	}
	n, err := st.ReencryptSubscriptions(ctx, batch)
	if err != nil {
		return n, fmt.Errorf("triggerd: %w", err)
	}
	return n, nil
}

// Migrate brings db's schema (triggerd's tables and its job queue's) to this
// version. New does it too; this is for migrating ahead of a rolling upgrade.
// It is safe to run from several nodes at once.
func Migrate(ctx context.Context, db *sql.DB) error {
	_, err := openStore(ctx, db, nil)
	return err
}

// Handler is the HTTP API, to mount in the application's own mux. It serves
// /healthz, everything under /v1/, and (unless Config.NoConsole) the web
// console under ConsolePath, with / redirecting to it.
func (p *Publisher) Handler() http.Handler { return p.handler }

// Connector returns the generated connector files (the definition served at
// GET /v1/openapi.json, apiProperties.json and paconn's settings.json).
func (p *Publisher) Connector() *connector.Files { return p.connector }

// Catalog is the catalog the publisher serves.
func (p *Publisher) Catalog() *catalog.Catalog { return p.cfg.Catalog }

// Start starts delivering, and pruning the event log past its retention.
// Events accepted while stopped, or left in flight by a crash, are delivered
// once it runs.
func (p *Publisher) Start(ctx context.Context) error {
	if err := p.engine.Start(ctx); err != nil {
		return err
	}
	if err := p.upkeep.Start(ctx); err != nil {
		return err
	}
	return p.pruner.Start(ctx)
}

// Stop lets deliveries in flight finish until ctx ends, then cancels the
// rest; they are retried on the next Start.
func (p *Publisher) Stop(ctx context.Context) error {
	return errors.Join(p.pruner.Stop(ctx), p.upkeep.Stop(ctx), p.engine.Stop(ctx))
}

// Event is one event to publish.
type Event struct {
	// Type is the trigger name, e.g. "order.created".
	Type string
	// ID is an optional idempotency key: publishing the same ID again for
	// the same tenant is not an error and delivers nothing new.
	ID string
	// Data is the notification body. It is marshalled to JSON (a
	// json.RawMessage or []byte of JSON is used as is) and must match the
	// trigger's schema.
	Data any
}

// PublishResult is the outcome of one published event.
type PublishResult struct {
	// ID is triggerd's id of the event ("evt_…"), also the webhook-id of
	// its single-mode notifications.
	ID string `json:"id"`
	// Type is the event's trigger name.
	Type string `json:"type"`
	// IdempotencyKey is the Event's ID, when one was given.
	IdempotencyKey string `json:"idempotencyKey,omitempty"`
	// Duplicate says the idempotency key was published before: ID is the
	// earlier event's, and nothing new is delivered.
	Duplicate bool `json:"duplicate"`
	// Deliveries counts the subscriptions the event was scheduled for.
	Deliveries int `json:"deliveries"`
}

// InputError is an event that breaks its trigger's rules; nothing of the call
// was stored.
type InputError struct {
	// Index is the event's position among the events of the call.
	Index int
	// Path is where in the event the problem is, such as "type", "id" or
	// "data/customer/email".
	Path string
	// Message says what is wrong and what is expected.
	Message string
	// SchemaMismatch says the event's data broke its trigger's schema (the
	// event type and id were fine).
	SchemaMismatch bool
}

// Error reads "events[i].path: message".
func (e *InputError) Error() string {
	return fmt.Sprintf("events[%d].%s: %s", e.Index, e.Path, e.Message)
}

// ErrOverloaded is returned by Publish when too many events already wait to
// be committed: nothing was stored, and the call may be made again after a
// moment (the HTTP API answers it 503 with Retry-After).
var ErrOverloaded = publish.ErrOverloaded

// Publish appends events to the tenant's log and schedules their deliveries,
// durably, in a transaction it commits before returning. A tenant that does
// not exist yet is created. Concurrent calls share one commit (group
// commit), so many goroutines publishing one event each cost about as much
// as one publishing them together.
func (p *Publisher) Publish(ctx context.Context, tenant string, events ...Event) ([]PublishResult, error) {
	inputs, err := toInputs(events)
	if err != nil {
		return nil, err
	}
	return publicResults(p.countPublished(p.publisher.Publish(ctx, publish.Tenant{Name: tenant}, inputs)))
}

// PublishTx publishes inside the application's transaction on the same
// database: the events and their deliveries commit with the application's
// own writes, or not at all. It uses tx only, never another connection, so it
// is safe on SQLite's single connection. A tenant that does not exist yet is
// created.
func (p *Publisher) PublishTx(ctx context.Context, tx *sql.Tx, tenant string, events ...Event) ([]PublishResult, error) {
	inputs, err := toInputs(events)
	if err != nil {
		return nil, err
	}
	return publicResults(p.countPublished(p.publisher.PublishTx(ctx, tx, publish.Tenant{Name: tenant}, inputs)))
}

// publicResults converts publish's results and input errors to the public
// types, at the boundary, so the internal ones can change freely.
func publicResults(results []publish.Result, err error) ([]PublishResult, error) {
	if err != nil {
		var ie *publish.InputError
		if errors.As(err, &ie) {
			return nil, &InputError{Index: ie.Index, Path: ie.Path, Message: ie.Message, SchemaMismatch: ie.SchemaMismatch}
		}
		return nil, err
	}
	out := make([]PublishResult, len(results))
	for i, r := range results {
		out[i] = PublishResult{ID: r.ID, Type: r.Type, IdempotencyKey: r.IdempotencyKey, Duplicate: r.Duplicate, Deliveries: r.Deliveries}
	}
	return out, nil
}

func toInputs(events []Event) ([]publish.Input, error) {
	inputs := make([]publish.Input, len(events))
	for i, ev := range events {
		var data []byte
		switch d := ev.Data.(type) {
		case json.RawMessage:
			data = d
		case []byte:
			data = d
		default:
			b, err := json.Marshal(d)
			if err != nil {
				return nil, &InputError{Index: i, Path: "data", Message: "cannot be encoded as JSON: " + err.Error()}
			}
			data = b
		}
		inputs[i] = publish.Input{Type: ev.Type, ID: ev.ID, Data: data}
	}
	return inputs, nil
}

// ErrUnauthorized is returned by Authenticate for a request without a valid
// API key.
var ErrUnauthorized = errors.New("missing or invalid " + APIKeyHeader + " header")

// Authenticate returns the name of the tenant whose API key the request
// carries in the X-API-Key header. The generated connector sends that header
// on every operation, so an application serving its own actions beside
// triggerd's (connector.Action) authenticates them with the same keys.
func (p *Publisher) Authenticate(r *http.Request) (string, error) {
	t, err := apikey.Authenticate(r.Context(), p.store, r.Header.Get(APIKeyHeader))
	if errors.Is(err, apikey.ErrMissing) || errors.Is(err, apikey.ErrInvalid) {
		return "", ErrUnauthorized
	}
	if err != nil {
		return "", err
	}
	return t.Name, nil
}

// APIKeyPrefix starts every key triggerd issues, so a leaked key is
// recognisable by secret scanners.
const APIKeyPrefix = apikey.Prefix

// CreateAPIKey issues a new API key for a tenant, creating the tenant if it
// is new. Only a hash is stored: the key is shown once.
func (p *Publisher) CreateAPIKey(ctx context.Context, tenant string) (string, error) {
	key, _, err := apikey.Create(ctx, p.store, tenant, time.Now())
	return key, err
}

// CreateAPIKey issues a new API key for a tenant on db without a Publisher
// (for a command line or a provisioning script): it migrates db if needed,
// creates the tenant if it is new, and stores only the key's hash. The key
// is shown once.
func CreateAPIKey(ctx context.Context, db *sql.DB, tenant string) (string, error) {
	st, err := openStore(ctx, db, nil)
	if err != nil {
		return "", err
	}
	key, _, err := apikey.Create(ctx, st, tenant, time.Now())
	return key, err
}
