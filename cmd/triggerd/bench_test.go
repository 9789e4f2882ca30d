package main_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd/internal/bench"
)

// TestBenchSmoke runs every phase of `triggerd bench` at a tiny size, so the
// harness cannot rot. It checks that each phase produced its figures and that
// every notification arrived, never how fast: timings on a shared machine
// prove nothing.
func TestBenchSmoke(t *testing.T) {
	t.Parallel()
	profiles := t.TempDir()
	cmd := exec.Command(binary, "bench", "--json", "--quiet",
		"--db", filepath.Join(t.TempDir(), "bench.db"),
		"--concurrency", "4", "--ceiling-requests", "200",
		"--events", "200", "--batch", "100",
		"--subscriptions", "20", "--fanout-events", "2",
		"--publishers", "8",
		"--rate", "20", "--high-rate", "40", "--duration", "1s",
		"--phase-timeout", "60s",
		"--cpuprofile", profiles, "--profile-phases", "latency", "--profile-seconds", "1")
	out, err := cmd.Output()
	if ee, ok := err.(*exec.ExitError); ok {
		t.Fatalf("triggerd bench: %v\n%s\n%s", err, out, ee.Stderr)
	}
	require.NoError(t, err)

	var rep bench.Report
	require.NoError(t, json.Unmarshal(out, &rep), string(out))
	require.Empty(t, rep.Problems)
	require.Equal(t, "sqlite", rep.Database)

	require.NotNil(t, rep.Ceiling)
	require.Equal(t, 200, rep.Ceiling.Arrived)
	require.Positive(t, rep.Ceiling.PerSecond)
	require.InDelta(t, 1.0, rep.Ceiling.RatioToCeiling, 1e-9)

	for name, tp := range map[string]*bench.Throughput{"fanout1": rep.Fanout1, "fanout1-single": rep.Fanout1Single, "fanout1000": rep.Fanout1000} {
		require.NotNil(t, tp, name)
		require.True(t, tp.Complete, name)
		require.Equal(t, tp.Want, tp.Arrived, name)
		require.Positive(t, tp.PerSecond, name)
		require.Positive(t, tp.RatioToCeiling, name)
		require.Positive(t, tp.PublishPerSecond, name)
		require.Positive(t, tp.CPUPerDelivery, name)
	}
	require.Equal(t, 200, rep.Fanout1.Want)
	require.Equal(t, 200, rep.Fanout1Single.Want)
	require.Equal(t, 40, rep.Fanout1000.Want, "2 events × 20 subscriptions")

	require.NotNil(t, rep.Latency)
	require.True(t, rep.Latency.Complete)
	require.Equal(t, 20, rep.Latency.Want)
	require.Equal(t, 20, rep.Latency.Delivery.Count)
	require.Equal(t, 20, rep.Latency.Publish.Count)
	require.Positive(t, rep.Latency.Delivery.P50Ms)
	require.GreaterOrEqual(t, rep.Latency.Delivery.MaxMs, rep.Latency.Delivery.P99Ms)

	require.NotNil(t, rep.LatencyHigh)
	require.True(t, rep.LatencyHigh.Complete)
	require.Equal(t, 40, rep.LatencyHigh.Rate)
	require.Equal(t, 40, rep.LatencyHigh.Want)
	require.Equal(t, 40, rep.LatencyHigh.Delivery.Count)
	require.NotNil(t, rep.LatencyHanging)
	require.True(t, rep.LatencyHanging.Complete, "every event reached the measured subscriber next to the hanging one")
	require.Equal(t, 20, rep.LatencyHanging.Delivery.Count)
	for name, l := range map[string]*bench.Latency{"latency": rep.Latency, "latency-high": rep.LatencyHigh, "latency-hanging": rep.LatencyHanging} {
		require.Positive(t, l.CPUPerDelivery, name)
	}

	require.Positive(t, rep.Memory.PeakRSSBytes)
	require.Positive(t, rep.Memory.PeakHeapInuseBytes)
	require.Positive(t, rep.Memory.Samples)
	require.Len(t, rep.Targets, 10, "every target has a figure")

	require.Len(t, rep.Profiles, 1)
	info, err := os.Stat(rep.Profiles[0])
	require.NoError(t, err)
	require.Positive(t, info.Size())
}

func TestBenchReportsAnUnusableDatabase(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out, err := exec.Command(binary, "bench", "--quiet", "--db", filepath.Join(dir, "missing", "bench.db")).CombinedOutput()
	require.Error(t, err)
	require.Contains(t, string(out), "keys create")
}
