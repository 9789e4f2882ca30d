package triggerd_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

type webhookPage struct {
	Webhooks []subscription `json:"webhooks"`
	Next     string         `json:"next"`
}

type attemptRow struct {
	ID        int64    `json:"id"`
	WebhookID string   `json:"webhookId"`
	EventIDs  []string `json:"eventIds"`
	Attempt   int      `json:"attempt"`
	Status    int      `json:"status"`
	Outcome   string   `json:"outcome"`
	Error     string   `json:"error"`
	Response  string   `json:"response"`
	LatencyMs float64  `json:"latencyMs"`
}

type attemptPage struct {
	Attempts []attemptRow `json:"attempts"`
	Next     string       `json:"next"`
}

type eventRow struct {
	ID             string         `json:"id"`
	Type           string         `json:"type"`
	IdempotencyKey string         `json:"idempotencyKey"`
	CreatedAt      time.Time      `json:"createdAt"`
	Data           map[string]any `json:"data"`
	Deliveries     []struct {
		SubscriptionID string `json:"subscriptionId"`
		State          string `json:"state"`
		Attempts       int    `json:"attempts"`
		LastStatus     int    `json:"lastStatus"`
	} `json:"deliveries"`
}

type eventPage struct {
	Events []eventRow `json:"events"`
	Next   string     `json:"next"`
}

// TestWebhooksPaging pages through a tenant's subscriptions while others
// are registered: every subscription there at the start comes exactly once.
func TestWebhooksPaging(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, postgres bool) {
		b := setup(t, &setupOpts{postgres: postgres, noStart: true})
		rc := newReceiver(t, nil)
		before := map[string]bool{}
		for i := range 25 {
			sub, _ := b.register(t, "order.created", fmt.Sprintf("%s/cb/%d", rc.URL, i), nil)
			before[sub.ID] = true
		}
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10 {
				b.register(t, "order.created", fmt.Sprintf("%s/late/%d", rc.URL, i), nil)
			}
		}()
		seen := map[string]int{}
		cursor := ""
		pages := 0
		for {
			var page webhookPage
			resp := b.call(t, http.MethodGet, "/v1/webhooks?limit=7&cursor="+url.QueryEscape(cursor), "", nil, &page)
			require.Equal(t, http.StatusOK, resp.StatusCode)
			require.LessOrEqual(t, len(page.Webhooks), 7)
			for _, s := range page.Webhooks {
				seen[s.ID]++
			}
			pages++
			if page.Next == "" {
				break
			}
			cursor = page.Next
		}
		wg.Wait()
		for id, n := range seen {
			require.Equal(t, 1, n, "subscription %s listed %d times", id, n)
		}
		for id := range before {
			require.Equal(t, 1, seen[id], "subscription %s missing", id)
		}
		require.GreaterOrEqual(t, pages, 4)

		// The default page holds them all now, without next.
		var all webhookPage
		b.call(t, http.MethodGet, "/v1/webhooks", "", nil, &all)
		require.Len(t, all.Webhooks, 35)
		require.Empty(t, all.Next)

		for _, q := range []string{"limit=0", "limit=1001", "limit=x", "cursor=nonsense", "cursor=" + url.QueryEscape(eventsCursorOf(t, b))} {
			var e struct {
				Error struct{ Code, Message string } `json:"error"`
			}
			resp := b.call(t, http.MethodGet, "/v1/webhooks?"+q, "", nil, &e)
			require.Equal(t, http.StatusBadRequest, resp.StatusCode, q)
			require.NotEmpty(t, e.Error.Message)
		}
	})
}

// eventsCursorOf returns a cursor of the events list, which the webhooks list
// must refuse.
func eventsCursorOf(t *testing.T, b *testBundle) string {
	t.Helper()
	b.publish(t, []map[string]any{{"type": "order.updated", "data": order(1, "new")}, {"type": "order.updated", "data": order(2, "new")}})
	var page eventPage
	b.call(t, http.MethodGet, "/v1/events?limit=1", "", nil, &page)
	require.NotEmpty(t, page.Next)
	return page.Next
}

// TestAttemptsList pages a subscription's attempts newest first, filters them
// by outcome, and shows what the receiver answered, cut at 1 KiB.
func TestAttemptsList(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, postgres bool) {
		b := setup(t, &setupOpts{postgres: postgres})
		rc := newReceiver(t, func(n int, w http.ResponseWriter, _ *http.Request) {
			if n == 1 {
				w.WriteHeader(http.StatusServiceUnavailable)
				_, _ = w.Write([]byte("busy: try again later"))
				return
			}
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte(strings.Repeat("é", 2000))) // 4,000 bytes, cut inside a rune
		})
		sub, _ := b.register(t, "order.created", rc.URL+"/cb", nil)
		b.publish(t, map[string]any{"type": "order.created", "data": order(1, "new")})
		b.waitAttempts(t, sub.ID, 1)
		b.publish(t, []map[string]any{{"type": "order.created", "data": order(2, "new")}, {"type": "order.created", "data": order(3, "new")}})
		b.waitAttempts(t, sub.ID, 4) // three first attempts and the first event's retry

		var all []attemptRow
		cursor := ""
		for {
			var page attemptPage
			require.Equal(t, http.StatusOK, b.call(t, http.MethodGet, "/v1/webhooks/"+sub.ID+"/attempts?limit=3&cursor="+url.QueryEscape(cursor), "", nil, &page).StatusCode)
			require.LessOrEqual(t, len(page.Attempts), 3)
			all = append(all, page.Attempts...)
			if page.Next == "" {
				break
			}
			cursor = page.Next
		}
		require.Len(t, all, 4, "every attempt once, over two pages")
		retries := 0
		for i, a := range all {
			if i > 0 {
				require.Less(t, a.ID, all[i-1].ID, "newest first")
			}
			switch a.Outcome {
			case "retry":
				retries++
				require.Equal(t, 503, a.Status)
				require.Equal(t, "busy: try again later", a.Response)
			case "delivered":
				require.LessOrEqual(t, len(a.Response), 1024+3, "at most 1 KiB of the answer, made valid UTF-8")
				require.True(t, strings.HasPrefix(a.Response, strings.Repeat("é", 500)))
			default:
				t.Fatalf("unexpected outcome %q", a.Outcome)
			}
		}
		require.Equal(t, 1, retries)

		var filtered attemptPage
		b.call(t, http.MethodGet, "/v1/webhooks/"+sub.ID+"/attempts?outcome=retry", "", nil, &filtered)
		require.Len(t, filtered.Attempts, 1)
		require.Equal(t, "retry", filtered.Attempts[0].Outcome)

		require.Equal(t, http.StatusBadRequest, b.call(t, http.MethodGet, "/v1/webhooks/"+sub.ID+"/attempts?outcome=maybe", "", nil, nil).StatusCode)
		require.Equal(t, http.StatusNotFound, b.call(t, http.MethodGet, "/v1/webhooks/sub_nope/attempts", "", nil, nil).StatusCode)
		other, err := b.p.CreateAPIKey(b.ctx, "globex")
		require.NoError(t, err)
		require.Equal(t, http.StatusNotFound, b.call(t, http.MethodGet, "/v1/webhooks/"+sub.ID+"/attempts", other, nil, nil).StatusCode,
			"another tenant's subscription is not found")
	})
}

// TestEventsQuery lists the event log by trigger and time, newest first, and
// finds one event by id or idempotency key with its deliveries.
func TestEventsQuery(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, postgres bool) {
		b := setup(t, &setupOpts{postgres: postgres})
		ok := newReceiver(t, nil)
		bad := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusBadRequest) })
		okSub, _ := b.register(t, "order.created", ok.URL+"/cb", nil)
		badSub, _ := b.register(t, "order.created", bad.URL+"/cb", nil)

		start := time.Now().Add(-time.Second)
		var ids []string
		for i := range 5 {
			res := b.publish(t, map[string]any{"type": "order.created", "id": fmt.Sprintf("order-%d", i), "data": order(i, "new")})
			ids = append(ids, res.Events[0].ID)
		}
		b.publish(t, map[string]any{"type": "order.updated", "data": order(9, "new")})

		var got []string
		cursor := ""
		for {
			var page eventPage
			require.Equal(t, http.StatusOK, b.call(t, http.MethodGet, "/v1/events?trigger=order.created&limit=2&since="+
				url.QueryEscape(start.Format(time.RFC3339Nano))+"&cursor="+url.QueryEscape(cursor), "", nil, &page).StatusCode)
			for _, e := range page.Events {
				require.Equal(t, "order.created", e.Type)
				got = append(got, e.ID)
			}
			if page.Next == "" {
				break
			}
			cursor = page.Next
		}
		require.Equal(t, []string{ids[4], ids[3], ids[2], ids[1], ids[0]}, got, "newest first, each once")

		var none eventPage
		b.call(t, http.MethodGet, "/v1/events?until="+url.QueryEscape(start.Format(time.RFC3339Nano)), "", nil, &none)
		require.Empty(t, none.Events)
		var all eventPage
		b.call(t, http.MethodGet, "/v1/events", "", nil, &all)
		require.Len(t, all.Events, 6)

		b.waitAttempts(t, okSub.ID, 5)
		b.waitAttempts(t, badSub.ID, 5)
		for _, ref := range []string{ids[2], "order-2"} {
			var ev eventRow
			require.Equal(t, http.StatusOK, b.call(t, http.MethodGet, "/v1/events/"+url.PathEscape(ref), "", nil, &ev).StatusCode)
			require.Equal(t, ids[2], ev.ID)
			require.Equal(t, "order-2", ev.IdempotencyKey)
			require.EqualValues(t, 2, ev.Data["id"])
			states := map[string]string{}
			for _, d := range ev.Deliveries {
				states[d.SubscriptionID] = d.State
				require.Equal(t, 1, d.Attempts)
			}
			require.Equal(t, map[string]string{okSub.ID: "delivered", badSub.ID: "failed"}, states)
		}
		require.Equal(t, http.StatusNotFound, b.call(t, http.MethodGet, "/v1/events/evt_nope", "", nil, nil).StatusCode)
		other, err := b.p.CreateAPIKey(b.ctx, "globex")
		require.NoError(t, err)
		require.Equal(t, http.StatusNotFound, b.call(t, http.MethodGet, "/v1/events/"+ids[0], other, nil, nil).StatusCode)
		for _, q := range []string{"since=yesterday", "trigger=order.shipped", "limit=5000"} {
			require.Equal(t, http.StatusBadRequest, b.call(t, http.MethodGet, "/v1/events?"+q, "", nil, nil).StatusCode, q)
		}
	})
}
