package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Receiver is the subscriber every phase posts to: an HTTP server on
// loopback that answers 200 at once and notes when each notification arrived.
// The ceiling client and triggerd hit the same handler, so the receiver's own
// cost is the same on both sides of every ratio.
//
// Paths are /<sink>/…: the first segment picks the Sink that records the
// arrival, so a late or repeated delivery of one phase is never counted in
// another.
type Receiver struct {
	ln    net.Listener
	srv   *http.Server
	sinks map[string]*Sink
	stray atomic.Int64
}

// NewReceiver listens on 127.0.0.1 with one sink per name.
func NewReceiver(names ...string) (*Receiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("bench: receiver: %w", err)
	}
	r := &Receiver{ln: ln, sinks: make(map[string]*Sink, len(names))}
	for _, n := range names {
		r.sinks[n] = newSink()
	}
	r.srv = &http.Server{Handler: http.HandlerFunc(r.serve), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = r.srv.Serve(ln) }()
	return r, nil
}

// URL is the receiver's base URL, without a trailing slash.
func (r *Receiver) URL() string { return "http://" + r.ln.Addr().String() }

// Sink returns the sink of a name given to NewReceiver.
func (r *Receiver) Sink(name string) *Sink { return r.sinks[name] }

// Stray counts requests to a path that belongs to no sink.
func (r *Receiver) Stray() int64 { return r.stray.Load() }

// Close stops the receiver.
func (r *Receiver) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("bench: stop receiver: %w", err)
	}
	return nil
}

func (r *Receiver) serve(w http.ResponseWriter, req *http.Request) {
	now := time.Now()
	_, _ = io.Copy(io.Discard, req.Body)
	name, _, _ := strings.Cut(strings.TrimPrefix(req.URL.Path, "/"), "/")
	s := r.sinks[name]
	if s == nil {
		r.stray.Add(1)
	} else {
		s.record(req.Header.Get("Webhook-Id"), req.URL.Path, now)
	}
	// 200, not 404: a 404 would make triggerd deactivate the subscription.
	w.WriteHeader(http.StatusOK)
}

// arrival identifies one notification: a webhook-id at one callback path.
// Fan-out sends the same webhook-id to many paths.
type arrival struct{ id, path string }

// Sink records the arrivals of one phase.
type Sink struct {
	mu         sync.Mutex
	want       int
	seen       map[arrival]time.Time
	duplicates int
	first      time.Time
	last       time.Time
	done       chan struct{}
	closed     bool
}

func newSink() *Sink {
	return &Sink{seen: map[arrival]time.Time{}, done: make(chan struct{})}
}

func (s *Sink) record(id, path string, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := arrival{id, path}
	if _, ok := s.seen[k]; ok {
		s.duplicates++
		return
	}
	s.seen[k] = at
	if s.first.IsZero() {
		s.first = at
	}
	s.last = at
	s.check()
}

// Expect sets how many distinct arrivals complete the phase; Done closes
// once that many have arrived (at once, if they already have).
func (s *Sink) Expect(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.want = n
	s.check()
}

func (s *Sink) check() {
	if !s.closed && s.want > 0 && len(s.seen) >= s.want {
		s.closed = true
		close(s.done)
	}
}

// Done is closed when the expected number of arrivals is reached.
func (s *Sink) Done() <-chan struct{} { return s.done }

// Count returns the distinct arrivals, the repeated ones, and the times of
// the first and the latest distinct arrival.
func (s *Sink) Count() (distinct, duplicates int, first, last time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.seen), s.duplicates, s.first, s.last
}

// Arrived returns when the notification with this webhook-id reached path.
func (s *Sink) Arrived(id, path string) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.seen[arrival{id, path}]
	return t, ok
}
