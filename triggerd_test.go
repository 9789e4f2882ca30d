package triggerd_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd"
)

// platformCallback looks like a Logic Apps callback URL: an escaped sp
// parameter and a signature that must arrive byte for byte
// (https://learn.microsoft.com/en-us/connectors/custom-connectors/create-webhook-trigger).
func platformCallback(base, flow string) string {
	return base + "/workflows/" + flow + "/triggers/When_an_order_is_created/versions/08585330776762131491/run" +
		"?api-version=2016-06-01&sp=%2Ftriggers%2FWhen_an_order_is_created%2Fversions%2F08585330776762131491%2Frun%2C%2Ftriggers%2Fread&sv=1.0&sig=xaQh-AbC_123%3D"
}

func TestWebhookLifecycle(t *testing.T) {
	t.Parallel()
	backends(t, testWebhookLifecycle)
}

func testWebhookLifecycle(t *testing.T, postgres bool) {
	b := setup(t, &setupOpts{postgres: postgres})
	rc := newReceiver(t, nil)
	callback := platformCallback(rc.URL, "d8af7c4807ab4445946636561426af31")

	sub, resp := b.register(t, "order.created", callback, nil)
	require.Equal(t, b.api.URL+"/v1/webhooks/"+sub.ID, resp.Header.Get("Location"), "Location must be absolute")
	require.Equal(t, callback, sub.CallbackURL)
	require.Equal(t, "order.created", sub.Trigger)
	require.True(t, strings.HasPrefix(sub.Secret, "whsec_"))
	require.Equal(t, "active", sub.State)
	require.WithinDuration(t, time.Now(), sub.CreatedAt, time.Minute)

	// The platform registers again on every save of the flow.
	again, resp := b.register(t, "order.created", callback, nil)
	require.Equal(t, sub.ID, again.ID)
	require.Equal(t, b.api.URL+"/v1/webhooks/"+sub.ID, resp.Header.Get("Location"))

	res := b.publish(t, map[string]any{"type": "order.created", "data": order(42, "processing")})
	require.Len(t, res.Events, 1)
	require.Equal(t, 1, res.Events[0].Deliveries)

	got := rc.next(t)
	require.Equal(t, strings.TrimPrefix(callback, rc.URL), got.RequestURI, "the callback URL must be used exactly as registered")
	require.Equal(t, "application/json", got.Header.Get("Content-Type"))
	require.Equal(t, res.Events[0].ID, got.Header.Get("webhook-id"))
	ts, err := strconv.ParseInt(got.Header.Get("webhook-timestamp"), 10, 64)
	require.NoError(t, err)
	require.InDelta(t, time.Now().Unix(), ts, 60)
	require.JSONEq(t, `{"id":42,"order_key":"wc_order_processing","status":"processing","currency":"EUR","total":12.5}`, string(got.Body),
		"the body is the event data, as the connector's notification schema promised")
	wh, err := standardwebhooks.NewWebhook(sub.Secret)
	require.NoError(t, err)
	require.NoError(t, wh.Verify(got.Body, got.Header), "signature must verify with the Standard Webhooks library")

	detail := b.waitAttempts(t, sub.ID, 1)
	require.Equal(t, "delivered", detail.Attempts[0].Outcome)
	require.Equal(t, http.StatusAccepted, detail.Attempts[0].Status)
	require.Equal(t, 1, detail.Attempts[0].Attempt)
	require.Equal(t, http.StatusAccepted, detail.LastStatus)

	var list struct{ Webhooks []subscription }
	b.call(t, http.MethodGet, "/v1/webhooks", "", nil, &list)
	require.Len(t, list.Webhooks, 1)

	// Deregistration, as the platform does when the trigger is removed.
	resp = b.call(t, http.MethodDelete, strings.TrimPrefix(resp.Header.Get("Location"), b.api.URL), "", nil, nil)
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	resp = b.call(t, http.MethodDelete, "/v1/webhooks/"+sub.ID, "", nil, nil)
	require.Equal(t, http.StatusNoContent, resp.StatusCode, "a second DELETE by the owner also succeeds")
	b.call(t, http.MethodGet, "/v1/webhooks", "", nil, &list)
	require.Empty(t, list.Webhooks)

	// No further delivery: a sentinel subscription gets the next event, the
	// deleted one does not.
	sentinel := newReceiver(t, nil)
	b.register(t, "order.created", sentinel.URL+"/sentinel", nil)
	res = b.publish(t, map[string]any{"type": "order.created", "data": order(43, "processing")})
	require.Equal(t, 1, res.Events[0].Deliveries)
	sentinel.next(t)
	rc.none(t)
}

func TestFiltersAndIdempotency(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, postgres bool) {
		testFiltersAndIdempotency(t, setup(t, &setupOpts{postgres: postgres}))
	})
}

func testFiltersAndIdempotency(t *testing.T, b *testBundle) {
	paid := newReceiver(t, nil)
	all := newReceiver(t, nil)
	b.register(t, "order.updated", paid.URL+"/paid", map[string]string{"status": "paid"})
	b.register(t, "order.updated", all.URL+"/all", nil)

	res := b.publish(t, []map[string]any{
		{"type": "order.updated", "id": "upd-1", "data": order(1, "pending")},
		{"type": "order.updated", "id": "upd-2", "data": order(1, "paid")},
	})
	require.Equal(t, 1, res.Events[0].Deliveries)
	require.Equal(t, 2, res.Events[1].Deliveries)
	require.JSONEq(t, `"paid"`, jsonField(t, paid.next(t).Body, "status"))
	first, second := all.next(t), all.next(t)
	require.ElementsMatch(t, []string{`"pending"`, `"paid"`}, []string{jsonField(t, first.Body, "status"), jsonField(t, second.Body, "status")})

	// The same idempotency key again: accepted, not delivered again.
	res = b.publish(t, map[string]any{"type": "order.updated", "id": "upd-2", "data": order(1, "paid")})
	require.True(t, res.Events[0].Duplicate)
	require.Zero(t, res.Events[0].Deliveries)
	b.publish(t, map[string]any{"type": "order.updated", "data": order(2, "paid")})
	require.JSONEq(t, `2`, jsonField(t, paid.next(t).Body, "id"), "the next delivery is the new event, not the duplicate")
}

func jsonField(t *testing.T, body []byte, field string) string {
	t.Helper()
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(body, &m))
	return string(m[field])
}

func TestRetries(t *testing.T) {
	t.Parallel()

	t.Run("ServiceUnavailableThenSuccess", func(t *testing.T) {
		t.Parallel()
		backends(t, func(t *testing.T, postgres bool) {
			testServiceUnavailableThenSuccess(t, setup(t, &setupOpts{postgres: postgres}))
		})
	})

	t.Run("TooManyRequestsHonoursRetryAfter", func(t *testing.T) {
		t.Parallel()
		b := setup(t, nil)
		rc := newReceiver(t, func(n int, w http.ResponseWriter, _ *http.Request) {
			if n == 1 {
				w.Header().Set("Retry-After", "1")
				w.WriteHeader(http.StatusTooManyRequests)
				return
			}
			w.WriteHeader(http.StatusAccepted)
		})
		b.register(t, "order.created", rc.URL+"/hook", nil)
		b.publish(t, map[string]any{"type": "order.created", "data": order(1, "new")})
		first, second := rc.next(t), rc.next(t)
		// The schedule says 20 ms; the receiver asked for a second.
		require.GreaterOrEqual(t, second.At.Sub(first.At), time.Second, "the retry must not come before Retry-After")
	})

	t.Run("GoneDeactivates", func(t *testing.T) {
		t.Parallel()
		b := setup(t, nil)
		rc := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusGone) })
		sub, _ := b.register(t, "order.created", rc.URL+"/hook", nil)
		b.publish(t, map[string]any{"type": "order.created", "data": order(1, "new")})
		rc.next(t)
		// The API reads attempts before the subscription, so wait for both.
		detail := b.waitWebhook(t, sub.ID, "subscription inactive", func(s subscription) bool { return s.State == "inactive" && len(s.Attempts) > 0 })
		require.Contains(t, detail.StateReason, "410")
		require.Len(t, detail.Attempts, 1, "410 is not retried")
		require.Equal(t, "gone", detail.Attempts[0].Outcome)

		res := b.publish(t, map[string]any{"type": "order.created", "data": order(2, "new")})
		require.Zero(t, res.Events[0].Deliveries, "an inactive subscription gets nothing")

		// The platform registering the same callback again revives it.
		revived, _ := b.register(t, "order.created", rc.URL+"/hook", nil)
		require.Equal(t, sub.ID, revived.ID)
		require.Equal(t, "active", revived.State)
	})

	t.Run("OtherClientErrorNotRetried", func(t *testing.T) {
		t.Parallel()
		b := setup(t, nil)
		rc := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusBadRequest) })
		sub, _ := b.register(t, "order.created", rc.URL+"/hook", nil)
		b.publish(t, map[string]any{"type": "order.created", "data": order(1, "new")})
		rc.next(t)
		detail := b.waitAttempts(t, sub.ID, 1)
		require.Equal(t, "failed", detail.Attempts[0].Outcome)
		require.Equal(t, "active", detail.State, "a 400 does not mean the flow is gone")
		require.Equal(t, 1, detail.ConsecutiveFailures)
	})

	t.Run("GivesUpAfterSchedule", func(t *testing.T) {
		t.Parallel()
		b := setup(t, &setupOpts{cfg: triggerd.Config{RetrySchedule: []time.Duration{10 * time.Millisecond, 10 * time.Millisecond}}})
		rc := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusBadGateway) })
		sub, _ := b.register(t, "order.created", rc.URL+"/hook", nil)
		b.publish(t, map[string]any{"type": "order.created", "data": order(1, "new")})
		for range 3 {
			rc.next(t)
		}
		detail := b.waitAttempts(t, sub.ID, 3)
		require.Equal(t, "failed", detail.Attempts[0].Outcome)
		require.Contains(t, detail.Attempts[0].Error, "gave up after 3 attempts")
		require.Equal(t, 3, detail.ConsecutiveFailures)
	})

	t.Run("HangingReceiverDoesNotDelayOthers", func(t *testing.T) {
		t.Parallel()
		release := make(chan struct{})
		b := setup(t, &setupOpts{cfg: triggerd.Config{DeliveryTimeout: 2 * time.Second}})
		hanging := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
			if n == 1 {
				select { // hang past the delivery timeout
				case <-release:
				case <-r.Context().Done():
				}
				return
			}
			w.WriteHeader(http.StatusOK)
		})
		healthy := newReceiver(t, nil)
		hangSub, _ := b.register(t, "order.created", hanging.URL+"/slow", nil)
		b.register(t, "order.created", healthy.URL+"/fast", nil)

		b.publish(t, map[string]any{"type": "order.created", "data": order(1, "new")})
		hanging.next(t) // the hanging request is in flight…
		healthy.next(t) // …and the healthy subscriber is served meanwhile
		b.publish(t, map[string]any{"type": "order.created", "data": order(2, "new")})
		healthy.next(t)

		// The hanging attempt times out and is retried.
		retry := hanging.next(t)
		require.NotEmpty(t, retry.Header.Get("webhook-id"))
		b.waitWebhook(t, hangSub.ID, "timeout recorded as a retry", func(s subscription) bool {
			for _, a := range s.Attempts {
				if a.Outcome == "retry" && strings.Contains(a.Error, "timed out") {
					return true
				}
			}
			return false
		})
		close(release)
	})
}

func TestPublishTx(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, postgres bool) {
		testPublishTx(t, setup(t, &setupOpts{postgres: postgres}))
	})
}

func testPublishTx(t *testing.T, b *testBundle) {
	rc := newReceiver(t, nil)
	b.register(t, "order.created", rc.URL+"/hook", nil)
	_, err := b.db.ExecContext(b.ctx, `CREATE TABLE app_order (id INTEGER PRIMARY KEY, status TEXT NOT NULL)`)
	require.NoError(t, err)

	// Rolled back: neither the order nor its event exist, so nothing can
	// ever be delivered.
	tx, err := b.db.BeginTx(b.ctx, nil)
	require.NoError(t, err)
	_, err = tx.ExecContext(b.ctx, `INSERT INTO app_order (id, status) VALUES (1, 'new')`)
	require.NoError(t, err)
	res, err := b.p.PublishTx(b.ctx, tx, "acme", triggerd.Event{Type: "order.created", Data: order(1, "new")})
	require.NoError(t, err)
	require.Equal(t, 1, res[0].Deliveries)
	require.NoError(t, tx.Rollback())
	var n int
	require.NoError(t, b.db.QueryRowContext(b.ctx, `SELECT COUNT(*) FROM triggerd_event`).Scan(&n))
	require.Zero(t, n)
	require.NoError(t, b.db.QueryRowContext(b.ctx, `SELECT COUNT(*) FROM river_job`).Scan(&n))
	require.Zero(t, n)

	// Committed: delivered.
	tx, err = b.db.BeginTx(b.ctx, nil)
	require.NoError(t, err)
	_, err = tx.ExecContext(b.ctx, `INSERT INTO app_order (id, status) VALUES (2, 'new')`)
	require.NoError(t, err)
	_, err = b.p.PublishTx(b.ctx, tx, "acme", triggerd.Event{Type: "order.created", Data: order(2, "new")})
	require.NoError(t, err)
	require.NoError(t, tx.Commit())
	require.JSONEq(t, `2`, jsonField(t, rc.next(t).Body, "id"))

	// Invalid data is refused before anything is written.
	_, err = b.p.Publish(b.ctx, "acme", triggerd.Event{Type: "order.created", Data: map[string]any{"id": "x", "order_key": "k", "status": "new"}})
	var ie *triggerd.InputError
	require.ErrorAs(t, err, &ie)
	require.Equal(t, "data/id", ie.Path)
}

func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	rc := newReceiver(t, nil)
	sub, _ := b.register(t, "order.created", rc.URL+"/hook", nil)
	otherKey, err := b.p.CreateAPIKey(b.ctx, "globex")
	require.NoError(t, err)

	resp := b.call(t, http.MethodGet, "/v1/webhooks/"+sub.ID, otherKey, nil, nil)
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	resp = b.call(t, http.MethodDelete, "/v1/webhooks/"+sub.ID, otherKey, nil, nil)
	require.Equal(t, http.StatusNotFound, resp.StatusCode, "404, never 403: ids do not leak")
	var list struct{ Webhooks []subscription }
	b.call(t, http.MethodGet, "/v1/webhooks", otherKey, nil, &list)
	require.Empty(t, list.Webhooks)

	// Another tenant's events never reach this tenant's subscriptions.
	var res publishResult
	resp = b.call(t, http.MethodPost, "/v1/events", otherKey, map[string]any{"type": "order.created", "data": order(1, "new")}, &res)
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
	require.Zero(t, res.Events[0].Deliveries)

	var mine subscription
	b.call(t, http.MethodGet, "/v1/webhooks/"+sub.ID, "", nil, &mine)
	require.Equal(t, "active", mine.State)
}

func TestStartResumesAcceptedEvents(t *testing.T) {
	t.Parallel()
	// Events accepted while the engine is stopped wait in the database.
	b := setup(t, &setupOpts{noStart: true})
	rc := newReceiver(t, nil)
	b.register(t, "order.created", rc.URL+"/hook", nil)
	for i := range 5 {
		b.publish(t, map[string]any{"type": "order.created", "data": order(i, "new")})
	}
	rc.none(t)
	require.NoError(t, b.p.Start(b.ctx))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, b.p.Stop(ctx))
	})
	seen := map[string]bool{}
	for range 5 {
		seen[jsonField(t, rc.next(t).Body, "id")] = true
	}
	require.Len(t, seen, 5)
}

// TestLocationMatchesServedDefinition checks the contract that makes the
// platform's DELETE carry credentials: the Location of a registration
// resolves, against the served definition's host and basePath, to its
// internal DELETE operation (https://learn.microsoft.com/en-us/connectors/custom-connectors/create-webhook-trigger).
func TestLocationMatchesServedDefinition(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	var def struct {
		Host     string   `json:"host"`
		BasePath string   `json:"basePath"`
		Schemes  []string `json:"schemes"`
		Paths    map[string]map[string]json.RawMessage
	}
	resp := b.call(t, http.MethodGet, "/v1/openapi.json", "-", nil, &def)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	rc := newReceiver(t, nil)
	sub, resp := b.register(t, "order.created", rc.URL+"/hook", nil)
	loc := resp.Header.Get("Location")
	prefix := def.Schemes[0] + "://" + def.Host + def.BasePath
	require.True(t, strings.HasPrefix(loc, prefix), "Location %s must live under %s", loc, prefix)
	require.Equal(t, "/webhooks/"+sub.ID, strings.TrimPrefix(loc, prefix))
	require.Contains(t, def.Paths["/webhooks/{id}"], "delete")
	require.Contains(t, def.Paths["/webhooks/order.created"], "post")
}

func testServiceUnavailableThenSuccess(t *testing.T, b *testBundle) {
	rc := newReceiver(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	sub, _ := b.register(t, "order.created", rc.URL+"/hook", nil)
	b.publish(t, map[string]any{"type": "order.created", "data": order(1, "new")})
	first, second := rc.next(t), rc.next(t)
	require.Equal(t, first.Header.Get("webhook-id"), second.Header.Get("webhook-id"), "webhook-id is stable across retries")
	require.Equal(t, first.Body, second.Body)

	detail := b.waitAttempts(t, sub.ID, 2)
	require.Equal(t, "delivered", detail.Attempts[0].Outcome)
	require.Equal(t, 2, detail.Attempts[0].Attempt)
	require.Equal(t, "retry", detail.Attempts[1].Outcome)
	require.Equal(t, http.StatusServiceUnavailable, detail.Attempts[1].Status)
	require.Zero(t, detail.ConsecutiveFailures)
}

// TestPostgresWakesOnNotify shows that on PostgreSQL a commit wakes the
// delivery engine through LISTEN/NOTIFY: polling is set to a minute, yet
// deliveries arrive well within the receiver's wait.
func TestPostgresWakesOnNotify(t *testing.T) {
	t.Parallel()
	b := setup(t, &setupOpts{postgres: true, cfg: triggerd.Config{PollInterval: time.Minute}})
	rc := newReceiver(t, nil)
	b.register(t, "order.created", rc.URL+"/hook", nil)
	for i := range 3 {
		b.publish(t, map[string]any{"type": "order.created", "data": order(i, "new")})
		rc.next(t)
	}
	tx, err := b.db.BeginTx(b.ctx, nil)
	require.NoError(t, err)
	_, err = b.p.PublishTx(b.ctx, tx, "acme", triggerd.Event{Type: "order.created", Data: order(9, "new")})
	require.NoError(t, err)
	require.NoError(t, tx.Commit())
	require.JSONEq(t, `9`, jsonField(t, rc.next(t).Body, "id"), "an application's own commit wakes the engine too")
}
