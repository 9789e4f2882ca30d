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

// Backlog counts the deliveries not finished yet on the whole database
// (every node's), and how long ago the oldest was queued. A queued delivery
// or retry is a job of its own, so the age of a delivery in retries counts
// from its latest retry being scheduled. First attempts in flight on the
// fast path have no job of their own: they count through their group's
// safety-net job, which names each of them and lives until the group's last
// attempt is recorded, so a group's finished attempts still count while its
// slowest one is in flight. Reading the database (not a node's memory) is
// what makes every node sharing it report the same value.
func Backlog(ctx context.Context, db *sql.DB, dialect sqlstore.Dialect) (pending int, oldestAge time.Duration, err error) {
	age := `(julianday('now') - julianday(MIN(created_at))) * 86400.0`
	// River keeps a job's args as jsonb on both databases.
	named := `json_array_length(args, '$.deliveries')`
	// Numbered placeholders on both: the deliver kind is named twice.
	ph := func(i int) string { return fmt.Sprintf("?%d", i) }
	if dialect == sqlstore.Postgres {
		age = `EXTRACT(EPOCH FROM now() - MIN(created_at))::float8`
		named = `jsonb_array_length(args->'deliveries')`
		ph = func(i int) string { return fmt.Sprintf("$%d", i) }
	}
	in, args := unfinishedIn(ph, []any{queueName, deliverArgs{}.Kind(), rescueArgs{}.Kind()})
	var secs sql.NullFloat64
	q := `SELECT COALESCE(SUM(CASE WHEN kind = ` + ph(2) + ` THEN 1 ELSE ` + named + ` END), 0), ` + age +
		` FROM river_job WHERE queue = ` + ph(1) + ` AND kind IN (` + ph(2) + `, ` + ph(3) + `) AND state IN (` + in + `)`
	if err := db.QueryRowContext(ctx, q, args...).Scan(&pending, &secs); err != nil {
		return 0, 0, fmt.Errorf("count pending deliveries: %w", err)
	}
	if secs.Valid && secs.Float64 > 0 {
		oldestAge = time.Duration(secs.Float64 * float64(time.Second))
	}
	return pending, oldestAge, nil
}

// unfinishedIn appends unfinishedStates to args and returns the list of
// their placeholders, for a "state IN (…)" of a query on river_job; ph
// writes the placeholder of the nth argument.
func unfinishedIn(ph func(int) string, args []any) (string, []any) {
	in := ""
	for i, s := range unfinishedStates {
		if i > 0 {
			in += ", "
		}
		in += ph(len(args) + 1)
		args = append(args, string(s))
	}
	return in, args
}
