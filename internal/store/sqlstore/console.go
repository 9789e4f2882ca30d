package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/triggerd/triggerd/internal/store"
)

// CreateSession stores a console session.
func (s *Store) CreateSession(ctx context.Context, p store.SessionParams) error {
	if _, err := s.db.ExecContext(ctx, s.q(`INSERT INTO triggerd_console_session (token_hash, key_id, tenant_id, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?)`), p.TokenHash, p.KeyID, p.TenantID, micros(p.Now), micros(p.ExpiresAt)); err != nil {
		return fmt.Errorf("create console session: %w", err)
	}
	return nil
}

// SessionByHash returns the session whose token has this hash, with its API
// key as stored now, expired sessions and revoked keys included: the caller
// decides. store.ErrNotFound means there is no such session (or its key is
// gone).
func (s *Store) SessionByHash(ctx context.Context, tokenHash []byte) (store.Session, error) {
	var (
		sess             store.Session
		created, expires int64
	)
	row := s.db.QueryRowContext(ctx, s.q(`SELECT cs.key_id, cs.tenant_id, cs.created_at, cs.expires_at, `+apiKeyColumns+`
		FROM triggerd_console_session cs
		JOIN triggerd_api_key k ON k.id = cs.key_id AND k.tenant_id = cs.tenant_id
		JOIN triggerd_tenant t ON t.id = k.tenant_id
		WHERE cs.token_hash = ?`), tokenHash)
	key, err := scanAPIKey(prefixScanner{row: row, prefix: []any{&sess.KeyID, &sess.TenantID, &created, &expires}})
	if errors.Is(err, store.ErrNotFound) {
		return sess, err
	}
	if err != nil {
		return sess, fmt.Errorf("find console session: %w", err)
	}
	sess.Key = key
	sess.CreatedAt, sess.ExpiresAt = fromMicros(created), fromMicros(expires)
	return sess, nil
}

// prefixScanner scans leading columns into prefix, and the rest into what
// its caller passes (scanAPIKey's columns after the session's).
type prefixScanner struct {
	row    rowScanner
	prefix []any
}

func (p prefixScanner) Scan(dest ...any) error {
	return p.row.Scan(append(slices.Clone(p.prefix), dest...)...)
}

// DeleteSession deletes the session whose token has this hash; deleting
// one that does not exist is not an error (a second sign-out).
func (s *Store) DeleteSession(ctx context.Context, tokenHash []byte) error {
	if _, err := s.db.ExecContext(ctx, s.q(`DELETE FROM triggerd_console_session WHERE token_hash = ?`), tokenHash); err != nil {
		return fmt.Errorf("delete console session: %w", err)
	}
	return nil
}

// PruneSessions deletes up to limit sessions that expired before now,
// oldest first, and returns how many it deleted.
func (s *Store) PruneSessions(ctx context.Context, now time.Time, limit int) (int, error) {
	res, err := s.db.ExecContext(ctx, s.q(`DELETE FROM triggerd_console_session WHERE token_hash IN (
		SELECT token_hash FROM triggerd_console_session WHERE expires_at <= ? ORDER BY expires_at LIMIT ?)`), micros(now), limit)
	if err != nil {
		return 0, fmt.Errorf("prune console sessions: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("prune console sessions: %w", err)
	}
	return int(n), nil
}

// Overview reads a tenant's subscriptions by trigger and state, its
// attempts since q.Since by trigger and outcome, and the subscriptions that
// need attention. Each query reads an index range bounded by the tenant and
// the window (the attempts of the last hour, never the whole history).
func (s *Store) Overview(ctx context.Context, q store.OverviewQuery) (store.Overview, error) {
	var ov store.Overview
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT trigger_name, state, COUNT(*) FROM triggerd_subscription
		WHERE tenant_id = ? AND state IN ('active', 'inactive') GROUP BY trigger_name, state ORDER BY trigger_name, state`), q.TenantID)
	if err != nil {
		return ov, fmt.Errorf("overview: count subscriptions: %w", err)
	}
	for rows.Next() {
		var c store.SubscriptionCount
		var state string
		if err := rows.Scan(&c.Trigger, &state, &c.Count); err != nil {
			rows.Close()
			return ov, fmt.Errorf("overview: count subscriptions: %w", err)
		}
		c.State = store.SubscriptionState(state)
		ov.Subscriptions = append(ov.Subscriptions, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return ov, fmt.Errorf("overview: count subscriptions: %w", err)
	}

	// CROSS JOIN keeps SQLite's planner on the attempts of the window
	// (triggerd_attempt_started) and off the tenant's subscriptions, whose
	// every attempt it would read otherwise: a million for a big tenant.
	// PostgreSQL plans the join freely, from its statistics.
	rows, err = s.db.QueryContext(ctx, s.q(`SELECT s.trigger_name, a.outcome, COUNT(*)
		FROM triggerd_attempt a CROSS JOIN triggerd_subscription s
		WHERE s.id = a.subscription_id AND a.started_at >= ? AND s.tenant_id = ?
		GROUP BY s.trigger_name, a.outcome ORDER BY s.trigger_name, a.outcome`), micros(q.Since), q.TenantID)
	if err != nil {
		return ov, fmt.Errorf("overview: count attempts: %w", err)
	}
	for rows.Next() {
		var c store.OutcomeCount
		var outcome string
		if err := rows.Scan(&c.Trigger, &outcome, &c.Count); err != nil {
			rows.Close()
			return ov, fmt.Errorf("overview: count attempts: %w", err)
		}
		c.Outcome = store.AttemptOutcome(outcome)
		ov.Attempts = append(ov.Attempts, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return ov, fmt.Errorf("overview: count attempts: %w", err)
	}

	// Failing: active, with a failed attempt in the window that no
	// delivered attempt followed (and after its last re-enabling). On
	// SQLite a unary + keeps the DISTINCT from walking the attempts in
	// subscription order (all million of them) instead of reading the
	// window's; PostgreSQL has no + on text, and needs none.
	plus := "+"
	if s.dialect == Postgres {
		plus = ""
	}
	failing, err := s.querySubscriptions(ctx, s.db, `SELECT `+subscriptionColumns+` FROM triggerd_subscription WHERE id IN (
		SELECT DISTINCT `+plus+`a.subscription_id FROM triggerd_attempt a CROSS JOIN triggerd_subscription s
		WHERE s.id = `+plus+`a.subscription_id AND a.started_at >= ? AND s.tenant_id = ? AND s.state = 'active' AND a.outcome <> 'delivered' AND a.id > s.failures_after
		AND NOT EXISTS (SELECT 1 FROM triggerd_attempt d WHERE d.subscription_id = a.subscription_id AND d.outcome = 'delivered' AND d.id > a.id)
		LIMIT ?) ORDER BY id`, micros(q.Since), q.TenantID, q.Problems)
	if err != nil {
		return ov, fmt.Errorf("overview: failing subscriptions: %w", err)
	}
	if len(q.Retrying) > 0 {
		have := map[string]bool{}
		for _, f := range failing {
			have[f.ID] = true
		}
		args := []any{q.TenantID}
		for _, id := range q.Retrying[:min(len(q.Retrying), insertChunk)] {
			args = append(args, id)
		}
		retrying, err := s.querySubscriptions(ctx, s.db, `SELECT `+subscriptionColumns+` FROM triggerd_subscription
			WHERE tenant_id = ? AND state = 'active' AND id IN (`+placeholders(len(args)-1)+`)`, args...)
		if err != nil {
			return ov, fmt.Errorf("overview: retrying subscriptions: %w", err)
		}
		for _, r := range retrying {
			if !have[r.ID] {
				failing = append(failing, r)
			}
		}
		slices.SortFunc(failing, func(a, b store.Subscription) int { return strings.Compare(a.ID, b.ID) })
		failing = failing[:min(len(failing), q.Problems)]
	}
	inactive, err := s.querySubscriptions(ctx, s.db, `SELECT `+subscriptionColumns+` FROM triggerd_subscription
		WHERE tenant_id = ? AND state = 'inactive' ORDER BY updated_at DESC, id LIMIT ?`, q.TenantID, q.Problems)
	if err != nil {
		return ov, fmt.Errorf("overview: inactive subscriptions: %w", err)
	}
	ov.Problems = append(failing, inactive...)
	if err := s.addHealthMany(ctx, ov.Problems); err != nil {
		return ov, fmt.Errorf("overview: %w", err)
	}
	return ov, nil
}
