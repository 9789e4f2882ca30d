package triggerd_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd/internal/flow"
)

// TestFlowAgainstServe plays the platform's side against triggerd's own
// served definition: subscribe through the connector, receive the published
// events as runs that validate against x-ms-notification-content, then
// unsubscribe through the Location, leaving no subscription behind.
func TestFlowAgainstServe(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	for _, tc := range []struct {
		trigger, event string
		params         map[string]string
		statuses       []string
		wantRuns       int
	}{
		{"OrderCreated", "order.created", nil, []string{"new", "paid"}, 2},
		{"OrderUpdated", "order.updated", map[string]string{"status": "completed"}, []string{"paid", "completed", "completed"}, 2},
	} {
		t.Run(tc.trigger, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			rep, err := flow.Run(ctx, flow.Config{
				Connector: b.api.URL + "/v1/openapi.json",
				Trigger:   tc.trigger,
				Params:    tc.params,
				APIKey:    b.key,
				Runs:      tc.wantRuns,
				Timeout:   30 * time.Second,
				OnSubscribed: func(string) {
					for i, s := range tc.statuses {
						b.publish(t, map[string]any{"type": tc.event, "data": order(100+i, s)})
					}
				},
			})
			require.NoError(t, err)
			require.False(t, rep.Failed(), "%v", rep.Deviations)
			require.Empty(t, rep.Deviations, "triggerd must meet the platform's contract without a single warning")
			require.Len(t, rep.Runs, tc.wantRuns)
			require.Regexp(t, "^"+b.api.URL+"/v1/webhooks/sub_", rep.Location)
			require.Equal(t, http.StatusNoContent, rep.DeleteStatus)

			var list struct{ Webhooks []subscription }
			b.call(t, http.MethodGet, "/v1/webhooks", "", nil, &list)
			require.Empty(t, list.Webhooks, fmt.Sprintf("flow's DELETE must remove the subscription: %v", list.Webhooks))
		})
	}
}

// orderEvent is the body flow POSTs to /v1/events after each lifecycle step.
const orderEvent = `{"type":"order.created","data":{"id":7,"order_key":"wc_7","status":"processing","currency":"EUR","total":12.5}}`

// TestFlowLifecycleAgainstServe plays the platform's whole lifecycle
// (save, save, renew, disable, enable, delete) against triggerd's own
// definition: every re-registration replaces the previous subscription and
// every DELETE removes one, so each emitted event reaches exactly the
// current callback, once, and nothing is left registered.
func TestFlowLifecycleAgainstServe(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out bytes.Buffer
	rep, err := flow.Run(ctx, flow.Config{
		Connector: b.api.URL + "/v1/openapi.json",
		Trigger:   "OrderCreated",
		APIKey:    b.key,
		Lifecycle: flow.PlatformLifecycle,
		EmitURL:   b.api.URL + "/v1/events",
		EmitBody:  orderEvent,
		// triggerd delivers asynchronously: a copy or a delivery to a
		// retired callback would follow the expected one within the
		// delivery engine's poll interval (10ms here).
		Settle: 500 * time.Millisecond,
		Output: &out,
	})
	require.NoError(t, err)
	t.Logf("flow output:\n%s", out.String())
	require.False(t, rep.Has("orphaned-registration"), "%v", rep.Deviations)
	require.False(t, rep.Has("duplicate-delivery"), "%v", rep.Deviations)
	require.False(t, rep.Failed(), "%v", rep.Deviations)
	require.Empty(t, rep.Deviations)
	require.Len(t, rep.Steps, 6)
	for _, st := range rep.Steps {
		require.True(t, st.OK, "step %d", st.Number)
		if st.Active > 0 {
			require.Equal(t, map[int]int{st.Active: 1}, st.Received, "step %d (%s)", st.Number, st.Step)
		} else {
			require.Empty(t, st.Received, "step %d (%s)", st.Number, st.Step)
			require.Equal(t, http.StatusNoContent, st.DeleteStatus)
		}
	}
	require.Len(t, rep.Runs, 4)
	var list struct{ Webhooks []subscription }
	b.call(t, http.MethodGet, "/v1/webhooks", "", nil, &list)
	require.Empty(t, list.Webhooks, "the lifecycle leaves no subscription behind")
}

// TestFlowLifecycleBrokenPublisher runs the same lifecycle on triggerd's
// definition against a fake publisher that registers but handles no
// DELETE: flow reports the orphaned registrations.
func TestFlowLifecycleBrokenPublisher(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	got, err := http.Get(b.api.URL + "/v1/openapi.json")
	require.NoError(t, err)
	def, err := io.ReadAll(got.Body)
	got.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, got.StatusCode)

	var mu sync.Mutex
	var callbacks []string
	var broken *httptest.Server
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/openapi.json", func(w http.ResponseWriter, r *http.Request) {
		// triggerd's own definition, pointing at the broken publisher.
		w.Write(bytes.ReplaceAll(def, []byte(strings.TrimPrefix(b.api.URL, "http://")), []byte(strings.TrimPrefix(broken.URL, "http://"))))
	})
	mux.HandleFunc("POST /v1/webhooks/order.created", func(w http.ResponseWriter, r *http.Request) {
		var body struct{ CallbackURL string }
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.CallbackURL == "" {
			http.Error(w, "no callbackUrl", http.StatusBadRequest)
			return
		}
		mu.Lock()
		callbacks = append(callbacks, body.CallbackURL)
		id := len(callbacks)
		mu.Unlock()
		w.Header().Set("Location", fmt.Sprintf("%s/v1/webhooks/sub_%d", broken.URL, id))
		w.WriteHeader(http.StatusCreated)
	})
	mux.HandleFunc("POST /v1/events", func(w http.ResponseWriter, r *http.Request) {
		var ev struct{ Data json.RawMessage }
		if err := json.NewDecoder(r.Body).Decode(&ev); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		targets := append([]string(nil), callbacks...)
		mu.Unlock()
		for _, cb := range targets {
			if resp, err := http.Post(cb, "application/json", bytes.NewReader(ev.Data)); err == nil {
				resp.Body.Close()
			}
		}
		w.WriteHeader(http.StatusAccepted)
	})
	broken = httptest.NewServer(mux)
	t.Cleanup(broken.Close)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out bytes.Buffer
	rep, err := flow.Run(ctx, flow.Config{
		Connector: broken.URL + "/v1/openapi.json",
		Trigger:   "OrderCreated",
		APIKey:    b.key,
		Lifecycle: flow.PlatformLifecycle,
		EmitURL:   broken.URL + "/v1/events",
		EmitBody:  orderEvent,
		Settle:    time.Millisecond,
		Output:    &out,
	})
	require.NoError(t, err)
	t.Logf("flow output:\n%s", out.String())
	require.True(t, rep.Failed())
	require.True(t, rep.Has("orphaned-registration"), "%s", out.String())
	require.Equal(t, map[int]int{1: 1, 2: 1}, rep.Steps[1].Received, "after the second save the first callback still gets the event")
}
