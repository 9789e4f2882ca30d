package bench

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
)

// The project's performance targets on a 2-core machine (docs/performance.md).
const (
	// TargetFanout1Ratio is the fan-out 1 throughput as a share of the
	// ceiling.
	TargetFanout1Ratio = 0.5
	// TargetFanout1SingleRatio is the fan-out 1 throughput with one event
	// per request. Every event costs two HTTP exchanges there (its publish
	// and its delivery), so 0.5 is the physical limit; the target is half
	// of it on SQLite, TargetFanout1SinglePostgresRatio on PostgreSQL,
	// whose commit is a network round trip.
	TargetFanout1SingleRatio         = 0.25
	TargetFanout1SinglePostgresRatio = 0.2
	// TargetFanout1000Ratio is the fan-out 1,000 throughput as a share of
	// the ceiling; fan-out amortises the per-event work, so it can get
	// closer.
	TargetFanout1000Ratio = 0.7
	// TargetLatencyP50Ms and TargetLatencyP99Ms bound publish-to-arrival
	// latency at the default offered load.
	TargetLatencyP50Ms = 5
	TargetLatencyP99Ms = 50
	// TargetLatencyHighPostgresP50Ms and TargetLatencyHighPostgresP99Ms
	// bound the latency at the high rate on PostgreSQL; SQLite keeps the
	// default load's bounds there too.
	TargetLatencyHighPostgresP50Ms = 10
	TargetLatencyHighPostgresP99Ms = 100
	// TargetPeakRSSMiB bounds the server's resident memory.
	TargetPeakRSSMiB = 200
)

// Target is one goal and whether the run met it.
type Target struct {
	Name string `json:"name"`
	// Value is the measured figure in Unit; Limit the bound it must be
	// at least (Op ">=") or at most (Op "<=").
	Value float64 `json:"value"`
	Op    string  `json:"op"`
	Limit float64 `json:"limit"`
	Unit  string  `json:"unit"`
	Met   bool    `json:"met"`
}

func targets(rep *Report) []Target {
	var ts []Target
	add := func(name string, value float64, op string, limit float64, unit string) {
		met := value >= limit
		if op == "<=" {
			met = value <= limit
		}
		ts = append(ts, Target{Name: name, Value: value, Op: op, Limit: limit, Unit: unit, Met: met})
	}
	if rep.Ceiling != nil && rep.Ceiling.PerSecond > 0 {
		if t := rep.Fanout1; t != nil {
			add("fan-out 1 throughput", t.RatioToCeiling, ">=", TargetFanout1Ratio, "× ceiling")
		}
		if t := rep.Fanout1Single; t != nil {
			limit := TargetFanout1SingleRatio
			if rep.Database == "postgres" {
				limit = TargetFanout1SinglePostgresRatio
			}
			add("fan-out 1 throughput, one event per request", t.RatioToCeiling, ">=", limit, "× ceiling")
		}
		if t := rep.Fanout1000; t != nil {
			add("fan-out 1,000 throughput", t.RatioToCeiling, ">=", TargetFanout1000Ratio, "× ceiling")
		}
	}
	if l := rep.Latency; l != nil && l.Delivery.Count > 0 {
		add(fmt.Sprintf("latency p50 at %d/s", l.Rate), l.Delivery.P50Ms, "<=", TargetLatencyP50Ms, "ms")
		add(fmt.Sprintf("latency p99 at %d/s", l.Rate), l.Delivery.P99Ms, "<=", TargetLatencyP99Ms, "ms")
	}
	if l := rep.LatencyHigh; l != nil && l.Delivery.Count > 0 {
		p50, p99 := float64(TargetLatencyP50Ms), float64(TargetLatencyP99Ms)
		if rep.Database == "postgres" {
			p50, p99 = TargetLatencyHighPostgresP50Ms, TargetLatencyHighPostgresP99Ms
		}
		add(fmt.Sprintf("latency p50 at %d/s", l.Rate), l.Delivery.P50Ms, "<=", p50, "ms")
		add(fmt.Sprintf("latency p99 at %d/s", l.Rate), l.Delivery.P99Ms, "<=", p99, "ms")
	}
	if l := rep.LatencyHanging; l != nil && l.Delivery.Count > 0 {
		add(fmt.Sprintf("latency p50 at %d/s next to a hanging subscriber", l.Rate), l.Delivery.P50Ms, "<=", TargetLatencyP50Ms, "ms")
		add(fmt.Sprintf("latency p99 at %d/s next to a hanging subscriber", l.Rate), l.Delivery.P99Ms, "<=", TargetLatencyP99Ms, "ms")
	}
	if rep.Memory.PeakRSSBytes > 0 {
		add("peak RSS", mib(rep.Memory.PeakRSSBytes), "<=", TargetPeakRSSMiB, "MiB")
	}
	return ts
}

// WriteTable writes the report as a table for people: every figure, its
// ratio to the ceiling where one applies, and the target it is held to.
func (rep *Report) WriteTable(w io.Writer) error {
	db := rep.DB
	if rep.Database == "postgres" {
		db = "PostgreSQL"
	}
	fmt.Fprintf(w, "triggerd bench · %s · %d CPUs · %s · %s\n\n", rep.GoVersion, rep.CPUs, db, rep.Started.Format("2006-01-02 15:04 MST"))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "figure\tvalue\t× ceiling\ttarget\t")
	target := map[string]Target{}
	for _, t := range rep.Targets {
		target[t.Name] = t
	}
	goal := func(name string) string {
		t, ok := target[name]
		if !ok {
			return ""
		}
		op := "≥"
		if t.Op == "<=" {
			op = "≤"
		}
		verdict := "met"
		if !t.Met {
			verdict = "MISSED"
		}
		decimals := 2
		if t.Limit == math.Trunc(t.Limit) {
			decimals = 0
		}
		return fmt.Sprintf("%s %s %s: %s", op, num(t.Limit, decimals), t.Unit, verdict)
	}
	row := func(figure, value, ratio, target string) {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t\n", figure, value, ratio, target)
	}
	ratio := func(t *Throughput) string {
		if t.RatioToCeiling == 0 {
			return ""
		}
		return num(t.RatioToCeiling, 2)
	}
	if c := rep.Ceiling; c != nil {
		row(fmt.Sprintf("ceiling: net/http client, own process, %d goroutines", rep.Config.Concurrency),
			num(c.PerSecond, 0)+" POSTs/s", "1.00", "")
		row("  client CPU per POST", num(c.CPUPerDelivery, 3)+" ms", "", "")
	}
	throughput := func(label, targetName string, t *Throughput) {
		if t == nil {
			return
		}
		row(label, num(t.PerSecond, 0)+" deliveries/s", ratio(t), goal(targetName))
		row("  publishing", num(t.PublishPerSecond, 0)+" events/s", "", "")
		row("  server CPU per delivery", num(t.CPUPerDelivery, 3)+" ms", "", "")
		row("  peak RSS / heap in use", fmt.Sprintf("%s / %s MiB", num(mib(t.Memory.PeakRSSBytes), 1), num(mib(t.Memory.PeakHeapInuseBytes), 1)), "", "")
	}
	throughput(fmt.Sprintf("fan-out 1: %s events, batches of %d, %d publishers", num(float64(rep.Config.Events), 0), rep.Config.BatchSize, rep.Config.Publishers),
		"fan-out 1 throughput", rep.Fanout1)
	throughput(fmt.Sprintf("fan-out 1: %s events, one per request, %d publishers", num(float64(rep.Config.Events), 0), rep.Config.Publishers),
		"fan-out 1 throughput, one event per request", rep.Fanout1Single)
	throughput(fmt.Sprintf("fan-out %s: %d events, one per request", num(float64(rep.Config.Subscriptions), 0), rep.Config.FanoutEvents),
		"fan-out 1,000 throughput", rep.Fanout1000)
	for _, l := range []*Latency{rep.Latency, rep.LatencyHigh, rep.LatencyHanging} {
		if l == nil {
			continue
		}
		suffix, label := "", ""
		if l == rep.LatencyHanging {
			suffix, label = " next to a hanging subscriber", ", a hanging subscriber beside it"
		}
		p50 := fmt.Sprintf("latency p50 at %d/s%s", l.Rate, suffix)
		p99 := fmt.Sprintf("latency p99 at %d/s%s", l.Rate, suffix)
		row(fmt.Sprintf("latency, publish to arrival, %d events/s for %s s%s: p50", l.Rate, num(rep.Config.DurationSeconds, 0), label),
			num(l.Delivery.P50Ms, 2)+" ms", "", goal(p50))
		row("  p99", num(l.Delivery.P99Ms, 2)+" ms", "", goal(p99))
		row("  max", num(l.Delivery.MaxMs, 2)+" ms", "", "")
		row("  publish round trip p50 / p99", fmt.Sprintf("%s / %s ms", num(l.Publish.P50Ms, 2), num(l.Publish.P99Ms, 2)), "", "")
		row("  server CPU per delivery", num(l.CPUPerDelivery, 3)+" ms", "", "")
	}
	if m := rep.Memory; m.PeakRSSBytes > 0 || m.Samples > 0 {
		row("peak RSS of the server (VmHWM)", num(mib(m.PeakRSSBytes), 1)+" MiB", "", goal("peak RSS"))
		row("peak heap in use / heap from the OS", fmt.Sprintf("%s / %s MiB", num(mib(m.PeakHeapInuseBytes), 1), num(mib(m.PeakHeapSysBytes), 1)), "", "")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, p := range rep.Profiles {
		fmt.Fprintf(w, "\ncpu profile: %s (go tool pprof -top %s)", p, p)
	}
	if len(rep.Profiles) > 0 {
		fmt.Fprintln(w)
	}
	if len(rep.Problems) > 0 {
		fmt.Fprintf(w, "\nproblems (the figures above do not measure what they should):\n")
		for _, p := range rep.Problems {
			fmt.Fprintf(w, "  - %s\n", p)
		}
	}
	if rep.Memory.Error != "" {
		fmt.Fprintf(w, "\nmemory: %s\n", rep.Memory.Error)
	}
	return nil
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

// num formats v with the given decimals and thousands separators.
func num(v float64, decimals int) string {
	s := strconv.FormatFloat(math.Abs(v), 'f', decimals, 64)
	whole, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	if v < 0 {
		b.WriteByte('-')
	}
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if frac != "" {
		b.WriteByte('.')
		b.WriteString(frac)
	}
	return b.String()
}
