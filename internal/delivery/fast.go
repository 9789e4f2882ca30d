package delivery

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/triggerd/triggerd/internal/store"
)

// Dispatch is what EnqueueTx hands back for after the publishing
// transaction: called with committed=true it starts the fast path's first
// attempts; with false it gives back what was reserved for them. A nil
// Dispatch does nothing.
type Dispatch func(committed bool)

// Run calls d if it is set.
func (d Dispatch) Run(committed bool) {
	if d != nil {
		d(committed)
	}
}

// fastItem is a first attempt made in-process right after the publishing
// commit, with everything it needs in memory.
type fastItem struct {
	Delivery
	jobID int64
}

// FastPathSlotsMin is the least number of first attempts in flight on the
// fast path (the engine takes more when Workers is larger). A publish
// request of a thousand events must not spill onto the slower queue path
// just because the previous one is still being delivered; each slot is one
// goroutine and one event's data.
const FastPathSlotsMin = 2000

// FastPathDataMax is the largest notification body the fast path holds in
// memory; larger ones go through the queue, which reads them when it sends,
// so 2,000 slots can never pin gigabytes of events.
const FastPathDataMax = 256 << 10

// fastPathTag marks safety-net jobs, so a restarted SQLite process can make
// the ones its dead predecessor left due at once.
const fastPathTag = "fast_path"

// FastPathGraceMargin is added to the delivery timeout to give the safety
// net of a fast-path delivery: its River job waits that long before River
// would make the attempt itself, which only happens if this process died.
const FastPathGraceMargin = recordMargin + 5*time.Second

// The fast path.
//
// River finds new jobs by polling on SQLite (jobs inserted in a transaction
// do not wake its producer), and every job it works costs a fetch and a
// completion on the database. A publisher that commits its own transaction
// knows the exact moment its deliveries become real, and holds their data,
// callback and secret in memory. So the first attempt is made right there:
// the River job is still inserted in the publishing transaction — the
// durable promise — but scheduled a grace period ahead, and the attempt's
// record deletes it (or replaces it by the retry job) in the same group
// commit. If the process dies first, the job comes due after the grace
// period and River makes the attempt: at least once either way.

// tryReserve takes a fast-path slot without waiting.
func (e *riverEngine) tryReserve() bool {
	if !e.running.Load() {
		return false
	}
	select {
	case e.fastSlots <- struct{}{}:
		return true
	default:
		return false
	}
}

func (e *riverEngine) release() { <-e.fastSlots }

func (e *riverEngine) dispatchFast(items []fastItem) Dispatch {
	if len(items) == 0 {
		return nil
	}
	return func(committed bool) {
		if !committed {
			for range items {
				e.release()
			}
			return
		}
		e.fastWG.Add(len(items))
		for _, it := range items {
			go e.fastDeliver(it)
		}
	}
}

func (e *riverEngine) fastDeliver(it fastItem) {
	defer e.fastWG.Done()
	defer e.release()
	ctx := e.fastCtx
	started := e.cfg.Now()
	res := e.sender.send(ctx, it.CallbackURL, it.Secret, it.MessageID, it.Data, started)
	v, reason := classify(res)
	req := recordRequest{
		record: store.AttemptRecord{Attempt: store.Attempt{
			SubscriptionID: it.SubscriptionID,
			WebhookID:      it.MessageID,
			EventIDs:       it.EventIDs,
			Number:         1,
			StartedAt:      started,
			Duration:       res.Duration,
			Status:         res.Status,
			Error:          reason,
		}},
		deleteJobID: it.jobID,
	}
	a := &req.record.Attempt
	switch v {
	case verdictDelivered:
		a.Outcome = store.AttemptDelivered
	case verdictGone:
		a.Outcome = store.AttemptGone
		req.record.Deactivate = reason
	case verdictFailed:
		a.Outcome = store.AttemptFailed
	case verdictRetry:
		if len(e.cfg.RetrySchedule) == 0 {
			a.Outcome = store.AttemptFailed
			a.Error = fmt.Sprintf("%s; gave up after 1 attempt", reason)
			break
		}
		delay := e.retryDelay(1, res.RetryAfter)
		next := started.Add(res.Duration + delay)
		a.Outcome = store.AttemptRetry
		a.NextAttemptAt = &next
		req.retry = &river.InsertManyParams{
			Args:       deliverArgs{SubscriptionID: it.SubscriptionID, EventIDs: it.EventIDs, MessageID: it.MessageID, Prior: 1},
			InsertOpts: &river.InsertOpts{Queue: queueName, ScheduledAt: next},
		}
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordMargin)
	defer cancel()
	if err := e.recorder.record(rctx, req); err != nil {
		// The safety-net job stays: River makes this attempt again once
		// the grace period is over.
		if !errors.Is(err, errRecorderStopped) {
			e.log.Warn("record fast-path attempt", "subscription", it.SubscriptionID, "message", it.MessageID, "error", err)
		}
		return
	}
	if a.Outcome != store.AttemptDelivered {
		e.log.Info("delivery attempt failed", "subscription", it.SubscriptionID, "message", it.MessageID,
			"attempt", 1, "outcome", a.Outcome, "status", res.Status, "reason", a.Error)
	}
}
