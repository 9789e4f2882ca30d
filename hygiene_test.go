package triggerd_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestInputHygiene: bytes that are not UTF-8, control characters in ids and
// callbacks on special-purpose addresses are refused with a clear error,
// change nothing, and never reach the database (a NUL made PostgreSQL fail
// the request with a 500).
func TestInputHygiene(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, postgres bool) {
		b := setup(t, &setupOpts{postgres: postgres, strict: true})
		var sub subscription
		resp := b.call(t, http.MethodPost, "/v1/webhooks/order.created", "", map[string]string{"callbackUrl": "https://8.8.8.8/hook"}, &sub)
		require.Equal(t, http.StatusCreated, resp.StatusCode)
		validOrder := `{"id":1,"order_key":"k","status":"new"}`
		for _, tc := range []struct {
			name, method, path string
			body               any
			status             int
			code, message      string
		}{
			{"invalid UTF-8 in data", "POST", "/v1/events", `{"type":"order.created","data":{"id":1,"order_key":"caf` + "\xe9" + `","status":"new"}}`, 400, "invalid_utf8", "byte 55"},
			{"invalid UTF-8 in a registration", "POST", "/v1/webhooks/order.created", `{"callbackUrl":"https://8.8.8.8/` + "\xff" + `"}`, 400, "invalid_utf8", "byte 32"},
			{"NUL in an idempotency key", "POST", "/v1/events", `{"type":"order.created","id":"order\u0000-1","data":` + validOrder + `}`, 422, "invalid_event", "U+0000 at byte 5"},
			{"newline in an idempotency key", "POST", "/v1/events", `{"type":"order.created","id":"a\nb","data":` + validOrder + `}`, 422, "invalid_event", "U+000A"},
			{"NUL in a path id", "GET", "/v1/webhooks/sub%00x", nil, 422, "invalid_request", "U+0000"},
			{"escape in a path id", "DELETE", "/v1/webhooks/sub%1b", nil, 422, "invalid_request", "U+001B"},
			{"IPv4-compatible IPv6 callback", "POST", "/v1/webhooks/order.created", `{"callbackUrl":"http://[::7f00:1]/hook"}`, 422, "invalid_callback_url", "::/96"},
			{"NAT64 callback", "POST", "/v1/webhooks/order.created", `{"callbackUrl":"http://[64:ff9b::a9fe:a9fe]/hook"}`, 422, "invalid_callback_url", "64:ff9b::/96"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				before := b.snapshot(t)
				var e struct {
					Error struct{ Code, Message string }
				}
				resp := b.call(t, tc.method, tc.path, "", tc.body, &e)
				require.Equal(t, tc.status, resp.StatusCode, e.Error.Message)
				require.Equal(t, tc.code, e.Error.Code)
				require.Contains(t, e.Error.Message, tc.message)
				require.Equal(t, before, b.snapshot(t), "a refused request must change nothing")
			})
		}
	})
}
