package sqlstore

import (
	"bytes"
	"context"
	"fmt"
)

// SQLiteFile is the main database file of a SQLite store ("" in memory),
// beside which the generated encryption key is kept; "" on PostgreSQL.
func (s *Store) SQLiteFile(ctx context.Context) (string, error) {
	if s.dialect != SQLite {
		return "", nil
	}
	var (
		seq        int
		name, file string
	)
	if err := s.db.QueryRowContext(ctx, `SELECT seq, name, file FROM pragma_database_list WHERE name = 'main'`).Scan(&seq, &name, &file); err != nil {
		return "", fmt.Errorf("find database file: %w", err)
	}
	return file, nil
}

// ReencryptSubscriptions seals every subscription's callback URL and
// secrets with the keyring's first key and re-keys its callback index, in
// transactions of batch rows, so the old key can then leave the ring. Rows
// already sealed with the first key are skipped, so an interrupted run
// resumes where it stopped. It returns how many rows it rewrote.
func (s *Store) ReencryptSubscriptions(ctx context.Context, batch int) (int, error) {
	if s.keys == nil {
		return 0, fmt.Errorf("re-encrypt: no encryption key configured")
	}
	batch = max(batch, 1)
	total, after := 0, ""
	for {
		n, last, err := s.reencryptBatch(ctx, after, batch)
		total += n
		if err != nil {
			return total, fmt.Errorf("re-encrypt subscriptions: %w", err)
		}
		if last == "" {
			return total, nil
		}
		after = last
	}
}

func (s *Store) reencryptBatch(ctx context.Context, after string, batch int) (int, string, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, "", err
	}
	defer tx.Rollback() //nolint:errcheck // no-op after commit
	rows, err := tx.QueryContext(ctx, s.q(`SELECT id, callback_url, callback_hash, secret, previous_secret
		FROM triggerd_subscription WHERE id > ? ORDER BY id LIMIT ?`), after, batch)
	if err != nil {
		return 0, "", err
	}
	type row struct {
		id, url, secret, previous string
		hash                      []byte
	}
	var todo []row
	last := ""
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.url, &r.hash, &r.secret, &r.previous); err != nil {
			rows.Close()
			return 0, "", err
		}
		last = r.id
		todo = append(todo, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, "", err
	}
	n := 0
	for _, r := range todo {
		url, err := s.keys.Open(r.url, r.id)
		if err != nil {
			return n, "", fmt.Errorf("subscription %s: %w", r.id, err)
		}
		if s.keys.Sealed(r.url) && s.keys.Sealed(r.secret) && (r.previous == "" || s.keys.Sealed(r.previous)) &&
			bytes.Equal(r.hash, s.keys.Index(url)) {
			continue
		}
		secret, err := s.keys.Open(r.secret, r.id)
		if err != nil {
			return n, "", fmt.Errorf("subscription %s: %w", r.id, err)
		}
		previous, err := s.keys.Open(r.previous, r.id)
		if err != nil {
			return n, "", fmt.Errorf("subscription %s: %w", r.id, err)
		}
		sealedPrev := ""
		if previous != "" {
			sealedPrev = s.keys.Seal(previous, r.id)
		}
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE triggerd_subscription
			SET callback_url = ?, callback_hash = ?, secret = ?, previous_secret = ? WHERE id = ?`),
			s.keys.Seal(url, r.id), s.keys.Index(url), s.keys.Seal(secret, r.id), sealedPrev, r.id); err != nil {
			return n, "", fmt.Errorf("subscription %s: %w", r.id, err)
		}
		n++
	}
	if err := tx.Commit(); err != nil {
		return 0, "", err
	}
	if len(todo) < batch {
		last = ""
	}
	return n, last, nil
}
