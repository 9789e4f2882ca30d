package delivery

import (
	"cmp"
	"math/rand/v2"
	"net/url"
	"strings"
	"sync"
	"time"
)

const (
	// SubscriptionConcurrencyDefault is how many attempts to one
	// subscription are in flight at once in one process. A few keep a
	// busy receiver fed; more would let one slow or dead receiver take the
	// slots every other subscriber needs.
	SubscriptionConcurrencyDefault = 8

	// HostConcurrencyDefault is how many attempts to one receiver host are
	// in flight at once in one process. The platform's callbacks share a
	// few hosts (prod-NN.<region>.logic.azure.com), so it is generous; it
	// equals the connections kept per host.
	HostConcurrencyDefault = ConnsPerHostMax

	// deferDelayMin and deferDelayMax bound how long a delivery that found
	// its subscription or host at capacity waits before it looks again.
	deferDelayMin = 50 * time.Millisecond
)

// limiter keeps the attempts in flight per subscription and per receiver
// host under their caps, so a receiver that hangs holds a handful of
// attempts, never the engine's workers or fast-path slots. A subscription
// whose attempts time out is allowed fewer at once (halved per timeout,
// down to one probe), and gets its full share back with the first attempt
// that is answered: a dead receiver converges to one attempt at a time.
//
// The caps are per process: on PostgreSQL each node keeps its own.
type limiter struct {
	subMax, hostMax int

	mu    sync.Mutex
	subs  map[string]*subLimit
	hosts map[string]int

	// waiting holds first attempts that found their healthy subscription
	// at capacity, per subscription in arrival order: they wait in memory,
	// holding no slot, until an attempt of the same subscription ends.
	waiting map[string][]waitingItem
	// turns lists, per receiver host, the subscriptions with items waiting
	// there, in the order they get a place: round-robin, so a subscription
	// with a long line does not starve the others on its host. Entries of
	// subscriptions whose line has emptied are dropped when reached.
	turns        map[string][]string
	waitingCount int
	waitingBytes int
}

// waitingItem is a fast-path delivery waiting for a place.
type waitingItem struct {
	item  fastItem
	since time.Time
}

// Bounds of the in-memory wait. Beyond them a delivery takes the queue,
// which waits in the database.
const (
	// WaitPerSubscriptionMax is how many first attempts of one
	// subscription may wait in memory: a burst (32 publishers sending
	// batches of 100 is 3,200 at once) is absorbed; a flood to a slow
	// receiver spills to the queue.
	WaitPerSubscriptionMax = 10000
	// waitCountMax and waitBytesMax bound the whole wait, so waiting
	// bodies never pin more than a few tens of MiB.
	waitCountMax = 50000
	waitBytesMax = 64 << 20
	// waitMax is how long a delivery may wait in memory before it is left
	// to its safety-net job: its attempt must still be able to finish and
	// be recorded before that job comes due.
	waitMax = recordMargin
)

// subLimit is one subscription's share: attempts in flight and how many it
// may have now.
type subLimit struct {
	inFlight, allowed int
	// max is the subscription's full share: its trigger's own cap, or the
	// engine's.
	max int
}

func newLimiter(subMax, hostMax int) *limiter {
	return &limiter{subMax: subMax, hostMax: hostMax, subs: map[string]*subLimit{}, hosts: map[string]int{},
		waiting: map[string][]waitingItem{}, turns: map[string][]string{}}
}

// tryAcquire takes a place for one attempt to subscription sub at host,
// without waiting: false means one of the two is at capacity.
//
// capacity is the subscription's own cap (its trigger's), 0 for the
// engine's.
func (l *limiter) tryAcquire(sub, host string, capacity int) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.sub(sub, capacity)
	if s.inFlight >= s.allowed || l.hosts[host] >= l.hostMax {
		l.forget(sub, s)
		return false
	}
	s.inFlight++
	l.hosts[host]++
	return true
}

// release gives the place back. timedOut says the receiver did not answer
// in time; answered says it answered at all (any status).
func (l *limiter) release(sub, host string, timedOut, answered bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if n := l.hosts[host] - 1; n > 0 {
		l.hosts[host] = n
	} else {
		delete(l.hosts, host)
	}
	s := l.subs[sub]
	if s == nil {
		return
	}
	s.inFlight--
	switch {
	case timedOut:
		s.allowed = max(1, s.allowed/2)
	case answered:
		s.allowed = s.max
	}
	l.forget(sub, s)
}

// forget drops a subscription that holds nothing and has its full share, so
// the map holds only subscriptions with attempts in flight or a reduced
// share.
func (l *limiter) forget(sub string, s *subLimit) {
	if s.inFlight == 0 && s.allowed == s.max {
		delete(l.subs, sub)
	}
}

// sub returns the subscription's entry, creating it with its full share.
// Callers hold l.mu.
func (l *limiter) sub(sub string, capacity int) *subLimit {
	s := l.subs[sub]
	if s == nil {
		capacity = cmp.Or(capacity, l.subMax)
		s = &subLimit{allowed: capacity, max: capacity}
		l.subs[sub] = s
	}
	return s
}

// admission is what a first attempt may do now.
type admission int

const (
	admitQueue admission = iota // take the queue
	admitRun                    // a place is held: run now
	admitWait                   // room to wait in memory is held
)

// admit takes a place for a first attempt, or else room to wait in memory
// for one: only for a subscription that is not failing (a receiver that
// times out gets its deliveries through the queue), and within the wait's
// bounds.
func (l *limiter) admit(sub, host string, capacity, size int) admission {
	if l.tryAcquire(sub, host, capacity) {
		return admitRun
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.subs[sub]
	healthy := s == nil || s.allowed == s.max
	if !healthy || len(l.waiting[sub]) >= WaitPerSubscriptionMax ||
		l.waitingCount >= waitCountMax || l.waitingBytes+size > waitBytesMax {
		return admitQueue
	}
	l.waitingCount++
	l.waitingBytes += size
	return admitWait
}

// unwait gives back room reserved by admit that was not used (the
// publishing transaction rolled back).
func (l *limiter) unwait(size int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.waitingCount--
	l.waitingBytes -= size
}

// wait puts an admitted item in its subscription's line.
func (l *limiter) wait(it fastItem, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	sub := it.SubscriptionID
	if len(l.waiting[sub]) == 0 {
		l.turns[it.host] = append(l.turns[it.host], sub)
	}
	l.waiting[sub] = append(l.waiting[sub], waitingItem{item: it, since: now})
}

// next takes, among the subscriptions with items waiting at host, the next
// in turn whose first item has a place now, together with that place.
// Items that waited longer than waitMax are handed back as expired
// (without a place): their safety net delivers them.
func (l *limiter) next(host string, now time.Time) (it fastItem, expired []fastItem, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	turns := l.turns[host]
	defer func() {
		if len(turns) == 0 {
			delete(l.turns, host)
		} else {
			l.turns[host] = turns
		}
	}()
	for range len(turns) {
		if l.hosts[host] >= l.hostMax {
			return fastItem{}, expired, false
		}
		sub := turns[0]
		turns = turns[1:]
		it, exp, ok := l.takeLocked(sub, now)
		expired = append(expired, exp...)
		if len(l.waiting[sub]) > 0 {
			turns = append(turns, sub) // to the back of the round
		}
		if ok {
			return it, expired, true
		}
	}
	return fastItem{}, expired, false
}

// takeLocked takes the subscription's first waiting item with a place for
// it, if the subscription has room. Callers hold l.mu.
func (l *limiter) takeLocked(sub string, now time.Time) (it fastItem, expired []fastItem, ok bool) {
	line := l.waiting[sub]
	for len(line) > 0 && now.Sub(line[0].since) > waitMax {
		expired = append(expired, line[0].item)
		l.waitingCount--
		l.waitingBytes -= len(line[0].item.Data)
		line = line[1:]
	}
	defer func() {
		if len(line) == 0 {
			delete(l.waiting, sub)
		} else {
			l.waiting[sub] = line
		}
	}()
	if len(line) == 0 {
		return fastItem{}, expired, false
	}
	head := line[0]
	s := l.sub(sub, head.item.Concurrency)
	if s.inFlight >= s.allowed || l.hosts[head.item.host] >= l.hostMax {
		l.forget(sub, s)
		return fastItem{}, expired, false
	}
	s.inFlight++
	l.hosts[head.item.host]++
	line = line[1:]
	l.waitingCount--
	l.waitingBytes -= len(head.item.Data)
	return head.item, expired, true
}

// failing says the subscription's share is reduced: its attempts time out.
func (l *limiter) failing(sub string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.subs[sub]
	return s != nil && s.allowed < s.max
}

// allowed reports a subscription's current share, for tests and logs.
func (l *limiter) allowed(sub string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if s := l.subs[sub]; s != nil {
		return s.allowed
	}
	return l.subMax
}

// deferDelay is how long a delivery waits after finding no place for the
// deferrals-th time: doubling from deferDelayMin up to max, with up to a
// fifth of jitter so deferred deliveries do not all look again at once.
func deferDelay(deferrals int, max time.Duration) time.Duration {
	d := deferDelayMin << min(deferrals, 20)
	if d > max || d <= 0 {
		d = max
	}
	return d + time.Duration(rand.Int64N(int64(d)/5+1))
}

// hostOf is the receiver host a callback URL names (host:port, lower
// case), the key of the per-host cap. A URL that does not parse gets its
// own key; its attempt fails anyway.
func hostOf(callbackURL string) string {
	u, err := url.Parse(callbackURL)
	if err != nil {
		return "?"
	}
	return strings.ToLower(u.Host)
}
