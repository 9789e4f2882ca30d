package triggerd_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd"
	"github.com/triggerd/triggerd/internal/keyring"
)

const encCanary = "CANARYatrest0123456789"

// rawSubscriptions is every stored byte of the subscription table, read
// past triggerd.
func rawSubscriptions(t *testing.T, b *testBundle) []byte {
	t.Helper()
	rows, err := b.db.QueryContext(b.ctx, `SELECT id, callback_url, callback_hash, secret, previous_secret FROM triggerd_subscription`)
	require.NoError(t, err)
	defer rows.Close()
	var all bytes.Buffer
	for rows.Next() {
		var id, url, secret, prev string
		var hash []byte
		require.NoError(t, rows.Scan(&id, &url, &hash, &secret, &prev))
		all.WriteString(id + "|" + url + "|" + string(hash) + "|" + secret + "|" + prev + "\n")
	}
	require.NoError(t, rows.Err())
	return all.Bytes()
}

// TestEncryptionAtRest registers a callback with a canary signature, checks
// that the database holds neither it nor the secret in clear (the SQLite
// files byte for byte, the PostgreSQL table row by row), and that
// deliveries still reach the callback exactly as registered.
func TestEncryptionAtRest(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, postgres bool) {
		var cfg triggerd.Config
		if postgres {
			k, err := keyring.Generate()
			require.NoError(t, err)
			cfg.EncryptionKey = k
		}
		b := setup(t, &setupOpts{postgres: postgres, cfg: cfg})
		rc := newReceiver(t, nil)
		callback := rc.URL + "/hook?sv=1.0&sig=" + encCanary
		sub, _ := b.register(t, "order.created", callback, nil)
		var rotated subscription
		require.Equal(t, http.StatusOK, b.call(t, http.MethodPost, "/v1/webhooks/"+sub.ID+"/secret", "", nil, &rotated).StatusCode)
		b.publish(t, map[string]any{"type": "order.created", "data": order(1, "new")})
		got := rc.next(t)
		require.Equal(t, "/hook?sv=1.0&sig="+encCanary, got.RequestURI, "delivered to the URL as registered")
		wh, err := standardwebhooks.NewWebhook(rotated.Secret)
		require.NoError(t, err)
		require.NoError(t, wh.Verify(got.Body, got.Header))
		again, _ := b.register(t, "order.created", callback, nil)
		require.Equal(t, sub.ID, again.ID, "the keyed index still finds the subscription")

		raw := rawSubscriptions(t, b)
		require.Contains(t, string(raw), sub.ID)
		for _, s := range []string{encCanary, "/hook", strings.TrimPrefix(sub.Secret, "whsec_"), strings.TrimPrefix(rotated.Secret, "whsec_")} {
			require.NotContains(t, string(raw), s, "stored in clear")
		}
		if postgres {
			return
		}
		var file string
		require.NoError(t, b.db.QueryRowContext(b.ctx, `SELECT file FROM pragma_database_list WHERE name = 'main'`).Scan(&file))
		info, err := os.Stat(file + ".key")
		require.NoError(t, err, "a key was generated beside the database")
		require.Equal(t, os.FileMode(0o600), info.Mode().Perm())
		matches, err := filepath.Glob(file + "*")
		require.NoError(t, err)
		for _, m := range matches {
			if strings.HasSuffix(m, ".key") {
				continue
			}
			content, err := os.ReadFile(m)
			require.NoError(t, err)
			require.False(t, bytes.Contains(content, []byte(encCanary)), "%s holds the callback URL in clear", m)
			require.False(t, bytes.Contains(content, []byte(strings.TrimPrefix(rotated.Secret, "whsec_"))), "%s holds the secret in clear", m)
		}
	})
}

// TestEncryptionKeyRotation: with the new key first and the old one after
// it, everything stays readable; ReencryptSubscriptions moves every row to
// the new key, after which the old one can leave the ring.
func TestEncryptionKeyRotation(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, postgres bool) {
		oldKey, err := keyring.Generate()
		require.NoError(t, err)
		newKey, err := keyring.Generate()
		require.NoError(t, err)
		b := setup(t, &setupOpts{postgres: postgres, noStart: true, cfg: triggerd.Config{EncryptionKey: oldKey}})
		rc := newReceiver(t, nil)
		callback := rc.URL + "/hook?sig=" + encCanary
		sub, _ := b.register(t, "order.created", callback, nil)

		// A node on the new ring, before the re-encryption: it reads the old
		// rows and finds the subscription when the platform registers again.
		both := newKey + "," + oldKey
		p2, err := triggerd.New(context.Background(), b.db, triggerd.Config{AllowPrivateCallbacks: true, PublicURL: b.api.URL, EncryptionKey: both})
		require.NoError(t, err)
		b2 := &testBundle{ctx: b.ctx, p: p2, db: b.db, key: b.key, api: newAPIServer(t, p2)}
		again, _ := b2.register(t, "order.created", callback, nil)
		require.Equal(t, sub.ID, again.ID, "found under the old key's index")

		n, err := triggerd.ReencryptSubscriptions(b.ctx, b.db, both, 1)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		n, err = triggerd.ReencryptSubscriptions(b.ctx, b.db, both, 1)
		require.NoError(t, err)
		require.Zero(t, n, "a second run finds nothing left to do")

		p3, err := triggerd.New(context.Background(), b.db, triggerd.Config{AllowPrivateCallbacks: true, PublicURL: b.api.URL, EncryptionKey: newKey})
		require.NoError(t, err)
		b3 := &testBundle{ctx: b.ctx, p: p3, db: b.db, key: b.key, api: newAPIServer(t, p3)}
		third, _ := b3.register(t, "order.created", callback, nil)
		require.Equal(t, sub.ID, third.ID, "the new key alone reads and finds it")
		var detail subscription
		require.Equal(t, http.StatusOK, b3.call(t, http.MethodGet, "/v1/webhooks/"+sub.ID, "", nil, &detail).StatusCode)
		require.Equal(t, strings.SplitN(callback, "?", 2)[0]+"?sig=REDACTED", detail.CallbackURL)

		_, err = triggerd.ReencryptSubscriptions(b.ctx, b.db, "not-a-key", 10)
		require.ErrorContains(t, err, "encryption key 1")
	})
}

// newAPIServer serves p's API on a loopback port.
func newAPIServer(t *testing.T, p *triggerd.Publisher) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(p.Handler())
	t.Cleanup(srv.Close)
	return srv
}
