package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// userHZ is the unit of utime and stime in /proc/<pid>/stat. Linux exposes
// USER_HZ = 100 to user space on every architecture Go supports.
const userHZ = 100

// procMemory reads the resident set size and its high-water mark (VmRSS,
// VmHWM) of a process from /proc/<pid>/status, in bytes. VmHWM is the peak
// the kernel saw, so no sample can miss it.
func procMemory(pid int) (rss, hwm uint64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, fmt.Errorf("read memory of process %d: %w", pid, err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), ":")
		if !ok || (name != "VmRSS" && name != "VmHWM") {
			continue
		}
		kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("read memory of process %d: %s: %w", pid, name, err)
		}
		if name == "VmRSS" {
			rss = kb << 10
		} else {
			hwm = kb << 10
		}
	}
	if hwm == 0 {
		return 0, 0, fmt.Errorf("read memory of process %d: no VmHWM in /proc/%d/status", pid, pid)
	}
	return rss, hwm, nil
}

// procCPU is the CPU time (user + system, every thread) a process has used,
// from /proc/<pid>/stat.
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read cpu time of process %d: %w", pid, err)
	}
	// The command name (field 2) is in parentheses and may hold spaces; the
	// fields after the last ')' start with field 3, the state.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("read cpu time of process %d: malformed /proc/%d/stat", pid, pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("read cpu time of process %d: malformed /proc/%d/stat", pid, pid)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64) // field 14
	stime, err2 := strconv.ParseInt(f[12], 10, 64) // field 15
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("read cpu time of process %d: %w", pid, err)
	}
	return time.Duration(utime+stime) * time.Second / userHZ, nil
}

// Memory is the server's memory over the run: the kernel's resident peak and
// the largest Go heap figures sampled from expvar's memstats.
type Memory struct {
	// PeakRSSBytes is VmHWM, read just before the server is stopped (or a
	// larger VmRSS sample).
	PeakRSSBytes uint64 `json:"peakRSSBytes"`
	// PeakHeapInuseBytes and PeakHeapSysBytes are the largest HeapInuse and
	// HeapSys sampled from /debug/vars.
	PeakHeapInuseBytes uint64 `json:"peakHeapInuseBytes"`
	PeakHeapSysBytes   uint64 `json:"peakHeapSysBytes"`
	// Samples is how many memstats samples were taken.
	Samples int `json:"samples"`
	// Error says why a figure is missing (no /proc on this system, say).
	Error string `json:"error,omitempty"`
}

// PhaseMemory is the largest resident size and heap sampled during a phase.
type PhaseMemory struct {
	PeakRSSBytes       uint64 `json:"peakRSSBytes"`
	PeakHeapInuseBytes uint64 `json:"peakHeapInuseBytes"`
}

// sampler polls the server's memory while the phases run.
type sampler struct {
	pid      int
	varsURL  string
	client   *http.Client
	interval time.Duration

	mu      sync.Mutex
	phase   string
	byPhase map[string]*PhaseMemory
	total   Memory
}

func newSampler(pid int, debugAddr string, interval time.Duration) *sampler {
	return &sampler{
		pid:      pid,
		varsURL:  "http://" + debugAddr + "/debug/vars",
		client:   &http.Client{Timeout: 5 * time.Second},
		interval: interval,
		byPhase:  map[string]*PhaseMemory{},
	}
}

// run samples until ctx ends.
func (s *sampler) run(ctx context.Context) {
	t := time.NewTicker(s.interval)
	defer t.Stop()
	for {
		s.sample(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// setPhase attributes the following samples to a phase ("" for none).
func (s *sampler) setPhase(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.phase = name
	if name != "" && s.byPhase[name] == nil {
		s.byPhase[name] = &PhaseMemory{}
	}
}

func (s *sampler) phaseMemory(name string) PhaseMemory {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m := s.byPhase[name]; m != nil {
		return *m
	}
	return PhaseMemory{}
}

func (s *sampler) sample(ctx context.Context) {
	rss, _, rssErr := procMemory(s.pid)
	inuse, sys, heapErr := s.heap(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	pm := s.byPhase[s.phase]
	if rssErr == nil {
		s.total.PeakRSSBytes = max(s.total.PeakRSSBytes, rss)
		if pm != nil {
			pm.PeakRSSBytes = max(pm.PeakRSSBytes, rss)
		}
	}
	if heapErr != nil {
		if ctx.Err() == nil && s.total.Error == "" {
			s.total.Error = heapErr.Error()
		}
		return
	}
	s.total.Samples++
	s.total.PeakHeapInuseBytes = max(s.total.PeakHeapInuseBytes, inuse)
	s.total.PeakHeapSysBytes = max(s.total.PeakHeapSysBytes, sys)
	if pm != nil {
		pm.PeakHeapInuseBytes = max(pm.PeakHeapInuseBytes, inuse)
	}
}

func (s *sampler) heap(ctx context.Context) (inuse, sys uint64, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.varsURL, nil)
	if err != nil {
		return 0, 0, err
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, 0, fmt.Errorf("sample memstats: %w", err)
	}
	defer resp.Body.Close()
	var vars struct {
		Memstats struct {
			HeapInuse uint64
			HeapSys   uint64
		} `json:"memstats"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&vars); err != nil {
		return 0, 0, fmt.Errorf("sample memstats: %w", err)
	}
	return vars.Memstats.HeapInuse, vars.Memstats.HeapSys, nil
}

// finish records the kernel's peak and returns the totals. Call it while the
// server still runs: /proc forgets a process once it exits.
func (s *sampler) finish() Memory {
	_, hwm, err := procMemory(s.pid)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.total.Error = strings.TrimPrefix(s.total.Error+"; "+err.Error(), "; ")
	}
	// The kernel folds per-thread RSS counters into VmHWM lazily, so a
	// sample of VmRSS can exceed it slightly: the peak is the larger.
	s.total.PeakRSSBytes = max(s.total.PeakRSSBytes, hwm)
	return s.total
}
