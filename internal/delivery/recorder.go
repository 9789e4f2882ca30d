package delivery

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"github.com/triggerd/triggerd/internal/store"
	"github.com/triggerd/triggerd/internal/store/sqlstore"
)

// recordBatchMax bounds one group commit.
const recordBatchMax = 512

// errRecorderStopped is returned to attempts that arrive after Stop.
var errRecorderStopped = errors.New("delivery engine stopped")

// recordRequest is one attempt to write down, with the queue changes that
// must commit with it: the fast path's safety-net job to delete, and a retry
// job to insert.
type recordRequest struct {
	record store.AttemptRecord
	// noRecord says there is no attempt to record, only a job to insert
	// (a delivery put back because its subscription was at capacity).
	noRecord bool
	// group is the fast-path group of the attempt (nil for none): the
	// transaction that records its last attempt deletes its safety-net
	// job.
	group *fastGroup
	// retry is the job that makes the next attempt, if one is due.
	retry *river.InsertManyParams
	done  chan error
}

// recorder writes attempts with group commit: whatever is waiting when the
// previous commit ends goes into the next transaction. Each delivery still
// waits until its attempt is durable, but many share one fsync, which was
// the largest cost per delivery on SQLite (docs/performance.md).
//
// On SQLite a batch is first offered, for up to recordLinger, to the next
// publishing transaction of this process (claim), which writes it behind a
// savepoint and commits it with its events: one fsync for both instead of
// one each, which is most of the CPU of an event at a few hundred a second
// (docs/performance.md). If none comes, the recorder commits the batch
// itself. Attempts are history, not promises: waiting a few milliseconds
// more for their record delays nothing a receiver or publisher sees; each
// delivery's safety-net job stays until its record is durable either way.
type recorder struct {
	engine *riverEngine
	in     chan recordRequest
	quit   chan struct{}
	wg     sync.WaitGroup
	// linger is how long a batch waits to be claimed; 0 never offers.
	linger time.Duration

	mu      sync.Mutex
	offered *recordOffer // the batch waiting to be claimed, or nil
}

// recordOffer is a batch waiting for a publishing transaction to claim it.
// done is closed once the batch is answered, by whoever wrote it.
type recordOffer struct {
	batch []recordRequest
	done  chan struct{}
}

// recordLinger bounds how long a batch of attempts waits for a publishing
// transaction to share its commit. At 500 events/s one comes every 2 ms.
const recordLinger = 5 * time.Millisecond

func newRecorder(e *riverEngine, linger time.Duration) *recorder {
	return &recorder{engine: e, in: make(chan recordRequest, recordBatchMax), quit: make(chan struct{}), linger: linger}
}

func (r *recorder) start() {
	r.wg.Add(1)
	go r.loop()
}

// stop drains what is queued, then ends the loop. Callers must have stopped
// recording first.
func (r *recorder) stop() {
	close(r.quit)
	r.wg.Wait()
}

// record queues a request and waits until it is committed.
func (r *recorder) record(ctx context.Context, req recordRequest) error {
	req.done = make(chan error, 1)
	select {
	case r.in <- req:
	case <-r.quit:
		return errRecorderStopped
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-req.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (r *recorder) loop() {
	defer r.wg.Done()
	batch := make([]recordRequest, 0, recordBatchMax)
	for {
		select {
		case req := <-r.in:
			batch = append(batch[:0], req)
		case <-r.quit:
			// Drain what was queued before the stop.
			for {
				select {
				case req := <-r.in:
					batch = append(batch[:0], req)
					r.flush(batch)
				default:
					return
				}
			}
		}
	fill:
		for len(batch) < recordBatchMax {
			select {
			case req := <-r.in:
				batch = append(batch, req)
			default:
				break fill
			}
		}
		if r.linger > 0 {
			r.offer(batch)
		} else {
			r.flush(batch)
		}
	}
}

// offer waits up to linger for a publishing transaction to claim batch,
// and commits it itself if none does (or the recorder stops). It returns
// once batch is answered, so batches are written one after the other,
// which the groups' counts rely on.
func (r *recorder) offer(batch []recordRequest) {
	o := &recordOffer{batch: batch, done: make(chan struct{})}
	r.mu.Lock()
	r.offered = o
	r.mu.Unlock()
	t := time.NewTimer(r.linger)
	defer t.Stop()
	select {
	case <-o.done:
		return
	case <-t.C:
	case <-r.quit:
	}
	r.mu.Lock()
	mine := r.offered == o
	if mine {
		r.offered = nil
	}
	r.mu.Unlock()
	if !mine {
		<-o.done // claimed meanwhile: its transaction answers it
		return
	}
	r.flush(batch)
	close(o.done)
}

// claimTx writes the batch on offer, if any, inside tx, a publishing
// transaction of this process, behind a savepoint: a failure of the
// attempts' statements is rolled back alone and never fails the publish.
// The returned function must run once tx has ended: committed, it answers
// the batch; otherwise the recorder commits it by itself. It returns nil
// when nothing was on offer.
func (r *recorder) claimTx(ctx context.Context, tx *sql.Tx) func(committed bool) {
	r.mu.Lock()
	o := r.offered
	r.offered = nil
	r.mu.Unlock()
	if o == nil {
		return nil
	}
	finish := func(written bool) func(bool) {
		return func(committed bool) {
			if written && committed {
				r.answer(o.batch, nil, true)
			} else {
				r.flush(o.batch)
			}
			close(o.done)
		}
	}
	if _, err := tx.ExecContext(ctx, "SAVEPOINT "+recordSavepoint); err != nil {
		return finish(false)
	}
	if err := r.writeTx(ctx, tx, o.batch); err != nil {
		if _, rerr := tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT "+recordSavepoint); rerr != nil {
			// The publish transaction cannot go on cleanly; its commit
			// fails and its callers are told so.
			r.engine.log.Warn("record attempts in a publishing transaction: roll back to savepoint", "error", rerr)
		}
		_, _ = tx.ExecContext(ctx, "RELEASE SAVEPOINT "+recordSavepoint)
		r.resetCounts(o.batch)
		return finish(false)
	}
	if _, err := tx.ExecContext(ctx, "RELEASE SAVEPOINT "+recordSavepoint); err != nil {
		r.resetCounts(o.batch)
		return finish(false)
	}
	return func(committed bool) {
		if !committed {
			r.resetCounts(o.batch)
		}
		finish(committed)(committed)
	}
}

// recordSavepoint is the savepoint of attempts written in a publishing
// transaction (the publisher's own is released before EnqueueTx).
const recordSavepoint = "triggerd_record_attempts"

func (r *recorder) flush(batch []recordRequest) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := r.commit(ctx, batch)
	r.answer(batch, err, err == nil)
}

// answer tells every request of batch err, once the transaction that wrote
// it has ended; committed says it committed, so the groups' counts the
// batch was building join their recorded attempts.
func (r *recorder) answer(batch []recordRequest, err error, committed bool) {
	for _, req := range batch {
		if g := req.group; g != nil {
			if committed {
				g.recorded += g.pending
			}
			g.pending = 0
		}
	}
	for _, req := range batch {
		req.done <- err
	}
}

// resetCounts forgets the counts a batch built in a transaction that did
// not commit, before the batch is written again.
func (r *recorder) resetCounts(batch []recordRequest) {
	for _, req := range batch {
		if req.group != nil {
			req.group.pending = 0
		}
	}
}

func (r *recorder) commit(ctx context.Context, batch []recordRequest) error {
	e := r.engine
	tx, err := e.store.DB().BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("record attempts: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after commit
	if err := r.writeTx(ctx, tx, batch); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("record attempts: commit: %w", err)
	}
	return nil
}

// writeTx writes batch inside tx: the attempts, the safety nets of groups
// whose last attempt is in it, and the retries. It counts each group's
// attempts in g.pending; answer or resetCounts settles them.
func (r *recorder) writeTx(ctx context.Context, tx *sql.Tx, batch []recordRequest) error {
	e := r.engine
	records := make([]store.AttemptRecord, 0, len(batch))
	var (
		deletes []int64
		retries []river.InsertManyParams
	)
	for _, req := range batch {
		if !req.noRecord {
			records = append(records, req.record)
		}
		if g := req.group; g != nil {
			g.pending++
			if g.recorded+g.pending == g.size {
				// The group's last attempt: its safety net goes with it.
				deletes = append(deletes, g.jobID)
			}
		}
		if req.retry != nil {
			retries = append(retries, *req.retry)
		}
	}
	if err := e.store.RecordAttemptsTx(ctx, tx, records); err != nil {
		return err
	}
	if len(deletes) > 0 {
		if err := deleteSafetyNetsTx(ctx, tx, e.store.Dialect(), deletes); err != nil {
			return fmt.Errorf("record attempts: %w", err)
		}
	}
	if len(retries) > 0 {
		if _, err := e.client.InsertManyFastTx(ctx, tx, retries); err != nil {
			return fmt.Errorf("record attempts: schedule retries: %w", err)
		}
	}
	return nil
}

// deleteSafetyNetsTx deletes fast-path safety-net jobs whose attempts are
// all recorded. Jobs already running (the process was too slow and River
// took them) are left: they deliver once more, at least once. It is one
// plain DELETE rather than River's JobDeleteManyTx, which on SQLite
// returns every deleted row's full contents (a group's whole list of
// deliveries) only to be thrown away, and was 9 % of the server's CPU at
// 500 events/s (docs/performance.md).
func deleteSafetyNetsTx(ctx context.Context, tx *sql.Tx, dialect sqlstore.Dialect, ids []int64) error {
	var q strings.Builder
	q.WriteString(`DELETE FROM river_job WHERE state <> 'running' AND id IN (`)
	args := make([]any, len(ids))
	for i, id := range ids {
		if i > 0 {
			q.WriteString(", ")
		}
		if dialect == sqlstore.Postgres {
			q.WriteString("$" + strconv.Itoa(i+1))
		} else {
			q.WriteString("?")
		}
		args[i] = id
	}
	q.WriteString(")")
	if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
		return fmt.Errorf("remove safety-net jobs: %w", err)
	}
	return nil
}
