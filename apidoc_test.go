package triggerd_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/require"
)

// apiSchemas compiles the component schemas of the served /v1/api.json.
func apiSchemas(t *testing.T, b *testBundle) func(name string) *jsonschema.Schema {
	t.Helper()
	resp, err := http.Get(b.api.URL + "/v1/api.json")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	require.NoError(t, err)
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	require.NoError(t, c.AddResource("https://triggerd.invalid/api.json", doc))
	return func(name string) *jsonschema.Schema {
		s, err := c.Compile("https://triggerd.invalid/api.json#/components/schemas/" + name)
		require.NoError(t, err, name)
		return s
	}
}

// TestAPIDocValidatesAnswers checks the answers of an end-to-end run against
// the schemas of /v1/api.json.
func TestAPIDocValidatesAnswers(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, postgres bool) {
		b := setup(t, &setupOpts{postgres: postgres})
		schema := apiSchemas(t, b)
		check := func(name, method, path string, body any, want int) {
			t.Helper()
			var out any
			resp := b.call(t, method, path, "", body, &out)
			require.Equal(t, want, resp.StatusCode, path)
			require.NoError(t, schema(name).Validate(out), "%s %s against %s: %v", method, path, name, out)
		}
		rc := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
		sub, _ := b.register(t, "order.created", rc.URL+"/cb", nil)
		since := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
		res := b.publish(t, map[string]any{"type": "order.created", "id": "o-1", "data": order(1, "new")})
		b.waitAttempts(t, sub.ID, 1)
		check("Subscription", http.MethodGet, "/v1/webhooks/"+sub.ID, nil, http.StatusOK)
		check("WebhookPage", http.MethodGet, "/v1/webhooks?limit=1", nil, http.StatusOK)
		check("AttemptPage", http.MethodGet, "/v1/webhooks/"+sub.ID+"/attempts", nil, http.StatusOK)
		check("EventPage", http.MethodGet, "/v1/events?trigger=order.created", nil, http.StatusOK)
		check("Event", http.MethodGet, "/v1/events/"+res.Events[0].ID, nil, http.StatusOK)
		check("Redelivery", http.MethodPost, "/v1/webhooks/"+sub.ID+"/redeliver", map[string]string{"since": since, "only": "all"}, http.StatusAccepted)
		check("Redelivery", http.MethodPost, fmt.Sprintf("/v1/webhooks/%s/events/%s/redeliver", sub.ID, url.PathEscape("o-1")), nil, http.StatusAccepted)
		check("Subscription", http.MethodPatch, "/v1/webhooks/"+sub.ID, map[string]string{"state": "inactive"}, http.StatusOK)
		check("Error", http.MethodPost, "/v1/webhooks/"+sub.ID+"/redeliver", map[string]string{"since": since}, http.StatusConflict)
		check("Error", http.MethodGet, "/v1/events/evt_nope", nil, http.StatusNotFound)
		check("Error", http.MethodGet, "/v1/webhooks?limit=0", nil, http.StatusBadRequest)
		// The schemas can fail: an attempt page is not a subscription.
		var page any
		b.call(t, http.MethodGet, "/v1/webhooks/"+sub.ID+"/attempts", "", nil, &page)
		require.Error(t, schema("Subscription").Validate(page))
	})
}
