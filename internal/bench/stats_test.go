package bench

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd/catalog"
)

func TestSummarizeNearestRank(t *testing.T) {
	t.Parallel()
	var ds []time.Duration
	for i := 100; i >= 1; i-- { // unsorted on purpose
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	d := summarize(ds)
	require.Equal(t, Distribution{Count: 100, P50Ms: 50, P90Ms: 90, P99Ms: 99, MaxMs: 100, MeanMs: 50.5}, d)
	require.Equal(t, Distribution{Count: 1, P50Ms: 7, P90Ms: 7, P99Ms: 7, MaxMs: 7, MeanMs: 7}, summarize([]time.Duration{7 * time.Millisecond}))
	require.Equal(t, Distribution{}, summarize(nil))
}

func TestPerSecond(t *testing.T) {
	t.Parallel()
	require.InDelta(t, 500.0, perSecond(1000, 2*time.Second), 0.01)
	require.Zero(t, perSecond(1000, 0))
}

func TestNum(t *testing.T) {
	t.Parallel()
	for v, want := range map[float64]string{0: "0", 999: "999", 1000: "1,000", 14400.4: "14,400", 1234567: "1,234,567", -2500: "-2,500"} {
		require.Equal(t, want, num(v, 0), v)
	}
	require.Equal(t, "12,345.68", num(12345.678, 2))
}

func TestEventsBodyIsValidForTheDemoCatalog(t *testing.T) {
	t.Parallel()
	tr, ok := catalog.Demo().Trigger(benchTrigger)
	require.True(t, ok, "the bench publishes to a trigger of the demo catalog")
	require.Empty(t, tr.Filters, "a filter on the bench trigger would change what is measured")

	var batch []struct {
		Type string          `json:"type"`
		Data json.RawMessage `json:"data"`
	}
	require.NoError(t, json.Unmarshal(eventsBody(5, 3), &batch))
	require.Len(t, batch, 3)
	for _, ev := range batch {
		require.Equal(t, benchTrigger, ev.Type)
		require.NoError(t, tr.ValidateData(ev.Data))
	}
	var one map[string]any
	require.NoError(t, json.Unmarshal(eventsBody(7, 1), &one), "one event is sent as an object")
	require.NoError(t, tr.ValidateData(orderPayload(1<<40)), "ids stay within int32")
}

func TestProcStatsOfThisProcess(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc on this system")
	}
	rss, hwm, err := procMemory(os.Getpid())
	require.NoError(t, err)
	require.Positive(t, rss)
	require.GreaterOrEqual(t, hwm, rss/2, "the high-water mark is of the order of the resident size")
	cpu, err := procCPU(os.Getpid())
	require.NoError(t, err)
	require.GreaterOrEqual(t, cpu, time.Duration(0))
	_, _, err = procMemory(1 << 30)
	require.Error(t, err)
}

func TestTableShowsTargetsAndProblems(t *testing.T) {
	t.Parallel()
	rep := &Report{
		GoVersion: "go1.26", CPUs: 2, Database: "sqlite", DB: "bench.db",
		Config:     Sizes{Concurrency: 32, Events: 100, BatchSize: 10, Subscriptions: 1000, FanoutEvents: 2, Rate: 500, DurationSeconds: 20},
		Ceiling:    &Throughput{PerSecond: 15000, RatioToCeiling: 1},
		Fanout1:    &Throughput{PerSecond: 9000, RatioToCeiling: 0.6},
		Fanout1000: &Throughput{PerSecond: 3000, RatioToCeiling: 0.2},
		Latency:    &Latency{Rate: 500, Delivery: Distribution{Count: 10, P50Ms: 3, P99Ms: 80}},
		Memory:     Memory{PeakRSSBytes: 50 << 20},
		Problems:   []string{"fanout1: 3 of 100 deliveries did not arrive within 1m0s"},
	}
	rep.Targets = targets(rep)
	met := map[string]bool{}
	for _, tg := range rep.Targets {
		met[tg.Name] = tg.Met
	}
	require.Equal(t, map[string]bool{
		"fan-out 1 throughput": true, "fan-out 1,000 throughput": false,
		"latency p50 at 500/s": true, "latency p99 at 500/s": false, "peak RSS": true,
	}, met)

	var b strings.Builder
	require.NoError(t, rep.WriteTable(&b))
	out := b.String()
	for _, want := range []string{"15,000 POSTs/s", "9,000 deliveries/s", "0.60", "≥ 0.50 × ceiling: met", "≥ 0.70 × ceiling: MISSED",
		"≤ 50 ms: MISSED", "50.0 MiB", "3 of 100 deliveries did not arrive"} {
		require.Contains(t, out, want)
	}
}
