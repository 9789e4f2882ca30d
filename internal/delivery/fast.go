package delivery

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/riverqueue/river"
	"go.opentelemetry.io/otel/trace"
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
	// host is the receiver host, whose place in the limiter the item holds.
	host string
	// slot says the item holds a fast-path slot; waits that it waits in
	// memory for a place (and holds room in the wait, not a place).
	slot, waits bool
	group       *fastGroup
	// committed is when the publishing transaction committed, the start of
	// the delivery's latency.
	committed time.Time
	// link is the publishing span, which the attempt's span links to.
	link trace.SpanContext
}

// fastGroup is the deliveries of one publishing transaction (up to
// rescueGroupMax) and the one River job that is their safety net.
type fastGroup struct {
	jobID int64
	// size is the number of deliveries the job names.
	size int
	// recorded counts the attempts of the group committed so far. Only the
	// recorder's goroutine touches it: it deletes the job in the same
	// transaction as the group's last attempt, so the job goes exactly
	// when every attempt it stands for is durable, at no commit of its own.
	recorded int
	// pending is the recorder's count of the group's attempts in the
	// transaction it is building.
	pending int
}

// rescueGroupMax bounds the deliveries one safety-net job names.
const rescueGroupMax = 1000

// rescueArgs is the safety net of a group of fast-path deliveries. It is
// worked only if the process making them died (or took longer than the
// grace period): it then queues a regular job for every delivery whose
// attempt is not recorded.
type rescueArgs struct {
	Deliveries []rescueDelivery `json:"deliveries"`
}

type rescueDelivery struct {
	SubscriptionID string `json:"sub"`
	EventID        string `json:"event"`
	// Concurrency is the trigger's own cap, which a rescued delivery
	// keeps; 0 means the engine's.
	Concurrency int `json:"conc,omitempty"`
}

func (rescueArgs) Kind() string { return "triggerd.fast_path_rescue" }

// FastPathSlotsMin is the least number of first attempts in flight on the
// fast path (the engine takes more when Workers is larger). A burst of
// publish requests (four requests to a thousand subscriptions each) must not
// spill onto the slower queue path; each slot is a goroutine waiting for one
// of the host's pooled connections, and the events' data is shared, so 5,000
// cost about 40 MiB at most (the benchmark's peak RSS is 126 MiB).
const FastPathSlotsMin = 5000

// FastPathDataMax is the largest notification body the fast path holds in
// memory; larger ones go through the queue, which reads them when it sends,
// so 5,000 slots can never pin gigabytes of events.
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
// do not wake its producer), and every job costs an insert, a fetch and a
// completion on the database. A publisher that commits its own transaction
// knows the exact moment its deliveries become real, and holds their data,
// callback and secret in memory. So the first attempts are made right
// there. The durable promise is one River job per publishing transaction
// (per thousand deliveries), inserted in it, naming its deliveries and
// scheduled a grace period ahead. Each attempt is recorded (with its retry
// job, if one is due) by the group commit; once all are, the job is
// deleted. If the process dies first, the job comes due after the grace
// period and queues a regular job for every delivery without a recorded
// attempt: at least once either way.

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

// releaseFast gives back what a fast item reserved: its slot and its places
// in the limiter, without an attempt.
func (e *riverEngine) releaseFast(it fastItem) {
	if it.waits {
		e.limit.unwait(len(it.Data))
		return
	}
	e.limit.release(it.SubscriptionID, it.host, false, false)
	if it.slot {
		e.release()
	}
}

// runWaiting starts the waiting first attempts at a receiver host for
// which there is a place now, taking the host's subscriptions in turn, each
// on a goroutine of its own (a place bounds them, not a slot). Called
// whenever an attempt to the host ends: a place freed by one subscription
// may be the one another, blocked by the host's cap, waits for. One that
// waited too long is left to its safety-net job, which queues it.
func (e *riverEngine) runWaiting(host string) {
	for e.running.Load() {
		it, expired, ok := e.limit.next(host, e.cfg.Now())
		if len(expired) > 0 {
			e.log.Debug("first attempts waited too long for a place; their safety net queues them", "deliveries", len(expired))
		}
		if !ok {
			return
		}
		it.waits = false
		e.fastWG.Add(1)
		go e.fastDeliver(it)
	}
}

func (e *riverEngine) dispatchFast(items []fastItem) Dispatch {
	if len(items) == 0 {
		return nil
	}
	return func(committed bool) {
		if !committed {
			for _, it := range items {
				e.releaseFast(it)
			}
			return
		}
		now := e.cfg.Now()
		var lines []string
		for _, it := range items {
			it.committed = now
			if it.waits {
				e.limit.wait(it, now)
				if !slices.Contains(lines, it.host) {
					lines = append(lines, it.host)
				}
				continue
			}
			e.fastWG.Add(1)
			go e.fastDeliver(it)
		}
		// A place may have come free between admission and now.
		for _, host := range lines {
			e.runWaiting(host)
		}
	}
}

func (e *riverEngine) fastDeliver(it fastItem) {
	defer e.fastWG.Done()
	if it.slot {
		defer e.release()
	}
	ctx := e.fastCtx
	started := e.cfg.Now()
	sctx, span := e.startAttemptSpan(ctx, it.link, it.SubscriptionID, it.Trigger, it.MessageID, 1)
	res := e.sender.send(sctx, it.CallbackURL, it.Secret, it.MessageID, it.Data, started)
	e.limit.release(it.SubscriptionID, it.host, isTimeout(res), res.Err == nil)
	e.runWaiting(it.host)
	if ctx.Err() != nil {
		// Cut off by a hard stop: nothing is recorded and no step of the
		// schedule is used; the safety-net job makes the attempt again
		// after the restart.
		span.End()
		return
	}
	o := e.policy.decide(attemptInput{subscriptionID: it.SubscriptionID, trigger: it.Trigger, messageID: it.MessageID,
		eventIDs: it.EventIDs, committed: it.committed, number: 1, started: started, result: res})
	endAttemptSpan(span, o)
	req := recordRequest{record: o.record, group: it.group}
	if o.next == stepRetry {
		req.retry = &river.InsertManyParams{
			Args:       deliverArgs{SubscriptionID: it.SubscriptionID, EventIDs: it.EventIDs, MessageID: it.MessageID, Prior: 1, Concurrency: it.Concurrency, Trace: traceparent(it.link)},
			InsertOpts: &river.InsertOpts{Queue: queueName, ScheduledAt: *o.record.Attempt.NextAttemptAt},
		}
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordMargin)
	defer cancel()
	if err := e.recorder.record(rctx, req); err != nil {
		// The safety-net job stays: once the grace period is over it queues
		// this delivery again.
		if !errors.Is(err, errRecorderStopped) {
			e.log.Warn("record fast-path attempt", "subscription", it.SubscriptionID, "message", it.MessageID, "error", err)
		}
		return
	}
	o.report(e.log, e.cfg.Metrics, e.cfg.OnAttempt)
}

type rescueWorker struct {
	river.WorkerDefaults[rescueArgs]
	engine *riverEngine
}

// Work queues a regular job for every delivery of the group whose attempt
// is not recorded, in one transaction.
func (w *rescueWorker) Work(ctx context.Context, job *river.Job[rescueArgs]) error {
	e := w.engine
	tx, err := e.store.DB().BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("rescue fast-path deliveries: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after commit
	ids := make([]string, 0, len(job.Args.Deliveries))
	for _, d := range job.Args.Deliveries {
		ids = append(ids, d.EventID)
	}
	attempted, err := e.store.AttemptedTx(ctx, tx, ids)
	if err != nil {
		return fmt.Errorf("rescue fast-path deliveries: %w", err)
	}
	var params []river.InsertManyParams
	for _, d := range job.Args.Deliveries {
		if attempted[[2]string{d.SubscriptionID, d.EventID}] {
			continue
		}
		params = append(params, river.InsertManyParams{
			Args:       deliverArgs{SubscriptionID: d.SubscriptionID, EventIDs: []string{d.EventID}, MessageID: d.EventID, Concurrency: d.Concurrency},
			InsertOpts: &river.InsertOpts{Queue: queueName},
		})
	}
	if len(params) > 0 {
		if _, err := e.client.InsertManyFastTx(ctx, tx, params); err != nil {
			return fmt.Errorf("rescue fast-path deliveries: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("rescue fast-path deliveries: commit: %w", err)
	}
	if len(params) > 0 {
		e.log.Warn("queued fast-path deliveries left unfinished", "deliveries", len(params), "of", len(job.Args.Deliveries))
	}
	return nil
}
