package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// CeilingClientFlag makes `triggerd bench` run only the ceiling client: the
// bench starts itself with it, so the plain client runs in a process of its
// own, as triggerd does. Its value is the URL to post to; --concurrency and
// --ceiling-requests size the run and --phase-timeout bounds it. The result
// is one JSON CeilingClientResult on stdout.
const CeilingClientFlag = "--ceiling-client"

// CeilingClientResult is what the ceiling client process reports.
type CeilingClientResult struct {
	Requests   int     `json:"requests"`
	Errors     int     `json:"errors"`
	Seconds    float64 `json:"seconds"`
	FirstError string  `json:"firstError,omitempty"`
}

// orderPayload is the notification body of every phase, ceiling included: a
// small web-store order (about 120 bytes) valid against the demo catalog's
// order schema.
func orderPayload(n int) []byte {
	return fmt.Appendf(nil, `{"id":%d,"order_key":"wc_order_%d","status":"processing","currency":"EUR","date_created":"2026-11-27T12:00:00Z","total":42.5}`, n%(1<<31), n)
}

// ceilingSignature stands in for a webhook-signature header, so the ceiling
// client's requests are as large as triggerd's.
const ceilingSignature = "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4="

// RunCeilingClient posts the order payload to url from concurrency
// goroutines over keep-alive connections until requests have been sent or
// maxDuration has passed: a plain net/http client, the most a sender can do
// against this receiver on this machine.
func RunCeilingClient(ctx context.Context, url string, concurrency, requests int, maxDuration time.Duration) CeilingClientResult {
	tr := &http.Transport{Proxy: nil, MaxIdleConns: concurrency, MaxIdleConnsPerHost: concurrency, IdleConnTimeout: time.Minute}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	ctx, cancel := context.WithTimeout(ctx, maxDuration)
	defer cancel()

	var (
		next     atomic.Int64
		done     atomic.Int64
		failed   atomic.Int64
		firstErr sync.Once
		errText  string
		wg       sync.WaitGroup
	)
	start := time.Now()
	for range concurrency {
		wg.Go(func() {
			for ctx.Err() == nil {
				n := int(next.Add(1))
				if n > requests {
					return
				}
				if err := postOnce(ctx, client, url, n); err != nil {
					if ctx.Err() != nil {
						return
					}
					failed.Add(1)
					firstErr.Do(func() { errText = err.Error() })
					continue
				}
				done.Add(1)
			}
		})
	}
	wg.Wait()
	return CeilingClientResult{
		Requests:   int(done.Load()),
		Errors:     int(failed.Load()),
		Seconds:    round3(time.Since(start).Seconds()),
		FirstError: errText,
	}
}

func postOnce(ctx context.Context, client *http.Client, url string, n int) error {
	body := orderPayload(n)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "triggerd-bench")
	req.Header.Set("webhook-id", "ceil_"+strconv.Itoa(n))
	req.Header.Set("webhook-timestamp", strconv.FormatInt(time.Now().Unix(), 10))
	req.Header.Set("webhook-signature", ceilingSignature)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("receiver answered %s", resp.Status)
	}
	return nil
}

// runCeiling starts the ceiling client as a process of its own and measures
// its arrivals at the receiver.
func (r *run) runCeiling(ctx context.Context) (*Throughput, error) {
	sink := r.rcv.Sink(PhaseCeiling)
	sink.Expect(r.cfg.CeilingRequests)
	cmd := exec.CommandContext(ctx, r.cfg.Executable, "bench", CeilingClientFlag, r.rcv.URL()+"/"+PhaseCeiling+"/",
		"--concurrency", strconv.Itoa(r.cfg.Concurrency),
		"--ceiling-requests", strconv.Itoa(r.cfg.CeilingRequests),
		"--phase-timeout", r.cfg.PhaseTimeout.String())
	cmd.SysProcAttr = childProcAttr()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("bench: ceiling client: %w: %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	var res CeilingClientResult
	if err := json.Unmarshal(out, &res); err != nil {
		return nil, fmt.Errorf("bench: ceiling client: decode its result %q: %w", out, err)
	}
	cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	arrived, dups, first, last := sink.Count()
	t := &Throughput{
		Want:           r.cfg.CeilingRequests,
		Arrived:        arrived,
		Duplicates:     dups,
		Seconds:        round3(last.Sub(first).Seconds()),
		PerSecond:      perSecond(arrived, last.Sub(first)),
		RatioToCeiling: 1,
		CPUSeconds:     round3(cpu.Seconds()),
		CPUPerDelivery: perDeliveryMs(cpu, arrived),
		Complete:       arrived == r.cfg.CeilingRequests,
	}
	if res.Errors > 0 {
		t.Problems = append(t.Problems, fmt.Sprintf("%d requests failed, first: %s", res.Errors, res.FirstError))
	}
	if !t.Complete {
		t.Problems = append(t.Problems, fmt.Sprintf("%d of %d requests arrived", arrived, r.cfg.CeilingRequests))
	}
	fmt.Fprintf(r.log, "bench: ceiling: %d POSTs in %.2f s from a separate process, %d goroutines: %.0f/s\n",
		arrived, t.Seconds, r.cfg.Concurrency, t.PerSecond)
	return t, nil
}
