package sqlstore_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd/internal/store/sqlstore"
)

// TestOpenSQLiteTakesPathsLiterally: a path with the characters a SQLite
// URI gives a meaning to opens exactly that file, and nothing beside it.
func TestOpenSQLiteTakesPathsLiterally(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"odd?name.db", "hash#name.db", "pct%41name.db", "mode=ro&x.db"} {
		dir := t.TempDir()
		path := filepath.Join(dir, name)
		db, err := sqlstore.OpenSQLite(path)
		require.NoError(t, err, name)
		_, err = db.Exec(`CREATE TABLE t (x INTEGER)`)
		require.NoError(t, err, name)
		require.NoError(t, db.Close())
		_, err = os.Stat(path)
		require.NoError(t, err, "%s: the file is where the path says", name)
		entries, err := os.ReadDir(dir)
		require.NoError(t, err)
		for _, e := range entries {
			require.Contains(t, e.Name(), name, "%s: no other file was created", name)
		}
	}

	// Written as a URI, it is read as one.
	dir := t.TempDir()
	db, err := sqlstore.OpenSQLite("file:" + filepath.Join(dir, "uri.db") + "?cache=private")
	require.NoError(t, err)
	_, err = db.Exec(`CREATE TABLE t (x INTEGER)`)
	require.NoError(t, err)
	require.NoError(t, db.Close())
	_, err = os.Stat(filepath.Join(dir, "uri.db"))
	require.NoError(t, err)
}
