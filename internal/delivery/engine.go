// Package delivery posts accepted events to their subscribers' callbacks, at
// least once, across crashes and restarts.
//
// Scheduling is River's job: a delivery is a River job inserted in the same
// transaction as its event, so an event is never accepted without its
// deliveries, and River's rescuer picks up work a dead process left running.
// Retries are River snoozes whose delay triggerd computes itself, so the
// schedule can honour Retry-After and record every attempt.
package delivery

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/oklog/ulid/v2"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"
	"github.com/tidwall/gjson"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/triggerd/triggerd/internal/metric"
	"github.com/triggerd/triggerd/internal/netguard"
	"github.com/triggerd/triggerd/internal/store"
	"github.com/triggerd/triggerd/internal/store/sqlstore"
)

const (
	// TimeoutDefault bounds one POST to a callback, the upper end of what
	// Standard Webhooks recommends (15–30 s).
	TimeoutDefault = 30 * time.Second

	// WorkersDefault is how many deliveries run at once. Goroutines waiting
	// on slow receivers cost little, and many of them keep a few slow or dead
	// subscribers from delaying the others.
	WorkersDefault = 200

	// RetryAfterMaxDefault caps how long a receiver's Retry-After can push
	// the next attempt back.
	RetryAfterMaxDefault = 24 * time.Hour

	// PollIntervalDefault is how often an idle SQLite engine looks for due
	// work. SQLite has no LISTEN/NOTIFY and River does not wake its producer
	// for jobs inserted in a transaction, so this bounds the latency of every
	// first attempt on SQLite.
	PollIntervalDefault = 50 * time.Millisecond

	// PostgresPollIntervalDefault is the same on PostgreSQL, where commits
	// wake idle nodes through LISTEN/NOTIFY: polling only backs that up.
	PostgresPollIntervalDefault = time.Second

	// CompletedJobRetention is how long finished delivery jobs stay in the
	// queue table; the attempts table keeps the history that matters.
	CompletedJobRetention = time.Hour

	// recordMargin is the time a job keeps after its HTTP timeout to write
	// its attempt down.
	recordMargin = 10 * time.Second

	queueName  = "triggerd_delivery"
	maxRetries = 1000 // River's own retries (database errors); ours are snoozes
)

// retryScheduleDefault is the delay before each retry: Standard Webhooks'
// example schedule (https://www.standardwebhooks.com/, "Retry schedule"),
// about 80 hours in all, so a receiver down for a long weekend still gets
// everything. It is unexported so that no caller can change it for everyone;
// DefaultRetrySchedule hands out copies.
var retryScheduleDefault = [...]time.Duration{
	5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour,
	10 * time.Hour, 14 * time.Hour, 20 * time.Hour, 24 * time.Hour,
}

// DefaultRetrySchedule returns a copy of the default delays before each
// retry.
func DefaultRetrySchedule() []time.Duration {
	s := retryScheduleDefault
	return s[:]
}

// RescueAfterMargin is what RescueAfter adds to the timeout by default;
// RescueAfterMinMargin is the least it may add (a job must not be rescued
// while its own attempt could still be recording).
const (
	RescueAfterMargin    = 30 * time.Second
	RescueAfterMinMargin = 2 * recordMargin
)

// Config configures an Engine. Timeout, Workers, RescueAfter must be set
// (the Publisher resolves their defaults); RetrySchedule may be empty (no
// retries); the other zero fields take the defaults above.
type Config struct {
	Timeout       time.Duration
	Workers       int
	RetrySchedule []time.Duration
	RetryAfterMax time.Duration
	PollInterval  time.Duration
	// RescueAfter is how long a delivery may stay running before another
	// worker takes it over (its process died). Default: Timeout + 30 s.
	RescueAfter time.Duration
	// SubscriptionConcurrency caps the attempts in flight to one
	// subscription; 0 means SubscriptionConcurrencyDefault.
	SubscriptionConcurrency int
	// HostConcurrency caps the attempts in flight to one receiver host; 0
	// means HostConcurrencyDefault.
	HostConcurrency int
	Guard           *netguard.Guard
	Logger          *slog.Logger
	// Metrics counts attempts; nil counts nothing.
	Metrics *metric.Metrics
	// OnAttempt, when set, is called with every attempt once it is
	// recorded, on the delivery's goroutine: it must be quick.
	OnAttempt func(Notice)
	// Tracer makes a span per attempt, linked to the publishing span;
	// nil makes none.
	Tracer trace.Tracer
	// NoTracePropagation leaves the W3C traceparent header off the
	// POSTs (by default the attempt's span is propagated to the receiver).
	NoTracePropagation bool
	UserAgent          string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Delivery is one notification to schedule: the events, in order, that one
// POST to one subscription carries.
type Delivery struct {
	SubscriptionID string
	// Trigger labels the delivery's metrics and log lines.
	Trigger  string
	EventIDs []string
	// MessageID is the Standard Webhooks webhook-id, stable across retries.
	MessageID string
	// Batch marks an event for a batch-mode subscription: it waits with the
	// subscription's other events until BatchSize of them are waiting or
	// BatchWindow has passed since the first, then all go in one POST as a
	// JSON array. EventIDs then holds the one event, and EventSeq its log
	// position.
	Batch       bool
	EventSeq    int64
	BatchSize   int
	BatchWindow time.Duration

	// Concurrency is the trigger's own cap on attempts in flight to one
	// subscription (the catalog's concurrency); 0 means the engine's
	// SubscriptionConcurrency.
	Concurrency int
	// Redelivery marks an operator's resend of an event already sent.
	Redelivery bool
	// Trace is the publishing span the attempt's span links to; when it is
	// not valid, the span of EnqueueTx's context is used.
	Trace trace.SpanContext

	// CallbackURL, Secret and Data let the fast path make the first attempt
	// without reading anything back (single mode only).
	CallbackURL string
	Secret      string
	Data        []byte
}

// Engine schedules and performs deliveries. The publisher depends on this
// interface only, so the queue behind it can change without touching the API.
type Engine interface {
	// EnqueueTx schedules deliveries inside the transaction that accepts
	// their events: they happen if and only if it commits. With fast, the
	// caller promises to run the returned Dispatch once the transaction has
	// ended, and first attempts start in this process at that moment (see
	// fast.go); without, they wait for the queue.
	EnqueueTx(ctx context.Context, tx *sql.Tx, ds []Delivery, fast bool) (Dispatch, error)
	// Start begins working; it returns once workers run.
	Start(ctx context.Context) error
	// Stop waits for running deliveries to finish until ctx ends, then
	// cancels them; unfinished ones are resumed by the next start.
	Stop(ctx context.Context) error
}

// deliverArgs is the River job of one delivery.
type deliverArgs struct {
	SubscriptionID string   `json:"sub"`
	EventIDs       []string `json:"events"`
	MessageID      string   `json:"msg"`
	Batch          bool     `json:"batch,omitempty"`
	// Prior counts the attempts made before this job existed: every
	// retry is a job of its own, so this job makes attempt Prior+1.
	Prior int `json:"prior,omitempty"`
	// Concurrency is the trigger's own cap on attempts in flight to one
	// subscription; 0 means the engine's.
	Concurrency int `json:"conc,omitempty"`
	// Deferrals counts how often the delivery found its subscription or
	// receiver host at capacity and was put back, to space its next looks.
	Deferrals int `json:"deferrals,omitempty"`
	// Redelivery marks an operator's resend: its success is not a
	// first delivery, so it is not observed as delivery latency.
	Redelivery bool `json:"redelivery,omitempty"`
	// Trace is the W3C traceparent of the publishing span, which each
	// attempt's span links to.
	Trace string `json:"trace,omitempty"`
}

func (deliverArgs) Kind() string { return "triggerd.deliver" }

// sealArgs is the River job that closes a batch: it takes the waiting events
// of a batch-mode subscription and schedules their delivery.
type sealArgs struct {
	SubscriptionID string        `json:"sub"`
	Size           int           `json:"size"`
	Window         time.Duration `json:"window"`
	// Concurrency is the trigger's own cap, carried to the batch's
	// delivery; 0 (and jobs queued before it existed) means the engine's.
	Concurrency int `json:"conc,omitempty"`
}

func (sealArgs) Kind() string { return "triggerd.seal_batch" }

// riverEngine is the Engine on River.
type riverEngine struct {
	cfg    Config
	store  Store
	client *river.Client[*sql.Tx]
	sender *sender
	policy policy
	limit  *limiter
	log    *slog.Logger
	single singleProcess
	// listener is the pgx pool River's PostgreSQL notifier listens on.
	listener *pgxpool.Pool

	recorder *recorder
	// tracing says a Tracer was configured.
	tracing   bool
	running   atomic.Bool
	fastSlots chan struct{}
	fastWG    sync.WaitGroup
	fastCtx   context.Context
	fastStop  context.CancelFunc
}

// Migrate creates or upgrades River's tables.
func Migrate(ctx context.Context, db *sql.DB, dialect sqlstore.Dialect) error {
	var driver riverdriver.Driver[*sql.Tx]
	switch dialect {
	case sqlstore.SQLite:
		driver = riversqlite.New(db)
	case sqlstore.Postgres:
		driver = riverdatabasesql.New(db)
	default:
		return fmt.Errorf("migrate job queue: unsupported dialect %q", dialect)
	}
	m, err := rivermigrate.New(driver, nil)
	if err != nil {
		return fmt.Errorf("migrate job queue: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("migrate job queue: %w", err)
	}
	return nil
}

// withDefaults resolves the zero fields that only the engine knows about
// (the poll interval depends on the database). Timeout, Workers,
// RetrySchedule and RescueAfter come resolved from the Publisher's Config,
// the one place their defaults are applied.
func (cfg Config) withDefaults(dialect sqlstore.Dialect) Config {
	pollDefault := PollIntervalDefault
	if dialect == sqlstore.Postgres {
		pollDefault = PostgresPollIntervalDefault
	}
	cfg.RetrySchedule = slices.Clone(cfg.RetrySchedule)
	cfg.RetryAfterMax = cmp.Or(cfg.RetryAfterMax, RetryAfterMaxDefault)
	cfg.PollInterval = cmp.Or(cfg.PollInterval, pollDefault)
	cfg.UserAgent = cmp.Or(cfg.UserAgent, "triggerd")
	cfg.SubscriptionConcurrency = cmp.Or(cfg.SubscriptionConcurrency, SubscriptionConcurrencyDefault)
	cfg.HostConcurrency = cmp.Or(cfg.HostConcurrency, HostConcurrencyDefault)
	if cfg.Guard == nil {
		cfg.Guard = &netguard.Guard{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Tracer == nil {
		cfg.Tracer = noop.NewTracerProvider().Tracer("")
	}
	return cfg
}

// validate rejects settings outside their documented ranges.
func (cfg Config) validate() error {
	switch {
	case cfg.Timeout <= 0:
		return fmt.Errorf("delivery timeout %s must be positive", cfg.Timeout)
	case cfg.Workers <= 0:
		return fmt.Errorf("delivery workers %d must be positive", cfg.Workers)
	case cfg.SubscriptionConcurrency < 0 || cfg.HostConcurrency < 0:
		return fmt.Errorf("subscription concurrency %d and host concurrency %d must be positive", cfg.SubscriptionConcurrency, cfg.HostConcurrency)
	case cfg.RescueAfter < cfg.Timeout+RescueAfterMinMargin:
		return fmt.Errorf("rescue-after %s must be at least the delivery timeout plus %s (%s)", cfg.RescueAfter, RescueAfterMinMargin, cfg.Timeout+RescueAfterMinMargin)
	}
	for i, d := range cfg.RetrySchedule {
		if d <= 0 {
			return fmt.Errorf("retry schedule step %d (%s) must be positive", i+1, d)
		}
	}
	return nil
}

// New returns a River-backed engine on the store's database.
func New(st Store, cfg Config) (Engine, error) {
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("delivery engine: %w", err)
	}
	tracing := cfg.Tracer != nil
	cfg = cfg.withDefaults(st.Dialect())
	e := &riverEngine{
		cfg:       cfg,
		store:     st,
		sender:    newSender(cfg.Guard, cfg.Timeout, cfg.UserAgent, !cfg.NoTracePropagation),
		policy:    policy{schedule: cfg.RetrySchedule, retryAfterMax: cfg.RetryAfterMax},
		limit:     newLimiter(cfg.SubscriptionConcurrency, cfg.HostConcurrency),
		log:       cfg.Logger,
		fastSlots: make(chan struct{}, max(cfg.Workers, FastPathSlotsMin)),
		tracing:   tracing,
	}
	// On SQLite, one connection and an fsync per commit: attempts wait a
	// little to share a publishing transaction's commit (recorder.go).
	// PostgreSQL commits concurrently on many connections, a round trip
	// each, and gains nothing from waiting.
	var linger time.Duration
	if st.Dialect() == sqlstore.SQLite {
		linger = recordLinger
	}
	e.recorder = newRecorder(e, linger)
	e.fastCtx, e.fastStop = context.WithCancel(context.Background())
	workers := river.NewWorkers()
	if err := river.AddWorkerSafely(workers, &deliverWorker{engine: e}); err != nil {
		return nil, fmt.Errorf("delivery engine: %w", err)
	}
	if err := river.AddWorkerSafely(workers, &sealWorker{engine: e}); err != nil {
		return nil, fmt.Errorf("delivery engine: %w", err)
	}
	if err := river.AddWorkerSafely(workers, &rescueWorker{engine: e}); err != nil {
		return nil, fmt.Errorf("delivery engine: %w", err)
	}
	var driver riverdriver.Driver[*sql.Tx]
	switch st.Dialect() {
	case sqlstore.SQLite:
		driver = riversqlite.New(st.DB())
	case sqlstore.Postgres:
		// database/sql for everything, so jobs insert in the application's
		// *sql.Tx; a small pgx pool only for LISTEN, so idle nodes wake on
		// new work instead of polling hot.
		pool, err := listenerPool(st.DB())
		if err != nil {
			return nil, fmt.Errorf("delivery engine: %w", err)
		}
		e.listener = pool
		driver = riverdatabasesql.NewWithPgxListener(st.DB(), pool)
	}
	cooldown := min(5*time.Millisecond, cfg.PollInterval)
	client, err := river.NewClient(driver, &river.Config{
		Queues:                      map[string]river.QueueConfig{queueName: {MaxWorkers: cfg.Workers}},
		Workers:                     workers,
		FetchCooldown:               cooldown,
		FetchPollInterval:           cfg.PollInterval,
		JobTimeout:                  cfg.Timeout + recordMargin,
		RescueStuckJobsAfter:        max(cfg.RescueAfter, cfg.Timeout+RescueAfterMinMargin),
		CompletedJobRetentionPeriod: CompletedJobRetention,
		Logger:                      quietLogger(cfg.Logger),
		MaxAttempts:                 maxRetries,
		RetryPolicy:                 soonRetry{},
	})
	if err != nil {
		return nil, fmt.Errorf("delivery engine: %w", err)
	}
	e.client = client
	return e, nil
}

// quietLogger passes River's warnings and errors on; its info and debug
// lines describe queue internals an operator of triggerd does not need.
func quietLogger(l *slog.Logger) *slog.Logger {
	return slog.New(levelFloor{Handler: l.Handler(), min: slog.LevelWarn}).With("component", "river")
}

type levelFloor struct {
	slog.Handler
	min slog.Level
}

func (h levelFloor) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h levelFloor) WithAttrs(attrs []slog.Attr) slog.Handler {
	return levelFloor{Handler: h.Handler.WithAttrs(attrs), min: h.min}
}

func (h levelFloor) WithGroup(name string) slog.Handler {
	return levelFloor{Handler: h.Handler.WithGroup(name), min: h.min}
}

func (e *riverEngine) EnqueueTx(ctx context.Context, tx *sql.Tx, ds []Delivery, fast bool) (dispatch Dispatch, err error) {
	if len(ds) == 0 {
		return nil, nil
	}
	var (
		params = make([]river.InsertManyParams, 0, len(ds))
		items  []fastItem
		now    = e.cfg.Now()
		link   = trace.SpanContextFromContext(ctx)
		parent = traceparent(link)
	)
	defer func() {
		if err != nil {
			for _, it := range items {
				e.releaseFast(it)
			}
		}
	}()
	for _, d := range ds {
		link, parent := link, parent
		if d.Trace.IsValid() {
			link, parent = d.Trace, traceparent(d.Trace)
		}
		if !d.Batch {
			if fast && d.Data != nil && len(d.Data) <= FastPathDataMax && e.running.Load() {
				if items == nil {
					items = make([]fastItem, 0, len(ds))
				}
				// A healthy subscription at capacity waits in memory for its
				// own attempts to end, holding no slot; a failing one, or a
				// wait that is full, takes the queue.
				host := hostOf(d.CallbackURL)
				switch e.limit.admit(d.SubscriptionID, host, d.Concurrency, len(d.Data)) {
				case admitRun:
					if e.tryReserve() {
						items = append(items, fastItem{Delivery: d, host: host, slot: true, link: link})
						continue
					}
					e.limit.release(d.SubscriptionID, host, false, false)
				case admitWait:
					items = append(items, fastItem{Delivery: d, host: host, waits: true, link: link})
					continue
				}
			}
			params = append(params, river.InsertManyParams{
				Args:       deliverArgs{SubscriptionID: d.SubscriptionID, EventIDs: d.EventIDs, MessageID: d.MessageID, Concurrency: d.Concurrency, Redelivery: d.Redelivery, Trace: parent},
				InsertOpts: &river.InsertOpts{Queue: queueName},
			})
			continue
		}
		waiting, err := e.store.AddBatchItemTx(ctx, tx, store.BatchItemParams{
			SubscriptionID: d.SubscriptionID, EventSeq: d.EventSeq, EventID: d.EventIDs[0], Now: now})
		if err != nil {
			return nil, fmt.Errorf("enqueue deliveries: %w", err)
		}
		// The first waiting event opens the window; a full batch closes it
		// at once. Every other event rides along with one of those.
		seal := sealArgs{SubscriptionID: d.SubscriptionID, Size: d.BatchSize, Window: d.BatchWindow, Concurrency: d.Concurrency}
		switch {
		case waiting%d.BatchSize == 0:
			params = append(params, river.InsertManyParams{Args: seal, InsertOpts: &river.InsertOpts{Queue: queueName}})
		case waiting == 1:
			params = append(params, river.InsertManyParams{Args: seal, InsertOpts: &river.InsertOpts{Queue: queueName, ScheduledAt: now.Add(d.BatchWindow)}})
		}
	}
	if len(params) > 0 {
		if _, err := e.client.InsertManyFastTx(ctx, tx, params); err != nil {
			return nil, fmt.Errorf("enqueue deliveries: %w", err)
		}
	}
	// One safety net per group of fast deliveries; the job ids tie each
	// delivery to its group.
	for start := 0; start < len(items); start += rescueGroupMax {
		group := items[start:min(start+rescueGroupMax, len(items))]
		args := rescueArgs{Deliveries: make([]rescueDelivery, len(group))}
		for i, it := range group {
			args.Deliveries[i] = rescueDelivery{SubscriptionID: it.SubscriptionID, EventID: it.EventIDs[0], Concurrency: it.Concurrency}
		}
		jobID, err := e.insertSafetyNetTx(ctx, tx, args, &river.InsertOpts{
			Queue:       queueName,
			ScheduledAt: now.Add(e.cfg.Timeout + FastPathGraceMargin),
			Tags:        []string{fastPathTag},
		})
		if err != nil {
			return nil, fmt.Errorf("enqueue deliveries: %w", err)
		}
		g := &fastGroup{jobID: jobID, size: len(group)}
		for i := range group {
			group[i].group = g
		}
	}
	dispatch = e.dispatchFast(items)
	if fast {
		// The caller commits tx itself, right after: the attempts waiting
		// for a commit can share it.
		if recorded := e.recorder.claimTx(ctx, tx); recorded != nil {
			run := dispatch
			dispatch = func(committed bool) {
				run.Run(committed)
				recorded(committed)
			}
		}
	}
	return dispatch, nil
}

// insertSafetyNetTx inserts a group's safety-net job and returns its id.
//
// On SQLite River's InsertTx returns the whole inserted row, the group's
// list of deliveries included, re-encoded by SQLite and decoded again in
// Go only to be dropped: at one event per request at 500/s it was the
// largest single cost of publishing (docs/performance.md). So there the job
// is inserted without RETURNING and its id read with last_insert_rowid():
// one connection, inside this transaction, with nothing inserted between,
// so it is exactly that row's id (river_job's id is its rowid,
// AUTOINCREMENT, never reused). PostgreSQL's RETURNING is cheap and keeps
// InsertTx.
func (e *riverEngine) insertSafetyNetTx(ctx context.Context, tx *sql.Tx, args rescueArgs, opts *river.InsertOpts) (int64, error) {
	if e.store.Dialect() != sqlstore.SQLite {
		res, err := e.client.InsertTx(ctx, tx, args, opts)
		if err != nil {
			return 0, err
		}
		return res.Job.ID, nil
	}
	n, err := e.client.InsertManyFastTx(ctx, tx, []river.InsertManyParams{{Args: args, InsertOpts: opts}})
	if err != nil {
		return 0, err
	}
	if n != 1 {
		return 0, fmt.Errorf("insert safety-net job: %d rows inserted, want 1", n)
	}
	var id int64
	if err := tx.QueryRowContext(ctx, `SELECT last_insert_rowid()`).Scan(&id); err != nil {
		return 0, fmt.Errorf("insert safety-net job: read its id: %w", err)
	}
	return id, nil
}

func (e *riverEngine) Start(ctx context.Context) error {
	if e.store.Dialect() == sqlstore.SQLite {
		if err := e.claimDatabase(ctx); err != nil {
			return fmt.Errorf("start delivery engine: %w", err)
		}
	}
	e.recorder.start()
	// River cancels the work of a client whose start context ends (a hard
	// stop). The caller's context is often the signal's: a SIGTERM must
	// start a drain (Stop), not cut the attempts in flight.
	if err := e.client.Start(context.WithoutCancel(ctx)); err != nil {
		e.recorder.stop()
		e.releaseDatabase()
		return fmt.Errorf("start delivery engine: %w", err)
	}
	e.running.Store(true)
	return nil
}

func (e *riverEngine) Stop(ctx context.Context) error {
	defer e.releaseDatabase()
	if e.listener != nil {
		defer e.listener.Close()
	}
	// No new fast-path attempts; let those in flight finish until ctx ends,
	// then cut them off (their safety-net jobs make them again later).
	e.running.Store(false)
	var abandoned error
	fastDone := make(chan struct{})
	go func() { e.fastWG.Wait(); close(fastDone) }()
	select {
	case <-fastDone:
	case <-ctx.Done():
		e.fastStop()
		<-fastDone
		abandoned = errAbandonedAtStop
	}
	defer e.recorder.stop()
	err := e.client.Stop(ctx)
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		// Out of patience: cancel what still runs. Those attempts are not
		// recorded (errAbandoned); their jobs stay in the table and run
		// again on the next start.
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err = e.client.StopAndCancel(cctx)
		abandoned = errAbandonedAtStop
	}
	if err != nil {
		return fmt.Errorf("stop delivery engine: %w", err)
	}
	return abandoned
}

type deliverWorker struct {
	river.WorkerDefaults[deliverArgs]
	engine *riverEngine
}

// Timeout leaves room after the HTTP timeout to record the attempt.
func (w *deliverWorker) Timeout(*river.Job[deliverArgs]) time.Duration {
	return w.engine.cfg.Timeout + recordMargin
}

func (w *deliverWorker) Work(ctx context.Context, job *river.Job[deliverArgs]) error {
	return w.engine.deliver(ctx, job.Args, attemptNumber(job.Args, job.Metadata))
}

// attemptNumber is the attempt a job makes. Every retry and every deferral
// is a job of its own that carries the count in Prior, so River's own runs
// of a job (after a database error, or an attempt abandoned at shutdown)
// never use up a step of the schedule. Jobs of earlier versions retried by
// snoozing, which River counts in the metadata.
func attemptNumber(args deliverArgs, metadata []byte) int {
	return args.Prior + 1 + int(gjson.GetBytes(metadata, "snoozes").Int())
}

// errAbandoned is returned for an attempt cut off by a hard stop: it is not
// recorded and costs no step of the schedule; River runs the job again soon,
// in this process's successor or another node.
var errAbandoned = errors.New("attempt abandoned at shutdown; it runs again after the restart")

// errAbandonedAtStop is what Stop returns when its context ended before the
// attempts in flight did: they were cut off, unrecorded, and run again after
// the next start.
var errAbandonedAtStop = errors.New("stop delivery engine: attempts still in flight were abandoned; they run again after the next start")

// deferMax bounds how long a delivery put back for want of a place waits
// before it looks again: briefly for a healthy subscription that is merely
// busy, up to the delivery timeout for one whose attempts time out (its
// places free no sooner than that).
func (e *riverEngine) deferMax(sub string) time.Duration {
	if e.limit.failing(sub) {
		return e.cfg.Timeout
	}
	return min(e.cfg.Timeout, deferHealthyMax)
}

// deferHealthyMax is deferMax for a subscription that is not failing.
const deferHealthyMax = time.Second

// soonRetry makes River run a job that returned an error (a database error,
// or an attempt abandoned at shutdown) again within seconds: these are not
// the receiver's failures, whose schedule triggerd keeps itself.
type soonRetry struct{}

// NextRetry implements river.ClientRetryPolicy.
func (soonRetry) NextRetry(job *rivertype.JobRow) time.Time {
	n := time.Duration(min(job.Attempt, 8))
	return time.Now().Add(min(n*n*time.Second, time.Minute))
}

func (e *riverEngine) deliver(ctx context.Context, args deliverArgs, number int) error {
	sub, err := e.store.SubscriptionByID(ctx, args.SubscriptionID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && sub.State != store.SubscriptionActive) {
		// Deregistered or gone since the event was published: nothing to do.
		return nil
	}
	if err != nil {
		return fmt.Errorf("deliver: %w", err)
	}
	events, err := e.store.Events(ctx, args.EventIDs)
	if errors.Is(err, store.ErrNotFound) {
		// Pruned by retention while retries went on (a receiver's
		// Retry-After can stretch them): nothing left to send.
		reason := "the event is no longer retained; giving up"
		attempt := store.Attempt{SubscriptionID: sub.ID, WebhookID: args.MessageID, EventIDs: args.EventIDs,
			Number: number, StartedAt: e.cfg.Now(), Error: reason, Outcome: store.AttemptFailed}
		if err := e.recorder.record(ctx, recordRequest{record: store.AttemptRecord{Attempt: attempt}}); err != nil {
			return fmt.Errorf("deliver: %w", err)
		}
		return river.JobCancel(errors.New(reason))
	}
	if err != nil {
		return fmt.Errorf("deliver: %w", err)
	}
	body := notificationBody(events, args.Batch)

	// Record with a context of its own: an attempt that ran out of time must
	// still be written down.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	host := hostOf(sub.CallbackURL)
	if !e.limit.tryAcquire(sub.ID, host, args.Concurrency) {
		// The subscription or its host is at capacity: put the delivery
		// back for later, durably, and free this worker for others.
		later := args
		later.Prior, later.Deferrals = number-1, args.Deferrals+1
		err := e.recorder.record(rctx, recordRequest{noRecord: true, retry: &river.InsertManyParams{
			Args:       later,
			InsertOpts: &river.InsertOpts{Queue: queueName, ScheduledAt: e.cfg.Now().Add(deferDelay(args.Deferrals, e.deferMax(sub.ID)))},
		}})
		if err != nil {
			return fmt.Errorf("deliver: defer: %w", err)
		}
		return nil
	}
	started := e.cfg.Now()
	sctx, span := e.startAttemptSpan(ctx, linkOf(args.Trace), sub.ID, sub.Trigger, args.MessageID, number)
	res := e.sender.send(sctx, sub.CallbackURL, sub.SigningSecrets(started), args.MessageID, body, started)
	e.limit.release(sub.ID, host, isTimeout(res), res.Err == nil)
	e.runWaiting(host)
	if ctx.Err() != nil && errors.Is(res.Err, context.Canceled) {
		return errAbandoned
	}
	in := attemptInput{subscriptionID: sub.ID, trigger: sub.Trigger, messageID: args.MessageID, eventIDs: args.EventIDs,
		number: number, started: started, result: res}
	if !args.Batch && !args.Redelivery {
		in.committed = events[0].CreatedAt
	}
	o := e.policy.decide(in)
	endAttemptSpan(span, o)
	req := recordRequest{record: o.record}
	if o.next == stepRetry {
		next := args
		next.Prior, next.Deferrals = number, 0
		req.retry = &river.InsertManyParams{
			Args:       next,
			InsertOpts: &river.InsertOpts{Queue: queueName, ScheduledAt: *o.record.Attempt.NextAttemptAt},
		}
	}
	if err := e.recorder.record(rctx, req); err != nil {
		return fmt.Errorf("deliver: %w", err)
	}
	o.report(e.log, e.cfg.Metrics, e.cfg.OnAttempt)
	if o.next == stepStop {
		return river.JobCancel(o.err())
	}
	return nil
}

type sealWorker struct {
	river.WorkerDefaults[sealArgs]
	engine *riverEngine
}

func (w *sealWorker) Work(ctx context.Context, job *river.Job[sealArgs]) error {
	return w.engine.seal(ctx, job.Args)
}

// seal takes a due batch of waiting events (a full one, or the oldest has
// waited its window) and schedules its delivery in one transaction, so a
// crash either keeps the events waiting or has them scheduled. Events still
// waiting afterwards get a seal of their own, when their batch falls due.
func (e *riverEngine) seal(ctx context.Context, args sealArgs) error {
	tx, err := e.store.DB().BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("seal batch: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after commit
	batch, err := e.store.TakeBatchTx(ctx, tx, args.SubscriptionID, args.Size, e.cfg.Now().Add(-args.Window))
	if err != nil {
		return fmt.Errorf("seal batch: %w", err)
	}
	ids, remaining, oldest := batch.EventIDs, batch.Remaining, batch.OldestRemaining
	var params []river.InsertManyParams
	if len(ids) > 0 {
		params = append(params, river.InsertManyParams{
			Args:       deliverArgs{SubscriptionID: args.SubscriptionID, EventIDs: ids, MessageID: "bat_" + ulid.Make().String(), Batch: true, Concurrency: args.Concurrency},
			InsertOpts: &river.InsertOpts{Queue: queueName},
		})
	}
	if remaining > 0 {
		opts := &river.InsertOpts{Queue: queueName}
		if remaining < args.Size {
			opts.ScheduledAt = oldest.Add(args.Window)
		}
		params = append(params, river.InsertManyParams{Args: args, InsertOpts: opts})
	}
	if len(params) > 0 {
		if _, err := e.client.InsertManyFastTx(ctx, tx, params); err != nil {
			return fmt.Errorf("seal batch: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("seal batch: commit: %w", err)
	}
	return nil
}

// notificationBody is one event's data (single mode) or a JSON array of them
// (batch mode), exactly as published.
func notificationBody(events []store.Event, batch bool) []byte {
	if !batch {
		return events[0].Data
	}
	n := 2
	for _, ev := range events {
		n += len(ev.Data) + 1
	}
	b := make([]byte, 0, n)
	b = append(b, '[')
	for i, ev := range events {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, ev.Data...)
	}
	return append(b, ']')
}
