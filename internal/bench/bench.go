// Package bench measures a running triggerd against the ceiling of the
// machine it runs on.
//
// A webhook publisher is judged by how many deliveries it sustains, how soon
// an event reaches its subscribers, and what that costs. Absolute numbers
// say little across machines, so every throughput is also given as a ratio to
// the ceiling measured in the same run: a plain net/http client, in a process
// of its own, posting the same payload to the same receiver.
//
// [Run] starts a receiver in the calling process and `triggerd serve` as a
// separate process of the given executable (loopback only, a fresh SQLite
// file unless told otherwise), then runs the phases in order:
//
//   - ceiling: the plain client, [Config.Concurrency] goroutines;
//   - fanout1: one subscription, [Config.Events] events published in batches;
//   - fanout1-single: the same, one event per request, the way applications
//     publish (an order is created, order.created goes out), from
//     [Config.Publishers] concurrent publishers;
//   - fanout1000: one trigger with [Config.Subscriptions] subscriptions,
//     [Config.FanoutEvents] events published one by one;
//   - latency: one subscription, events published one by one at
//     [Config.Rate] per second for [Config.Duration], open loop;
//   - latency-high: the same at [Config.HighRate] per second.
//
// Throughout, the server's memory is sampled (VmHWM from /proc and HeapInuse
// from expvar), and CPU profiles of chosen phases can be fetched from its
// pprof endpoint. Every loop is bounded in count and in time.
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"
)

// Phase names, in the order they run. They are also the receiver's path
// prefixes and the names of CPU profile files.
const (
	PhaseCeiling       = "ceiling"
	PhaseFanout1       = "fanout1"
	PhaseFanout1Single = "fanout1-single"
	PhaseFanout1000    = "fanout1000"
	PhaseLatency       = "latency"
	PhaseLatencyHigh   = "latency-high"
	// PhaseLatencyHanging is the latency phase with a subscriber that
	// never answers on the same trigger: the measured subscriber's latency
	// must not change (isolation).
	PhaseLatencyHanging = "latency-hanging"
)

// Phases lists every phase in running order.
var Phases = []string{PhaseCeiling, PhaseFanout1, PhaseFanout1Single, PhaseFanout1000, PhaseLatency, PhaseLatencyHigh, PhaseLatencyHanging}

// Defaults of Config, sized so that a default run on a 2-core machine ends
// within a few minutes (each phase is also bounded by PhaseTimeout).
const (
	// ConcurrencyDefault is the ceiling client's goroutines: keep-alive
	// connections posting in a loop. 32 saturates the receiver on two cores
	// (peer-benchmarks.md measured 14,400–16,200 POSTs/s there).
	ConcurrencyDefault = 32

	// CeilingRequestsDefault is the ceiling's request count: a few seconds.
	CeilingRequestsDefault = 60_000

	// EventsDefault is how many events the fan-out 1 phase publishes.
	EventsDefault = 10_000

	// BatchSizeDefault is events per POST /v1/events in the fan-out 1 phase.
	BatchSizeDefault = 100

	// PublishersDefault is how many publish requests of the fan-out 1
	// phases are in flight at once: 32 concurrent publishers is a busy
	// application, and enough for one event per request to share commits.
	PublishersDefault = 32

	// SubscriptionsDefault is the fan-out of the fan-out 1,000 phase.
	SubscriptionsDefault = 1000

	// FanoutEventsDefault is how many events the fan-out 1,000 phase
	// publishes, one request each.
	FanoutEventsDefault = 10

	// RateDefault is the offered load of the latency phase, events per
	// second.
	RateDefault = 500

	// HighRateDefault is the offered load of the latency-high phase,
	// events per second, one per request: ten times RateDefault, where a
	// commit per request could not keep up.
	HighRateDefault = 5000

	// DurationDefault is how long the latency phase offers its load.
	DurationDefault = 20 * time.Second

	// PhaseTimeoutDefault bounds each phase after its publishing: what has
	// not arrived by then is reported missing.
	PhaseTimeoutDefault = 60 * time.Second

	// SampleIntervalDefault is how often the server's memory is sampled.
	SampleIntervalDefault = 250 * time.Millisecond

	// ProfileSecondsDefault is the length of each CPU profile.
	ProfileSecondsDefault = 5

	// latencyPublishers is how many publish requests a latency phase may
	// have in flight at least; the pacer never waits for them (open loop).
	// At higher rates it grows to latencyInFlightMs of requests.
	latencyPublishers = 64
	latencyInFlightMs = 40

	// registrationWorkers registers the fan-out subscriptions in parallel.
	registrationWorkers = 8
)

// Config sizes a run. Zero fields take the defaults above.
type Config struct {
	// Executable is the triggerd binary: it is started as the server
	// (`serve`), to create API keys (`keys create`) and as the ceiling client
	// (`bench --ceiling-client`).
	Executable string
	// DB is the server's --db: a SQLite file or a postgres:// URL. Empty
	// means a fresh SQLite file in a temporary directory.
	DB string
	// Phases to run; empty means all, in the order of Phases.
	Phases []string

	Concurrency     int
	CeilingRequests int
	Events          int
	BatchSize       int
	Publishers      int
	Subscriptions   int
	FanoutEvents    int
	Rate            int
	HighRate        int
	Duration        time.Duration
	PhaseTimeout    time.Duration
	SampleInterval  time.Duration

	// ServeArgs are extra flags for `triggerd serve`, e.g. --workers=400.
	ServeArgs []string

	// CPUProfileDir, when set, receives a CPU profile of the server for each
	// phase in ProfilePhases, fetched from /debug/pprof/profile for
	// ProfileSeconds from the start of the phase.
	CPUProfileDir  string
	ProfilePhases  []string
	ProfileSeconds int

	// Log receives a line per phase as it ends; nil discards them.
	Log io.Writer
}

func (c *Config) setDefaults() error {
	if c.Executable == "" {
		return errors.New("bench: the triggerd executable is required")
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.Concurrency, ConcurrencyDefault)
	def(&c.CeilingRequests, CeilingRequestsDefault)
	def(&c.Events, EventsDefault)
	def(&c.BatchSize, BatchSizeDefault)
	def(&c.Publishers, PublishersDefault)
	def(&c.Subscriptions, SubscriptionsDefault)
	def(&c.FanoutEvents, FanoutEventsDefault)
	def(&c.Rate, RateDefault)
	def(&c.HighRate, HighRateDefault)
	def(&c.ProfileSeconds, ProfileSecondsDefault)
	if c.Duration <= 0 {
		c.Duration = DurationDefault
	}
	if c.PhaseTimeout <= 0 {
		c.PhaseTimeout = PhaseTimeoutDefault
	}
	if c.SampleInterval <= 0 {
		c.SampleInterval = SampleIntervalDefault
	}
	if c.BatchSize > 1000 {
		return fmt.Errorf("bench: batch size %d is above triggerd's 1,000 events per request", c.BatchSize)
	}
	if len(c.Phases) == 0 {
		c.Phases = Phases
	}
	for _, p := range append(slices.Clone(c.Phases), c.ProfilePhases...) {
		if !slices.Contains(Phases, p) {
			return fmt.Errorf("bench: unknown phase %q; phases are %s", p, strings.Join(Phases, ", "))
		}
	}
	if c.CPUProfileDir != "" && len(c.ProfilePhases) == 0 {
		c.ProfilePhases = []string{PhaseFanout1, PhaseFanout1Single, PhaseFanout1000, PhaseLatency, PhaseLatencyHigh}
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
	return nil
}

func (c *Config) runs(phase string) bool { return slices.Contains(c.Phases, phase) }

// Report is the outcome of a run. Figures of phases that did not run are
// nil.
type Report struct {
	Started   time.Time `json:"started"`
	GoVersion string    `json:"goVersion"`
	CPUs      int       `json:"cpus"`
	// Database is "sqlite" or "postgres"; DB is the --db given to the server
	// (a temporary file unless chosen).
	Database string `json:"database"`
	DB       string `json:"db"`
	Config   Sizes  `json:"config"`

	Ceiling       *Throughput `json:"ceiling,omitempty"`
	Fanout1       *Throughput `json:"fanout1,omitempty"`
	Fanout1Single *Throughput `json:"fanout1Single,omitempty"`
	Fanout1000    *Throughput `json:"fanout1000,omitempty"`
	Latency       *Latency    `json:"latency,omitempty"`
	LatencyHigh   *Latency    `json:"latencyHigh,omitempty"`
	// LatencyHanging is the latency phase next to a hanging subscriber.
	LatencyHanging *Latency `json:"latencyHanging,omitempty"`
	Memory         Memory   `json:"memory"`

	// Targets are the project's goals and whether this run met them.
	Targets []Target `json:"targets"`
	// Profiles are the CPU profile files written.
	Profiles []string `json:"profiles,omitempty"`
	// Problems are deliveries that did not arrive, failed requests and the
	// like: a run with problems measured something else than intended.
	Problems []string `json:"problems,omitempty"`
}

// Sizes are the sizes a run used.
type Sizes struct {
	Concurrency     int      `json:"concurrency"`
	CeilingRequests int      `json:"ceilingRequests"`
	Events          int      `json:"events"`
	BatchSize       int      `json:"batchSize"`
	Publishers      int      `json:"publishers"`
	Subscriptions   int      `json:"subscriptions"`
	FanoutEvents    int      `json:"fanoutEvents"`
	Rate            int      `json:"rate"`
	HighRate        int      `json:"highRate"`
	DurationSeconds float64  `json:"durationSeconds"`
	ServeArgs       []string `json:"serveArgs,omitempty"`
}

// Throughput is a phase that delivers a fixed number of notifications as
// fast as it can.
type Throughput struct {
	// Want is how many notifications the phase sends; Arrived how many
	// distinct ones the receiver saw, Duplicates how many again.
	Want       int `json:"want"`
	Arrived    int `json:"arrived"`
	Duplicates int `json:"duplicates"`
	// Seconds runs from the first publish request (for the ceiling: the
	// first arrival) to the last arrival; PerSecond is Arrived over it.
	Seconds        float64 `json:"seconds"`
	PerSecond      float64 `json:"perSecond"`
	RatioToCeiling float64 `json:"ratioToCeiling,omitempty"`
	// PublishSeconds is how long publishing took; PublishPerSecond is
	// events accepted per second.
	PublishSeconds   float64 `json:"publishSeconds,omitempty"`
	PublishPerSecond float64 `json:"publishPerSecond,omitempty"`
	// CPUSeconds is the CPU time the server used during the phase (for the
	// ceiling: the client process's), CPUPerDelivery that per notification.
	CPUSeconds     float64     `json:"cpuSeconds"`
	CPUPerDelivery float64     `json:"cpuPerDeliveryMs"`
	Memory         PhaseMemory `json:"memory"`
	Complete       bool        `json:"complete"`
	Problems       []string    `json:"problems,omitempty"`
}

// Latency is the publish-to-arrival time of events offered at a fixed rate.
type Latency struct {
	Rate    int     `json:"rate"`
	Seconds float64 `json:"seconds"`
	Want    int     `json:"want"`
	Arrived int     `json:"arrived"`
	// Duplicates counts notifications that arrived more than once.
	Duplicates int `json:"duplicates"`
	// Delivery runs from sending the publish request to the notification's
	// arrival at the receiver.
	Delivery Distribution `json:"delivery"`
	// Publish is the publish request's round trip: the event is committed
	// when it ends.
	Publish Distribution `json:"publish"`
	// SendLag is how late requests left against the schedule; large values
	// mean the load generator, not triggerd, set the pace.
	SendLag        Distribution `json:"sendLag"`
	CPUSeconds     float64      `json:"cpuSeconds"`
	CPUPerDelivery float64      `json:"cpuPerDeliveryMs"`
	Memory         PhaseMemory  `json:"memory"`
	Complete       bool         `json:"complete"`
	Problems       []string     `json:"problems,omitempty"`
}

// run is the state of one Run.
type run struct {
	cfg     Config
	log     io.Writer
	rcv     *Receiver
	srv     *server
	api     *api
	sampler *sampler
	id      string
	report  *Report
	cpuErr  sync.Once
}

// Run runs the phases against a fresh triggerd process and returns the
// report. An error means the run could not be carried out (the server did not
// start, a request failed); deliveries that did not arrive are Problems in
// the report instead.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	r := &run{cfg: cfg, log: cfg.Log, id: strings.ToLower(ulid.Make().String())}
	r.report = &Report{
		Started:   time.Now().UTC(),
		GoVersion: runtime.Version(),
		CPUs:      runtime.NumCPU(),
		Database:  databaseKind(cfg.DB),
		Config: Sizes{
			Concurrency: cfg.Concurrency, CeilingRequests: cfg.CeilingRequests, Events: cfg.Events,
			BatchSize: cfg.BatchSize, Publishers: cfg.Publishers, Subscriptions: cfg.Subscriptions,
			FanoutEvents: cfg.FanoutEvents, Rate: cfg.Rate, HighRate: cfg.HighRate, DurationSeconds: cfg.Duration.Seconds(),
			ServeArgs: cfg.ServeArgs,
		},
	}
	if cfg.DB == "" {
		dir, err := os.MkdirTemp("", "triggerd-bench-")
		if err != nil {
			return nil, fmt.Errorf("bench: %w", err)
		}
		defer os.RemoveAll(dir)
		r.cfg.DB = filepath.Join(dir, "bench.db")
	}
	r.report.DB = r.cfg.DB

	rcv, err := NewReceiver(Phases...)
	if err != nil {
		return nil, err
	}
	defer rcv.Close()
	r.rcv = rcv

	// Keys first: a database the server cannot open fails here, fast, with
	// the server's own message.
	keys := map[string]string{}
	for _, phase := range []string{PhaseFanout1, PhaseFanout1Single, PhaseFanout1000, PhaseLatency, PhaseLatencyHigh, PhaseLatencyHanging} {
		if !cfg.runs(phase) {
			continue
		}
		if keys[phase], err = createKey(ctx, cfg.Executable, r.cfg.DB, "bench-"+phase+"-"+r.id); err != nil {
			return nil, err
		}
	}

	if r.srv, err = startServer(ctx, cfg.Executable, r.cfg.DB, cfg.ServeArgs); err != nil {
		return nil, err
	}
	defer func() {
		select {
		case <-r.srv.exited:
		default:
			r.srv.kill()
		}
	}()
	r.api = newAPI(r.srv.addr)
	fmt.Fprintf(r.log, "bench: triggerd serving on %s (debug %s), pid %d, db %s\n", r.srv.addr, r.srv.debugAddr, r.srv.pid(), r.cfg.DB)

	r.sampler = newSampler(r.srv.pid(), r.srv.debugAddr, cfg.SampleInterval)
	sctx, stopSampling := context.WithCancel(ctx)
	sampled := make(chan struct{})
	go func() { defer close(sampled); r.sampler.run(sctx) }()

	if err := r.phases(ctx, keys); err != nil {
		stopSampling()
		<-sampled
		return nil, err
	}
	stopSampling()
	<-sampled
	r.report.Memory = r.sampler.finish()
	if n := rcv.Stray(); n > 0 {
		r.report.Problems = append(r.report.Problems, fmt.Sprintf("%d requests reached the receiver on no phase's path", n))
	}
	if err := r.srv.stop(); err != nil {
		return nil, err
	}
	r.report.Targets = targets(r.report)
	return r.report, nil
}

func (r *run) phases(ctx context.Context, keys map[string]string) error {
	type phase struct {
		name string
		run  func(ctx context.Context) error
	}
	all := []phase{
		{PhaseCeiling, func(ctx context.Context) error {
			t, err := r.runCeiling(ctx)
			r.report.Ceiling = t
			return err
		}},
		{PhaseFanout1, func(ctx context.Context) error {
			t, err := r.runFanout1(ctx, keys[PhaseFanout1], PhaseFanout1, r.cfg.BatchSize)
			r.report.Fanout1 = t
			return err
		}},
		{PhaseFanout1Single, func(ctx context.Context) error {
			t, err := r.runFanout1(ctx, keys[PhaseFanout1Single], PhaseFanout1Single, 1)
			r.report.Fanout1Single = t
			return err
		}},
		{PhaseFanout1000, func(ctx context.Context) error {
			t, err := r.runFanoutMany(ctx, keys[PhaseFanout1000])
			r.report.Fanout1000 = t
			return err
		}},
		{PhaseLatency, func(ctx context.Context) error {
			l, err := r.runLatency(ctx, keys[PhaseLatency], PhaseLatency, r.cfg.Rate, false)
			r.report.Latency = l
			return err
		}},
		{PhaseLatencyHigh, func(ctx context.Context) error {
			l, err := r.runLatency(ctx, keys[PhaseLatencyHigh], PhaseLatencyHigh, r.cfg.HighRate, false)
			r.report.LatencyHigh = l
			return err
		}},
		{PhaseLatencyHanging, func(ctx context.Context) error {
			l, err := r.runLatency(ctx, keys[PhaseLatencyHanging], PhaseLatencyHanging, r.cfg.Rate, true)
			r.report.LatencyHanging = l
			return err
		}},
	}
	for _, p := range all {
		if !r.cfg.runs(p.name) {
			continue
		}
		r.sampler.setPhase(p.name)
		err := p.run(ctx)
		r.sampler.setPhase("")
		if err != nil {
			return fmt.Errorf("%s phase: %w", p.name, err)
		}
		select {
		case <-r.srv.exited:
			return fmt.Errorf("bench: triggerd serve exited during the %s phase (%v):\n%s", p.name, r.srv.waitErr, r.srv.logs)
		default:
		}
	}
	ceiling := 0.0
	if r.report.Ceiling != nil {
		ceiling = r.report.Ceiling.PerSecond
	}
	for name, t := range map[string]*Throughput{PhaseCeiling: r.report.Ceiling, PhaseFanout1: r.report.Fanout1,
		PhaseFanout1Single: r.report.Fanout1Single, PhaseFanout1000: r.report.Fanout1000} {
		if t == nil {
			continue
		}
		if ceiling > 0 {
			t.RatioToCeiling = round3(t.PerSecond / ceiling)
		}
		for _, p := range t.Problems {
			r.report.Problems = append(r.report.Problems, name+": "+p)
		}
	}
	for name, l := range map[string]*Latency{PhaseLatency: r.report.Latency, PhaseLatencyHigh: r.report.LatencyHigh, PhaseLatencyHanging: r.report.LatencyHanging} {
		if l == nil {
			continue
		}
		for _, p := range l.Problems {
			r.report.Problems = append(r.report.Problems, name+": "+p)
		}
	}
	slices.Sort(r.report.Problems)
	return nil
}

func databaseKind(db string) string {
	if strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://") {
		return "postgres"
	}
	return "sqlite"
}

func perDeliveryMs(cpu time.Duration, n int) float64 {
	if n == 0 {
		return 0
	}
	return round3(float64(cpu) / float64(n) / float64(time.Millisecond))
}
