package triggerd_test

import (
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd"
)

type apiErrorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// TestPatchState disables and re-enables a subscription: disabled, it gets
// nothing; enabled again, its consecutive failures start from zero.
func TestPatchState(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, postgres bool) {
		b := setup(t, &setupOpts{postgres: postgres, cfg: triggerd.Config{RetrySchedule: []time.Duration{}}})
		var healthy atomic.Bool
		rc := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
			if healthy.Load() {
				w.WriteHeader(http.StatusOK)
				return
			}
			w.WriteHeader(http.StatusInternalServerError)
		})
		sub, _ := b.register(t, "order.created", rc.URL+"/cb", nil)
		b.publish(t, []map[string]any{{"type": "order.created", "data": order(1, "new")}, {"type": "order.created", "data": order(2, "new")}})
		failed := b.waitAttempts(t, sub.ID, 2)
		require.Equal(t, 2, failed.ConsecutiveFailures)

		var off subscription
		require.Equal(t, http.StatusOK, b.call(t, http.MethodPatch, "/v1/webhooks/"+sub.ID, "", map[string]string{"state": "inactive"}, &off).StatusCode)
		require.Equal(t, "inactive", off.State)
		require.Equal(t, "disabled", off.StateReason)
		res := b.publish(t, map[string]any{"type": "order.created", "data": order(3, "new")})
		require.Zero(t, res.Events[0].Deliveries, "a disabled subscription gets nothing")

		var on subscription
		require.Equal(t, http.StatusOK, b.call(t, http.MethodPatch, "/v1/webhooks/"+sub.ID, "", map[string]string{"state": "active"}, &on).StatusCode)
		require.Equal(t, "active", on.State)
		require.Empty(t, on.StateReason)
		require.Zero(t, on.ConsecutiveFailures, "re-enabling resets the failures")
		healthy.Store(true)
		res = b.publish(t, map[string]any{"type": "order.created", "data": order(4, "new")})
		require.Equal(t, 1, res.Events[0].Deliveries)
		b.waitAttempts(t, sub.ID, 3)

		for _, tc := range []struct {
			body any
			code int
		}{
			{map[string]string{"state": "deleted"}, http.StatusUnprocessableEntity},
			{map[string]any{}, http.StatusUnprocessableEntity},
			{map[string]any{"state": "active", "callbackUrl": "x"}, http.StatusBadRequest},
			{"not json", http.StatusBadRequest},
		} {
			var e apiErrorBody
			require.Equal(t, tc.code, b.call(t, http.MethodPatch, "/v1/webhooks/"+sub.ID, "", tc.body, &e).StatusCode, tc.body)
			require.NotEmpty(t, e.Error.Message)
		}
		after := b.waitAttempts(t, sub.ID, 3)
		require.Equal(t, "active", after.State, "bad requests changed nothing")
		require.Equal(t, http.StatusNotFound, b.call(t, http.MethodPatch, "/v1/webhooks/sub_nope", "", map[string]string{"state": "active"}, nil).StatusCode)
		other, err := b.p.CreateAPIKey(b.ctx, "globex")
		require.NoError(t, err)
		require.Equal(t, http.StatusNotFound, b.call(t, http.MethodPatch, "/v1/webhooks/"+sub.ID, other, map[string]string{"state": "inactive"}, nil).StatusCode)
		require.Equal(t, http.StatusNoContent, b.call(t, http.MethodDelete, "/v1/webhooks/"+sub.ID, "", nil, nil).StatusCode)
		require.Equal(t, http.StatusNotFound, b.call(t, http.MethodPatch, "/v1/webhooks/"+sub.ID, "", map[string]string{"state": "active"}, nil).StatusCode,
			"a deleted subscription is not revived by PATCH")
	})
}

// TestAutoDisable turns a subscription whose attempts all failed for longer
// than DisableAfter inactive with reason failing, and leaves a healthy one
// alone; the failing one's events stay in the log for redelivery.
func TestAutoDisable(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, postgres bool) {
		b := setup(t, &setupOpts{postgres: postgres, cfg: triggerd.Config{
			RetrySchedule: []time.Duration{time.Hour}, DisableAfter: 300 * time.Millisecond, UpkeepInterval: 20 * time.Millisecond}})
		ok := newReceiver(t, nil)
		bad := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) })
		okSub, _ := b.register(t, "order.created", ok.URL+"/cb", nil)
		badSub, _ := b.register(t, "order.created", bad.URL+"/cb", nil)
		res := b.publish(t, map[string]any{"type": "order.created", "data": order(1, "new")})
		b.waitAttempts(t, okSub.ID, 1)
		detail := b.waitWebhook(t, badSub.ID, "auto-disabled", func(s subscription) bool { return s.State == "inactive" })
		require.Equal(t, "failing", detail.StateReason)
		require.Len(t, detail.Attempts, 1)
		var healthy subscription
		b.call(t, http.MethodGet, "/v1/webhooks/"+okSub.ID, "", nil, &healthy)
		require.Equal(t, "active", healthy.State)

		var ev eventRow
		require.Equal(t, http.StatusOK, b.call(t, http.MethodGet, "/v1/events/"+res.Events[0].ID, "", nil, &ev).StatusCode)
		var e apiErrorBody
		resp := b.call(t, http.MethodPost, "/v1/webhooks/"+badSub.ID+"/redeliver", "",
			map[string]string{"since": time.Now().Add(-time.Hour).Format(time.RFC3339)}, &e)
		require.Equal(t, http.StatusConflict, resp.StatusCode)
		require.Contains(t, e.Error.Message, "enable it first")
	})
}

// TestRedeliver resends a window of events, all or only those never
// delivered, with their own webhook-id, and one event on its own.
func TestRedeliver(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, postgres bool) {
		b := setup(t, &setupOpts{postgres: postgres, cfg: triggerd.Config{RetrySchedule: []time.Duration{}}})
		var healthy atomic.Bool
		healthy.Store(true)
		rc := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
			if healthy.Load() {
				w.WriteHeader(http.StatusOK)
				return
			}
			w.WriteHeader(http.StatusInternalServerError)
		})
		sub, _ := b.register(t, "order.updated", rc.URL+"/cb", map[string]string{"status": "shipped"})
		start := time.Now().Add(-time.Second)
		var delivered, failed []string
		for i := range 3 {
			res := b.publish(t, []map[string]any{{"type": "order.updated", "data": order(i, "shipped")}, {"type": "order.updated", "data": order(i, "cancelled")}})
			delivered = append(delivered, res.Events[0].ID)
		}
		b.waitAttempts(t, sub.ID, 3)
		healthy.Store(false)
		for i := range 2 {
			res := b.publish(t, map[string]any{"type": "order.updated", "data": order(10+i, "shipped")})
			failed = append(failed, res.Events[0].ID)
		}
		b.waitAttempts(t, sub.ID, 5)
		for range 5 {
			rc.next(t)
		}
		healthy.Store(true)

		// only=failed (the default) resends the two that failed.
		var out struct{ Queued, Pruned int }
		require.Equal(t, http.StatusAccepted, b.call(t, http.MethodPost, "/v1/webhooks/"+sub.ID+"/redeliver", "",
			map[string]string{"since": start.Format(time.RFC3339Nano)}, &out).StatusCode)
		require.Equal(t, 2, out.Queued)
		require.Zero(t, out.Pruned)
		got := map[string]bool{}
		for range 2 {
			got[rc.next(t).Header.Get("webhook-id")] = true
		}
		require.Equal(t, map[string]bool{failed[0]: true, failed[1]: true}, got, "redeliveries keep the event's webhook-id")
		b.waitAttempts(t, sub.ID, 7)

		// only=all resends every event of the window that matches the
		// subscription's filters: five, not the cancelled ones.
		require.Equal(t, http.StatusAccepted, b.call(t, http.MethodPost, "/v1/webhooks/"+sub.ID+"/redeliver", "",
			map[string]string{"since": start.Format(time.RFC3339Nano), "only": "all"}, &out).StatusCode)
		require.Equal(t, 5, out.Queued)
		for range 5 {
			rc.next(t)
		}
		b.waitAttempts(t, sub.ID, 12)
		// Everything is delivered now: nothing failed remains.
		require.Equal(t, http.StatusAccepted, b.call(t, http.MethodPost, "/v1/webhooks/"+sub.ID+"/redeliver", "",
			map[string]string{"since": start.Format(time.RFC3339Nano)}, &out).StatusCode)
		require.Zero(t, out.Queued)
		// A window before the events holds none.
		require.Equal(t, http.StatusAccepted, b.call(t, http.MethodPost, "/v1/webhooks/"+sub.ID+"/redeliver", "",
			map[string]string{"since": start.Add(-time.Hour).Format(time.RFC3339), "until": start.Format(time.RFC3339Nano), "only": "all"}, &out).StatusCode)
		require.Zero(t, out.Queued)

		// One event, delivered before: sent again as a new attempt.
		require.Equal(t, http.StatusAccepted, b.call(t, http.MethodPost, "/v1/webhooks/"+sub.ID+"/events/"+delivered[1]+"/redeliver", "", nil, nil).StatusCode)
		require.Equal(t, delivered[1], rc.next(t).Header.Get("webhook-id"))
		detail := b.waitAttempts(t, sub.ID, 13)
		require.Equal(t, delivered[1], detail.Attempts[0].WebhookID)

		for _, tc := range []struct {
			body any
			code int
		}{
			{map[string]string{}, http.StatusUnprocessableEntity},
			{map[string]string{"since": "yesterday"}, http.StatusBadRequest},
			{map[string]string{"since": start.Format(time.RFC3339), "until": start.Add(-time.Hour).Format(time.RFC3339)}, http.StatusUnprocessableEntity},
			{map[string]string{"since": start.Format(time.RFC3339), "only": "some"}, http.StatusUnprocessableEntity},
			{map[string]string{"since": start.Format(time.RFC3339), "extra": "x"}, http.StatusBadRequest},
		} {
			var e apiErrorBody
			require.Equal(t, tc.code, b.call(t, http.MethodPost, "/v1/webhooks/"+sub.ID+"/redeliver", "", tc.body, &e).StatusCode, tc.body)
			require.NotEmpty(t, e.Error.Message)
		}
		require.Equal(t, http.StatusNotFound, b.call(t, http.MethodPost, "/v1/webhooks/"+sub.ID+"/events/evt_nope/redeliver", "", nil, nil).StatusCode)
		other := b.publish(t, map[string]any{"type": "order.created", "data": order(99, "new")})
		require.Equal(t, http.StatusUnprocessableEntity, b.call(t, http.MethodPost, "/v1/webhooks/"+sub.ID+"/events/"+other.Events[0].ID+"/redeliver", "", nil, nil).StatusCode)

		// Inactive: 409, with what to do.
		b.call(t, http.MethodPatch, "/v1/webhooks/"+sub.ID, "", map[string]string{"state": "inactive"}, nil)
		var e apiErrorBody
		require.Equal(t, http.StatusConflict, b.call(t, http.MethodPost, "/v1/webhooks/"+sub.ID+"/events/"+delivered[0]+"/redeliver", "", nil, &e).StatusCode)
		require.Contains(t, e.Error.Message, "enable it first")
		rc.none(t)
	})
}

// TestRedeliverCap refuses a window of more than 10,000 events with a 422
// that says to narrow it, and queues nothing.
func TestRedeliverCap(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, postgres bool) {
		// Publishing and reading 10,001 events is slow under -race on a
		// loaded machine (SQLite is Go code there, instrumented too); the
		// subject is the cap, not the request deadline, so the deadline is
		// a generous one.
		b := setup(t, &setupOpts{postgres: postgres, cfg: triggerd.Config{DatabaseWait: 2 * time.Minute}})
		rc := newReceiver(t, nil)
		sub, _ := b.register(t, "order.created", rc.URL+"/cb", nil)
		// Published while the subscription is disabled, so none is sent.
		b.call(t, http.MethodPatch, "/v1/webhooks/"+sub.ID, "", map[string]string{"state": "inactive"}, nil)
		start := time.Now().Add(-time.Second)
		for chunk := range 11 {
			n := 1000
			if chunk == 10 {
				n = 1
			}
			events := make([]map[string]any, n)
			for i := range events {
				events[i] = map[string]any{"type": "order.created", "data": order(chunk*1000+i, "new")}
			}
			b.publish(t, events)
		}
		b.call(t, http.MethodPatch, "/v1/webhooks/"+sub.ID, "", map[string]string{"state": "active"}, nil)
		var e apiErrorBody
		require.Equal(t, http.StatusUnprocessableEntity, b.call(t, http.MethodPost, "/v1/webhooks/"+sub.ID+"/redeliver", "",
			map[string]string{"since": start.Format(time.RFC3339Nano), "only": "all"}, &e).StatusCode)
		require.Contains(t, e.Error.Message, "narrow")
		require.Contains(t, e.Error.Message, "10000")
		rc.none(t)
		var page attemptPage
		b.call(t, http.MethodGet, "/v1/webhooks/"+sub.ID+"/attempts", "", nil, &page)
		require.Empty(t, page.Attempts)
	})
}

// TestAttemptRetention prunes attempts older than the retention and keeps
// every newer one.
func TestAttemptRetention(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, postgres bool) {
		b := setup(t, &setupOpts{postgres: postgres, cfg: triggerd.Config{AttemptRetention: time.Hour, UpkeepInterval: 20 * time.Millisecond}})
		rc := newReceiver(t, nil)
		sub, _ := b.register(t, "order.created", rc.URL+"/cb", nil)
		for i := range 6 {
			b.publish(t, map[string]any{"type": "order.created", "data": order(i, "new")})
		}
		detail := b.waitAttempts(t, sub.ID, 6)
		// Age three of them past the retention, as if written two hours ago.
		old := time.Now().Add(-2 * time.Hour).UnixMicro()
		q := `UPDATE triggerd_attempt SET started_at = ? WHERE webhook_id IN (?, ?, ?)`
		if postgres {
			q = `UPDATE triggerd_attempt SET started_at = $1 WHERE webhook_id IN ($2, $3, $4)`
		}
		_, err := b.db.ExecContext(b.ctx, q, old, detail.Attempts[3].WebhookID, detail.Attempts[4].WebhookID, detail.Attempts[5].WebhookID)
		require.NoError(t, err)
		var page attemptPage
		eventually(t, func() bool {
			page = attemptPage{}
			b.call(t, http.MethodGet, "/v1/webhooks/"+sub.ID+"/attempts", "", nil, &page)
			return len(page.Attempts) == 3
		}, "the three old attempts pruned")
		var kept []string
		for _, a := range page.Attempts {
			kept = append(kept, a.WebhookID)
		}
		require.Equal(t, []string{detail.Attempts[0].WebhookID, detail.Attempts[1].WebhookID, detail.Attempts[2].WebhookID}, kept,
			fmt.Sprintf("the newer attempts stay: %v", kept))
	})
}
