package triggerd_test

import (
	"context"
	"fmt"
	"net/http"
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
