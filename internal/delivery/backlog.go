package delivery

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/riverqueue/river/rivertype"

	"github.com/triggerd/triggerd/internal/store/sqlstore"
)

// unfinishedStates are the River job states of a delivery that has not
// finished: queued, due, scheduled for a retry, or running.
var unfinishedStates = []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRetryable,
	rivertype.JobStateRunning, rivertype.JobStateScheduled,
}

// Backlog counts the delivery jobs not finished yet on the whole database
// (every node's), and how long ago the oldest was queued. A retry is a job of
// its own, so the age of a delivery in retries counts from its latest retry
// being scheduled. First attempts in flight on the fast path count once
// they fall to the queue (a retry, or their safety net coming due).
func Backlog(ctx context.Context, db *sql.DB, dialect sqlstore.Dialect) (pending int, oldestAge time.Duration, err error) {
	age := `(julianday('now') - julianday(MIN(created_at))) * 86400.0`
	ph := func(i int) string { return "?" }
	if dialect == sqlstore.Postgres {
		age = `EXTRACT(EPOCH FROM now() - MIN(created_at))::float8`
		ph = func(i int) string { return fmt.Sprintf("$%d", i) }
	}
	args := []any{queueName, deliverArgs{}.Kind()}
	in := ""
	for i, s := range unfinishedStates {
		if i > 0 {
			in += ", "
		}
		in += ph(len(args) + 1)
		args = append(args, string(s))
	}
	var secs sql.NullFloat64
	q := `SELECT COUNT(*), ` + age + ` FROM river_job WHERE queue = ` + ph(1) + ` AND kind = ` + ph(2) + ` AND state IN (` + in + `)`
	if err := db.QueryRowContext(ctx, q, args...).Scan(&pending, &secs); err != nil {
		return 0, 0, fmt.Errorf("count pending deliveries: %w", err)
	}
	if secs.Valid && secs.Float64 > 0 {
		oldestAge = time.Duration(secs.Float64 * float64(time.Second))
	}
	return pending, oldestAge, nil
}
