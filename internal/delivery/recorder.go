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
type recorder struct {
	engine *riverEngine
	in     chan recordRequest
	quit   chan struct{}
	wg     sync.WaitGroup
}

func newRecorder(e *riverEngine) *recorder {
	return &recorder{engine: e, in: make(chan recordRequest, recordBatchMax), quit: make(chan struct{})}
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
		r.flush(batch)
	}
}

func (r *recorder) flush(batch []recordRequest) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := r.commit(ctx, batch)
	for _, req := range batch {
		req.done <- err
	}
}

func (r *recorder) commit(ctx context.Context, batch []recordRequest) error {
	e := r.engine
	tx, err := e.store.DB().BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("record attempts: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after commit
	records := make([]store.AttemptRecord, 0, len(batch))
	var (
		deletes []int64
		retries []river.InsertManyParams
		groups  []*fastGroup
	)
	// Whatever this transaction's outcome, the counts it was building
	// are done with when it returns: on a commit they join recorded.
	committed := false
	defer func() {
		for _, g := range groups {
			if committed {
				g.recorded += g.pending
			}
			g.pending = 0
		}
	}()
	for _, req := range batch {
		if !req.noRecord {
			records = append(records, req.record)
		}
		if g := req.group; g != nil {
			if g.pending == 0 {
				groups = append(groups, g)
			}
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
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("record attempts: commit: %w", err)
	}
	committed = true
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
