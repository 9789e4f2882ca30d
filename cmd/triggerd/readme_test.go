package main_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestReadmePublishRunsAsWritten runs the README's command line as printed,
// the key coming from TRIGGERD_API_KEY as the README exports it (the
// server's address too: the test cannot own port 8080).
func TestReadmePublishRunsAsWritten(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "triggerd.db")
	srv := startServer(t, "--db", db)
	key := strings.TrimSpace(run(t, "keys", "create", "--tenant", "acme", "--db", db))
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "order.json"), []byte(`{"id":1001,"order_key":"wc_order_1001","status":"processing"}`), 0o600))
	cmd := exec.Command(binary, "publish", "--type", "order.created", "--data", "@order.json")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TRIGGERD_API_KEY="+key, "TRIGGERD_URL=http://"+srv.addr)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	require.Contains(t, string(out), `"duplicate":false`)
}

// TestErrorsCarryOnePrefix: a library error already starting "triggerd:" is
// printed once, not as "triggerd: triggerd: …".
func TestErrorsCarryOnePrefix(t *testing.T) {
	t.Parallel()
	cmd := exec.Command(binary, "serve", "--addr", "127.0.0.1:0", "--db", filepath.Join(t.TempDir(), "t.db"), "--public-url", "ftp://example.com/x?y")
	out, err := cmd.CombinedOutput()
	require.Error(t, err)
	require.Contains(t, string(out), "triggerd: public URL", string(out))
	require.NotContains(t, string(out), "triggerd: triggerd:")
}
