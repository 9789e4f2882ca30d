package triggerd_test

import (
	"encoding/json"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd"
	"github.com/triggerd/triggerd/internal/store/storetest"
)

type alertBody struct {
	Type string `json:"type"`
	Data struct {
		TenantID       string `json:"tenantId"`
		Trigger        string `json:"trigger"`
		SubscriptionID string `json:"subscriptionId"`
		EventID        string `json:"eventId"`
		Reason         string `json:"reason"`
	} `json:"data"`
}

// TestAlerts sends each operational alert, signed with the alert secret:
// inactive because gone, failing or disabled; recovered; exhausted.
func TestAlerts(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, postgres bool) {
		const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
		alerts := newReceiver(t, nil)
		b := setup(t, &setupOpts{postgres: postgres, cfg: triggerd.Config{
			AlertURL: alerts.URL + "/alerts?token=alertSecretToken", AlertSecret: secret,
			RetrySchedule: []time.Duration{20 * time.Millisecond}, DisableAfter: time.Hour, UpkeepInterval: 20 * time.Millisecond}})
		wh, err := standardwebhooks.NewWebhook(secret)
		require.NoError(t, err)
		next := func() alertBody {
			t.Helper()
			got := alerts.next(t)
			require.NoError(t, wh.Verify(got.Body, got.Header), "alerts are signed with --alert-secret")
			require.NotContains(t, string(got.Body), "sig=")
			require.NotContains(t, string(got.Body), "127.0.0.1")
			var a alertBody
			require.NoError(t, json.Unmarshal(got.Body, &a), string(got.Body))
			return a
		}

		gone := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusGone) })
		goneSub, _ := b.register(t, "order.created", gone.URL+"/cb?sig=a", nil)
		res := b.publish(t, map[string]any{"type": "order.created", "data": order(1, "new")})
		a := next()
		require.Equal(t, "subscription.inactive", a.Type)
		require.Equal(t, "gone", a.Data.Reason)
		require.Equal(t, goneSub.ID, a.Data.SubscriptionID)
		require.Equal(t, res.Events[0].ID, a.Data.EventID)
		require.Equal(t, "order.created", a.Data.Trigger)
		require.NotEmpty(t, a.Data.TenantID)

		// Fails twice (the first attempt and the one retry): exhausted;
		// the next event succeeds: recovered.
		var calls atomic.Int32
		flaky := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
			if calls.Add(1) <= 2 {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			w.WriteHeader(http.StatusOK)
		})
		flakySub, _ := b.register(t, "order.updated", flaky.URL+"/cb?sig=b", nil)
		res = b.publish(t, map[string]any{"type": "order.updated", "data": order(2, "new")})
		a = next()
		require.Equal(t, "delivery.exhausted", a.Type)
		require.Equal(t, flakySub.ID, a.Data.SubscriptionID)
		require.Equal(t, res.Events[0].ID, a.Data.EventID)
		res = b.publish(t, map[string]any{"type": "order.updated", "data": order(3, "new")})
		a = next()
		require.Equal(t, "subscription.recovered", a.Type)
		require.Equal(t, flakySub.ID, a.Data.SubscriptionID)
		require.Equal(t, res.Events[0].ID, a.Data.EventID)

		// An operator disables it.
		b.call(t, http.MethodPatch, "/v1/webhooks/"+flakySub.ID, "", map[string]string{"state": "inactive"}, nil)
		a = next()
		require.Equal(t, "subscription.inactive", a.Type)
		require.Equal(t, "disabled", a.Data.Reason)
		require.Equal(t, flakySub.ID, a.Data.SubscriptionID)
		alerts.none(t)
	})
}

// TestAlertFailing raises subscription.inactive with reason failing when
// auto-disable turns a subscription off.
func TestAlertFailing(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, postgres bool) {
		const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
		alerts := newReceiver(t, nil)
		b := setup(t, &setupOpts{postgres: postgres, cfg: triggerd.Config{AlertURL: alerts.URL + "/alerts", AlertSecret: secret,
			RetrySchedule: []time.Duration{time.Hour}, DisableAfter: 200 * time.Millisecond, UpkeepInterval: 20 * time.Millisecond}})
		bad := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) })
		sub, _ := b.register(t, "order.created", bad.URL+"/cb", nil)
		b.publish(t, map[string]any{"type": "order.created", "data": order(1, "new")})
		got := alerts.next(t)
		wh, err := standardwebhooks.NewWebhook(secret)
		require.NoError(t, err)
		require.NoError(t, wh.Verify(got.Body, got.Header))
		var a alertBody
		require.NoError(t, json.Unmarshal(got.Body, &a))
		require.Equal(t, "subscription.inactive", a.Type)
		require.Equal(t, "failing", a.Data.Reason)
		require.Equal(t, sub.ID, a.Data.SubscriptionID)
	})
}

// TestAlertSecretRequired refuses an alert URL whose secret cannot sign.
func TestAlertSecretRequired(t *testing.T) {
	t.Parallel()
	db := storetest.SQLite.Open(t)
	_, err := triggerd.New(t.Context(), db, triggerd.Config{PublicURL: "http://127.0.0.1:1", AllowPrivateCallbacks: true,
		AlertURL: "http://127.0.0.1:9/alerts", AlertSecret: "not-a-secret"})
	require.ErrorContains(t, err, "alert secret")
}
