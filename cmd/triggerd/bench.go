package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/triggerd/triggerd/internal/bench"
)

// benchCmd measures triggerd on this machine against a plain HTTP client
// posting the same payload to the same receiver. The server runs as a
// separate process of this same binary, so what is measured is what
// `triggerd serve` does.
type benchCmd struct {
	DB    string  `name:"db" help:"Database of the triggerd under test: a SQLite file or a postgres:// URL, passed to serve --db (default: a fresh SQLite file in a temporary directory)."`
	JSON  bool    `name:"json" help:"Print the report as JSON instead of a table."`
	Scale float64 `default:"1" help:"Multiply the ceiling's requests, the events of both fan-out phases and the latency phase's duration (e.g. 0.1 for a quick look, 3 for a steadier one)."`

	Phases          []string      `default:"${bench_phases}" enum:"${bench_phases}" help:"Phases to run, in this order: ${bench_phases}."`
	Concurrency     int           `default:"32" help:"Goroutines of the ceiling client, each posting over its own keep-alive connection."`
	CeilingRequests int           `name:"ceiling-requests" default:"60000" help:"POSTs the ceiling client sends."`
	Events          int           `default:"10000" help:"Events of each fan-out 1 phase."`
	Batch           int           `default:"100" help:"Events per publish request in the fan-out 1 phase (at most 1,000); fanout1-single sends one."`
	Publishers      int           `default:"32" help:"Publish requests in flight at once in the fan-out 1 phases."`
	Subscriptions   int           `default:"1000" help:"Subscriptions of the fan-out phase (one trigger, distinct callback URLs)."`
	FanoutEvents    int           `name:"fanout-events" default:"10" help:"Events of the fan-out phase, published one per request."`
	Rate            int           `default:"500" help:"Events per second offered in the latency phase, one per request, on a fixed schedule."`
	HighRate        int           `name:"high-rate" default:"5000" help:"Events per second offered in the latency-high phase, one per request."`
	Duration        time.Duration `default:"20s" help:"How long each latency phase offers its load."`
	PhaseTimeout    time.Duration `name:"phase-timeout" default:"60s" help:"How long each phase may take after publishing before what has not arrived counts as missing."`
	ServeArg        []string      `name:"serve-arg" sep:"none" help:"Extra flag for triggerd serve, repeatable (e.g. --serve-arg=--workers=400)."`
	CPUProfile      string        `name:"cpuprofile" type:"path" placeholder:"DIR" help:"Fetch a CPU profile of the server for each profiled phase into DIR (triggerd-<phase>.pprof)."`
	ProfilePhases   []string      `name:"profile-phases" default:"fanout1,fanout1-single,fanout1000,latency,latency-high" enum:"${bench_phases}" help:"Phases profiled with --cpuprofile."`
	ProfileSeconds  int           `name:"profile-seconds" default:"5" help:"Length of each CPU profile, from the start of its phase."`
	Quiet           bool          `help:"Do not print progress lines to stderr."`

	// CeilingClient runs only the ceiling client; the bench starts itself
	// with it so that the plain client has a process of its own.
	CeilingClient string `name:"ceiling-client" hidden:"" help:"Internal: run only the ceiling client against this URL."`
}

// benchFailed is a run that finished with problems (deliveries that did not
// arrive): the figures are printed, and the exit status says not to trust
// them.
type benchFailed struct{ problems int }

func (e benchFailed) Error() string {
	return fmt.Sprintf("bench: %d problem(s); the figures do not measure what they should", e.problems)
}

func (e benchFailed) ExitCode() int { return 1 }

func (c *benchCmd) Run() error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if c.CeilingClient != "" {
		res := bench.RunCeilingClient(ctx, c.CeilingClient, c.Concurrency, c.CeilingRequests, c.PhaseTimeout)
		return json.NewEncoder(os.Stdout).Encode(res)
	}
	if c.Scale <= 0 {
		return errors.New("--scale must be positive")
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("bench: find the triggerd executable: %w", err)
	}
	scale := func(n int) int { return max(1, int(float64(n)*c.Scale)) }
	cfg := bench.Config{
		Executable:      exe,
		DB:              c.DB,
		Phases:          c.Phases,
		Concurrency:     c.Concurrency,
		CeilingRequests: scale(c.CeilingRequests),
		Events:          scale(c.Events),
		BatchSize:       c.Batch,
		Publishers:      c.Publishers,
		Subscriptions:   c.Subscriptions,
		FanoutEvents:    scale(c.FanoutEvents),
		Rate:            c.Rate,
		HighRate:        c.HighRate,
		Duration:        max(time.Second/time.Duration(max(1, min(c.Rate, c.HighRate))), time.Duration(float64(c.Duration)*c.Scale)),
		PhaseTimeout:    c.PhaseTimeout,
		ServeArgs:       c.ServeArg,
		CPUProfileDir:   c.CPUProfile,
		ProfilePhases:   c.ProfilePhases,
		ProfileSeconds:  c.ProfileSeconds,
		Log:             os.Stderr,
	}
	if c.CPUProfile == "" {
		cfg.ProfilePhases = nil
	}
	if c.Quiet {
		cfg.Log = nil
	}
	rep, err := bench.Run(ctx, cfg)
	if err != nil {
		return err
	}
	if c.JSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else if err := rep.WriteTable(os.Stdout); err != nil {
		return err
	}
	if len(rep.Problems) > 0 {
		return benchFailed{problems: len(rep.Problems)}
	}
	return nil
}
