package main_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCheckCommandAndDamagedStart: `triggerd check` passes a sound file and
// fails (exit 1, naming the problems) on a damaged one, and `serve`
// refuses to start on it with a message that says how to restore.
func TestCheckCommandAndDamagedStart(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "triggerd.db")
	for _, tenant := range []string{"a", "b", "c", "d", "e", "f", "g", "h"} {
		run(t, "keys", "create", "--tenant", tenant, "--db", db)
	}
	require.Contains(t, run(t, "check", "--db", db), "ok")

	f, err := os.OpenFile(db, os.O_RDWR, 0)
	require.NoError(t, err)
	info, err := f.Stat()
	require.NoError(t, err)
	junk := make([]byte, 4096)
	for i := range junk {
		junk[i] = 0xA5
	}
	for off := int64(2 * 4096); off < info.Size(); off += 2 * 4096 {
		_, err = f.WriteAt(junk, off)
		require.NoError(t, err)
	}
	require.NoError(t, f.Close())

	out, err := exec.Command(binary, "check", "--db", db).CombinedOutput()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee, string(out))
	require.Equal(t, 1, ee.ExitCode(), string(out))
	require.Contains(t, string(out), "damaged", string(out))

	out, err = exec.Command(binary, "serve", "--addr", "127.0.0.1:0", "--db", db).CombinedOutput()
	require.Error(t, err)
	require.Contains(t, string(out), "damaged", string(out))
	require.Contains(t, string(out), "restore", string(out))
}
