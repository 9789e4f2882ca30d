// Package upkeep is the periodic care of the attempt record, of failing
// subscriptions and of console sessions: attempts past their retention are
// pruned in small batches, a subscription whose attempts have all failed for
// too long is turned inactive, so it stops holding workers and filling the
// queue, and expired console sessions are deleted.
//
// Like the event log's pruner it is a ticker owned by the publisher, not a
// job of the delivery queue. On PostgreSQL every node runs one; both of its
// steps are idempotent (a conditional update, deletes by id), so nodes
// running them at once only repeat each other's work.
package upkeep

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/triggerd/triggerd/internal/periodic"
	"github.com/triggerd/triggerd/internal/store"
)

const (
	// AttemptRetentionDefault is how long attempt records are kept: long
	// enough to look back over a month of a subscription's deliveries.
	AttemptRetentionDefault = 30 * 24 * time.Hour

	// DisableAfterDefault is how long a subscription's attempts may all
	// fail before it turns inactive: five days, past the default retry
	// schedule (about 80 hours) and a long weekend's outage. Svix disables
	// endpoints after five days of failures too.
	DisableAfterDefault = 120 * time.Hour

	// IntervalDefault is how often upkeep runs.
	IntervalDefault = time.Minute

	// pruneBatch is how many rows one deleting statement removes, so a
	// backlog never holds SQLite's writer, or PostgreSQL locks, for long.
	pruneBatch = 1000
)

// Store is what upkeep needs of the store. sqlstore.Store satisfies it.
type Store interface {
	// PruneAttempts deletes up to limit attempts started before cutoff.
	PruneAttempts(ctx context.Context, cutoff time.Time, limit int) (int, error)
	// DisableFailing turns inactive (reason "failing") the active
	// subscriptions whose attempts have all failed since failingSince or
	// earlier, and returns them.
	DisableFailing(ctx context.Context, failingSince, now time.Time) ([]store.Subscription, error)
	// PruneSessions deletes up to limit console sessions that expired
	// before now.
	PruneSessions(ctx context.Context, now time.Time, limit int) (int, error)
}

// Upkeep runs the pruning and the auto-disabling periodically.
type Upkeep struct {
	Store Store
	// AttemptRetention is how long attempts are kept; 0 keeps them for
	// ever.
	AttemptRetention time.Duration
	// DisableAfter is how long a subscription may fail before it turns
	// inactive; 0 never disables one.
	DisableAfter time.Duration
	// Interval is the time between runs; 0 means IntervalDefault.
	Interval time.Duration
	Logger   *slog.Logger
	// OnDisabled, when set, hears of every subscription auto-disable
	// turned inactive.
	OnDisabled func(store.Subscription)
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	runner periodic.Runner
}

func (u *Upkeep) now() time.Time {
	if u.Now != nil {
		return u.Now()
	}
	return time.Now()
}

func (u *Upkeep) logger() *slog.Logger {
	if u.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return u.Logger
}

// PruneAttempts deletes every attempt older than the retention, in batches,
// and returns how many it deleted.
func (u *Upkeep) PruneAttempts(ctx context.Context) (int, error) {
	if u.AttemptRetention <= 0 {
		return 0, nil
	}
	cutoff := u.now().Add(-u.AttemptRetention)
	return inBatches(func() (int, error) { return u.Store.PruneAttempts(ctx, cutoff, pruneBatch) })
}

// inBatches calls prune, which deletes up to pruneBatch rows, until a call
// deletes fewer, and returns how many they deleted in all.
func inBatches(prune func() (int, error)) (int, error) {
	total := 0
	for {
		n, err := prune()
		total += n
		if err != nil || n < pruneBatch {
			return total, err
		}
	}
}

// DisableFailing turns inactive the subscriptions that failed for longer
// than DisableAfter, logging each state change.
func (u *Upkeep) DisableFailing(ctx context.Context) ([]store.Subscription, error) {
	if u.DisableAfter <= 0 {
		return nil, nil
	}
	now := u.now()
	subs, err := u.Store.DisableFailing(ctx, now.Add(-u.DisableAfter), now)
	for _, s := range subs {
		u.logger().Warn("subscription state changed", "subscription", s.ID, "trigger", s.Trigger,
			"state", store.SubscriptionInactive, "reason", "failing", "failing_for_at_least", u.DisableAfter.String())
		if u.OnDisabled != nil {
			u.OnDisabled(s)
		}
	}
	return subs, err
}

// PruneSessions deletes every expired console session, in batches, and
// returns how many it deleted. An expired session is refused anyway; this
// keeps the table as small as the sessions in use.
func (u *Upkeep) PruneSessions(ctx context.Context) (int, error) {
	now := u.now()
	return inBatches(func() (int, error) { return u.Store.PruneSessions(ctx, now, pruneBatch) })
}

// Run does one round of the three.
func (u *Upkeep) Run(ctx context.Context) error {
	_, derr := u.DisableFailing(ctx)
	n, perr := u.PruneAttempts(ctx)
	if n > 0 {
		u.logger().Info("pruned attempt records", "attempts", n, "retention", u.AttemptRetention.String())
	}
	_, serr := u.PruneSessions(ctx)
	return errors.Join(derr, perr, serr)
}

// Start runs at once and then every Interval, until Stop.
func (u *Upkeep) Start(ctx context.Context) error {
	interval := cmp.Or(u.Interval, IntervalDefault)
	err := u.runner.Start(ctx, interval, func(ctx context.Context) {
		if err := u.Run(ctx); err != nil && ctx.Err() == nil {
			u.logger().Error("upkeep of attempts and failing subscriptions failed; retrying at the next interval", "error", err, "interval", interval.String())
		}
	})
	if err != nil {
		return fmt.Errorf("upkeep: %w", err)
	}
	return nil
}

// Stop ends the periodic runs and waits for one in progress, until ctx ends.
func (u *Upkeep) Stop(ctx context.Context) error {
	if err := u.runner.Stop(ctx); err != nil {
		return fmt.Errorf("upkeep: stop: %w", err)
	}
	return nil
}
