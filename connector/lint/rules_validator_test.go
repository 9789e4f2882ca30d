package lint

import (
	"fmt"
	"strings"
	"testing"
)

// Paths of the cases below.
const (
	pollPath = "/trigger/orders"
	jpPoll   = `$.paths['/trigger/orders'].get`
	jpNC     = jpTrigger + `['x-ms-notification-content']`
	jpMeta   = `$['x-ms-connector-metadata']`
)

// addPolling adds the polling trigger of the rule tests and returns its
// operation.
func addPolling(t *testing.T, d doc) doc {
	t.Helper()
	obj(t, d, "paths")[pollPath] = lit(t, pollingTrigger)
	return obj(t, d, "paths", pollPath, "get")
}

// addPath adds a path item written as JSON.
func addPath(t *testing.T, d doc, path, item string) {
	t.Helper()
	obj(t, d, "paths")[path] = lit(t, item)
}

// postAction is a POST action with the given parameters, as JSON.
func postAction(id, params string) string {
	return `{"post": {"operationId": "` + id + `", "summary": "Add an order", "description": "Adds an order.",
		"parameters": ` + params + `, "responses": {"200": {"description": "OK", "schema": {"type": "object"}}}}}`
}

// getAction is a GET action with the given parameters, as JSON.
func getAction(id, params string) string {
	return `{"get": {"operationId": "` + id + `", "summary": "Get orders", "description": "Gets orders.",
		"parameters": ` + params + `, "responses": {"200": {"description": "OK", "schema": {"type": "object"}}}}}`
}

// nested is an object schema nesting depth levels of properties.
func nested(depth int) string {
	s := `{"type": "string", "description": "Leaf."}`
	for range depth {
		s = `{"type": "object", "description": "Level.", "properties": {"a": ` + s + `}}`
	}
	return s
}

func manyProperties(n int) string {
	props := make([]string, n)
	for i := range props {
		props[i] = fmt.Sprintf(`"p%d": {"type": "string", "description": "P."}`, i)
	}
	return `{"type": "object", "properties": {` + strings.Join(props, ",") + `}}`
}

func metaValue(t *testing.T, d doc, i int, v string) {
	t.Helper()
	obj(t, d, "x-ms-connector-metadata", fmt.Sprint(i))["propertyValue"] = v
}

func validatorRuleCases() []ruleCase {
	notifyWebhook := func(t *testing.T, d, _ doc) {
		addPolling(t, d)["x-ms-notification"] = lit(t, `{"operationId": "OnOrderCreated"}`)
	}
	oauth := `{"type": "oauth2", "flow": "accessCode", "authorizationUrl": "https://example.com/auth", "tokenUrl": "https://example.com/token", "scopes": {"read": "Read orders."}}`
	businessDelete := `{"delete": {"operationId": "DeleteOrder", "summary": "Delete an order", "description": "Deletes an order.",
		"parameters": [{"name": "orderId", "in": "path", "required": true, "type": "string", "description": "Order.", "x-ms-url-encoding": "single"}],
		"responses": {"204": {"description": "Deleted"}}}}`
	return []ruleCase{
		// DELETE pairing: the unsubscribe operation is the trigger's own,
		// not any DELETE of the connector.
		{name: "WebhookTriggerMissingDeleteOperation/only a business DELETE", rule: ruleWebhookTriggerMissingDeleteOperation, path: jpPost,
			violate: func(t *testing.T, d, _ doc) {
				delete(obj(t, d, "paths"), deletePath)
				addPath(t, d, "/orders/{orderId}", businessDelete)
			},
			respect: func(t *testing.T, d, _ doc) { addPath(t, d, "/orders/{orderId}", businessDelete) }},
		{name: "DeleteOperationNotInternal/per trigger", rule: ruleDeleteOperationNotInternal, path: `$.paths['/hooks/{hookId}'].delete['x-ms-visibility']`,
			violate: func(t *testing.T, d, _ doc) {
				paths := obj(t, d, "paths")
				hook := lit(t, string(encodeDoc(t, obj(t, paths, triggerPath)))).(map[string]any)
				obj(t, hook, "post")["operationId"] = "OnOrderUpdated"
				obj(t, hook, "post")["summary"] = "When an order is updated"
				paths["/hooks/order-updated"] = hook
				addPath(t, d, "/hooks/{hookId}", `{"delete": {"operationId": "DeleteHook", "summary": "Delete a hook", "description": "Deletes a hook.",
					"parameters": [{"name": "hookId", "in": "path", "required": true, "type": "string", "description": "Hook.", "x-ms-url-encoding": "single"}],
					"responses": {"204": {"description": "Deleted"}}}}`)
			},
			respect: func(t *testing.T, d, _ doc) {
				paths := obj(t, d, "paths")
				hook := lit(t, string(encodeDoc(t, obj(t, paths, triggerPath)))).(map[string]any)
				obj(t, hook, "post")["operationId"] = "OnOrderUpdated"
				obj(t, hook, "post")["summary"] = "When an order is updated"
				paths["/hooks/order-updated"] = hook
				addPath(t, d, "/hooks/{hookId}", `{"delete": {"operationId": "DeleteHook", "summary": "Delete a hook", "description": "Deletes a hook.", "x-ms-visibility": "internal",
					"parameters": [{"name": "hookId", "in": "path", "required": true, "type": "string", "description": "Hook.", "x-ms-url-encoding": "single"}],
					"responses": {"204": {"description": "Deleted"}}}}`)
			}},
		{name: "DeleteOperationDoesNotMatchLocation/optional query id", rule: ruleDeleteOperationDoesNotMatchLocation, path: jpPost,
			violate: func(t *testing.T, d, _ doc) {
				paths := obj(t, d, "paths")
				op := deleteOp(t, d)
				op["parameters"] = lit(t, `[{"name": "id", "in": "header", "required": true, "type": "string", "description": "ID."}]`)
				paths["/subscriptions"] = doc{"delete": op}
				delete(paths, deletePath)
			},
			respect: func(t *testing.T, d, _ doc) {
				// Aletheia and Desk365 take an optional ?id=, which a
				// Location URL can carry.
				paths := obj(t, d, "paths")
				op := deleteOp(t, d)
				op["parameters"] = lit(t, `[{"name": "id", "in": "query", "required": false, "type": "string", "description": "ID."}]`)
				paths["/subscriptions"] = doc{"delete": op}
				delete(paths, deletePath)
			}},

		{name: "DeleteOperationDoesNotMatchLocation/host", rule: ruleDeleteOperationDoesNotMatchLocation, path: jpPost,
			violate: func(t *testing.T, d, _ doc) {
				obj(t, post(t, d), "responses", "201", "headers", "Location")["description"] = "Like https://hooks.example.net/v1/subscriptions/{subscriptionId}."
			},
			respect: func(t *testing.T, d, _ doc) {
				obj(t, post(t, d), "responses", "201", "headers", "Location")["description"] = "Like https://api.example.com/v1/subscriptions/{subscriptionId}."
			}},
		{name: "DeleteOperationNotInternal/documented Location", rule: ruleDeleteOperationNotInternal, path: `$.paths['/subscriptions/{subscriptionId}/remove'].delete['x-ms-visibility']`,
			violate: func(t *testing.T, d, _ doc) {
				// The documented Location names the second DELETE, which
				// then is the trigger's own and must be internal.
				obj(t, post(t, d), "responses", "201", "headers", "Location")["description"] = "Like https://api.example.com/v1/subscriptions/{subscriptionId}/remove."
				addPath(t, d, "/subscriptions/{subscriptionId}/remove", `{"delete": {"operationId": "RemoveSubscription", "summary": "Remove a subscription", "description": "Removes one.",
					"parameters": [{"name": "subscriptionId", "in": "path", "required": true, "type": "string", "description": "ID.", "x-ms-url-encoding": "single"}], "responses": {"204": {"description": "Removed"}}}}`)
			},
			respect: func(t *testing.T, d, _ doc) {
				addPath(t, d, "/subscriptions/{subscriptionId}/remove", `{"delete": {"operationId": "RemoveSubscription", "summary": "Remove a subscription", "description": "Removes one.",
					"parameters": [{"name": "subscriptionId", "in": "path", "required": true, "type": "string", "description": "ID.", "x-ms-url-encoding": "single"}], "responses": {"204": {"description": "Removed"}}}}`)
			}},
		{name: "WebhookRegistrationMissingCreatedResponse", rule: ruleWebhookRegistrationMissingCreatedResponse, path: jpPost + `.responses`,
			violate: func(t *testing.T, d, _ doc) {
				r := obj(t, post(t, d), "responses")
				r["200"] = r["201"]
				delete(r, "201")
			}},
		{name: "OperationIdNotUnique/letter case", rule: ruleOperationIDNotUnique, path: jpPost + `.operationId`,
			violate: func(t *testing.T, d, _ doc) { addPath(t, d, "/orders", getAction("onOrderCreated", "[]")) }, // sorts first
			respect: func(t *testing.T, d, _ doc) { addPath(t, d, "/orders", getAction("OnOrderCreated2", "[]")) }},

		// Webhooks.
		{rule: ruleNotificationExtensionForTriggerOnly, path: jpDeleteOp + `['x-ms-notification']`,
			violate: func(t *testing.T, d, _ doc) {
				deleteOp(t, d)["x-ms-notification"] = lit(t, `{"operationId": "OnOrderCreated"}`)
			},
			respect: notifyWebhook},
		{rule: ruleNotificationExtensionNotSupportedInWebhook, path: jpPost + `['x-ms-notification']`,
			violate: func(t *testing.T, d, _ doc) {
				post(t, d)["x-ms-notification"] = lit(t, `{"operationId": "OnOrderCreated"}`)
			},
			respect: notifyWebhook},
		{rule: ruleNotificationOperationMustBeWebhook, path: jpPoll + `['x-ms-notification'].operationId`,
			violate: func(t *testing.T, d, _ doc) {
				addPolling(t, d)["x-ms-notification"] = lit(t, `{"operationId": "DeleteSubscription"}`)
			},
			respect: notifyWebhook},
		{rule: ruleParametersWithSameNameSameType, path: jpPoll + `.parameters[0]`,
			violate: func(t *testing.T, d, _ doc) {
				notifyWebhook(t, d, nil)
				appendTo(t, post(t, d), "parameters", lit(t, `{"name": "storeId", "in": "query", "type": "integer", "description": "The store."}`))
			},
			respect: func(t *testing.T, d, _ doc) {
				notifyWebhook(t, d, nil)
				appendTo(t, post(t, d), "parameters", lit(t, `{"name": "storeId", "in": "query", "type": "string", "description": "The store."}`))
			}},

		// Operations.
		{rule: ruleOperationIDTooLong, path: jpPost + `.operationId`,
			violate: func(t *testing.T, d, _ doc) { post(t, d)["operationId"] = "On" + strings.Repeat("x", 79) },
			respect: func(t *testing.T, d, _ doc) { post(t, d)["operationId"] = "On" + strings.Repeat("x", 78) }},
		{rule: ruleOperationIDShouldEndWithRevision, path: jpPost + `.operationId`,
			violate: func(t *testing.T, d, _ doc) {
				post(t, d)["x-ms-api-annotation"] = lit(t, `{"family": "OnOrderCreated", "revision": 2}`)
			},
			respect: func(t *testing.T, d, _ doc) {
				post(t, d)["x-ms-api-annotation"] = lit(t, `{"family": "OnOrderCreated", "revision": 2}`)
				post(t, d)["operationId"] = "OnOrderCreatedV2"
			}},
		{rule: ruleOperationHasManyResponsesWithSchema, path: jpPost + `.responses`,
			violate: func(t *testing.T, d, _ doc) {
				obj(t, post(t, d), "responses")["200"] = lit(t, `{"description": "OK", "schema": {"type": "object"}}`)
			},
			respect: func(t *testing.T, d, _ doc) {
				obj(t, post(t, d), "responses")["200"] = lit(t, `{"description": "OK"}`)
			}},
		{rule: ruleConsumesMissing, path: jpPost + `.consumes`,
			violate: func(t *testing.T, d, _ doc) { delete(d, "consumes") },
			respect: func(t *testing.T, d, _ doc) {
				delete(d, "consumes")
				post(t, d)["consumes"] = []any{"application/json"}
			}},
		{rule: rulePathRedefined, path: `$.paths['/subscriptions/order-created']`, // the keys are encoded sorted
			violate: func(t *testing.T, d, _ doc) {
				addPath(t, d, "/Subscriptions/Order-Created", getAction("GetOrders", "[]"))
			},
			respect: func(t *testing.T, d, _ doc) {
				addPath(t, d, "/Subscriptions/Order-Updated", getAction("GetOrders", "[]"))
			}},
		{rule: ruleDuplicateOperationPath, path: `$.paths['/subscriptions/{subscriptionId}']`,
			violate: func(t *testing.T, d, _ doc) {
				addPath(t, d, "/subscriptions/{id}", `{"delete": {"operationId": "DeleteSub", "summary": "Delete a subscription", "description": "Deletes one.", "x-ms-visibility": "internal",
					"parameters": [{"name": "id", "in": "path", "required": true, "type": "string", "description": "ID.", "x-ms-url-encoding": "single"}], "responses": {"204": {"description": "Deleted"}}}}`)
			},
			respect: func(t *testing.T, d, _ doc) {
				addPath(t, d, "/subscription/{id}", `{"delete": {"operationId": "DeleteSub", "summary": "Delete a subscription", "description": "Deletes one.", "x-ms-visibility": "internal",
					"parameters": [{"name": "id", "in": "path", "required": true, "type": "string", "description": "ID.", "x-ms-url-encoding": "single"}], "responses": {"204": {"description": "Deleted"}}}}`)
			}},
		{rule: rulePartialDuplicateOperationPath, path: `$.paths['/subscriptions/{subscriptionId}']`,
			violate: func(t *testing.T, d, _ doc) {
				addPath(t, d, "/subscriptions/{id}", getAction("GetSub", `[{"name": "id", "in": "path", "required": true, "type": "string", "description": "ID.", "x-ms-url-encoding": "single"}]`))
			},
			respect: func(t *testing.T, d, _ doc) {
				obj(t, d, "paths", deletePath)["get"] = obj(t, lit(t, getAction("GetSub", `[{"name": "subscriptionId", "in": "path", "required": true, "type": "string", "description": "ID.", "x-ms-url-encoding": "single"}]`)), "get")
			}},
		{rule: ruleOperationPathMayNotContainQuery, path: `$.paths['/orders?all=true']`,
			violate: func(t *testing.T, d, _ doc) { addPath(t, d, "/orders?all=true", getAction("GetOrders", "[]")) },
			respect: func(t *testing.T, d, _ doc) { addPath(t, d, "/orders", getAction("GetOrders", "[]")) }},
		{rule: ruleOperationPathMustStartWithSlash, path: `$.paths.orders`,
			violate: func(t *testing.T, d, _ doc) { addPath(t, d, "orders", getAction("GetOrders", "[]")) },
			respect: func(t *testing.T, d, _ doc) { addPath(t, d, "/orders", getAction("GetOrders", "[]")) }},
		{rule: ruleOperationPathTemplateNotValid, path: `$.paths['/orders/{id']`,
			violate: func(t *testing.T, d, _ doc) { addPath(t, d, "/orders/{id", getAction("GetOrders", "[]")) },
			respect: func(t *testing.T, d, _ doc) { addPath(t, d, "/orders/id", getAction("GetOrders", "[]")) }},
		{rule: ruleDynamicExtensionNotAllowedInParam, path: jpBody + `['x-ms-dynamic-schema']`,
			violate: func(t *testing.T, d, _ doc) {
				obj(t, post(t, d), "parameters", "0")["x-ms-dynamic-schema"] = lit(t, `{"operationId": "GetSchema", "value-path": "schema"}`)
			}},
		{rule: ruleInvalidNextLinkNameValue, path: `$.paths['/orders'].get['x-ms-pageable'].nextLinkName`,
			violate: func(t *testing.T, d, _ doc) {
				addPath(t, d, "/orders", getAction("GetOrders", "[]"))
				obj(t, d, "paths", "/orders", "get")["x-ms-pageable"] = lit(t, `{"nextLinkName": "next"}`)
			},
			respect: func(t *testing.T, d, _ doc) {
				addPath(t, d, "/orders", getAction("GetOrders", "[]"))
				obj(t, d, "paths", "/orders", "get")["x-ms-pageable"] = lit(t, `{"nextLinkName": "@odata.nextLink"}`)
			}},

		// Responses and schemas.
		{rule: ruleBodyParameterSchemaRequired, path: `$.paths['/orders'].post.parameters[0].schema`,
			violate: func(t *testing.T, d, _ doc) {
				addPath(t, d, "/orders", postAction("AddOrder", `[{"name": "body", "in": "body", "required": true}]`))
			},
			respect: func(t *testing.T, d, _ doc) {
				addPath(t, d, "/orders", postAction("AddOrder", `[{"name": "body", "in": "body", "required": true, "schema": {"type": "object"}}]`))
			}},
		{rule: ruleResponseMustBeDefaultOrHTTPStatus, path: jpPost + `.responses['2XX']`,
			violate: func(t *testing.T, d, _ doc) {
				obj(t, post(t, d), "responses")["2XX"] = lit(t, `{"description": "Any success"}`)
			},
			respect: func(t *testing.T, d, _ doc) {
				obj(t, post(t, d), "responses")["202"] = lit(t, `{"description": "Accepted"}`)
			}},
		{rule: ruleSchemaRefLoopNotAllowed, path: `$.definitions.Loop['$ref']`,
			violate: func(t *testing.T, d, _ doc) {
				obj(t, d, "definitions")["Loop"] = lit(t, `{"$ref": "#/definitions/Loop"}`)
			},
			respect: func(t *testing.T, d, _ doc) {
				obj(t, d, "definitions")["Loop"] = lit(t, `{"$ref": "#/definitions/Subscription"}`)
			}},
		{rule: ruleSchemaTooDeep, path: jpNC + `.schema`,
			violate: func(t *testing.T, d, _ doc) {
				obj(t, d, "paths", triggerPath, "x-ms-notification-content")["schema"] = lit(t, nested(33))
			},
			respect: func(t *testing.T, d, _ doc) {
				obj(t, d, "paths", triggerPath, "x-ms-notification-content")["schema"] = lit(t, nested(32))
			}},
		{rule: ruleSchemaTypeFileNotValid, path: `$.definitions.OrderCreatedEvent.properties.orderId.type`,
			violate: func(t *testing.T, d, _ doc) {
				obj(t, d, "definitions", "OrderCreatedEvent", "properties", "orderId")["type"] = "file"
			},
			respect: func(t *testing.T, d, _ doc) {
				obj(t, deleteOp(t, d), "responses")["200"] = lit(t, `{"description": "The deleted subscription's log.", "schema": {"type": "file"}}`)
			}},
		{rule: ruleTotalSchemaCountExceedsMaxAllowed, path: jpNC + `.schema`,
			violate: func(t *testing.T, d, _ doc) {
				obj(t, d, "paths", triggerPath, "x-ms-notification-content")["schema"] = lit(t, manyProperties(512))
			},
			respect: func(t *testing.T, d, _ doc) {
				obj(t, d, "paths", triggerPath, "x-ms-notification-content")["schema"] = lit(t, manyProperties(511))
			}},
		{rule: ruleResponseHeadersAreNotUnique, path: jpPost + `.responses['201'].headers.location`,
			violate: func(t *testing.T, d, _ doc) {
				obj(t, post(t, d), "responses", "201", "headers")["location"] = lit(t, `{"type": "string"}`)
			},
			respect: func(t *testing.T, d, _ doc) {
				obj(t, post(t, d), "responses", "201", "headers")["X-Request-Id"] = lit(t, `{"type": "string"}`)
			}},

		// Security.
		{rule: ruleSecurityRequirementMustHaveEmpty, path: `$.security[0].api_key`,
			violate: func(t *testing.T, d, _ doc) { d["security"] = lit(t, `[{"api_key": ["read"]}]`) }},
		{rule: ruleSecurityRequirementMustHaveValue, path: `$.security[0].api_key`,
			violate: func(t *testing.T, d, _ doc) { d["security"] = lit(t, `[{"api_key": "read"}]`) }},
		{rule: ruleOAuthRequirementValueMustBeScopeName, path: `$.security[0].oauth[0]`,
			violate: func(t *testing.T, d, _ doc) {
				obj(t, d, "securityDefinitions")["oauth"] = lit(t, oauth)
				d["security"] = lit(t, `[{"oauth": ["write"]}]`)
			},
			respect: func(t *testing.T, d, _ doc) {
				obj(t, d, "securityDefinitions")["oauth"] = lit(t, oauth)
				d["security"] = lit(t, `[{"oauth": ["read"]}]`)
			}},

		// Properties and metadata.
		{rule: ruleAdditionalPropertyAdjacentToRef, path: jpNC + `.schema.description`,
			violate: func(t *testing.T, d, _ doc) {
				obj(t, d, "paths", triggerPath, "x-ms-notification-content", "schema")["description"] = "The order."
			}},
		{rule: ruleContactEmailNotValid, path: `$.info.contact.email`,
			violate: func(t *testing.T, d, _ doc) { obj(t, d, "info", "contact")["email"] = "support at example.com" }},
		{rule: ruleConnectorMetadataPropertiesMissing, path: jpMeta,
			violate: func(t *testing.T, d, _ doc) { delete(d, "x-ms-connector-metadata") }},
		{rule: ruleInvalidConnectorCategory, path: jpMeta + `[2].propertyValue`,
			violate: func(t *testing.T, d, _ doc) { metaValue(t, d, 2, "Productivity;Shopping") },
			respect: func(t *testing.T, d, _ doc) { metaValue(t, d, 2, "Productivity;Commerce") }},
		{rule: ruleTooManyConnectorCategories, path: jpMeta + `[2].propertyValue`,
			violate: func(t *testing.T, d, _ doc) { metaValue(t, d, 2, "Productivity;Data;AI") },
			respect: func(t *testing.T, d, _ doc) { metaValue(t, d, 2, "AI") }},
		{rule: ruleURLNotValid, path: jpMeta + `[0].propertyValue`,
			violate: func(t *testing.T, d, _ doc) { metaValue(t, d, 0, "example.com") },
			respect: func(t *testing.T, d, _ doc) { metaValue(t, d, 0, "http://example.com/") }},
		{rule: ruleExtensionNameNotValid, path: jpPost + `['x-ms-Visibility']`,
			violate: func(t *testing.T, d, _ doc) { post(t, d)["x-ms-Visibility"] = "important" },
			respect: func(t *testing.T, d, _ doc) { post(t, d)["x-ms-visibility"] = "important" }},
		{rule: ruleMimeTypeNotValid, path: `$.consumes[0]`,
			violate: func(t *testing.T, d, _ doc) { d["consumes"] = []any{"json"} },
			respect: func(t *testing.T, d, _ doc) { d["consumes"] = []any{"application/json; charset=utf-8"} }},
		{rule: ruleMimeTypeNotSupported, path: `$.produces[0]`,
			violate: func(t *testing.T, d, _ doc) { d["produces"] = []any{"application/xml"} },
			respect: func(t *testing.T, d, _ doc) { d["produces"] = []any{"text/plain"} }},
		{rule: ruleRequiredPropertyDefinitionMissing, path: `$.definitions.Subscription.required[1]`,
			violate: func(t *testing.T, d, _ doc) {
				obj(t, d, "definitions", "Subscription")["required"] = []any{"id", "name"}
			},
			respect: func(t *testing.T, d, _ doc) { obj(t, d, "definitions", "Subscription")["required"] = []any{"id"} }},
		{rule: ruleRequiredPropertyNotOnObject, path: `$.definitions.OrderCreatedEvent.properties.orderId.required`,
			violate: func(t *testing.T, d, _ doc) {
				obj(t, d, "definitions", "OrderCreatedEvent", "properties", "orderId")["required"] = []any{"orderId"}
			},
			respect: func(t *testing.T, d, _ doc) {
				obj(t, d, "definitions", "OrderCreatedEvent")["required"] = []any{"orderId"}
			}},
		{rule: ruleRequiredPropertyArrayEmpty, path: `$.definitions.Subscription.required`,
			violate: func(t *testing.T, d, _ doc) { obj(t, d, "definitions", "Subscription")["required"] = []any{} }},
		{rule: ruleFieldLengthExceeded, path: `$.info.title`,
			violate: func(t *testing.T, d, _ doc) { obj(t, d, "info")["title"] = strings.Repeat("E", 31) },
			respect: func(t *testing.T, d, _ doc) { obj(t, d, "info")["title"] = strings.Repeat("E", 30) }},
		{rule: ruleFieldLengthNotInRange, path: `$.info.description`,
			violate: func(t *testing.T, d, _ doc) { obj(t, d, "info")["description"] = strings.Repeat("d", 29) },
			respect: func(t *testing.T, d, _ doc) { obj(t, d, "info")["description"] = strings.Repeat("d", 30) }},
		{rule: ruleValueContainsRestrictedWords, path: `$.info.title`,
			violate: func(t *testing.T, d, _ doc) { obj(t, d, "info")["title"] = "Example API" },
			respect: func(t *testing.T, d, _ doc) { obj(t, d, "info")["title"] = "Example Apiary" }},
		{rule: ruleValueMustBeInEnglish, path: `$.info.description`,
			violate: func(t *testing.T, d, _ doc) {
				obj(t, d, "info")["description"] = "Пример издателя, который запускает потоки при событиях."
			}},
		{rule: ruleValueMustEndWithAlphanumeric, path: `$.info.title`,
			violate: func(t *testing.T, d, _ doc) { obj(t, d, "info")["title"] = "Example!" },
			respect: func(t *testing.T, d, _ doc) { obj(t, d, "info")["title"] = "Example 2" }},

		// Parameters.
		{rule: ruleFileParameterMustBeInFormData, path: `$.paths['/orders'].post.parameters[0].in`,
			violate: func(t *testing.T, d, _ doc) {
				addPath(t, d, "/orders", postAction("AddOrder", `[{"name": "file", "in": "query", "type": "file", "description": "F."}]`))
			},
			respect: func(t *testing.T, d, _ doc) {
				addPath(t, d, "/orders", postAction("AddOrder", `[{"name": "file", "in": "formData", "type": "file", "description": "F."}]`))
			}},
		{rule: ruleParameterListFormDataAndBody, path: jpPost + `.parameters`,
			violate: func(t *testing.T, d, _ doc) {
				appendTo(t, post(t, d), "parameters", lit(t, `{"name": "note", "in": "formData", "type": "string", "description": "N."}`))
			},
			respect: func(t *testing.T, d, _ doc) {
				appendTo(t, post(t, d), "parameters", lit(t, `{"name": "note", "in": "query", "type": "string", "description": "N."}`))
			}},
		{rule: ruleQueryParameterEncodingNotSupported, path: `$.paths['/orders'].get.parameters[0]['x-ms-url-encoding']`,
			violate: func(t *testing.T, d, _ doc) {
				addPath(t, d, "/orders", getAction("GetOrders", `[{"name": "q", "in": "query", "type": "string", "description": "Q.", "x-ms-url-encoding": "double"}]`))
			},
			respect: func(t *testing.T, d, _ doc) {
				addPath(t, d, "/orders", getAction("GetOrders", `[{"name": "q", "in": "query", "type": "string", "description": "Q.", "x-ms-url-encoding": "single"}]`))
			}},
		{rule: ruleCollectionFormatValueNotSupported, path: `$.paths['/orders'].get.parameters[0].collectionFormat`,
			violate: func(t *testing.T, d, _ doc) {
				addPath(t, d, "/orders", getAction("GetOrders", `[{"name": "ids", "in": "query", "type": "array", "items": {"type": "string"}, "collectionFormat": "multi", "description": "IDs."}]`))
			},
			respect: func(t *testing.T, d, _ doc) {
				addPath(t, d, "/orders", getAction("GetOrders", `[{"name": "ids", "in": "query", "type": "array", "items": {"type": "string"}, "collectionFormat": "csv", "description": "IDs."}]`))
			}},
		{rule: rulePathItemRefNotSupported, path: `$.paths['/orders']['$ref']`,
			violate: func(t *testing.T, d, _ doc) { addPath(t, d, "/orders", `{"$ref": "#/x-paths/orders"}`) }},
		{rule: ruleSwaggerKeywordNotSupported, path: `$.definitions.Subscription.discriminator`,
			violate: func(t *testing.T, d, _ doc) {
				obj(t, d, "definitions", "Subscription")["discriminator"] = "id"
				obj(t, d, "definitions", "Subscription")["required"] = []any{"id"}
			},
			respect: func(t *testing.T, d, _ doc) { obj(t, d, "definitions", "Subscription")["required"] = []any{"id"} }},
	}
}
