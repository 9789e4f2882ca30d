package triggerd_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestIdempotencyCannotLoseAnEvent: an id names one event of one type. The
// same id under another type is a new event, delivered; the same id and type
// with other data is refused with 409 naming the earlier event, and nothing
// of that request is stored.
func TestIdempotencyCannotLoseAnEvent(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, postgres bool) {
		b := setup(t, &setupOpts{postgres: postgres})
		updates := newReceiver(t, nil)
		b.register(t, "order.updated", updates.URL+"/updated", nil)

		created := b.publish(t, map[string]any{"type": "order.created", "id": "order-1001", "data": order(1001, "pending")})
		require.False(t, created.Events[0].Duplicate)
		updated := b.publish(t, map[string]any{"type": "order.updated", "id": "order-1001", "data": order(1001, "paid")})
		require.False(t, updated.Events[0].Duplicate, "another type with the same id is another event")
		require.NotEqual(t, created.Events[0].ID, updated.Events[0].ID)
		require.Equal(t, 1, updated.Events[0].Deliveries)
		require.JSONEq(t, `"paid"`, jsonField(t, updates.next(t).Body, "status"))

		again := b.publish(t, map[string]any{"type": "order.updated", "id": "order-1001", "data": order(1001, "paid")})
		require.True(t, again.Events[0].Duplicate, "same type, id and data: a retry of the same publish")
		require.Equal(t, updated.Events[0].ID, again.Events[0].ID)

		var e struct {
			Error struct{ Code, Message string }
		}
		resp := b.call(t, http.MethodPost, "/v1/events", "", []map[string]any{
			{"type": "order.updated", "id": "order-1002", "data": order(1002, "pending")},
			{"type": "order.updated", "id": "order-1001", "data": order(1001, "refunded")},
		}, &e)
		require.Equal(t, http.StatusConflict, resp.StatusCode)
		require.Equal(t, "idempotency_conflict", e.Error.Code)
		require.Contains(t, e.Error.Message, updated.Events[0].ID, "the conflict names the earlier event")
		require.Contains(t, e.Error.Message, "events[1]")

		// Nothing of the refused request was stored: order-1002 is new.
		later := b.publish(t, map[string]any{"type": "order.updated", "id": "order-1002", "data": order(1002, "pending")})
		require.False(t, later.Events[0].Duplicate, "the refused request stored nothing")
		require.JSONEq(t, `1002`, jsonField(t, updates.next(t).Body, "id"))
		updates.none(t)
	})
}
