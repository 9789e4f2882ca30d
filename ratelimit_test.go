package triggerd_test

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd"
)

// TestRateLimits: over its tenant's or its key's bucket a request is 429
// with Retry-After; other tenants, and other keys when only the key's bucket
// is empty, are not held back. The rates are a token per 1,000 s, so no
// token comes back while the test runs.
func TestRateLimits(t *testing.T) {
	t.Parallel()
	t.Run("tenant", func(t *testing.T) {
		t.Parallel()
		b := setup(t, &setupOpts{noStart: true, cfg: triggerd.Config{RatePerSecond: 0.001, KeyRatePerSecond: -1, RateBurst: 3}})
		second := b.newKey(t, "connection") // the tenant's first token
		require.Equal(t, http.StatusOK, b.call(t, http.MethodGet, "/v1/webhooks", "", nil, nil).StatusCode)
		require.Equal(t, http.StatusOK, b.call(t, http.MethodGet, "/v1/webhooks", second.Key, nil, nil).StatusCode)
		for _, key := range []string{"", second.Key} {
			var e struct {
				Error struct{ Code, Message string }
			}
			resp := b.call(t, http.MethodGet, "/v1/webhooks", key, nil, &e)
			require.Equal(t, http.StatusTooManyRequests, resp.StatusCode, "every key of the tenant shares its bucket")
			require.Equal(t, "rate_limited", e.Error.Code)
			secs, err := strconv.Atoi(resp.Header.Get("Retry-After"))
			require.NoError(t, err)
			require.Greater(t, secs, 0)
		}
		other, err := b.p.CreateAPIKey(b.ctx, "globex")
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, b.call(t, http.MethodGet, "/v1/webhooks", other, nil, nil).StatusCode, "another tenant is not held back")
	})
	t.Run("key", func(t *testing.T) {
		t.Parallel()
		b := setup(t, &setupOpts{noStart: true, cfg: triggerd.Config{RatePerSecond: -1, KeyRatePerSecond: 0.001, RateBurst: 2}})
		second := b.newKey(t, "connection")
		require.Equal(t, http.StatusOK, b.call(t, http.MethodGet, "/v1/webhooks", "", nil, nil).StatusCode)
		require.Equal(t, http.StatusTooManyRequests, b.call(t, http.MethodGet, "/v1/webhooks", "", nil, nil).StatusCode)
		require.Equal(t, http.StatusOK, b.call(t, http.MethodGet, "/v1/webhooks", second.Key, nil, nil).StatusCode, "the tenant's other key has its own bucket")
	})
}
