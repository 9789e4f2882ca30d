package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"modernc.org/sqlite"
)

// PostgresMaxConnsDefault bounds a node's connections. Deliveries hold a
// connection only to read and record, never across the HTTP call, so a few
// dozen serve hundreds of concurrent deliveries, and N nodes stay well under
// PostgreSQL's default max_connections of 100.
const PostgresMaxConnsDefault = 20

// OpenPostgres opens a PostgreSQL database through pgx's database/sql
// driver. url is a postgres:// URL or a key=value DSN; a search_path
// parameter selects the schema.
//
// Unless the URL sets them, connecting times out after WaitDefault and a
// statement waits at most WaitDefault for a lock (lock_timeout): a database
// that is down or a table locked by someone else is answered 503 within
// that bound, never a request that hangs.
func OpenPostgres(ctx context.Context, url string) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	if !strings.Contains(url, "connect_timeout") {
		cfg.ConnectTimeout = WaitDefault
	}
	if _, ok := cfg.RuntimeParams["lock_timeout"]; !ok {
		cfg.RuntimeParams["lock_timeout"] = strconv.FormatInt(WaitDefault.Milliseconds(), 10)
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(PostgresMaxConnsDefault)
	db.SetMaxIdleConns(PostgresMaxConnsDefault)
	db.SetConnMaxIdleTime(5 * time.Minute)
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	return db, nil
}

// DetectDialect tells which supported database a pool talks to, from its
// driver.
func DetectDialect(db *sql.DB) (Dialect, error) {
	switch d := db.Driver().(type) {
	case *sqlite.Driver, cachingDriver:
		return SQLite, nil
	case *stdlib.Driver:
		return Postgres, nil
	default:
		return "", fmt.Errorf("database driver %T is not supported: open the database with triggerd.OpenSQLite or triggerd.OpenPostgres", d)
	}
}
