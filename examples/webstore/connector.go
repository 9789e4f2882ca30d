package main

import (
	"encoding/json"
	"net/http"
	"slices"

	"github.com/triggerd/triggerd/catalog"
	"github.com/triggerd/triggerd/connector"
)

// The triggers and actions are declared in Go rather than in a YAML catalog
// because the actions (connector.Action) can only be written in Go, and both
// describe the same order: declaring them side by side lets the triggers'
// notification schemas and the actions' response schemas be cut from one
// set of property schemas (orderProperties), next to the Order type they
// describe, so the three cannot drift apart.

// Event types, which are also the registration paths
// POST /v1/webhooks/{trigger}.
const (
	eventOrderCreated       = "order.created"
	eventOrderStatusChanged = "order.status_changed"
)

// Operation ids of the actions. Flows store operationIds, so these never
// change once makers use them (https://github.com/microsoft/PowerPlatformConnectors/issues).
const (
	opGetOrder          = "GetOrder"
	opListOrders        = "ListOrders"
	opUpdateOrderStatus = "UpdateOrderStatus"
)

// schema is a JSON Schema node (the Swagger 2.0 subset), built in Go so
// pieces can be shared between schemas.
type schema = map[string]any

// field is a property schema with the label the designer shows for it
// (x-ms-summary) and a description.
func field(typ, summary, description string) schema {
	return schema{"type": typ, "x-ms-summary": summary, "description": description}
}

// orderProperties are the schemas of Order's JSON fields, one per property.
// Each call returns fresh maps, so a caller may change its copy.
func orderProperties() schema {
	statusEnum := schema{"type": "string", "enum": orderStatuses, "x-ms-summary": "Status",
		"description": "The order's status: pending, processing, on-hold, completed, cancelled, refunded or failed."}
	return schema{
		"id":        withFormat(field("integer", "Order ID", "The order's ID; pass it to Get order details."), "int64"),
		"order_key": field("string", "Order key", "The order's key, unique in the store, such as wc_order_qfyjkdyypmjkg."),
		"status":    statusEnum,
		"currency":  field("string", "Currency", "ISO 4217 code of the order's currency, such as EUR."),
		"total":     field("number", "Total", "The order's total in its currency: the sum of its line items."),
		"customer": schema{
			"type": "object", "x-ms-summary": "Customer", "description": "Who placed the order.",
			"properties": schema{
				"name":  field("string", "Customer name", "The customer's name."),
				"email": withFormat(field("string", "Customer email", "The customer's email address."), "email"),
			},
		},
		"line_items": schema{
			"type": "array", "x-ms-summary": "Line items", "description": "What was ordered.",
			"items": schema{
				"type": "object",
				"properties": schema{
					"sku":      field("string", "SKU", "The product's stock-keeping unit."),
					"name":     field("string", "Product name", "The product's name."),
					"quantity": withFormat(field("integer", "Quantity", "How many were ordered."), "int32"),
					"price":    field("number", "Unit price", "The price of one."),
					"total":    field("number", "Line total", "Quantity times unit price."),
				},
			},
		},
		"date_created":  withFormat(field("string", "Created", "When the order was created (UTC)."), "date-time"),
		"date_modified": withFormat(field("string", "Modified", "When the order last changed (UTC)."), "date-time"),
	}
}

func withFormat(s schema, format string) schema {
	s["format"] = format
	return s
}

// pick returns an object schema with the named properties of props.
func pick(props schema, required []string, names ...string) schema {
	out := schema{}
	for _, n := range names {
		out[n] = props[n]
	}
	return schema{"type": "object", "required": required, "properties": out}
}

// orderSchema is the full order, as Get order details, List orders and
// Update order status return it.
func orderSchema() schema {
	props := orderProperties()
	return schema{"type": "object", "required": orderRequired, "properties": props}
}

var orderRequired = []string{"id", "order_key", "status", "currency", "total", "date_created", "date_modified"}

// orderCreatedSchema is the "When a new order is created" notification: the
// order's id and key only, as the seed's web store does. The flow calls Get
// order details for the rest, so the notification never carries personal
// data a flow does not ask for, and is never stale.
func orderCreatedSchema() schema {
	return pick(orderProperties(), []string{"id", "order_key"}, "id", "order_key")
}

// orderStatusChangedSchema is the "When an order's status changes"
// notification. Its body is the whole order plus previous_status, but the
// schema describes only the fields a maker usually picks in the designer:
// line_items and customer travel in the body without being declared, and a
// maker who needs them reads them with an expression such as
// triggerBody()?['line_items'] — the seed's "reverse" case, where a
// notification carries more than the connector shows.
func orderStatusChangedSchema() schema {
	props := orderProperties()
	props["previous_status"] = schema{"type": "string", "enum": orderStatuses, "x-ms-summary": "Previous status",
		"description": "The status the order had before this change."}
	return pick(props, append(slices.Clone(orderRequired), "previous_status"),
		"id", "order_key", "status", "previous_status", "currency", "total", "date_created", "date_modified")
}

// mustJSON encodes a schema built in this file; it cannot fail on maps of
// strings, numbers and slices.
func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic("webstore: encode schema: " + err.Error())
	}
	return b
}

// newCatalog declares the web store's triggers, validated.
func newCatalog() (*catalog.Catalog, error) {
	cat := &catalog.Catalog{
		Connector: catalog.Connector{
			Title:       "triggerd Web Store example",
			Description: "Starts flows when orders are created or change status in the triggerd example web store, and reads or updates its orders.",
			Publisher:   "triggerd",
			Contact: catalog.Contact{
				Name:  "triggerd",
				URL:   "https://github.com/triggerd/triggerd",
				Email: "support@example.com",
			},
			Website:       "https://github.com/triggerd/triggerd",
			PrivacyPolicy: "https://github.com/triggerd/triggerd",
		},
		Triggers: []*catalog.Trigger{
			{
				Name:              eventOrderCreated,
				OperationID:       "OrderCreated",
				Summary:           "When a new order is created",
				Description:       "This operation triggers when a new order is created. It carries the order's ID and key; use Get order details for the rest.",
				Hint:              "To see it work, create an order in the web store.",
				SchemaDescription: "New order",
				Schema:            mustJSON(orderCreatedSchema()),
			},
			{
				Name:              eventOrderStatusChanged,
				OperationID:       "OrderStatusChanged",
				Summary:           "When an order's status changes",
				Description:       "This operation triggers when an order's status changes, for example from processing to completed.",
				Hint:              "To see it work, change an order's status in the web store.",
				SchemaDescription: "Order",
				Schema:            mustJSON(orderStatusChangedSchema()),
				Filters: []catalog.Filter{{
					Name:        "status",
					Summary:     "Status",
					Description: "Only orders that now have this status; leave empty for every change.",
					Enum:        orderStatuses,
				}},
			},
		},
	}
	if err := cat.Validate(); err != nil {
		return nil, err
	}
	return cat, nil
}

// orderIDParameter is the {id} of the order actions.
var orderIDParameter = connector.Parameter{
	Name:        "id",
	In:          "path",
	Type:        "integer",
	Required:    true,
	Summary:     "Order ID",
	Description: "The order's ID, such as the Order ID a trigger's output carries.",
}

// storeActions are the operations the web store serves itself, listed in
// the connector beside the triggers. Their paths are relative to the
// definition's basePath (/v1), so GetOrder's /orders/{id} is the
// GET /v1/orders/{id} route of routes().
func storeActions() []connector.Action {
	return []connector.Action{
		{
			OperationID:         opGetOrder,
			Method:              http.MethodGet,
			Path:                "/orders/{id}",
			Summary:             "Get order details",
			Description:         "Gets an order's details: status, customer, line items and totals. Use it after When a new order is created, whose notification carries only the order's ID and key.",
			Visibility:          connector.VisibilityImportant,
			Parameters:          []connector.Parameter{orderIDParameter},
			Response:            mustJSON(orderSchema()),
			ResponseDescription: "The order.",
		},
		{
			OperationID: opListOrders,
			Method:      http.MethodGet,
			Path:        "/orders",
			Summary:     "List orders",
			Description: "Lists the store's orders, newest first, optionally only those with a given status.",
			Parameters: []connector.Parameter{
				{
					Name:        "status",
					In:          "query",
					Summary:     "Status",
					Description: "Only orders with this status; leave empty for all.",
					Enum:        orderStatuses,
				},
				{
					Name:        "limit",
					In:          "query",
					Type:        "integer",
					Summary:     "Limit",
					Description: "The most orders to return, from 1 to 100; 50 when empty.",
					Visibility:  connector.VisibilityAdvanced,
				},
			},
			Response: mustJSON(schema{
				"type": "object",
				"properties": schema{
					"orders": schema{"type": "array", "x-ms-summary": "Orders", "description": "The orders, newest first.", "items": orderSchema()},
				},
			}),
			ResponseDescription: "The orders.",
		},
		{
			OperationID: opUpdateOrderStatus,
			Method:      http.MethodPatch,
			Path:        "/orders/{id}",
			Summary:     "Update order status",
			Description: "Changes an order's status, for example to completed once it has shipped. Flows using When an order's status changes are notified.",
			Parameters:  []connector.Parameter{orderIDParameter},
			RequestBody: mustJSON(schema{
				"type":     "object",
				"required": []string{"status"},
				"properties": schema{
					"status": schema{"type": "string", "enum": orderStatuses, "x-ms-summary": "New status",
						"description": "The status the order gets."},
				},
			}),
			Response:            mustJSON(orderSchema()),
			ResponseDescription: "The order with its new status.",
		},
	}
}
