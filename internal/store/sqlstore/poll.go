package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/triggerd/triggerd/internal/store"
)

// pruneLockKey is the PostgreSQL advisory lock a node holds while it prunes
// the event log, so that one node prunes at a time.
const pruneLockKey = 0x70727565 // "prue"

// The log order of polling triggers, per dialect (see store.Cursor and the
// 002 migrations). On PostgreSQL the horizon condition keeps out every row
// whose transaction is not older than the oldest one still running: those
// rows, and rows of transactions that have not inserted yet, may still
// commit below a cursor handed out now. The row comparison and ORDER BY
// follow the index triggerd_event_poll (tenant_id, type, xid, seq).
const (
	eventsAfterSQLite = `SELECT 0, seq, id, data, created_at FROM triggerd_event
		WHERE tenant_id = ? AND type = ? AND seq > ?
		ORDER BY seq LIMIT ?`
	// The text of xid is aliased: ORDER BY xid would otherwise sort by the
	// output column, as text.
	eventsAfterPostgres = `SELECT xid::text AS xid_text, seq, id, data, created_at FROM triggerd_event
		WHERE tenant_id = $1 AND type = $2 AND (xid, seq) > ($3::text::xid8, $4)
		AND xid < pg_snapshot_xmin(pg_current_snapshot())
		ORDER BY xid, seq LIMIT $5`
)

// EventsAfter returns up to limit events of a tenant's event type that
// come after the cursor in log order, oldest first. It returns only
// events whose place in the log is final: no event committed later can
// sort before one already returned, so a reader that resumes after the
// last one misses nothing and repeats nothing.
func (s *Store) EventsAfter(ctx context.Context, q store.LogQuery) ([]store.LogEntry, error) {
	tenantID, eventType, after, limit := q.TenantID, q.EventType, q.After, q.Limit
	var (
		rows *sql.Rows
		err  error
	)
	if s.dialect == Postgres {
		rows, err = s.db.QueryContext(ctx, eventsAfterPostgres, tenantID, eventType, strconv.FormatUint(after.XID, 10), after.Seq, limit)
	} else {
		rows, err = s.db.QueryContext(ctx, eventsAfterSQLite, tenantID, eventType, after.Seq, limit)
	}
	if err != nil {
		return nil, fmt.Errorf("read event log: %w", err)
	}
	defer rows.Close()
	var out []store.LogEntry
	for rows.Next() {
		var (
			e       store.LogEntry
			xid     string
			created int64
		)
		if err := rows.Scan(&xid, &e.Cursor.Seq, &e.ID, &e.Data, &created); err != nil {
			return nil, fmt.Errorf("read event log: %w", err)
		}
		if e.Cursor.XID, err = strconv.ParseUint(xid, 10, 64); err != nil {
			return nil, fmt.Errorf("read event log: transaction id %q: %w", xid, err)
		}
		e.CreatedAt = fromMicros(created)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read event log: %w", err)
	}
	return out, nil
}

// LogEnd returns a cursor at the current end of the log: every event
// whose place is final now is at or before it, and every event that is
// not final yet will come after it.
//
// On SQLite it is the highest seq ever
// assigned (sqlite_sequence keeps it across deletes); every seq up to it has
// committed or rolled back. On PostgreSQL it is just below the horizon: every
// transaction with a smaller id has finished, so its events are final and
// before the cursor, and every event of a later or running transaction has a
// larger xid and comes after it.
func (s *Store) LogEnd(ctx context.Context) (store.Cursor, error) {
	if s.dialect != Postgres {
		var seq int64
		if err := s.db.QueryRowContext(ctx, `SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'triggerd_event'), 0)`).Scan(&seq); err != nil {
			return store.Cursor{}, fmt.Errorf("read end of event log: %w", err)
		}
		return store.Cursor{Seq: seq}, nil
	}
	var text string
	if err := s.db.QueryRowContext(ctx, `SELECT pg_snapshot_xmin(pg_current_snapshot())::text`).Scan(&text); err != nil {
		return store.Cursor{}, fmt.Errorf("read end of event log: %w", err)
	}
	xmin, err := strconv.ParseUint(text, 10, 64)
	if err != nil || xmin == 0 {
		return store.Cursor{}, fmt.Errorf("read end of event log: unexpected transaction horizon %q", text)
	}
	return store.Cursor{XID: xmin - 1, Seq: math.MaxInt64}, nil
}

// PrunedThrough returns the highest cursor of an event of a tenant's
// event type that PruneEvents deleted, or the zero Cursor. An event
// after a reader's cursor was lost to retention exactly when this is
// greater than that cursor.
func (s *Store) PrunedThrough(ctx context.Context, tenantID, eventType string) (store.Cursor, error) {
	var (
		xid = "0"
		c   store.Cursor
		err error
	)
	if s.dialect == Postgres {
		err = s.db.QueryRowContext(ctx, `SELECT xid::text, seq FROM triggerd_event_pruned WHERE tenant_id = $1 AND type = $2`,
			tenantID, eventType).Scan(&xid, &c.Seq)
	} else {
		err = s.db.QueryRowContext(ctx, `SELECT seq FROM triggerd_event_pruned WHERE tenant_id = ? AND type = ?`,
			tenantID, eventType).Scan(&c.Seq)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return store.Cursor{}, nil
	}
	if err != nil {
		return store.Cursor{}, fmt.Errorf("read pruned position: %w", err)
	}
	if c.XID, err = strconv.ParseUint(xid, 10, 64); err != nil {
		return store.Cursor{}, fmt.Errorf("read pruned position: transaction id %q: %w", xid, err)
	}
	return c, nil
}

// PruneEvents deletes up to limit events created before the cutoff that
// no waiting batch item references, remembering per tenant and event
// type the highest cursor deleted, and returns how many it deleted. On
// PostgreSQL only one node prunes at a time: the others delete nothing
// and return 0.
//
// The deletion and the record of what it
// deleted commit together, so a poller either still finds an event or learns
// that it is gone.
func (s *Store) PruneEvents(ctx context.Context, before time.Time, limit int) (int, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("prune events: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after commit
	if s.dialect == Postgres {
		var locked bool
		if err := tx.QueryRowContext(ctx, `SELECT pg_try_advisory_xact_lock($1, hashtext(current_schema()))`, pruneLockKey).Scan(&locked); err != nil {
			return 0, fmt.Errorf("prune events: lock: %w", err)
		}
		if !locked {
			return 0, nil // another node is pruning
		}
	}
	xidColumn := "0"
	if s.dialect == Postgres {
		xidColumn = "xid::text"
	}
	// Batch items wait for events a batch-mode notification will carry;
	// those events stay until the batch is sent.
	rows, err := tx.QueryContext(ctx, s.q(`DELETE FROM triggerd_event WHERE seq IN (
			SELECT e.seq FROM triggerd_event e
			WHERE e.created_at < ?
			AND NOT EXISTS (SELECT 1 FROM triggerd_batch_item b WHERE b.event_seq = e.seq)
			ORDER BY e.created_at LIMIT ?)
		RETURNING tenant_id, type, `+xidColumn+`, seq`), micros(before), limit)
	if err != nil {
		return 0, fmt.Errorf("prune events: %w", err)
	}
	type key struct{ tenant, typ string }
	highest := map[key]store.Cursor{}
	n := 0
	for rows.Next() {
		var (
			k   key
			xid string
			c   store.Cursor
		)
		if err := rows.Scan(&k.tenant, &k.typ, &xid, &c.Seq); err != nil {
			rows.Close()
			return 0, fmt.Errorf("prune events: %w", err)
		}
		if c.XID, err = strconv.ParseUint(xid, 10, 64); err != nil {
			rows.Close()
			return 0, fmt.Errorf("prune events: transaction id %q: %w", xid, err)
		}
		n++
		if h, ok := highest[k]; !ok || h.Less(c) {
			highest[k] = c
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("prune events: %w", err)
	}
	for k, c := range highest {
		if s.dialect == Postgres {
			_, err = tx.ExecContext(ctx, `INSERT INTO triggerd_event_pruned (tenant_id, type, xid, seq) VALUES ($1, $2, $3::text::xid8, $4)
				ON CONFLICT (tenant_id, type) DO UPDATE SET xid = excluded.xid, seq = excluded.seq
				WHERE (excluded.xid, excluded.seq) > (triggerd_event_pruned.xid, triggerd_event_pruned.seq)`,
				k.tenant, k.typ, strconv.FormatUint(c.XID, 10), c.Seq)
		} else {
			_, err = tx.ExecContext(ctx, `INSERT INTO triggerd_event_pruned (tenant_id, type, seq) VALUES (?, ?, ?)
				ON CONFLICT (tenant_id, type) DO UPDATE SET seq = excluded.seq WHERE excluded.seq > triggerd_event_pruned.seq`,
				k.tenant, k.typ, c.Seq)
		}
		if err != nil {
			return 0, fmt.Errorf("prune events: record pruned position: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("prune events: commit: %w", err)
	}
	return n, nil
}

// EnsureSetting stores value under name unless a value is stored there
// already, and returns the stored value: nodes that start together on
// one database all end up with the value the first of them stored.
func (s *Store) EnsureSetting(ctx context.Context, name string, value []byte, now time.Time) ([]byte, error) {
	if _, err := s.db.ExecContext(ctx, s.q(`INSERT INTO triggerd_setting (name, value, created_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO NOTHING`), name, value, micros(now)); err != nil {
		return nil, fmt.Errorf("store setting %s: %w", name, err)
	}
	var stored []byte
	if err := s.db.QueryRowContext(ctx, s.q(`SELECT value FROM triggerd_setting WHERE name = ?`), name).Scan(&stored); err != nil {
		return nil, fmt.Errorf("read setting %s: %w", name, err)
	}
	return stored, nil
}
