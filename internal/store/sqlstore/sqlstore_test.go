package sqlstore_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd/internal/store"
	"github.com/triggerd/triggerd/internal/store/sqlstore"
	"github.com/triggerd/triggerd/internal/store/storetest"
)

func migrated(t *testing.T, db *sql.DB) *sqlstore.Store {
	t.Helper()
	dialect, err := sqlstore.DetectDialect(db)
	require.NoError(t, err)
	st, err := sqlstore.New(db, dialect)
	require.NoError(t, err)
	require.NoError(t, st.Migrate(context.Background(), nil))
	require.NoError(t, st.Migrate(context.Background(), nil), "migrating twice is a no-op")
	return st
}

func TestSQLiteConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) store.Store {
		db, err := sqlstore.OpenSQLite(filepath.Join(t.TempDir(), "triggerd.db"))
		require.NoError(t, err)
		t.Cleanup(func() { db.Close() })
		return migrated(t, db)
	})
}

func TestPostgresConformance(t *testing.T) {
	t.Parallel()
	storetest.PostgresURL(t) // skips, with instructions, when PostgreSQL is not configured
	storetest.Run(t, func(t *testing.T) store.Store {
		db, err := sqlstore.OpenPostgres(context.Background(), storetest.PostgresURL(t))
		require.NoError(t, err)
		t.Cleanup(func() { db.Close() })
		return migrated(t, db)
	})
}

// TestPostgresConcurrentMigrate starts several migrations at once, as nodes
// starting together do; the advisory lock makes them take turns.
func TestPostgresConcurrentMigrate(t *testing.T) {
	t.Parallel()
	url := storetest.PostgresURL(t)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db, err := sqlstore.OpenPostgres(context.Background(), url)
			if err != nil {
				errs <- err
				return
			}
			defer db.Close()
			st, err := sqlstore.New(db, sqlstore.Postgres)
			if err != nil {
				errs <- err
				return
			}
			errs <- st.Migrate(context.Background(), nil)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}
