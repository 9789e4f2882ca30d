// Package periodic runs a piece of housekeeping at once and then at a fixed
// interval, in a goroutine of its own, until stopped. The event log's pruner
// and the attempts' upkeep are such tickers: owned by the publisher, not by
// the delivery queue, because the queue need not know about either.
package periodic

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// ErrStarted is returned by Start on a Runner already running.
var ErrStarted = errors.New("already started")

// Runner runs one function periodically. The zero value is ready to use.
type Runner struct {
	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
}

// Start runs fn at once and then every interval, until Stop. fn's context
// ends at Stop; the caller's ctx only carries values (its cancellation does
// not stop the runs, Stop does), so a signal context cannot cut a run.
func (r *Runner) Start(ctx context.Context, interval time.Duration, fn func(ctx context.Context)) error {
	if interval <= 0 {
		return fmt.Errorf("periodic: interval %s must be positive", interval)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cancel != nil {
		return ErrStarted
	}
	ctx, r.cancel = context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	r.done = done
	go func() {
		defer close(done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			fn(ctx)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return nil
}

// Stop ends the periodic runs and waits for one in progress, until ctx
// ends. Stopping a Runner that is not running does nothing.
func (r *Runner) Stop(ctx context.Context) error {
	r.mu.Lock()
	cancel, done := r.cancel, r.done
	r.cancel, r.done = nil, nil
	r.mu.Unlock()
	if cancel == nil {
		return nil
	}
	cancel()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
