package triggerd_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd"
)

// TestSecretRotationGrace: after a rotation, deliveries verify with the old
// secret while the grace lasts (one signature per secret), and only with the
// new one once it has passed.
func TestSecretRotationGrace(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, postgres bool) {
		for _, tc := range []struct {
			name       string
			grace      time.Duration
			oldAllowed bool
		}{
			{"during the grace", time.Hour, true},
			{"after the grace", time.Nanosecond, false},
			{"no grace", -1, false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				b := setup(t, &setupOpts{postgres: postgres, cfg: triggerd.Config{SecretGrace: tc.grace}})
				rc := newReceiver(t, nil)
				sub, _ := b.register(t, "order.created", rc.URL+"/hook", nil)
				var rotated subscription
				resp := b.call(t, http.MethodPost, "/v1/webhooks/"+sub.ID+"/secret", "", nil, &rotated)
				require.Equal(t, http.StatusOK, resp.StatusCode)
				require.NotEqual(t, sub.Secret, rotated.Secret)

				b.publish(t, map[string]any{"type": "order.created", "data": order(1, "new")})
				got := rc.next(t)
				sigs := strings.Fields(got.Header.Get("webhook-signature"))
				newWH, err := standardwebhooks.NewWebhook(rotated.Secret)
				require.NoError(t, err)
				require.NoError(t, newWH.Verify(got.Body, got.Header), "the new secret always verifies")
				oldWH, err := standardwebhooks.NewWebhook(sub.Secret)
				require.NoError(t, err)
				if tc.oldAllowed {
					require.Len(t, sigs, 2, "one signature per secret")
					require.NoError(t, oldWH.Verify(got.Body, got.Header), "the old secret verifies during the grace")
				} else {
					require.Len(t, sigs, 1)
					require.Error(t, oldWH.Verify(got.Body, got.Header), "the old secret no longer verifies")
				}
			})
		}
	})
}
