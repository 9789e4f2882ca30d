package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/triggerd/triggerd"
)

// This file is the one place that knows which database the web store runs
// on. Its tables live in the same database as triggerd's (the triggerd_
// tables), which is what lets an order and its notification commit in one
// transaction. The rest of the program writes SQL that both databases
// accept, with ? placeholders that dialect.rebind adapts.

// dialect is the database the web store runs on.
type dialect string

const (
	dialectSQLite   dialect = "sqlite"
	dialectPostgres dialect = "postgres"
)

// openDatabase opens the database named by --db: a postgres:// URL, or else
// a SQLite file path. triggerd's own Open functions configure the pool the
// way triggerd needs (for SQLite: WAL, synchronous FULL, one connection),
// and the web store shares it.
func openDatabase(ctx context.Context, dsn string) (*sql.DB, dialect, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		db, err := triggerd.OpenPostgres(ctx, dsn)
		if err != nil {
			return nil, "", fmt.Errorf("open database: %w", err)
		}
		return db, dialectPostgres, nil
	}
	db, err := triggerd.OpenSQLite(dsn)
	if err != nil {
		return nil, "", fmt.Errorf("open database: %w", err)
	}
	return db, dialectSQLite, nil
}

// rebind turns the ? placeholders of q into PostgreSQL's $1, $2, … The
// web store's queries have no ? inside string literals.
func (d dialect) rebind(q string) string {
	if d != dialectPostgres {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// orderTable creates the orders table. The key is unique per tenant (each
// tenant is a separate shop), and the UNIQUE constraint, not a prior
// SELECT, is what refuses a duplicate, so two requests racing with the same
// key cannot both win. Only the id column differs between the databases:
// SQLite makes INTEGER PRIMARY KEY the rowid, PostgreSQL uses an identity.
const orderTable = `CREATE TABLE IF NOT EXISTS webstore_order (
	id             %s,
	tenant         TEXT   NOT NULL,
	order_key      TEXT   NOT NULL,
	status         TEXT   NOT NULL,
	currency       TEXT   NOT NULL,
	total          BIGINT NOT NULL, -- minor units (cents)
	customer_name  TEXT   NOT NULL,
	customer_email TEXT   NOT NULL,
	line_items     TEXT   NOT NULL, -- JSON array of LineItem
	version        BIGINT NOT NULL, -- 1, then +1 per status change
	created_at     TEXT   NOT NULL, -- RFC 3339, UTC
	modified_at    TEXT   NOT NULL,
	UNIQUE (tenant, order_key)
)`

func (d dialect) schema() []string {
	id := "INTEGER PRIMARY KEY AUTOINCREMENT"
	var stmts []string
	if d == dialectPostgres {
		id = "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"
		// Several web store processes may start at once on one database;
		// CREATE TABLE IF NOT EXISTS is not safe against itself there.
		stmts = append(stmts, `SELECT pg_advisory_xact_lock(hashtext('webstore_migrate'))`)
	}
	return append(stmts,
		fmt.Sprintf(orderTable, id),
		`CREATE INDEX IF NOT EXISTS webstore_order_tenant_status ON webstore_order (tenant, status, id)`,
	)
}

// migrate creates the web store's tables if they do not exist.
func migrate(ctx context.Context, db *sql.DB, d dialect) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after commit
	for _, stmt := range d.schema() {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// Codes of a UNIQUE constraint violation: SQLite's extended result code
// (https://sqlite.org/rescode.html#constraint_unique) and PostgreSQL's
// SQLSTATE unique_violation.
const (
	sqliteConstraintUnique  = 2067
	postgresUniqueViolation = "23505"
)

// isUniqueViolation reports whether err is a UNIQUE constraint violation.
// The drivers' errors are matched by their methods rather than their types,
// so the web store does not import the drivers triggerd opens.
func isUniqueViolation(err error) bool {
	var sqliteErr interface{ Code() int }
	if errors.As(err, &sqliteErr) && sqliteErr.Code() == sqliteConstraintUnique {
		return true
	}
	var pgErr interface{ SQLState() string }
	return errors.As(err, &pgErr) && pgErr.SQLState() == postgresUniqueViolation
}
