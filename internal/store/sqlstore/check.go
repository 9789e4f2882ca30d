package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
)

// tables are triggerd's own tables, every one of which Health reads.
var tables = []string{
	"triggerd_tenant", "triggerd_api_key", "triggerd_subscription", "triggerd_event",
	"triggerd_attempt", "triggerd_batch_item", "triggerd_event_pruned", "triggerd_setting",
	"triggerd_migration", "river_job",
}

// Health reads a row from both ends of every triggerd table, so a damaged
// page at the root or the edges of a table's b-tree, a missing table or a
// lost connection turns GET /healthz to 503, not only an unreachable
// server. It is cheap: a few indexed reads.
func (s *Store) Health(ctx context.Context) error {
	for _, t := range tables {
		queries := []string{`SELECT 1 FROM ` + t + ` LIMIT 1`}
		if s.dialect == SQLite {
			queries = append(queries, `SELECT 1 FROM `+t+` ORDER BY rowid DESC LIMIT 1`)
		}
		for _, q := range queries {
			var one int
			if err := s.db.QueryRowContext(ctx, q).Scan(&one); err != nil && !errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("read %s: %w", t, err)
			}
		}
	}
	return nil
}

// QuickCheck runs SQLite's PRAGMA quick_check, which verifies every page of
// the file in about the time it takes to read it, but not that indexes
// match their tables (IntegrityCheck does). It returns the problems found,
// none when the file is sound. On PostgreSQL it checks nothing.
// https://www.sqlite.org/pragma.html#pragma_quick_check
func (s *Store) QuickCheck(ctx context.Context) ([]string, error) {
	if s.dialect != SQLite {
		return nil, nil
	}
	return s.pragmaCheck(ctx, "quick_check")
}

// IntegrityCheck is the full check of `triggerd check`: SQLite's PRAGMA
// integrity_check (pages, indexes against their tables, constraints), or on
// PostgreSQL that every table of the schema exists and the schema is at
// this version (PostgreSQL checks its own pages).
func (s *Store) IntegrityCheck(ctx context.Context) ([]string, error) {
	if s.dialect == SQLite {
		return s.pragmaCheck(ctx, "integrity_check")
	}
	var problems []string
	for _, t := range tables {
		var reg sql.NullString
		if err := s.db.QueryRowContext(ctx, `SELECT to_regclass($1)::text`, t).Scan(&reg); err != nil {
			return nil, fmt.Errorf("check %s: %w", t, err)
		}
		if !reg.Valid {
			problems = append(problems, fmt.Sprintf("table %s is missing from the schema", t))
		}
	}
	if len(problems) > 0 {
		return problems, nil
	}
	want, err := s.latestMigration()
	if err != nil {
		return nil, err
	}
	var have int
	if err := s.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM triggerd_migration`).Scan(&have); err != nil {
		return nil, fmt.Errorf("check schema version: %w", err)
	}
	if have != want {
		problems = append(problems, fmt.Sprintf("schema is at version %d, this triggerd expects %d: run `triggerd migrate`", have, want))
	}
	if err := s.Health(ctx); err != nil {
		problems = append(problems, err.Error())
	}
	return problems, nil
}

func (s *Store) pragmaCheck(ctx context.Context, pragma string) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `PRAGMA `+pragma)
	if err != nil {
		if reason, ok := Unavailable(err); ok && strings.Contains(reason, "damaged") {
			return []string{err.Error()}, nil
		}
		return nil, fmt.Errorf("%s: %w", pragma, err)
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return nil, fmt.Errorf("%s: %w", pragma, err)
		}
		if line != "ok" {
			problems = append(problems, line)
		}
	}
	if err := rows.Err(); err != nil {
		if reason, ok := Unavailable(err); ok && strings.Contains(reason, "damaged") {
			return append(problems, err.Error()), nil
		}
		return nil, fmt.Errorf("%s: %w", pragma, err)
	}
	return problems, nil
}

// latestMigration is the highest migration version this build carries.
func (s *Store) latestMigration() (int, error) {
	entries, err := fs.ReadDir(migrationFS, "migration/"+string(s.dialect))
	if err != nil {
		return 0, fmt.Errorf("check schema version: %w", err)
	}
	latest := 0
	for _, e := range entries {
		v, err := strconv.Atoi(strings.SplitN(e.Name(), "_", 2)[0])
		if err != nil {
			return 0, fmt.Errorf("check schema version: bad migration file name %q", e.Name())
		}
		latest = max(latest, v)
	}
	return latest, nil
}
