package delivery

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestLimiterCapsPerSubscriptionAndHost(t *testing.T) {
	t.Parallel()
	l := newLimiter(2, 3)
	require.True(t, l.tryAcquire("a", "h1"))
	require.True(t, l.tryAcquire("a", "h1"))
	require.False(t, l.tryAcquire("a", "h1"), "subscription a is at its cap")
	require.True(t, l.tryAcquire("b", "h1"))
	require.False(t, l.tryAcquire("c", "h1"), "host h1 is at its cap")
	require.True(t, l.tryAcquire("c", "h2"), "another host has room")
	l.release("a", "h1", false, true)
	require.True(t, l.tryAcquire("c", "h1"))
}

func TestLimiterBacksOffOnTimeouts(t *testing.T) {
	t.Parallel()
	l := newLimiter(8, 100)
	for range 8 {
		require.True(t, l.tryAcquire("dead", "h"))
	}
	for range 8 {
		l.release("dead", "h", true, false)
	}
	require.Equal(t, 1, l.allowed("dead"), "a receiver that times out converges to one probe at a time")
	require.True(t, l.tryAcquire("dead", "h"))
	require.False(t, l.tryAcquire("dead", "h"))
	l.release("dead", "h", false, true)
	require.Equal(t, 8, l.allowed("dead"), "the first answer restores the full share")
	require.Empty(t, l.subs, "an idle subscription with its full share is forgotten")
	require.Empty(t, l.hosts)
}

func TestDeferDelay(t *testing.T) {
	t.Parallel()
	require.GreaterOrEqual(t, deferDelay(0, time.Second), deferDelayMin)
	require.LessOrEqual(t, deferDelay(0, time.Second), deferDelayMin*6/5)
	for _, n := range []int{5, 30, 1000} {
		d := deferDelay(n, time.Second)
		require.GreaterOrEqual(t, d, time.Duration(min(int64(deferDelayMin)<<min(n, 20), int64(time.Second))))
		require.LessOrEqual(t, d, time.Second*6/5)
	}
}

func TestHostOf(t *testing.T) {
	t.Parallel()
	require.Equal(t, "prod-01.westeurope.logic.azure.com", hostOf("https://PROD-01.westeurope.logic.azure.com/workflows/x?sig=s"))
	require.Equal(t, "127.0.0.1:8080", hostOf("http://127.0.0.1:8080/cb"))
	require.Equal(t, "?", hostOf("http://[::1"))
}
