package delivery

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestLimiterCapsPerSubscriptionAndHost(t *testing.T) {
	t.Parallel()
	l := newLimiter(2, 3)
	require.True(t, l.tryAcquire("a", "h1", 0))
	require.True(t, l.tryAcquire("a", "h1", 0))
	require.False(t, l.tryAcquire("a", "h1", 0), "subscription a is at its cap")
	require.True(t, l.tryAcquire("b", "h1", 0))
	require.False(t, l.tryAcquire("c", "h1", 0), "host h1 is at its cap")
	require.True(t, l.tryAcquire("c", "h2", 0), "another host has room")
	l.release("a", "h1", false, true)
	require.True(t, l.tryAcquire("c", "h1", 0))
}

func TestLimiterBacksOffOnTimeouts(t *testing.T) {
	t.Parallel()
	l := newLimiter(8, 100)
	for range 8 {
		require.True(t, l.tryAcquire("dead", "h", 0))
	}
	for range 8 {
		l.release("dead", "h", true, false)
	}
	require.Equal(t, 1, l.allowed("dead"), "a receiver that times out converges to one probe at a time")
	require.True(t, l.tryAcquire("dead", "h", 0))
	require.False(t, l.tryAcquire("dead", "h", 0))
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

func TestLimiterWaitsInMemoryForHealthySubscriptions(t *testing.T) {
	t.Parallel()
	l := newLimiter(1, 10)
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	item := func(sub string) fastItem {
		return fastItem{Delivery: Delivery{SubscriptionID: sub, Data: []byte(`{}`)}, host: "h"}
	}
	require.Equal(t, admitRun, l.admit("a", "h", 0, 2))
	require.Equal(t, admitWait, l.admit("a", "h", 0, 2), "a healthy subscription at capacity waits in memory")
	l.wait(item("a"), now)
	_, _, ok := l.next("h", now)
	require.False(t, ok, "no place until the running attempt ends")
	l.release("a", "h", false, true)
	it, expired, ok := l.next("h", now)
	require.True(t, ok)
	require.Empty(t, expired)
	require.Equal(t, "a", it.SubscriptionID)
	require.Equal(t, 0, l.waitingCount)
	require.Equal(t, 0, l.waitingBytes)

	// A subscription whose attempts time out does not wait in memory.
	l2 := newLimiter(4, 10)
	for range 4 {
		require.Equal(t, admitRun, l2.admit("dead", "h", 0, 2))
	}
	l2.release("dead", "h", true, false)
	require.Equal(t, admitQueue, l2.admit("dead", "h", 0, 2), "a failing subscription takes the queue")

	// Items that waited too long are handed back for their safety net.
	l3 := newLimiter(1, 10)
	require.Equal(t, admitRun, l3.admit("s", "h", 0, 2))
	require.Equal(t, admitWait, l3.admit("s", "h", 0, 2))
	l3.wait(item("s"), now)
	l3.release("s", "h", false, true)
	_, expired, ok = l3.next("h", now.Add(waitMax+time.Second))
	require.False(t, ok)
	require.Len(t, expired, 1)
	require.Equal(t, 0, l3.waitingCount)
	require.Empty(t, l3.waiting)
}

func TestLimiterWaitIsBounded(t *testing.T) {
	t.Parallel()
	l := newLimiter(1, 10)
	require.Equal(t, admitRun, l.admit("a", "h", 0, 1))
	for range WaitPerSubscriptionMax {
		require.Equal(t, admitWait, l.admit("a", "h", 0, 1))
		l.wait(fastItem{Delivery: Delivery{SubscriptionID: "a", Data: []byte("x")}, host: "h"}, time.Now())
	}
	require.Equal(t, admitQueue, l.admit("a", "h", 0, 1), "a full line spills to the queue")
	require.Equal(t, admitRun, l.admit("b", "h", 0, 1))
	require.Equal(t, admitQueue, l.admit("b", "h", 0, waitBytesMax), "a body larger than the room left spills too")
}

func TestLimiterPerTriggerCap(t *testing.T) {
	t.Parallel()
	l := newLimiter(8, 100)
	require.True(t, l.tryAcquire("one-at-a-time", "h", 1))
	require.False(t, l.tryAcquire("one-at-a-time", "h", 1), "the trigger's own cap of 1 holds")
	for range 8 {
		require.True(t, l.tryAcquire("default", "h", 0))
	}
	require.False(t, l.tryAcquire("default", "h", 0))
	l.release("one-at-a-time", "h", false, true)
	require.Empty(t, l.waiting)
	require.NotContains(t, l.subs, "one-at-a-time", "forgotten at its own full share")
}

// TestLimiterHostCapTakesSubscriptionsInTurn: items blocked by their host's
// cap, not their subscription's, get a place when any attempt to the host
// ends, the host's subscriptions taken in turn.
func TestLimiterHostCapTakesSubscriptionsInTurn(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	l := newLimiter(8, 1)
	item := func(sub string) fastItem {
		return fastItem{Delivery: Delivery{SubscriptionID: sub, Data: []byte(`{}`)}, host: "h"}
	}
	require.Equal(t, admitRun, l.admit("a", "h", 0, 2))
	for _, sub := range []string{"a", "a", "b", "c"} {
		require.Equal(t, admitWait, l.admit(sub, "h", 0, 2), "host at its cap: wait")
		l.wait(item(sub), now)
	}
	_, _, ok := l.next("h", now)
	require.False(t, ok, "the host is full")
	var order []string
	for range 4 {
		l.release(order0(order, "a"), "h", false, true)
		it, _, ok := l.next("h", now)
		require.True(t, ok)
		order = append(order, it.SubscriptionID)
	}
	require.Equal(t, []string{"a", "b", "c", "a"}, order, "round-robin across the host's subscriptions")
	require.Zero(t, l.waitingCount)
	require.Empty(t, l.waiting)
}

// order0 is the subscription whose attempt ends next: the last one started.
func order0(order []string, first string) string {
	if len(order) == 0 {
		return first
	}
	return order[len(order)-1]
}
