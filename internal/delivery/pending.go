package delivery

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/triggerd/triggerd/internal/store"
	"github.com/triggerd/triggerd/internal/store/sqlstore"
)

// OldestPending returns a tenant's delivery that has waited longest in the
// queue (for a retry, or a first attempt that fell to the queue), and false
// when none waits. It reads the unfinished jobs only (River's state index),
// joined to the tenant's subscriptions, so it costs the backlog's size, not
// the history's.
func OldestPending(ctx context.Context, db *sql.DB, dialect sqlstore.Dialect, tenantID string, now time.Time) (store.PendingDelivery, bool, error) {
	age := `(julianday('now') - julianday(j.created_at)) * 86400.0`
	sub, msg, prior := `json_extract(j.args, '$.sub')`, `json_extract(j.args, '$.msg')`, `COALESCE(json_extract(j.args, '$.prior'), 0)`
	ph := func(int) string { return "?" }
	if dialect == sqlstore.Postgres {
		age = `EXTRACT(EPOCH FROM now() - j.created_at)::float8`
		sub, msg, prior = `(j.args->>'sub')`, `(j.args->>'msg')`, `COALESCE((j.args->>'prior')::bigint, 0)`
		ph = func(i int) string { return fmt.Sprintf("$%d", i) }
	}
	in, args := unfinishedIn(ph, []any{queueName, deliverArgs{}.Kind()})
	args = append(args, tenantID)
	q := `SELECT ` + sub + `, ` + msg + `, ` + prior + `, ` + age + ` FROM river_job j
		JOIN triggerd_subscription s ON s.id = ` + sub + `
		WHERE j.queue = ` + ph(1) + ` AND j.kind = ` + ph(2) + ` AND j.state IN (` + in + `) AND s.tenant_id = ` + ph(len(args)) + `
		ORDER BY j.created_at, j.id LIMIT 1`
	var (
		p    store.PendingDelivery
		secs float64
	)
	err := db.QueryRowContext(ctx, q, args...).Scan(&p.SubscriptionID, &p.MessageID, &p.Prior, &secs)
	if errors.Is(err, sql.ErrNoRows) {
		return p, false, nil
	}
	if err != nil {
		return p, false, fmt.Errorf("oldest pending delivery: %w", err)
	}
	p.QueuedAt = now.Add(-time.Duration(secs * float64(time.Second))).UTC()
	return p, true, nil
}

// RetryingSubscriptions returns up to limit of a tenant's subscriptions with
// a retry waiting in the queue: failing now, even when their last attempt
// was hours ago (the retry schedule spaces them out to a day). Like
// OldestPending it reads the unfinished jobs only.
func RetryingSubscriptions(ctx context.Context, db *sql.DB, dialect sqlstore.Dialect, tenantID string, limit int) ([]string, error) {
	sub, prior := `json_extract(j.args, '$.sub')`, `COALESCE(json_extract(j.args, '$.prior'), 0)`
	ph := func(int) string { return "?" }
	if dialect == sqlstore.Postgres {
		sub, prior = `(j.args->>'sub')`, `COALESCE((j.args->>'prior')::bigint, 0)`
		ph = func(i int) string { return fmt.Sprintf("$%d", i) }
	}
	in, args := unfinishedIn(ph, []any{queueName, deliverArgs{}.Kind()})
	args = append(args, tenantID, limit)
	q := `SELECT DISTINCT s.id FROM river_job j
		JOIN triggerd_subscription s ON s.id = ` + sub + `
		WHERE j.queue = ` + ph(1) + ` AND j.kind = ` + ph(2) + ` AND j.state IN (` + in + `) AND ` + prior + ` > 0
		AND s.tenant_id = ` + ph(len(args)-1) + ` AND s.state = 'active'
		ORDER BY s.id LIMIT ` + ph(len(args))
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("retrying subscriptions: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("retrying subscriptions: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("retrying subscriptions: %w", err)
	}
	return ids, nil
}
