package bench

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// benchTrigger is the demo catalog's trigger every phase publishes to; it has
// no filters, so every subscription receives every event.
const benchTrigger = "order.created"

// eventsBody is a POST /v1/events body of count orders numbered from first:
// an array, or a single object when one is asked for (the "one by one" form).
func eventsBody(first, count int) []byte {
	var b bytes.Buffer
	if count > 1 {
		b.WriteByte('[')
	}
	for i := range count {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"type":"` + benchTrigger + `","data":`)
		b.Write(orderPayload(first + i))
		b.WriteByte('}')
	}
	if count > 1 {
		b.WriteByte(']')
	}
	return b.Bytes()
}

// waitArrivals waits until the sink has every expected arrival or the
// deadline passes; the caller counts what is missing.
func waitArrivals(ctx context.Context, sink *Sink) {
	select {
	case <-sink.Done():
	case <-ctx.Done():
	}
}

// serverCPU reads the server's CPU time; a failure (no /proc) reads as 0 and
// is reported once.
func (r *run) serverCPU() time.Duration {
	d, err := procCPU(r.srv.pid())
	if err != nil {
		r.cpuErr.Do(func() { r.report.Problems = append(r.report.Problems, "no CPU figures: "+err.Error()) })
	}
	return d
}

// profile starts fetching a CPU profile of the server when the phase is one
// to profile. The returned function waits for it and records the file.
func (r *run) profile(ctx context.Context, phase string) func() {
	if r.cfg.CPUProfileDir == "" || !slices.Contains(r.cfg.ProfilePhases, phase) {
		return func() {}
	}
	type result struct {
		path string
		err  error
	}
	done := make(chan result, 1)
	go func() {
		path := filepath.Join(r.cfg.CPUProfileDir, "triggerd-"+phase+".pprof")
		done <- result{path, fetchProfile(ctx, r.srv.debugAddr, r.cfg.ProfileSeconds, path)}
	}()
	return func() {
		res := <-done
		if res.err != nil {
			r.report.Problems = append(r.report.Problems, fmt.Sprintf("%s: cpu profile: %v", phase, res.err))
			return
		}
		r.report.Profiles = append(r.report.Profiles, res.path)
		fmt.Fprintf(r.log, "bench: %s: cpu profile of the server (%d s from the phase's start) in %s\n", phase, r.cfg.ProfileSeconds, res.path)
	}
}

func fetchProfile(ctx context.Context, debugAddr string, seconds int, path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	url := "http://" + debugAddr + "/debug/pprof/profile?seconds=" + strconv.Itoa(seconds)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := (&http.Client{Timeout: time.Duration(seconds)*time.Second + 30*time.Second}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %s: %s", url, resp.Status, bytes.TrimSpace(buf.Bytes()))
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// runFanout1 publishes Events events to one subscription, size per request
// from Publishers concurrent publishers, as the named phase.
func (r *run) runFanout1(ctx context.Context, key, phase string, size int) (*Throughput, error) {
	path := "/" + phase + "/"
	sink := r.rcv.Sink(phase)
	if _, err := r.api.register(ctx, key, benchTrigger, r.rcv.URL()+path); err != nil {
		return nil, err
	}
	n := r.cfg.Events
	batches := (n + size - 1) / size
	sink.Expect(n)
	ids := make([][]published, batches)

	pctx, cancel := context.WithTimeout(ctx, r.cfg.PhaseTimeout)
	defer cancel()
	profiled := r.profile(ctx, phase)
	cpu0 := r.serverCPU()
	start := time.Now()
	next := make(chan int)
	g, gctx := errgroup.WithContext(pctx)
	g.Go(func() error {
		defer close(next)
		for b := range batches {
			select {
			case next <- b:
			case <-gctx.Done():
				return nil
			}
		}
		return nil
	})
	for range r.cfg.Publishers {
		g.Go(func() error {
			for b := range next {
				count := min(size, n-b*size)
				evs, err := r.api.publish(gctx, key, eventsBody(b*size, count), count, 1)
				if err != nil {
					return err
				}
				ids[b] = evs
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	published := time.Since(start)
	waitArrivals(pctx, sink)
	cpu := r.serverCPU() - cpu0
	profiled()

	t := r.throughput(sink, n, start, cpu, phase)
	t.PublishSeconds = round3(published.Seconds())
	t.PublishPerSecond = perSecond(n, published)
	missing := 0
	for _, batch := range ids {
		for _, e := range batch {
			if _, ok := sink.Arrived(e.ID, path); !ok {
				missing++
			}
		}
	}
	r.checkComplete(t, missing)
	fmt.Fprintf(r.log, "bench: %s: %d deliveries in %.2f s: %.0f/s (published in %.2f s)\n",
		phase, t.Arrived, t.Seconds, t.PerSecond, t.PublishSeconds)
	return t, nil
}

// runFanoutMany subscribes Subscriptions callbacks to one trigger and
// publishes FanoutEvents events one by one.
func (r *run) runFanoutMany(ctx context.Context, key string) (*Throughput, error) {
	subs, events := r.cfg.Subscriptions, r.cfg.FanoutEvents
	sink := r.rcv.Sink(PhaseFanout1000)
	pathOf := func(i int) string { return "/" + PhaseFanout1000 + "/" + strconv.Itoa(i) }

	registered := time.Now()
	next := make(chan int)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		defer close(next)
		for i := range subs {
			select {
			case next <- i:
			case <-gctx.Done():
				return nil
			}
		}
		return nil
	})
	for range registrationWorkers {
		g.Go(func() error {
			for i := range next {
				if _, err := r.api.register(gctx, key, benchTrigger, r.rcv.URL()+pathOf(i)); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	fmt.Fprintf(r.log, "bench: %s: %d subscriptions registered in %.2f s\n", PhaseFanout1000, subs, time.Since(registered).Seconds())

	sink.Expect(subs * events)
	pctx, cancel := context.WithTimeout(ctx, r.cfg.PhaseTimeout)
	defer cancel()
	profiled := r.profile(ctx, PhaseFanout1000)
	cpu0 := r.serverCPU()
	start := time.Now()
	ids := make([]string, 0, events)
	for i := range events {
		evs, err := r.api.publish(pctx, key, eventsBody(i, 1), 1, subs)
		if err != nil {
			return nil, err
		}
		ids = append(ids, evs[0].ID)
	}
	published := time.Since(start)
	waitArrivals(pctx, sink)
	cpu := r.serverCPU() - cpu0
	profiled()

	t := r.throughput(sink, subs*events, start, cpu, PhaseFanout1000)
	t.PublishSeconds = round3(published.Seconds())
	t.PublishPerSecond = perSecond(events, published)
	missing := 0
	for _, id := range ids {
		for i := range subs {
			if _, ok := sink.Arrived(id, pathOf(i)); !ok {
				missing++
			}
		}
	}
	r.checkComplete(t, missing)
	fmt.Fprintf(r.log, "bench: %s: %d deliveries (%d events × %d subscriptions) in %.2f s: %.0f/s\n",
		PhaseFanout1000, t.Arrived, events, subs, t.Seconds, t.PerSecond)
	return t, nil
}

func (r *run) throughput(sink *Sink, want int, start time.Time, cpu time.Duration, phase string) *Throughput {
	arrived, dups, _, last := sink.Count()
	elapsed := last.Sub(start)
	return &Throughput{
		Want:           want,
		Arrived:        arrived,
		Duplicates:     dups,
		Seconds:        round3(elapsed.Seconds()),
		PerSecond:      perSecond(arrived, elapsed),
		CPUSeconds:     round3(cpu.Seconds()),
		CPUPerDelivery: perDeliveryMs(cpu, arrived),
		Memory:         r.sampler.phaseMemory(phase),
	}
}

func (r *run) checkComplete(t *Throughput, missing int) {
	t.Complete = missing == 0
	if missing > 0 {
		t.Problems = append(t.Problems, fmt.Sprintf("%d of %d deliveries did not arrive within %s", missing, t.Want, r.cfg.PhaseTimeout))
	}
	if t.Duplicates > 0 {
		t.Problems = append(t.Problems, fmt.Sprintf("%d deliveries arrived more than once", t.Duplicates))
	}
}

// runLatency offers rate events per second for Duration, one per request,
// on a fixed schedule that never waits for triggerd (open loop), and
// measures each event from its request to its arrival, as the named phase.
func (r *run) runLatency(ctx context.Context, key, phase string, rate int, hanging bool) (*Latency, error) {
	path := "/" + phase + "/"
	sink := r.rcv.Sink(phase)
	if _, err := r.api.register(ctx, key, benchTrigger, r.rcv.URL()+path); err != nil {
		return nil, err
	}
	fanOut := 1
	if hanging {
		fanOut = 2
		// A subscriber on the same trigger that accepts every connection
		// and never answers: the measured subscriber must not notice it.
		h, err := startHangingReceiver()
		if err != nil {
			return nil, err
		}
		defer h.close()
		if _, err := r.api.register(ctx, key, benchTrigger, h.url+"/hang"); err != nil {
			return nil, err
		}
	}
	total := max(1, int(float64(rate)*r.cfg.Duration.Seconds()))
	period := time.Second / time.Duration(rate)
	var (
		sent   = make([]time.Time, total) // when the request left
		acked  = make([]time.Duration, total)
		lag    = make([]time.Duration, total)
		ids    = make([]string, total)
		jobs   = make(chan int, total) // room for all: the pacer never blocks
		mu     sync.Mutex
		failed []error
	)
	pctx, cancel := context.WithTimeout(ctx, r.cfg.Duration+r.cfg.PhaseTimeout)
	defer cancel()
	profiled := r.profile(ctx, phase)
	cpu0 := r.serverCPU()
	start := time.Now()
	var wg sync.WaitGroup
	for range max(latencyPublishers, rate*latencyInFlightMs/1000) {
		wg.Go(func() {
			for i := range jobs {
				t := time.Now()
				sent[i] = t
				lag[i] = t.Sub(start.Add(time.Duration(i) * period))
				evs, err := r.api.publish(pctx, key, eventsBody(i, 1), 1, fanOut)
				acked[i] = time.Since(t)
				if err != nil {
					mu.Lock()
					failed = append(failed, err)
					mu.Unlock()
					continue
				}
				ids[i] = evs[0].ID
			}
		})
	}
	for i := range total {
		if d := time.Until(start.Add(time.Duration(i) * period)); d > 0 {
			select {
			case <-time.After(d):
			case <-pctx.Done():
			}
		}
		if pctx.Err() != nil {
			break
		}
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	offered := time.Since(start)
	accepted := 0
	for _, id := range ids {
		if id != "" {
			accepted++
		}
	}
	sink.Expect(accepted)
	waitArrivals(pctx, sink)
	cpu := r.serverCPU() - cpu0
	profiled()

	var delivered, publish, lags []time.Duration
	missing := 0
	for i, id := range ids {
		if id == "" {
			continue
		}
		publish = append(publish, acked[i])
		lags = append(lags, max(0, lag[i]))
		at, ok := sink.Arrived(id, path)
		if !ok {
			missing++
			continue
		}
		delivered = append(delivered, at.Sub(sent[i]))
	}
	arrived, dups, _, _ := sink.Count()
	l := &Latency{
		Rate:           rate,
		Seconds:        round3(offered.Seconds()),
		Want:           total,
		Arrived:        arrived,
		Duplicates:     dups,
		Delivery:       summarize(delivered),
		Publish:        summarize(publish),
		SendLag:        summarize(lags),
		CPUSeconds:     round3(cpu.Seconds()),
		CPUPerDelivery: perDeliveryMs(cpu, arrived),
		Memory:         r.sampler.phaseMemory(phase),
	}
	l.Complete = missing == 0 && len(failed) == 0 && accepted == total
	if len(failed) > 0 {
		l.Problems = append(l.Problems, fmt.Sprintf("%d of %d publish requests failed, first: %v", len(failed), total, failed[0]))
	}
	if accepted+len(failed) < total {
		l.Problems = append(l.Problems, fmt.Sprintf("only %d of %d events were sent within %s", accepted+len(failed), total, r.cfg.Duration+r.cfg.PhaseTimeout))
	}
	if missing > 0 {
		l.Problems = append(l.Problems, fmt.Sprintf("%d of %d deliveries did not arrive within %s", missing, accepted, r.cfg.PhaseTimeout))
	}
	if dups > 0 {
		l.Problems = append(l.Problems, fmt.Sprintf("%d deliveries arrived more than once", dups))
	}
	fmt.Fprintf(r.log, "bench: %s: %d events at %d/s: p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
		phase, total, rate, l.Delivery.P50Ms, l.Delivery.P99Ms, l.Delivery.MaxMs)
	return l, nil
}
