package main_test

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestKeysCommands: create a scoped key with a name and expiry, see it in
// keys list, use it within its scope, revoke it, and see the next request
// refused by the running server.
func TestKeysCommands(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "triggerd.db")
	srv := startServer(t, "--db", db)
	var created struct {
		ID, Tenant, Name, Key, ExpiresAt string
		Scopes                           []string
	}
	out := run(t, "keys", "create", "--db", db, "--tenant", "acme", "--scope", "connection", "--expires", "90d", "--name", "flow connection", "--json")
	require.NoError(t, json.Unmarshal([]byte(out), &created), out)
	require.Equal(t, []string{"connection"}, created.Scopes)
	require.NotEmpty(t, created.ExpiresAt)

	list := run(t, "keys", "list", "--db", db, "--tenant", "acme")
	require.Contains(t, list, created.ID)
	require.Contains(t, list, "flow connection")
	require.Contains(t, list, "connection")
	require.Contains(t, list, "active")
	require.NotContains(t, list, created.Key, "keys list never shows a key")

	resp, raw := post(t, "http://"+srv.addr+"/v1/events", created.Key, map[string]any{"type": "order.created", "data": map[string]any{"id": 1}})
	require.Equal(t, http.StatusForbidden, resp.StatusCode, string(raw))
	require.Contains(t, string(raw), `\"publish\" scope`)
	resp, raw = post(t, "http://"+srv.addr+"/v1/webhooks/order.created", created.Key, map[string]string{"callbackUrl": "http://127.0.0.1:9/hook"})
	require.Equal(t, http.StatusCreated, resp.StatusCode, string(raw))

	out = run(t, "keys", "revoke", "--db", db, created.ID)
	require.Contains(t, out, "revoked "+created.ID)
	resp, _ = post(t, "http://"+srv.addr+"/v1/webhooks/order.created", created.Key, map[string]string{"callbackUrl": "http://127.0.0.1:9/hook"})
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "revocation holds on the next request")
	require.Contains(t, run(t, "keys", "list", "--db", db), "revoked")

	for _, args := range [][]string{
		{"keys", "create", "--db", db, "--tenant", "acme", "--scope", "root"},
		{"keys", "create", "--db", db, "--tenant", "acme", "--expires", "0d"},
		{"keys", "revoke", "--db", db, "key_nope"},
	} {
		b, err := exec.Command(binary, args...).CombinedOutput()
		require.Error(t, err, args)
		require.True(t, strings.HasPrefix(string(b), "triggerd: "), string(b))
	}
}

// TestRotateEncryptionCommand re-encrypts a served database under a new
// keyring, and checks that serve refuses PostgreSQL without a key.
func TestRotateEncryptionCommand(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "triggerd.db")
	srv := startServer(t, "--db", db)
	key := strings.TrimSpace(run(t, "keys", "create", "--tenant", "acme", "--db", db))
	resp, raw := post(t, "http://"+srv.addr+"/v1/webhooks/order.created", key, map[string]string{"callbackUrl": "http://127.0.0.1:9/hook?sig=x"})
	require.Equal(t, http.StatusCreated, resp.StatusCode, string(raw))

	rotate := func(keyring string) (string, error) {
		cmd := exec.Command(binary, "keys", "rotate-encryption", "--db", db, "--batch", "1")
		cmd.Env = append(os.Environ(), "TRIGGERD_ENCRYPTION_KEY="+keyring)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	newKey := "bmV3IHRyaWdnZXJkIHRlc3Qga2V5IC0gbm90IHNlY3I="
	out, err := rotate(newKey + "," + os.Getenv("TRIGGERD_ENCRYPTION_KEY"))
	require.NoError(t, err, out)
	require.Contains(t, out, "re-encrypted 1 subscriptions")
	out, err = rotate(newKey)
	require.NoError(t, err, out)
	require.Contains(t, out, "re-encrypted 0 subscriptions", "the new key alone reads every row")
	out, err = rotate(os.Getenv("TRIGGERD_ENCRYPTION_KEY"))
	require.Error(t, err, "the old key alone no longer reads them")
	require.Contains(t, out, "not in the keyring")
	require.NotContains(t, out, newKey)

	cmd := exec.Command(binary, "serve", "--db", "postgres://postgres@127.0.0.1:1/none", "--addr", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "TRIGGERD_ENCRYPTION_KEY=")
	b, err := cmd.CombinedOutput()
	require.Error(t, err)
	require.Contains(t, string(b), "encryption key is required")
}
