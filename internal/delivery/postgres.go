package delivery

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
)

// listenerPool opens a one-connection pgx pool on the database db talks to,
// for River's LISTEN. The connection settings come from db itself, so an
// application that opened its pool with pgx's driver needs to say nothing
// more.
func listenerPool(db *sql.DB) (*pgxpool.Pool, error) {
	conn, err := db.Conn(context.Background())
	if err != nil {
		return nil, fmt.Errorf("listener pool: %w", err)
	}
	defer conn.Close()
	var connString string
	if err := conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("connection is %T, not pgx", dc)
		}
		connString = c.Conn().Config().ConnString()
		return nil
	}); err != nil {
		return nil, fmt.Errorf("listener pool: %w", err)
	}
	cfg, err := pgxpool.ParseConfig(connString)
	if err != nil {
		return nil, fmt.Errorf("listener pool: %w", err)
	}
	cfg.MinConns = 0
	cfg.MaxConns = 1
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		return nil, fmt.Errorf("listener pool: %w", err)
	}
	return pool, nil
}
