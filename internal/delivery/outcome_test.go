package delivery

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd/internal/netguard"
	"github.com/triggerd/triggerd/internal/store"
)

// timeoutErr is a net.Error that timed out, as the HTTP client returns one.
type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

var _ net.Error = timeoutErr{}

func TestClassify(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		res    Result
		want   verdict
		reason string
	}{
		{"200", Result{Status: 200}, verdictDelivered, ""},
		{"202", Result{Status: 202}, verdictDelivered, ""},
		{"299", Result{Status: 299}, verdictDelivered, ""},
		{"404 is gone", Result{Status: 404}, verdictGone, "404 Not Found: the flow is gone"},
		{"410 is gone", Result{Status: 410}, verdictGone, "410 Gone"},
		{"408 retried", Result{Status: 408}, verdictRetry, "408"},
		{"429 retried", Result{Status: 429}, verdictRetry, "429 Too Many Requests"},
		{"500 retried", Result{Status: 500}, verdictRetry, "500"},
		{"503 retried", Result{Status: 503}, verdictRetry, "503"},
		{"302 not followed", Result{Status: 302}, verdictFailed, "redirects are not followed"},
		{"400 permanent", Result{Status: 400}, verdictFailed, "400 Bad Request"},
		{"401 permanent", Result{Status: 401}, verdictFailed, "401"},
		{"network error retried", Result{Err: errors.New("connection refused")}, verdictRetry, "connection refused"},
		{"timeout retried", Result{Err: fmt.Errorf("post: %w", timeoutErr{})}, verdictRetry, "timed out"},
		{"blocked address fails", Result{Err: fmt.Errorf("dial: %w", netguard.ErrBlockedAddress)}, verdictFailed, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v, reason := classify(tc.res)
			require.Equal(t, tc.want, v)
			require.Contains(t, reason, tc.reason)
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"0", 0},
		{"30", 30 * time.Second},
		{"-5", 0},
		{"soon", 0},
		{"1.5", 0},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
		{"Mon, 32 Dec 2026 10:00:00 GMT", 0},
	} {
		require.Equal(t, tc.want, parseRetryAfter(tc.in, now), "Retry-After %q", tc.in)
	}
}

func TestPolicyDelay(t *testing.T) {
	t.Parallel()
	schedule := []time.Duration{10 * time.Second, time.Minute}
	p := policy{schedule: schedule, retryAfterMax: time.Hour}
	for range 200 {
		d := p.delay(1, 0)
		require.GreaterOrEqual(t, d, 10*time.Second)
		require.LessOrEqual(t, d, 12*time.Second, "at most a fifth of jitter")
		d = p.delay(2, 0)
		require.GreaterOrEqual(t, d, time.Minute)
		require.LessOrEqual(t, d, 72*time.Second)
	}
	// The extremes of the jitter.
	none := policy{schedule: schedule, retryAfterMax: time.Hour, jitter: func(time.Duration) time.Duration { return 0 }}
	full := policy{schedule: schedule, retryAfterMax: time.Hour, jitter: func(n time.Duration) time.Duration { return n }}
	require.Equal(t, 10*time.Second, none.delay(1, 0))
	require.Equal(t, 12*time.Second, full.delay(1, 0))
	// Retry-After wins when it is later, up to the cap; an earlier one is
	// ignored.
	require.Equal(t, 5*time.Minute, none.delay(1, 5*time.Minute))
	require.Equal(t, 10*time.Second, none.delay(1, time.Second))
	require.Equal(t, time.Hour, none.delay(1, 48*time.Hour))
}

func TestLongestPending(t *testing.T) {
	t.Parallel()
	got := LongestPending(DefaultRetrySchedule(), TimeoutDefault)
	require.Greater(t, got, 80*time.Hour)
	require.Less(t, got, 7*24*time.Hour, "the default event retention must outlast the default schedule")
	require.Equal(t, 12*time.Second+2*time.Second, LongestPending([]time.Duration{10 * time.Second}, time.Second))
	require.Equal(t, time.Second, LongestPending(nil, time.Second), "no retries: one attempt")
}

func TestDefaultRetryScheduleIsACopy(t *testing.T) {
	t.Parallel()
	a := DefaultRetrySchedule()
	a[0] = time.Hour
	require.Equal(t, 5*time.Second, DefaultRetrySchedule()[0])
}

func TestDecide(t *testing.T) {
	t.Parallel()
	started := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	p := policy{schedule: []time.Duration{10 * time.Second, time.Minute}, retryAfterMax: time.Hour,
		jitter: func(time.Duration) time.Duration { return 0 }}
	in := func(number int, res Result) attemptInput {
		res.Duration = time.Second
		return attemptInput{subscriptionID: "sub_1", messageID: "msg_1", eventIDs: []string{"evt_1"},
			number: number, started: started, result: res}
	}
	for _, tc := range []struct {
		name       string
		in         attemptInput
		outcome    store.AttemptOutcome
		next       nextStep
		retryIn    time.Duration
		deactivate bool
		errHas     string
	}{
		{"delivered", in(1, Result{Status: 200}), store.AttemptDelivered, stepDone, 0, false, ""},
		{"first retry", in(1, Result{Status: 503}), store.AttemptRetry, stepRetry, 10 * time.Second, false, "503"},
		{"second retry", in(2, Result{Status: 503}), store.AttemptRetry, stepRetry, time.Minute, false, "503"},
		{"retry-after honoured", in(1, Result{Status: 429, RetryAfter: 5 * time.Minute}), store.AttemptRetry, stepRetry, 5 * time.Minute, false, "429"},
		{"schedule used up", in(3, Result{Status: 503}), store.AttemptFailed, stepStop, 0, false, "gave up after 3 attempts"},
		{"gone", in(1, Result{Status: 410}), store.AttemptGone, stepStop, 0, true, "the flow is gone"},
		{"permanent", in(2, Result{Status: 400}), store.AttemptFailed, stepStop, 0, false, "400"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o := p.decide(tc.in)
			a := o.record.Attempt
			require.Equal(t, tc.outcome, a.Outcome)
			require.Equal(t, tc.next, o.next)
			require.Equal(t, tc.retryIn, o.retryIn)
			require.Equal(t, "sub_1", a.SubscriptionID)
			require.Equal(t, "msg_1", a.WebhookID)
			require.Equal(t, []string{"evt_1"}, a.EventIDs)
			require.Equal(t, tc.in.number, a.Number)
			require.Equal(t, started, a.StartedAt)
			require.Equal(t, time.Second, a.Duration)
			require.Contains(t, a.Error, tc.errHas)
			if tc.next == stepRetry {
				require.NotNil(t, a.NextAttemptAt)
				require.Equal(t, started.Add(time.Second+tc.retryIn), *a.NextAttemptAt)
			} else {
				require.Nil(t, a.NextAttemptAt)
			}
			if tc.deactivate {
				require.Equal(t, a.Error, o.record.Deactivate)
			} else {
				require.Empty(t, o.record.Deactivate)
			}
			attrs := fmt.Sprint(o.logAttrs()...)
			require.Contains(t, attrs, "sub_1")
			require.Contains(t, attrs, string(tc.outcome))
		})
	}
	require.Equal(t, "gave up after 1 attempt", policy{}.decide(in(1, Result{Status: 500})).record.Attempt.Error[len("callback answered 500 Internal Server Error; "):])
}

func TestNotificationBody(t *testing.T) {
	t.Parallel()
	evs := []store.Event{{Data: []byte(`{"a":1}`)}, {Data: []byte(`{"b":"x"}`)}, {Data: []byte(`[]`)}}
	require.Equal(t, `{"a":1}`, string(notificationBody(evs[:1], false)), "single mode is the data as published")
	require.Equal(t, `[{"a":1}]`, string(notificationBody(evs[:1], true)))
	require.Equal(t, `[{"a":1},{"b":"x"},[]]`, string(notificationBody(evs, true)))
	require.Equal(t, `[]`, string(notificationBody(nil, true)))
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	ok := Config{Timeout: time.Second, Workers: 1, RescueAfter: time.Second + RescueAfterMinMargin}
	require.NoError(t, ok.validate())
	for _, tc := range []struct {
		mut  func(*Config)
		want string
	}{
		{func(c *Config) { c.Timeout = 0 }, "timeout"},
		{func(c *Config) { c.Workers = 0 }, "workers"},
		{func(c *Config) { c.RescueAfter = time.Second }, "rescue-after"},
		{func(c *Config) { c.RetrySchedule = []time.Duration{time.Second, 0} }, "step 2"},
	} {
		c := ok
		tc.mut(&c)
		require.ErrorContains(t, c.validate(), tc.want)
	}
}

// TestSenderCarriesTheCallbackAsStored posts to a real receiver on loopback
// and checks the query (the platform's signature) arrives byte for byte,
// with the Standard Webhooks headers.
func TestSenderCarriesTheCallbackAsStored(t *testing.T) {
	t.Parallel()
	got := make(chan *http.Request, 1)
	srv := newLoopbackServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r
		w.Header().Set("Retry-After", "7")
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	s := newSender(&netguard.Guard{AllowPrivate: true}, 5*time.Second, "triggerd/test", true)
	raw := srv + "/cb?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=AbC%2Bd"
	res := s.send(context.Background(), raw, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_1", []byte(`{"x":1}`), time.Now())
	require.NoError(t, res.Err)
	require.Equal(t, http.StatusServiceUnavailable, res.Status)
	require.Equal(t, 7*time.Second, res.RetryAfter)
	r := <-got
	require.Equal(t, "api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=AbC%2Bd", r.URL.RawQuery)
	require.Equal(t, "msg_1", r.Header.Get("webhook-id"))
	require.NotEmpty(t, r.Header.Get("webhook-signature"))
	require.Equal(t, "triggerd/test", r.Header.Get("User-Agent"))
}
