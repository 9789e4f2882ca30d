package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"sync"

	"modernc.org/sqlite"
)

// The SQLite statement cache.
//
// database/sql prepares, runs and discards a statement for every
// ExecContext or QueryContext that is not itself a prepared statement, and
// modernc's driver parses the SQL each time. The benchmark found that
// parsing at over a third of the server's CPU (docs/performance.md), spent
// by triggerd's queries and River's alike. A connection that keeps each
// statement it prepared, keyed by its text, parses every query once; River
// benefits without being changed.

// stmtCacheMax bounds the statements one connection keeps. triggerd and
// River together use a few dozen distinct texts; the bound only guards
// against a caller generating SQL.
const stmtCacheMax = 512

// sqliteCachingDriverName is the database/sql name of the caching driver.
const sqliteCachingDriverName = "sqlite-triggerd"

var registerCachingDriver sync.Once

// cachingDriver wraps modernc's driver.
type cachingDriver struct{ d *sqlite.Driver }

func (d cachingDriver) Open(name string) (driver.Conn, error) {
	c, err := d.d.Open(name)
	if err != nil {
		return nil, err
	}
	return &cachingConn{Conn: c, stmts: map[string]*cachedStmt{}}, nil
}

type cachedStmt struct {
	stmt driver.Stmt
	// busy is set while rows of the statement are open: a statement can
	// serve one query at a time, so a second one meanwhile goes uncached.
	busy bool
}

// cachingConn is one SQLite connection with its statements. database/sql
// never uses a connection from two goroutines at once, so no lock is needed.
type cachingConn struct {
	driver.Conn
	stmts map[string]*cachedStmt
}

func (c *cachingConn) cached(ctx context.Context, query string) (*cachedStmt, error) {
	if s, ok := c.stmts[query]; ok {
		if s.busy {
			return nil, nil
		}
		return s, nil
	}
	if len(c.stmts) >= stmtCacheMax {
		for q, s := range c.stmts {
			if !s.busy {
				s.stmt.Close()
				delete(c.stmts, q)
			}
		}
	}
	st, err := c.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	s := &cachedStmt{stmt: st}
	c.stmts[query] = s
	return s, nil
}

func (c *cachingConn) Close() error {
	for _, s := range c.stmts {
		s.stmt.Close()
	}
	return c.Conn.Close()
}

func (c *cachingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.Conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
}

func (c *cachingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, query)
}

func (c *cachingConn) Ping(ctx context.Context) error { return c.Conn.(driver.Pinger).Ping(ctx) }

func (c *cachingConn) ResetSession(ctx context.Context) error {
	return c.Conn.(driver.SessionResetter).ResetSession(ctx)
}

func (c *cachingConn) IsValid() bool { return c.Conn.(driver.Validator).IsValid() }

func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	s, err := c.cached(ctx, query)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return c.Conn.(driver.ExecerContext).ExecContext(ctx, query, args)
	}
	return s.stmt.(driver.StmtExecContext).ExecContext(ctx, args)
}

func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	s, err := c.cached(ctx, query)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return c.Conn.(driver.QueryerContext).QueryContext(ctx, query, args)
	}
	rows, err := s.stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
	if err != nil {
		return nil, err
	}
	s.busy = true
	return &cachedRows{Rows: rows, s: s}, nil
}

type cachedRows struct {
	driver.Rows
	s *cachedStmt
}

func (r *cachedRows) Close() error {
	r.s.busy = false
	return r.Rows.Close()
}

func openCachingSQLite(dsn string) (*sql.DB, error) {
	registerCachingDriver.Do(func() { sql.Register(sqliteCachingDriverName, cachingDriver{d: &sqlite.Driver{}}) })
	db, err := sql.Open(sqliteCachingDriverName, dsn)
	if err != nil {
		return nil, fmt.Errorf("open: %w", err)
	}
	return db, nil
}
