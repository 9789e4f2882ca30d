package httpapi

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/triggerd/triggerd/internal/store"
)

const (
	// RatePerSecondDefault is each tenant's, and each key's, sustained
	// request rate: above what one process sustains publishing one event
	// per request (the benchmark's fanout1-single phase), so the limit
	// never decides throughput by default, and finite so that one tenant
	// cannot take the whole API once others share it.
	RatePerSecondDefault = 20000

	// RateBurstDefault is how many requests above the rate a tenant or key
	// may make at once: room for registering a thousand subscriptions in
	// one go.
	RateBurstDefault = 20000
)

// RateLimit configures the token buckets of the API: one per tenant and one
// per key, each refilled at PerSecond up to Burst. A request takes a token
// from both. The buckets live in the process: on several nodes each node
// counts on its own.
type RateLimit struct {
	// TenantPerSecond and KeyPerSecond are the sustained rates; 0 means
	// RatePerSecondDefault, negative means unlimited.
	TenantPerSecond float64
	KeyPerSecond    float64
	// Burst is the bucket size; 0 means RateBurstDefault.
	Burst int
}

// limiters holds the buckets. Only authenticated keys and their tenants get
// one, so there are at most as many as rows in the key table.
type limiters struct {
	cfg     RateLimit
	mu      sync.Mutex
	tenants map[string]*rate.Limiter
	keys    map[string]*rate.Limiter
}

func newLimiters(cfg RateLimit) *limiters {
	if cfg.TenantPerSecond == 0 {
		cfg.TenantPerSecond = RatePerSecondDefault
	}
	if cfg.KeyPerSecond == 0 {
		cfg.KeyPerSecond = RatePerSecondDefault
	}
	if cfg.Burst <= 0 {
		cfg.Burst = RateBurstDefault
	}
	return &limiters{cfg: cfg, tenants: map[string]*rate.Limiter{}, keys: map[string]*rate.Limiter{}}
}

func (l *limiters) get(m map[string]*rate.Limiter, id string, perSecond float64) *rate.Limiter {
	if perSecond < 0 {
		return nil
	}
	lim, ok := m[id]
	if !ok {
		lim = rate.NewLimiter(rate.Limit(perSecond), l.cfg.Burst)
		m[id] = lim
	}
	return lim
}

// wait is how long the caller must wait before k may make a request; 0
// means it may now, and its tokens were taken.
func (l *limiters) wait(k store.APIKey, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	var taken []*rate.Reservation
	var wait time.Duration
	for _, lim := range []*rate.Limiter{
		l.get(l.tenants, k.Tenant.ID, l.cfg.TenantPerSecond),
		l.get(l.keys, k.ID, l.cfg.KeyPerSecond),
	} {
		if lim == nil {
			continue
		}
		r := lim.ReserveN(now, 1)
		taken = append(taken, r)
		wait = max(wait, r.DelayFrom(now))
	}
	if wait > 0 {
		// Refused: give back every token taken for this request, so a
		// refused request costs nothing, and say when both buckets allow
		// the next one.
		for _, r := range taken {
			r.CancelAt(now)
		}
	}
	return wait
}

// limit answers 429 with Retry-After when the key or its tenant is over
// its rate (https://www.rfc-editor.org/rfc/rfc6585#section-4).
func (a *api) limit(w http.ResponseWriter, k store.APIKey) bool {
	d := a.limiters.wait(k, a.Now())
	if d == 0 {
		return true
	}
	secs := int(math.Ceil(d.Seconds()))
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	writeError(w, http.StatusTooManyRequests, "rate_limited",
		"too many requests for this tenant or key; retry after "+strconv.Itoa(secs)+" s")
	return false
}
