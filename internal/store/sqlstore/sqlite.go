package sqlstore

import (
	"database/sql"
	"fmt"
	"net/url"

	_ "modernc.org/sqlite" // registers the pure-Go "sqlite" driver
)

// OpenSQLite opens (creating if needed) a SQLite database file configured for
// triggerd: WAL journal so readers never block the writer, synchronous=FULL so
// a committed event survives a power cut (an event is acknowledged only once
// it is durable), a busy timeout of WaitDefault instead of immediate
// SQLITE_BUSY errors (and instead of waiting for ever: a file locked by
// another process is answered 503 after that long), and foreign keys on.
//
// The pool holds one connection. SQLite admits one writer at a time anyway,
// and River's SQLite driver asks for it; one connection also means a
// transaction never waits on a lock held by another connection of the same
// process.
func OpenSQLite(path string) (*sql.DB, error) {
	q := url.Values{}
	busy := fmt.Sprintf("busy_timeout(%d)", WaitDefault.Milliseconds())
	for _, p := range []string{busy, "journal_mode(WAL)", "synchronous(FULL)", "foreign_keys(1)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	db, err := openCachingSQLite(sqliteDSN(path, q))
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	if err := db.Ping(); err != nil {
		db.Close()
		if reason, ok := Unavailable(err); ok {
			return nil, fmt.Errorf("open sqlite %s: %s: %w", path, reason, err)
		}
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	return db, nil
}
