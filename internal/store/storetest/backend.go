package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver

	"github.com/triggerd/triggerd/internal/store/sqlstore"
)

// Backend is a database a test runs on.
type Backend string

const (
	// SQLite is a fresh database file in the test's temporary directory;
	// it always runs.
	SQLite Backend = "SQLite"

	// Postgres is a fresh schema of the database PostgresURLEnv names,
	// dropped when the test ends; it is skipped, saying how to enable it,
	// when the variable is not set.
	Postgres Backend = "Postgres"
)

// Backends runs fn once per backend, in parallel subtests named after the
// backends: SQLite always, PostgreSQL when PostgresURLEnv is set.
func Backends(t *testing.T, fn func(t *testing.T, be Backend)) {
	t.Helper()
	for _, be := range []Backend{SQLite, Postgres} {
		t.Run(string(be), func(t *testing.T) {
			t.Parallel()
			be.skipUnavailable(t)
			fn(t, be)
		})
	}
}

// BenchBackends is Backends for benchmarks: sequential sub-benchmarks named
// after the backends in lower case (sqlite, postgres), as benchmark results
// have always been reported.
func BenchBackends(b *testing.B, fn func(b *testing.B, be Backend)) {
	b.Helper()
	for _, be := range []Backend{SQLite, Postgres} {
		b.Run(strings.ToLower(string(be)), func(b *testing.B) {
			be.skipUnavailable(b)
			fn(b, be)
		})
	}
}

func (be Backend) skipUnavailable(t testing.TB) {
	t.Helper()
	if be == Postgres && os.Getenv(PostgresURLEnv) == "" {
		t.Skipf("PostgreSQL tests are off: set %s=postgres://user@127.0.0.1:5432/db?sslmode=disable to run them", PostgresURLEnv)
	}
}

// DSN returns a fresh, empty database of the backend for the test: a SQLite
// file path, or a postgres:// URL of a new schema (see PostgresURL). It is
// for tests that open the database their own way, such as a command's
// --db flag.
func (be Backend) DSN(t testing.TB) string {
	t.Helper()
	if be == Postgres {
		return PostgresURL(t)
	}
	return filepath.Join(t.TempDir(), "triggerd.db")
}

// Open opens a fresh, empty database of the backend the way triggerd does
// (sqlstore.OpenSQLite, sqlstore.OpenPostgres), closed when the test ends.
func (be Backend) Open(t testing.TB) *sql.DB {
	t.Helper()
	var (
		db  *sql.DB
		err error
	)
	if be == Postgres {
		db, err = sqlstore.OpenPostgres(context.Background(), PostgresURL(t))
	} else {
		db, err = sqlstore.OpenSQLite(be.DSN(t))
	}
	if err != nil {
		t.Fatalf("open %s: %v", be, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Store returns a store on a fresh database of the backend, with the
// store's tables migrated (not the job queue's: a test of the delivery
// engine migrates those with delivery.Migrate).
func (be Backend) Store(t testing.TB) *sqlstore.Store {
	t.Helper()
	dialect := sqlstore.SQLite
	if be == Postgres {
		dialect = sqlstore.Postgres
	}
	st, err := sqlstore.New(be.Open(t), dialect)
	if err != nil {
		t.Fatalf("store on %s: %v", be, err)
	}
	if err := st.Migrate(context.Background(), nil); err != nil {
		t.Fatalf("migrate %s: %v", be, err)
	}
	return st
}

// PostgresURLEnv names the environment variable that enables the PostgreSQL
// tests, e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable.
const PostgresURLEnv = "TRIGGERD_TEST_DATABASE_URL"

// PostgresURL returns a URL to a fresh, empty schema of the test database,
// dropped when the test ends, so PostgreSQL tests run in parallel in
// isolation. Without PostgresURLEnv the test is skipped, saying how to
// enable it.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(PostgresURLEnv)
	if base == "" {
		t.Skipf("PostgreSQL tests are off: set %s=postgres://user@127.0.0.1:5432/db?sslmode=disable to run them", PostgresURLEnv)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "triggerd_test_" + hex.EncodeToString(b)

	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("open %s: %v", PostgresURLEnv, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		admin.Close()
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, _ = admin.ExecContext(ctx, `DROP SCHEMA `+schema+` CASCADE`)
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil || !strings.HasPrefix(u.Scheme, "postgres") {
		t.Fatalf("%s must be a postgres:// URL", PostgresURLEnv)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
