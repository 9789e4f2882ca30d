package httpapi

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd/internal/store"
)

// TestLimitersRefill: a bucket refills at its rate, and a refused request
// takes no token from either bucket.
func TestLimitersRefill(t *testing.T) {
	t.Parallel()
	l := newLimiters(RateLimit{TenantPerSecond: 10, KeyPerSecond: 1, Burst: 1})
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	a := store.APIKey{ID: "key_a", Tenant: store.Tenant{ID: "ten_1"}}
	b := store.APIKey{ID: "key_b", Tenant: store.Tenant{ID: "ten_1"}}
	require.Zero(t, l.wait(a, now))
	d := l.wait(a, now)
	require.Equal(t, time.Second, d, "key a's bucket refills at 1/s")
	require.Equal(t, 100*time.Millisecond, l.wait(b, now), "the tenant's bucket is empty too (10/s)")
	require.Zero(t, l.wait(b, now.Add(100*time.Millisecond)), "key a's refusal took none of the tenant's tokens")
	require.Zero(t, l.wait(a, now.Add(time.Second)))

	unlimited := newLimiters(RateLimit{TenantPerSecond: -1, KeyPerSecond: -1})
	for range 10_000 {
		require.Zero(t, unlimited.wait(a, now))
	}
	def := newLimiters(RateLimit{})
	require.Equal(t, RateBurstDefault, def.cfg.Burst)
	require.Equal(t, float64(RatePerSecondDefault), def.cfg.TenantPerSecond)
}
