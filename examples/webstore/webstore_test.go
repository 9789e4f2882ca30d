package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd/connector/lint"
	"github.com/triggerd/triggerd/internal/store/storetest"
)

// The seed's scenario end to end: a new order's notification carries its id
// and key only, and the flow's next step, Get order details, called at the
// URL the connector definition gives it, returns the whole order.
func TestOrderCreatedThenGetOrderDetails(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, backend storetest.Backend) {
		ts := startShop(t, backend)
		key := ts.key(t, "acme")
		rv := newReceiver(t)
		ts.subscribe(t, key, eventOrderCreated, rv.url, nil)

		var created Order
		resp := callJSON(t, http.MethodPost, ts.url+"/v1/orders", key, newOrder(""), http.StatusCreated, &created)
		require.Equal(t, fmt.Sprintf("%s/v1/orders/%d", ts.url, created.ID), resp.Header.Get("Location"))
		require.True(t, strings.HasPrefix(created.OrderKey, "wc_order_"), created.OrderKey)
		require.Equal(t, "pending", created.Status)
		require.Equal(t, Money(3225), created.Total) // 2 × 12.50 + 7.25
		require.Len(t, created.LineItems, 2)

		// Only the id and the key: no customer, no totals.
		note := rv.next(t)
		require.Equal(t, []string{"id", "order_key"}, slices.Sorted(maps.Keys(note)))
		require.EqualValues(t, created.ID, note["id"])
		require.Equal(t, created.OrderKey, note["order_key"])

		// The flow calls GetOrder with the id from the notification, at the
		// URL the platform builds from the definition's host, basePath and path.
		getOrder := actionURL(t, ts, opGetOrder, map[string]string{"id": fmt.Sprint(note["id"])})
		var details Order
		callJSON(t, http.MethodGet, getOrder, key, nil, http.StatusOK, &details)
		require.Equal(t, created, details)
		require.Equal(t, "ana@example.com", details.Customer.Email)
		require.Equal(t, LineItem{SKU: "MUG-1", Name: "Mug", Quantity: 2, Price: 1250, Total: 2500}, details.LineItems[0])
	})
}

// actionURL is the URL of a connector operation as the platform computes
// it from the served definition: scheme://host + basePath + path.
func actionURL(t *testing.T, ts *testShop, operationID string, params map[string]string) string {
	t.Helper()
	var def struct {
		Host     string                               `json:"host"`
		BasePath string                               `json:"basePath"`
		Schemes  []string                             `json:"schemes"`
		Paths    map[string]map[string]map[string]any `json:"paths"`
	}
	_, raw := call(t, http.MethodGet, ts.url+"/v1/openapi.json", "", nil)
	require.NoError(t, json.Unmarshal(raw, &def))
	for path, item := range def.Paths {
		for method, op := range item {
			if strings.HasPrefix(method, "x-") || op["operationId"] != operationID {
				continue
			}
			for name, v := range params {
				path = strings.ReplaceAll(path, "{"+name+"}", v)
			}
			return def.Schemes[0] + "://" + def.Host + def.BasePath + path
		}
	}
	t.Fatalf("no operation %s in the definition", operationID)
	return ""
}

// An order whose INSERT fails (its key is taken) is refused with 409 and
// publishes nothing: the event would have been written in the transaction
// the failed INSERT rolls back.
func TestFailedWritePublishesNothing(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, backend storetest.Backend) {
		ts := startShop(t, backend)
		key := ts.key(t, "acme")
		rv := newReceiver(t)
		ts.subscribe(t, key, eventOrderCreated, rv.url, nil)

		var first Order
		callJSON(t, http.MethodPost, ts.url+"/v1/orders", key, newOrder("wc_order_1001"), http.StatusCreated, &first)
		require.EqualValues(t, first.ID, rv.next(t)["id"])

		var e errorBody
		callJSON(t, http.MethodPost, ts.url+"/v1/orders", key, newOrder("wc_order_1001"), http.StatusConflict, &e)
		require.Equal(t, "conflict", e.Error.Code)
		require.Contains(t, e.Error.Message, `order_key "wc_order_1001" already exists`)

		// Nothing of the failed request reached triggerd's event log (checked in
		// its table, which no deliveries can change), and the shop published
		// only the first order.
		var events int
		require.NoError(t, ts.db.QueryRow(`SELECT count(*) FROM triggerd_event`).Scan(&events))
		require.Equal(t, 1, events)
		require.Len(t, ts.logs.published(t), 1)

		// A later order is the next and only notification.
		var sentinel Order
		callJSON(t, http.MethodPost, ts.url+"/v1/orders", key, newOrder("wc_order_1002"), http.StatusCreated, &sentinel)
		note := rv.next(t)
		require.EqualValues(t, sentinel.ID, note["id"])
		require.Equal(t, "wc_order_1002", note["order_key"])
		rv.requireNone(t)

		var list struct{ Orders []Order }
		callJSON(t, http.MethodGet, ts.url+"/v1/orders", key, nil, http.StatusOK, &list)
		require.Len(t, list.Orders, 2)
	})
}

// A status change notifies a subscription whose status filter it matches,
// and is not even scheduled for one it does not match. The notification
// carries the whole order, line items included, though the schema declares
// fewer fields.
func TestStatusChangedFilter(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, backend storetest.Backend) {
		ts := startShop(t, backend)
		key := ts.key(t, "acme")
		completed := newReceiver(t)
		ts.subscribe(t, key, eventOrderStatusChanged, completed.url, map[string]string{"status": "completed"})

		var o Order
		callJSON(t, http.MethodPost, ts.url+"/v1/orders", key, newOrder(""), http.StatusCreated, &o)
		orderURL := fmt.Sprintf("%s/v1/orders/%d", ts.url, o.ID)

		var updated Order
		callJSON(t, http.MethodPatch, orderURL, key, map[string]string{"status": "processing"}, http.StatusOK, &updated)
		require.Equal(t, "processing", updated.Status)
		// The same status again changes nothing and publishes nothing.
		callJSON(t, http.MethodPatch, orderURL, key, map[string]string{"status": "processing"}, http.StatusOK, &updated)
		callJSON(t, http.MethodPatch, orderURL, key, map[string]string{"status": "completed"}, http.StatusOK, &updated)
		require.Equal(t, "completed", updated.Status)

		note := completed.next(t)
		require.EqualValues(t, o.ID, note["id"])
		require.Equal(t, "completed", note["status"])
		require.Equal(t, "processing", note["previous_status"])
		require.Len(t, note["line_items"], 2)
		require.Equal(t, "ana@example.com", note["customer"].(map[string]any)["email"])

		// Scheduling is decided when the event is published: the change to
		// processing went to no subscription, the change to completed to one.
		var changes []publishedRecord
		for _, r := range ts.logs.published(t) {
			if r.Type == eventOrderStatusChanged {
				changes = append(changes, r)
			}
		}
		require.Equal(t, []publishedRecord{
			{Msg: "published", Tenant: "acme", Type: eventOrderStatusChanged, IdempotencyKey: fmt.Sprintf("order-%d-v2", o.ID), Deliveries: 0},
			{Msg: "published", Tenant: "acme", Type: eventOrderStatusChanged, IdempotencyKey: fmt.Sprintf("order-%d-v3", o.ID), Deliveries: 1},
		}, changes)
		completed.requireNone(t)
	})
}

// Each tenant sees only its own orders: another tenant's order is a 404,
// as if it did not exist, and order keys are unique per tenant only.
func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, backend storetest.Backend) {
		ts := startShop(t, backend)
		acme, globex := ts.key(t, "acme"), ts.key(t, "globex")

		var o Order
		callJSON(t, http.MethodPost, ts.url+"/v1/orders", acme, newOrder("shared-key"), http.StatusCreated, &o)
		orderURL := fmt.Sprintf("%s/v1/orders/%d", ts.url, o.ID)

		var e errorBody
		callJSON(t, http.MethodGet, orderURL, globex, nil, http.StatusNotFound, &e)
		require.Equal(t, "not_found", e.Error.Code)
		callJSON(t, http.MethodPatch, orderURL, globex, map[string]string{"status": "cancelled"}, http.StatusNotFound, &e)
		var list struct{ Orders []Order }
		callJSON(t, http.MethodGet, ts.url+"/v1/orders", globex, nil, http.StatusOK, &list)
		require.Empty(t, list.Orders)
		callJSON(t, http.MethodPost, ts.url+"/v1/orders", globex, newOrder("shared-key"), http.StatusCreated, nil)

		// acme's order is untouched by globex's attempt.
		var mine Order
		callJSON(t, http.MethodGet, orderURL, acme, nil, http.StatusOK, &mine)
		require.Equal(t, "pending", mine.Status)

		// Without a valid key there is nothing at all.
		callJSON(t, http.MethodGet, orderURL, "", nil, http.StatusUnauthorized, &e)
		require.Equal(t, "unauthorized", e.Error.Code)
		callJSON(t, http.MethodGet, orderURL, "tdk_not-a-key", nil, http.StatusUnauthorized, &e)
	})
}

func TestListOrders(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, backend storetest.Backend) {
		ts := startShop(t, backend)
		key := ts.key(t, "acme")
		var ids []int64
		for i := range 4 {
			var o Order
			callJSON(t, http.MethodPost, ts.url+"/v1/orders", key, newOrder(fmt.Sprintf("k%d", i)), http.StatusCreated, &o)
			ids = append(ids, o.ID)
		}
		for _, id := range ids[1:3] {
			callJSON(t, http.MethodPatch, fmt.Sprintf("%s/v1/orders/%d", ts.url, id), key, map[string]string{"status": "processing"}, http.StatusOK, nil)
		}
		var list struct{ Orders []Order }
		callJSON(t, http.MethodGet, ts.url+"/v1/orders?status=processing", key, nil, http.StatusOK, &list)
		require.Equal(t, []int64{ids[2], ids[1]}, orderIDs(list.Orders)) // newest first
		callJSON(t, http.MethodGet, ts.url+"/v1/orders?limit=3", key, nil, http.StatusOK, &list)
		require.Equal(t, []int64{ids[3], ids[2], ids[1]}, orderIDs(list.Orders))
		callJSON(t, http.MethodGet, ts.url+"/v1/orders?status=completed", key, nil, http.StatusOK, &list)
		require.Empty(t, list.Orders)
	})
}

func orderIDs(orders []Order) []int64 {
	ids := make([]int64, len(orders))
	for i, o := range orders {
		ids[i] = o.ID
	}
	return ids
}

// Every bad request gets a 4xx in triggerd's error shape with a message
// that says what to fix, and creates nothing.
func TestBadRequests(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, backend storetest.Backend) {
		ts := startShop(t, backend)
		key := ts.key(t, "acme")
		var o Order
		callJSON(t, http.MethodPost, ts.url+"/v1/orders", key, newOrder(""), http.StatusCreated, &o)
		orderURL := fmt.Sprintf("%s/v1/orders/%d", ts.url, o.ID)

		with := func(change func(m map[string]any)) map[string]any {
			m := newOrder("")
			change(m)
			return m
		}
		item := func(m map[string]any) map[string]any { return m["line_items"].([]any)[0].(map[string]any) }
		for _, tc := range []struct {
			name, method, url string
			body              any
			status            int
			code, message     string
		}{
			{"not JSON", "POST", "/v1/orders", `{"currency":`, 400, "invalid_json", "not valid JSON"},
			{"two objects", "POST", "/v1/orders", `{} {}`, 400, "invalid_json", "one JSON object"},
			{"unknown field", "POST", "/v1/orders", with(func(m map[string]any) { m["totl"] = 1 }), 422, "invalid_request", `unknown field "totl"`},
			{"wrong type", "POST", "/v1/orders", with(func(m map[string]any) { m["currency"] = 978 }), 422, "invalid_request", "currency must be a JSON string"},
			{"bad currency", "POST", "/v1/orders", with(func(m map[string]any) { m["currency"] = "euro" }), 422, "invalid_request", "ISO 4217"},
			{"bad status", "POST", "/v1/orders", with(func(m map[string]any) { m["status"] = "shipped" }), 422, "invalid_request", `status "shipped" is not one of pending, processing`},
			{"bad key", "POST", "/v1/orders", with(func(m map[string]any) { m["order_key"] = "a b" }), 422, "invalid_request", "order_key"},
			{"no customer", "POST", "/v1/orders", with(func(m map[string]any) { delete(m, "customer") }), 422, "invalid_request", "customer.name is required"},
			{"bad email", "POST", "/v1/orders", with(func(m map[string]any) { m["customer"].(map[string]any)["email"] = "ana" }), 422, "invalid_request", "customer.email"},
			{"no items", "POST", "/v1/orders", with(func(m map[string]any) { m["line_items"] = []any{} }), 422, "invalid_request", "line_items must have 1 to 100 items"},
			{"zero quantity", "POST", "/v1/orders", with(func(m map[string]any) { item(m)["quantity"] = 0 }), 422, "invalid_request", "line_items[0].quantity"},
			{"fractional cents", "POST", "/v1/orders", with(func(m map[string]any) { item(m)["price"] = 1.005 }), 422, "invalid_request", "line_items[0].price must be an amount"},
			{"negative price", "POST", "/v1/orders", with(func(m map[string]any) { item(m)["price"] = -1 }), 422, "invalid_request", "line_items[0].price"},
			{"no price", "POST", "/v1/orders", with(func(m map[string]any) { delete(item(m), "price") }), 422, "invalid_request", "line_items[0].price is required"},
			{"too large", "POST", "/v1/orders", `{"order_key":"` + strings.Repeat("a", requestBodyMax) + `"}`, 413, "payload_too_large", "larger than"},
			{"no status", "PATCH", orderURL, `{}`, 422, "invalid_request", "status is required"},
			{"other field", "PATCH", orderURL, `{"status":"completed","currency":"USD"}`, 422, "invalid_request", `unknown field "currency"`},
			{"unknown status", "PATCH", orderURL, `{"status":"shipped"}`, 422, "invalid_request", `status "shipped" is not one of`},
			{"bad id", "GET", "/v1/orders/abc", nil, 400, "invalid_request", `order id "abc" must be a positive whole number`},
			{"unknown id", "GET", "/v1/orders/999999", nil, 404, "not_found", "no order 999999"},
			{"bad limit", "GET", "/v1/orders?limit=1000", nil, 400, "invalid_request", "limit"},
			{"bad filter", "GET", "/v1/orders?status=gone", nil, 400, "invalid_request", `status "gone"`},
			{"wrong method", "DELETE", orderURL, nil, 405, "method_not_allowed", "use GET, PATCH"},
		} {
			url := tc.url
			if strings.HasPrefix(url, "/") {
				url = ts.url + url
			}
			var e errorBody
			callJSON(t, tc.method, url, key, tc.body, tc.status, &e)
			require.Equal(t, tc.code, e.Error.Code, tc.name)
			require.Contains(t, e.Error.Message, tc.message, tc.name)
		}

		var list struct{ Orders []Order }
		callJSON(t, http.MethodGet, ts.url+"/v1/orders", key, nil, http.StatusOK, &list)
		require.Equal(t, []int64{o.ID}, orderIDs(list.Orders))
		var same Order
		callJSON(t, http.MethodGet, orderURL, key, nil, http.StatusOK, &same)
		require.Equal(t, o, same)
	})
}

// The served definition holds both triggers, the three actions and the
// DELETE that unsubscribes, and passes triggerd's linter with no error and
// no warning.
func TestConnectorDefinitionLintsClean(t *testing.T) {
	t.Parallel()
	ts := startShop(t, backendSQLite)
	resp, def := call(t, http.MethodGet, ts.url+"/v1/openapi.json", "", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, []byte(ts.s.pub.Connector().Definition), def)

	res, err := lint.Lint(def, lint.Options{Properties: ts.s.pub.Connector().Properties})
	require.NoError(t, err)
	for _, f := range res.Findings {
		t.Logf("%s", f)
	}
	require.Zero(t, res.Count(lint.SeverityError))
	require.Zero(t, res.Count(lint.SeverityWarning))

	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(def, &doc))
	ops := map[string]string{}
	for path, item := range doc.Paths {
		for method, raw := range item {
			var op struct {
				OperationID string `json:"operationId"`
			}
			if !strings.HasPrefix(method, "x-") && json.Unmarshal(raw, &op) == nil {
				ops[op.OperationID] = strings.ToUpper(method) + " " + path
			}
		}
	}
	require.Equal(t, map[string]string{
		"OrderCreated":       "POST /webhooks/order.created",
		"OrderStatusChanged": "POST /webhooks/order.status_changed",
		"DeleteWebhook":      "DELETE /webhooks/{id}",
		opGetOrder:           "GET /orders/{id}",
		opListOrders:         "GET /orders",
		opUpdateOrderStatus:  "PATCH /orders/{id}",
	}, ops)
}

// The lint check above can fail: the same definition with an action whose
// summary has a slash and whose path parameter is optional has findings.
func TestLintSeesABrokenAction(t *testing.T) {
	t.Parallel()
	ts := startShop(t, backendSQLite)
	var doc map[string]any
	require.NoError(t, json.Unmarshal(ts.s.pub.Connector().Definition, &doc))
	get := doc["paths"].(map[string]any)["/orders/{id}"].(map[string]any)["get"].(map[string]any)
	get["summary"] = "Get order details / totals"
	get["parameters"].([]any)[0].(map[string]any)["required"] = false
	broken, err := json.Marshal(doc)
	require.NoError(t, err)
	res, err := lint.Lint(broken, lint.Options{Properties: ts.s.pub.Connector().Properties})
	require.NoError(t, err)
	var rules []string
	for _, f := range res.Findings {
		rules = append(rules, f.Rule)
	}
	require.Contains(t, rules, "RestrictedCharactersInSummary")
	require.Contains(t, rules, "PathParameterMustBeRequired")
	require.True(t, res.HasErrors())
}

// Every notification the shop can publish matches its trigger's schema,
// which triggerd enforces at publish time; this checks the Go types and the
// schemas agree on every status, outside any request.
func TestNotificationsMatchTheirSchemas(t *testing.T) {
	t.Parallel()
	cat, err := newCatalog()
	require.NoError(t, err)
	var req newOrderRequest
	b, err := json.Marshal(newOrder(""))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &req))
	o, err := req.validate(nowForTest())
	require.NoError(t, err)
	o.ID = 7

	created, ok := cat.Trigger(eventOrderCreated)
	require.True(t, ok)
	b, err = json.Marshal(orderCreated{ID: o.ID, OrderKey: o.OrderKey})
	require.NoError(t, err)
	require.NoError(t, created.ValidateData(b))

	changed, ok := cat.Trigger(eventOrderStatusChanged)
	require.True(t, ok)
	for _, status := range orderStatuses {
		o.Status = status
		b, err = json.Marshal(orderStatusChanged{Order: o, PreviousStatus: "pending"})
		require.NoError(t, err)
		require.NoError(t, changed.ValidateData(b), status)
	}
	// And the check can fail: an order without its key does not match.
	require.Error(t, created.ValidateData([]byte(`{"id": 7}`)))
}

func TestMoney(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]Money{"0": 0, "12.5": 1250, "12.50": 1250, "7.05": 705, "-3.1": -310, "999999999.99": 99999999999} {
		got, err := parseMoney(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, in := range []string{"1.005", "01", "1e3", "", "1000000000", "1.", ".5"} {
		_, err := parseMoney(in)
		require.Error(t, err, in)
	}
	b, err := json.Marshal([]Money{1250, 705, -310, 0})
	require.NoError(t, err)
	require.Equal(t, `[12.50,7.05,-3.10,0.00]`, string(b))
}
