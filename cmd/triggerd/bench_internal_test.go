package main

import (
	"testing"
	"time"

	"github.com/alecthomas/kong"
	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd/internal/bench"
)

// TestBenchDefaultsMatchThePackage keeps the flags' documented defaults and
// the bench package's named defaults the same.
func TestBenchDefaultsMatchThePackage(t *testing.T) {
	t.Parallel()
	var c cli
	parser, err := kong.New(&c, kong.Exit(func(int) { t.Fatal("kong exited") }), defaultVars())
	require.NoError(t, err)
	_, err = parser.Parse([]string{"bench"})
	require.NoError(t, err)
	b := c.Bench
	require.Equal(t, bench.ConcurrencyDefault, b.Concurrency)
	require.Equal(t, bench.CeilingRequestsDefault, b.CeilingRequests)
	require.Equal(t, bench.EventsDefault, b.Events)
	require.Equal(t, bench.BatchSizeDefault, b.Batch)
	require.Equal(t, bench.PublishersDefault, b.Publishers)
	require.Equal(t, bench.SubscriptionsDefault, b.Subscriptions)
	require.Equal(t, bench.FanoutEventsDefault, b.FanoutEvents)
	require.Equal(t, bench.RateDefault, b.Rate)
	require.Equal(t, bench.HighRateDefault, b.HighRate)
	require.Equal(t, bench.DurationDefault, b.Duration)
	require.Equal(t, bench.PhaseTimeoutDefault, b.PhaseTimeout)
	require.Equal(t, bench.ProfileSecondsDefault, b.ProfileSeconds)
	require.Equal(t, bench.Phases, b.Phases)
	require.Equal(t, []string{bench.PhaseFanout1, bench.PhaseFanout1Single, bench.PhaseFanout1000, bench.PhaseLatency, bench.PhaseLatencyHigh}, b.ProfilePhases)
	require.Equal(t, 1.0, b.Scale)
	require.Equal(t, 20*time.Second, b.Duration)
}
