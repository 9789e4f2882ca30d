package poll

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/triggerd/triggerd/internal/periodic"
)

const (
	// RetentionDefault is how long events stay in the log for polling
	// triggers (and for deliveries still pending).
	RetentionDefault = 7 * 24 * time.Hour

	// PruneIntervalDefault is how often the log is pruned.
	PruneIntervalDefault = time.Hour

	// pruneBatch is how many events one pruning transaction deletes, so a
	// backlog never holds SQLite's writer, or PostgreSQL locks, for long.
	pruneBatch = 1000
)

// Pruner deletes events older than the retention, periodically. It is a
// ticker owned by the publisher rather than a job of the delivery queue:
// the queue need not know the event log exists, and on SQLite there is one
// process. On PostgreSQL every node runs one, and the store lets one node
// prune at a time (an advisory lock the others do not wait for).
type Pruner struct {
	Store     Store
	Retention time.Duration
	// Interval is the time between runs; zero means PruneIntervalDefault.
	Interval time.Duration
	Logger   *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	runner periodic.Runner
}

// Prune deletes every event older than the retention that nothing waits
// for, in batches, and returns how many it deleted.
func (p *Pruner) Prune(ctx context.Context) (int, error) {
	now := time.Now
	if p.Now != nil {
		now = p.Now
	}
	if p.Retention <= 0 {
		return 0, errors.New("prune events: retention must be positive")
	}
	cutoff := now().Add(-p.Retention)
	total := 0
	for {
		n, err := p.Store.PruneEvents(ctx, cutoff, pruneBatch)
		total += n
		if err != nil {
			return total, err
		}
		if n < pruneBatch {
			return total, nil
		}
	}
}

// Start prunes at once and then every Interval, until Stop.
func (p *Pruner) Start(ctx context.Context) error {
	interval := cmp.Or(p.Interval, PruneIntervalDefault)
	logger := p.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	err := p.runner.Start(ctx, interval, func(ctx context.Context) {
		n, err := p.Prune(ctx)
		switch {
		case ctx.Err() != nil:
		case err != nil:
			logger.Error("pruning the event log failed; retrying at the next interval", "error", err, "interval", interval)
		case n > 0:
			logger.Info("pruned the event log", "events", n, "retention", p.Retention)
		}
	})
	if err != nil {
		return fmt.Errorf("prune events: %w", err)
	}
	return nil
}

// Stop ends the periodic pruning and waits for a run in progress, until ctx
// ends.
func (p *Pruner) Stop(ctx context.Context) error {
	if err := p.runner.Stop(ctx); err != nil {
		return fmt.Errorf("prune events: stop: %w", err)
	}
	return nil
}
