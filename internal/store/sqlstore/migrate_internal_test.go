package sqlstore

import (
	"context"
	"io/fs"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestKeysFromBeforeScopesBecomeAdmin builds a database at schema version 4
// with a key issued then, migrates it, and checks the key works as an admin
// key with an id.
func TestKeysFromBeforeScopesBecomeAdmin(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := OpenSQLite(filepath.Join(t.TempDir(), "old.db"))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	_, err = db.Exec(`CREATE TABLE triggerd_migration (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)`)
	require.NoError(t, err)
	entries, err := fs.ReadDir(migrationFS, "migration/sqlite")
	require.NoError(t, err)
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	for _, e := range entries {
		v, err := strconv.Atoi(strings.SplitN(e.Name(), "_", 2)[0])
		require.NoError(t, err)
		if v > 4 {
			break
		}
		body, err := fs.ReadFile(migrationFS, "migration/sqlite/"+e.Name())
		require.NoError(t, err)
		_, err = db.Exec(string(body))
		require.NoError(t, err, e.Name())
		_, err = db.Exec(`INSERT INTO triggerd_migration (version, applied_at) VALUES (?, 0)`, v)
		require.NoError(t, err)
	}
	_, err = db.Exec(`INSERT INTO triggerd_tenant (id, name, created_at) VALUES ('ten_1', 'acme', 0)`)
	require.NoError(t, err)
	_, err = db.Exec(`INSERT INTO triggerd_api_key (key_hash, tenant_id, created_at) VALUES (?, 'ten_1', 0)`, []byte("0123456789abcdef0123456789abcdef"))
	require.NoError(t, err)

	st, err := New(db, SQLite)
	require.NoError(t, err)
	require.NoError(t, st.Migrate(ctx, nil))
	k, err := st.APIKeyByHash(ctx, []byte("0123456789abcdef0123456789abcdef"))
	require.NoError(t, err)
	require.Equal(t, []string{"admin"}, k.Scopes)
	require.True(t, strings.HasPrefix(k.ID, "key_"), k.ID)
	require.Nil(t, k.ExpiresAt)
	require.Nil(t, k.RevokedAt)
	require.Equal(t, "acme", k.Tenant.Name)
	revoked, err := st.RevokeAPIKey(ctx, "", k.ID, time.Now())
	require.NoError(t, err, "the derived id names the key")
	require.NotNil(t, revoked.RevokedAt)
}
