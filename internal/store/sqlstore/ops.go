package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/triggerd/triggerd/internal/store"
)

// SubscriptionCounts counts subscriptions across every tenant by trigger and
// state, deleted ones excepted: the gauge operators alert on, without any
// tenant's name in it.
func (s *Store) SubscriptionCounts(ctx context.Context) ([]store.SubscriptionCount, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT trigger_name, state, COUNT(*) FROM triggerd_subscription
		WHERE state <> 'deleted' GROUP BY trigger_name, state ORDER BY trigger_name, state`)
	if err != nil {
		return nil, fmt.Errorf("count subscriptions: %w", err)
	}
	defer rows.Close()
	var out []store.SubscriptionCount
	for rows.Next() {
		var c store.SubscriptionCount
		var state string
		if err := rows.Scan(&c.Trigger, &state, &c.Count); err != nil {
			return nil, fmt.Errorf("count subscriptions: %w", err)
		}
		c.State = store.SubscriptionState(state)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count subscriptions: %w", err)
	}
	return out, nil
}

// SubscriptionsPage lists a page of a tenant's subscriptions that are not
// deleted, in id order after q.After, with their health. Keyset paging on
// the id returns every subscription at most once however many are
// registered meanwhile.
func (s *Store) SubscriptionsPage(ctx context.Context, q store.SubscriptionQuery) ([]store.Subscription, error) {
	subs, err := s.querySubscriptions(ctx, s.db, `SELECT `+subscriptionColumns+`
		FROM triggerd_subscription WHERE tenant_id = ? AND state <> 'deleted' AND id > ? ORDER BY id LIMIT ?`,
		q.TenantID, q.After, q.Limit)
	if err != nil {
		return nil, fmt.Errorf("list subscriptions: %w", err)
	}
	if err := s.addHealthMany(ctx, subs); err != nil {
		return nil, fmt.Errorf("list subscriptions: %w", err)
	}
	return subs, nil
}

const attemptColumns = `a.id, a.subscription_id, a.webhook_id, a.event_ids, a.number, a.started_at,
	a.duration_us, a.status, a.error, a.outcome, a.next_attempt_at, a.response`

func scanAttempt(row rowScanner) (store.Attempt, error) {
	var (
		a              store.Attempt
		ids, outcome   string
		started, durUS int64
		next           sql.NullInt64
	)
	if err := row.Scan(&a.ID, &a.SubscriptionID, &a.WebhookID, &ids, &a.Number, &started, &durUS,
		&a.Status, &a.Error, &outcome, &next, &a.Response); err != nil {
		return a, err
	}
	if err := json.Unmarshal([]byte(ids), &a.EventIDs); err != nil {
		return a, fmt.Errorf("decode event ids: %w", err)
	}
	a.StartedAt = fromMicros(started)
	a.Duration = time.Duration(durUS) * time.Microsecond
	a.Outcome = store.AttemptOutcome(outcome)
	a.NextAttemptAt = fromNullMicros(next)
	return a, nil
}

// AttemptsPage lists a page of a tenant's subscription's attempts, newest
// first, before q.Before and with q.Outcome when they are set.
func (s *Store) AttemptsPage(ctx context.Context, q store.AttemptQuery) ([]store.Attempt, error) {
	query := `SELECT ` + attemptColumns + `
		FROM triggerd_attempt a JOIN triggerd_subscription s ON s.id = a.subscription_id
		WHERE s.tenant_id = ? AND a.subscription_id = ?`
	args := []any{q.TenantID, q.SubscriptionID}
	if q.Before > 0 {
		query += ` AND a.id < ?`
		args = append(args, q.Before)
	}
	if q.Outcome != "" {
		query += ` AND a.outcome = ?`
		args = append(args, string(q.Outcome))
	}
	query += ` ORDER BY a.id DESC LIMIT ?`
	args = append(args, q.Limit)
	rows, err := s.db.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, fmt.Errorf("list attempts: %w", err)
	}
	defer rows.Close()
	var out []store.Attempt
	for rows.Next() {
		a, err := scanAttempt(rows)
		if err != nil {
			return nil, fmt.Errorf("list attempts: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list attempts: %w", err)
	}
	return out, nil
}

// EventsPage lists a page of a tenant's event log, newest first.
func (s *Store) EventsPage(ctx context.Context, q store.EventQuery) ([]store.Event, error) {
	query := `SELECT ` + eventColumns + ` FROM triggerd_event WHERE tenant_id = ?`
	args := []any{q.TenantID}
	if q.Type != "" {
		query += ` AND type = ?`
		args = append(args, q.Type)
	}
	if !q.Since.IsZero() {
		query += ` AND created_at >= ?`
		args = append(args, micros(q.Since))
	}
	if !q.Until.IsZero() {
		query += ` AND created_at < ?`
		args = append(args, micros(q.Until))
	}
	if q.Before > 0 {
		query += ` AND seq < ?`
		args = append(args, q.Before)
	}
	query += ` ORDER BY seq DESC LIMIT ?`
	args = append(args, q.Limit)
	return s.queryEvents(ctx, "list events", query, args...)
}

func (s *Store) queryEvents(ctx context.Context, what, query string, args ...any) ([]store.Event, error) {
	rows, err := s.db.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	var out []store.Event
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// EventByRef returns a tenant's event by its id or, failing that, by its
// idempotency key (the newest event holding it). Each is one indexed read:
// an OR of the two would read the tenant's whole log.
func (s *Store) EventByRef(ctx context.Context, tenantID, ref string) (store.Event, error) {
	e, err := scanEvent(s.db.QueryRowContext(ctx, s.q(`SELECT `+eventColumns+` FROM triggerd_event
		WHERE id = ? AND tenant_id = ?`), ref, tenantID))
	if errors.Is(err, store.ErrNotFound) {
		e, err = scanEvent(s.db.QueryRowContext(ctx, s.q(`SELECT `+eventColumns+` FROM triggerd_event
			WHERE tenant_id = ? AND idempotency_key = ? ORDER BY seq DESC LIMIT 1`), tenantID, ref))
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return e, fmt.Errorf("get event: %w", err)
	}
	return e, err
}

// EventDeliveries summarises, per subscription, the attempts that carried
// an event as a single notification (its webhook-id is the event's id).
func (s *Store) EventDeliveries(ctx context.Context, tenantID, eventID string) ([]store.EventDelivery, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT `+attemptColumns+`
		FROM triggerd_attempt a JOIN triggerd_subscription s ON s.id = a.subscription_id
		WHERE s.tenant_id = ? AND a.webhook_id = ? ORDER BY a.subscription_id, a.id`), tenantID, eventID)
	if err != nil {
		return nil, fmt.Errorf("event deliveries: %w", err)
	}
	defer rows.Close()
	var out []store.EventDelivery
	for rows.Next() {
		a, err := scanAttempt(rows)
		if err != nil {
			return nil, fmt.Errorf("event deliveries: %w", err)
		}
		if len(out) == 0 || out[len(out)-1].SubscriptionID != a.SubscriptionID {
			out = append(out, store.EventDelivery{SubscriptionID: a.SubscriptionID})
		}
		d := &out[len(out)-1]
		d.Attempts++
		d.LastStatus, d.LastAttemptAt, d.LastError = a.Status, a.StartedAt, a.Error
		switch {
		case d.State == store.DeliveryDelivered:
		case a.Outcome == store.AttemptDelivered:
			d.State = store.DeliveryDelivered
		case a.Outcome == store.AttemptRetry:
			d.State = store.DeliveryPending
		default:
			d.State = store.DeliveryFailed
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("event deliveries: %w", err)
	}
	return out, nil
}

// SetSubscriptionState makes a tenant's subscription active or inactive at
// an operator's request. Activating resets its consecutive failures: they
// count from the attempts after this moment. store.ErrNotFound means the
// tenant has no such subscription, or it was deleted.
func (s *Store) SetSubscriptionState(ctx context.Context, c store.StateChange) (store.Subscription, error) {
	var (
		res sql.Result
		err error
	)
	switch c.State {
	case store.SubscriptionActive:
		res, err = s.db.ExecContext(ctx, s.q(`UPDATE triggerd_subscription SET state = 'active', state_reason = '', updated_at = ?,
			failures_after = COALESCE((SELECT MAX(id) FROM triggerd_attempt WHERE subscription_id = ?), 0)
			WHERE tenant_id = ? AND id = ? AND state <> 'deleted'`), micros(c.Now), c.SubscriptionID, c.TenantID, c.SubscriptionID)
	case store.SubscriptionInactive:
		res, err = s.db.ExecContext(ctx, s.q(`UPDATE triggerd_subscription SET state = 'inactive', state_reason = ?, updated_at = ?
			WHERE tenant_id = ? AND id = ? AND state <> 'deleted'`), c.Reason, micros(c.Now), c.TenantID, c.SubscriptionID)
	default:
		return store.Subscription{}, fmt.Errorf("set subscription state: %q is not active or inactive", c.State)
	}
	if err != nil {
		return store.Subscription{}, fmt.Errorf("set subscription state: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return store.Subscription{}, fmt.Errorf("set subscription state: %w", err)
	} else if n == 0 {
		return store.Subscription{}, store.ErrNotFound
	}
	return s.Subscription(ctx, c.TenantID, c.SubscriptionID)
}

// failingCondition holds for an active subscription whose attempts since
// its last success (or its re-enabling) include one started at or before
// the bound argument: all of them have failed for at least that long.
const failingCondition = `state = 'active' AND EXISTS (
		SELECT 1 FROM triggerd_attempt a
		WHERE a.subscription_id = triggerd_subscription.id AND a.id > triggerd_subscription.failures_after AND a.started_at <= ?
		AND a.id > COALESCE((SELECT MAX(d.id) FROM triggerd_attempt d
			WHERE d.subscription_id = triggerd_subscription.id AND d.outcome = 'delivered'), 0))`

// FailingSubscriptions lists the live subscriptions whose latest attempt
// (since their last success or re-enabling) failed: the ones whose next
// success is a recovery. It lets a process that starts during a receiver's
// outage know which subscriptions were failing before it.
func (s *Store) FailingSubscriptions(ctx context.Context) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id FROM triggerd_subscription WHERE state <> 'deleted' AND EXISTS (
		SELECT 1 FROM triggerd_attempt a
		WHERE a.subscription_id = triggerd_subscription.id AND a.id > triggerd_subscription.failures_after
		AND a.id > COALESCE((SELECT MAX(d.id) FROM triggerd_attempt d
			WHERE d.subscription_id = triggerd_subscription.id AND d.outcome = 'delivered'), 0))`)
	if err != nil {
		return nil, fmt.Errorf("find failing subscriptions: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("find failing subscriptions: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find failing subscriptions: %w", err)
	}
	return ids, nil
}

// DisableFailing makes inactive, with reason "failing", every active
// subscription whose attempts have all failed since failingSince or earlier
// (counting from its last success or re-enabling), and returns them. The
// candidates are found by a read, which holds no lock; each update then
// names at most a hundred of them and checks the condition again, so a
// success recorded in between keeps its subscription active and SQLite's
// writer is held only briefly.
func (s *Store) DisableFailing(ctx context.Context, failingSince, now time.Time) ([]store.Subscription, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT id FROM triggerd_subscription WHERE `+failingCondition), micros(failingSince))
	if err != nil {
		return nil, fmt.Errorf("find failing subscriptions: %w", err)
	}
	var ids []any
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("find failing subscriptions: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find failing subscriptions: %w", err)
	}
	var out []store.Subscription
	for start := 0; start < len(ids); start += insertChunk {
		chunk := ids[start:min(start+insertChunk, len(ids))]
		args := append([]any{micros(now)}, chunk...)
		args = append(args, micros(failingSince))
		subs, err := s.querySubscriptions(ctx, s.db, `UPDATE triggerd_subscription SET state = 'inactive', state_reason = 'failing', updated_at = ?
			WHERE id IN (`+placeholders(len(chunk))+`) AND `+failingCondition+`
			RETURNING `+subscriptionColumns, args...)
		if err != nil {
			return out, fmt.Errorf("disable failing subscriptions: %w", err)
		}
		out = append(out, subs...)
	}
	return out, nil
}

// PruneAttempts deletes up to limit attempts that started before cutoff,
// oldest first, and returns how many it deleted. Small batches keep each
// transaction short, so the writer is never held long.
func (s *Store) PruneAttempts(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	res, err := s.db.ExecContext(ctx, s.q(`DELETE FROM triggerd_attempt WHERE id IN (
		SELECT id FROM triggerd_attempt WHERE started_at < ? ORDER BY started_at LIMIT ?)`), micros(cutoff), limit)
	if err != nil {
		return 0, fmt.Errorf("prune attempts: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("prune attempts: %w", err)
	}
	return int(n), nil
}

// RedeliveryEvents lists, oldest first, the tenant's events of a trigger in
// a window, and with OnlyFailed only those without a delivered attempt to
// the subscription.
func (s *Store) RedeliveryEvents(ctx context.Context, q store.RedeliveryQuery) ([]store.Event, error) {
	query := `SELECT ` + eventColumns + ` FROM triggerd_event e
		WHERE e.tenant_id = ? AND e.type = ? AND e.created_at >= ? AND e.created_at < ?`
	args := []any{q.TenantID, q.Trigger, micros(q.Since), micros(q.Until)}
	if q.OnlyFailed {
		query += ` AND NOT EXISTS (SELECT 1 FROM triggerd_attempt a
			WHERE a.webhook_id = e.id AND a.subscription_id = ? AND a.outcome = 'delivered')`
		args = append(args, q.SubscriptionID)
	}
	query += ` ORDER BY e.seq LIMIT ?`
	args = append(args, q.Limit)
	return s.queryEvents(ctx, "list events to redeliver", query, args...)
}

// PrunedInWindow counts the events a subscription was sent, by attempts
// started in the window, that the event log's retention has removed since:
// what a redelivery of that window can no longer send.
func (s *Store) PrunedInWindow(ctx context.Context, subscriptionID string, since, until time.Time) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, s.q(`SELECT COUNT(DISTINCT a.webhook_id) FROM triggerd_attempt a
		WHERE a.subscription_id = ? AND a.started_at >= ? AND a.started_at < ?
		AND NOT EXISTS (SELECT 1 FROM triggerd_event e WHERE e.id = a.webhook_id)
		AND a.webhook_id LIKE 'evt!_%' ESCAPE '!'`), subscriptionID, micros(since), micros(until)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count pruned events: %w", err)
	}
	return n, nil
}
