package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
)

// WaitDefault bounds how long one request waits for the database: SQLite's
// busy timeout, PostgreSQL's lock timeout and connect timeout, and the
// deadline the HTTP API puts on its database work. A request that would
// wait longer is answered 503 with Retry-After, which the platform and
// clients retry, instead of hanging.
const WaitDefault = 5 * time.Second

// SQLite result codes (the primary code, the low byte of an extended one),
// from https://www.sqlite.org/rescode.html.
const (
	sqliteBusy    = 5
	sqliteLocked  = 6
	sqliteIOErr   = 10
	sqliteCorrupt = 11
	sqliteFull    = 13
	sqliteNotADB  = 26
)

// Unavailable says whether err means the database cannot serve right now
// (busy, locked, unreachable, out of time, damaged) rather than that the
// request was wrong, and gives the reason in words for the person who
// has to act. Such errors are answered 503 with Retry-After.
func Unavailable(err error) (reason string, ok bool) {
	if err == nil {
		return "", false
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqliteBusy, sqliteLocked:
			return "the database file is locked by another process (a backup, a migration or another program holding a write transaction); retry shortly", true
		case sqliteCorrupt, sqliteNotADB:
			return "the database file is damaged; the operator must restore it from a backup (see docs/operations.md, \"Backup and restore\")", true
		case sqliteFull:
			return "the database disk is full", true
		case sqliteIOErr:
			return "the database file could not be read or written (I/O error)", true
		}
		return "", false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case strings.HasPrefix(pe.Code, "08"): // connection exception
			return "the database connection failed", true
		case pe.Code == "55P03": // lock_not_available: lock_timeout
			return "the database is busy: a lock was not granted in time", true
		case pe.Code == "57014": // query_canceled: statement_timeout
			return "the database is busy: a statement did not finish in time", true
		case pe.Code == "53300" || pe.Code == "53000" || pe.Code == "53100" || pe.Code == "53200":
			return "the database is out of resources (connections, memory or disk)", true
		case strings.HasPrefix(pe.Code, "57P"): // admin shutdown, crash shutdown, cannot connect now
			return "the database is shutting down or starting up", true
		case pe.Code == "40001" || pe.Code == "40P01": // serialization failure, deadlock
			return "the database aborted a conflicting transaction", true
		}
		return "", false
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return "the database is unreachable", true
	}
	if errors.Is(err, context.DeadlineExceeded) {
		// Before net.Error: the deadline error is one too.
		return "the database did not answer in time (busy or locked)", true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return "the database is unreachable", true
	}
	switch {
	case errors.Is(err, driver.ErrBadConn), errors.Is(err, sql.ErrConnDone):
		return "the database connection was lost", true
	case strings.Contains(err.Error(), "conn closed"), strings.Contains(err.Error(), "connection refused"),
		strings.Contains(err.Error(), "unexpected EOF"):
		return "the database is unreachable", true
	}
	return "", false
}
