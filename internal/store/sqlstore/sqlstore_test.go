package sqlstore_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd/internal/store"
	"github.com/triggerd/triggerd/internal/store/sqlstore"
	"github.com/triggerd/triggerd/internal/store/storetest"
)

func TestSQLiteConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) store.Store {
		db, err := sqlstore.OpenSQLite(filepath.Join(t.TempDir(), "triggerd.db"))
		require.NoError(t, err)
		t.Cleanup(func() { db.Close() })
		st, err := sqlstore.New(db, sqlstore.SQLite)
		require.NoError(t, err)
		require.NoError(t, st.Migrate(context.Background()))
		require.NoError(t, st.Migrate(context.Background()), "migrating twice is a no-op")
		return st
	})
}
