package triggerd_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd"
	"github.com/triggerd/triggerd/catalog"
)

// snapshot counts every row a request could have written.
func (b *testBundle) snapshot(t *testing.T) [4]int {
	t.Helper()
	var out [4]int
	for i, table := range []string{"triggerd_subscription", "triggerd_event", "river_job", "triggerd_tenant"} {
		require.NoError(t, b.db.QueryRowContext(b.ctx, "SELECT COUNT(*) FROM "+table).Scan(&out[i]))
	}
	return out
}

func TestBadInputChangesNothing(t *testing.T) {
	t.Parallel()
	b := setup(t, &setupOpts{strict: true, cfg: triggerd.Config{EventsBodyMax: 4096}})
	// One valid subscription on a public address, so events have somewhere
	// to go and a wrongly accepted event would write a delivery job.
	var sub subscription
	resp := b.call(t, http.MethodPost, "/v1/webhooks/order.created", "", map[string]string{"callbackUrl": "https://8.8.8.8/hook"}, &sub)
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	otherKey, err := b.p.CreateAPIKey(b.ctx, "globex")
	require.NoError(t, err)

	validOrder := `{"id":1,"order_key":"k","status":"new"}`
	for _, tc := range []struct {
		name, method, path, key string
		body                    any
		status                  int
		code, message           string
	}{
		{"malformed JSON", "POST", "/v1/webhooks/order.created", "", `{"callbackUrl":`, 400, "invalid_json", "not valid JSON"},
		{"trailing garbage", "POST", "/v1/webhooks/order.created", "", `{"callbackUrl":"https://8.8.8.8/a"} x`, 400, "invalid_json", "after the JSON value"},
		{"body not an object", "POST", "/v1/webhooks/order.created", "", `["https://8.8.8.8/a"]`, 422, "invalid_request", "JSON object"},
		{"missing callback", "POST", "/v1/webhooks/order.created", "", `{}`, 422, "invalid_request", "callbackUrl is required"},
		{"callback not a string", "POST", "/v1/webhooks/order.created", "", `{"callbackUrl":42}`, 422, "invalid_request", "must be a string"},
		{"relative callback", "POST", "/v1/webhooks/order.created", "", `{"callbackUrl":"/hooks/1"}`, 422, "invalid_callback_url", "absolute http or https"},
		{"loopback callback", "POST", "/v1/webhooks/order.created", "", `{"callbackUrl":"http://127.0.0.1:9/hook"}`, 422, "invalid_callback_url", "loopback"},
		{"metadata callback", "POST", "/v1/webhooks/order.created", "", `{"callbackUrl":"http://169.254.169.254/latest/meta-data"}`, 422, "invalid_callback_url", "link-local"},
		{"private callback", "POST", "/v1/webhooks/order.created", "", `{"callbackUrl":"https://192.168.0.10/hook"}`, 422, "invalid_callback_url", "private"},
		{"too long callback", "POST", "/v1/webhooks/order.created", "", `{"callbackUrl":"https://8.8.8.8/` + strings.Repeat("a", 16400) + `"}`, 422, "invalid_callback_url", "16384"},
		{"oversize registration", "POST", "/v1/webhooks/order.created", "", `{"callbackUrl":"https://8.8.8.8/` + strings.Repeat("a", 70000) + `"}`, 413, "payload_too_large", "exceeds"},
		{"unknown trigger", "POST", "/v1/webhooks/order.deleted", "", `{"callbackUrl":"https://8.8.8.8/a"}`, 404, "unknown_trigger", "order.created"},
		{"unknown filter", "POST", "/v1/webhooks/order.updated", "", `{"callbackUrl":"https://8.8.8.8/a","colour":"red"}`, 422, "invalid_request", `unknown field "colour"`},
		{"filter not scalar", "POST", "/v1/webhooks/order.updated", "", `{"callbackUrl":"https://8.8.8.8/a","status":{"a":1}}`, 422, "invalid_request", "status"},
		{"no key", "POST", "/v1/webhooks/order.created", "-", `{"callbackUrl":"https://8.8.8.8/a"}`, 401, "unauthorized", "X-API-Key"},
		{"wrong key", "POST", "/v1/webhooks/order.created", "tdk_wrong", `{"callbackUrl":"https://8.8.8.8/a"}`, 401, "unauthorized", "no valid key"},
		{"cross-tenant delete", "DELETE", "/v1/webhooks/" + sub.ID, otherKey, nil, 404, "not_found", "no webhook"},
		{"unknown id delete", "DELETE", "/v1/webhooks/sub_nope", "", nil, 404, "not_found", "no webhook"},
		{"event malformed JSON", "POST", "/v1/events", "", `{"type":"order.created","data":{`, 400, "invalid_json", "not valid JSON"},
		{"event empty body", "POST", "/v1/events", "", ``, 422, "invalid_request", "empty"},
		{"event empty array", "POST", "/v1/events", "", `[]`, 422, "invalid_event", "no events"},
		{"event unknown type", "POST", "/v1/events", "", `{"type":"order.deleted","data":` + validOrder + `}`, 422, "invalid_event", "not a trigger"},
		{"event missing type", "POST", "/v1/events", "", `{"data":` + validOrder + `}`, 422, "invalid_event", "type: is required"},
		{"event missing data", "POST", "/v1/events", "", `{"type":"order.created"}`, 422, "invalid_event", "data: is required"},
		{"event unknown field", "POST", "/v1/events", "", `{"type":"order.created","data":` + validOrder + `,"extra":1}`, 422, "invalid_request", `unknown field "extra"`},
		{"event schema mismatch", "POST", "/v1/events", "", `{"type":"order.created","data":{"id":"one","order_key":"k","status":"new"}}`, 422, "schema_mismatch", "data/id"},
		{"event int32 overflow", "POST", "/v1/events", "", `{"type":"order.created","data":{"id":4294967296,"order_key":"k","status":"new"}}`, 422, "schema_mismatch", "data/id"},
		{"one bad event in a batch", "POST", "/v1/events", "", `[{"type":"order.created","data":` + validOrder + `},{"type":"order.created","data":{"id":2}}]`, 422, "schema_mismatch", "events[1]"},
		{"oversize events", "POST", "/v1/events", "", `{"type":"order.created","data":{"id":1,"order_key":"` + strings.Repeat("k", 5000) + `","status":"new"}}`, 413, "payload_too_large", "4096"},
		{"events no key", "POST", "/v1/events", "-", `{"type":"order.created","data":` + validOrder + `}`, 401, "unauthorized", "X-API-Key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := b.snapshot(t)
			var e struct {
				Error struct{ Code, Message string }
			}
			resp := b.call(t, tc.method, tc.path, tc.key, tc.body, &e)
			require.Equal(t, tc.status, resp.StatusCode, e.Error.Message)
			require.Equal(t, tc.code, e.Error.Code)
			require.Contains(t, e.Error.Message, tc.message)
			require.Equal(t, before, b.snapshot(t), "a refused request must change nothing")
		})
	}
	var detail subscription
	b.call(t, http.MethodGet, "/v1/webhooks/"+sub.ID, "", nil, &detail)
	require.Equal(t, "active", detail.State)
}

func TestPollingOnlyTriggerRefusesWebhooks(t *testing.T) {
	t.Parallel()
	cat, err := catalog.Parse([]byte(`
connector: {title: Inventory, description: Starts flows when stock levels change in the warehouse.}
triggers:
  - name: stock.changed
    operationId: StockChanged
    summary: When stock levels change
    description: This operation triggers when stock levels change.
    kinds: [polling]
    schema: {type: object}
`), "inventory.yaml")
	require.NoError(t, err)
	b := setup(t, &setupOpts{cfg: triggerd.Config{Catalog: cat}})
	before := b.snapshot(t)
	var e struct {
		Error struct{ Code, Message string }
	}
	resp := b.call(t, http.MethodPost, "/v1/webhooks/stock.changed", "", map[string]string{"callbackUrl": "http://127.0.0.1:9/hook"}, &e)
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	require.Contains(t, e.Error.Message, "polling only: GET /v1/trigger/stock.changed")
	require.Equal(t, before, b.snapshot(t))
}
