package lint

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd/internal/platform"
)

// The rule tests start from the minimal webhook connector of
// https://learn.microsoft.com/connectors/custom-connectors/create-webhook-trigger (testdata/webhook-template.json, with
// security declared) and an apiProperties.json for it, break one rule, and
// expect exactly that one finding; then respect the rule (the base, or a
// variant that exercises the rule without breaking it) and expect nothing.

type doc = map[string]any

// loadDoc reads a JSON test file into maps, keeping numbers exact.
func loadDoc(t *testing.T, name string) doc {
	t.Helper()
	data, err := os.ReadFile(name)
	require.NoError(t, err)
	return decodeDoc(t, data)
}

func decodeDoc(t *testing.T, data []byte) doc {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var d doc
	require.NoError(t, dec.Decode(&d))
	return d
}

func encodeDoc(t *testing.T, d doc) []byte {
	t.Helper()
	data, err := json.Marshal(d)
	require.NoError(t, err)
	return data
}

// get walks object members and array indexes ("0", "1", ...).
func get(t *testing.T, v any, keys ...string) any {
	t.Helper()
	for _, k := range keys {
		switch c := v.(type) {
		case map[string]any:
			next, ok := c[k]
			require.True(t, ok, "no member %q", k)
			v = next
		case []any:
			var i int
			_, err := fmt.Sscan(k, &i)
			require.NoError(t, err)
			require.Less(t, i, len(c))
			v = c[i]
		default:
			t.Fatalf("cannot take %q of %T", k, v)
		}
	}
	return v
}

func obj(t *testing.T, v any, keys ...string) doc {
	t.Helper()
	m, ok := get(t, v, keys...).(map[string]any)
	require.True(t, ok, "%v is not an object", keys)
	return m
}

func appendTo(t *testing.T, m doc, key string, v any) {
	t.Helper()
	list, _ := m[key].([]any)
	m[key] = append(list, v)
}

// JSON value literal, for readable test data.
func lit(t *testing.T, s string) any {
	t.Helper()
	var v any
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	require.NoError(t, dec.Decode(&v), s)
	return v
}

// Template paths.
const (
	triggerPath = "/subscriptions/order-created"
	deletePath  = "/subscriptions/{subscriptionId}"

	jpTrigger  = `$.paths['/subscriptions/order-created']`
	jpPost     = jpTrigger + `.post`
	jpBody     = jpPost + `.parameters[0]`
	jpCallback = jpBody + `.schema.properties.callbackUrl`
	jpDeleteOp = `$.paths['/subscriptions/{subscriptionId}'].delete`
)

func post(t *testing.T, d doc) doc     { return obj(t, d, "paths", triggerPath, "post") }
func deleteOp(t *testing.T, d doc) doc { return obj(t, d, "paths", deletePath, "delete") }
func bodySchema(t *testing.T, d doc) doc {
	return obj(t, d, "paths", triggerPath, "post", "parameters", "0", "schema")
}
func callbackProp(t *testing.T, d doc) doc {
	return obj(t, bodySchema(t, d), "properties", "callbackUrl")
}

// pollingTrigger is the backend-state polling trigger of
// https://learn.microsoft.com/azure/logic-apps/logic-apps-create-api-app, which declares Location and Retry-After.
const pollingTrigger = `{
  "get": {
    "operationId": "OnNewOrders",
    "summary": "When new orders are created (polling)",
    "description": "This operation triggers when new orders are created.",
    "x-ms-trigger": "batch",
    "x-ms-trigger-metadata": { "kind": "query", "mode": "polling" },
    "parameters": [
      { "name": "storeId", "in": "query", "required": true, "type": "string", "x-ms-summary": "Store", "description": "The store to watch." },
      { "name": "triggerState", "in": "query", "required": false, "type": "string", "x-ms-visibility": "internal", "description": "Opaque polling cursor." }
    ],
    "responses": {
      "200": { "description": "New orders", "headers": { "Location": {"type":"string"}, "Retry-After": {"type":"integer"} },
               "schema": { "type": "object", "properties": { "value": { "type": "array", "items": { "$ref": "#/definitions/OrderCreatedEvent" } } } } },
      "202": { "description": "No new orders", "headers": { "Location": {"type":"string"}, "Retry-After": {"type":"integer"} } }
    }
  }
}`

// action returns a plain GET action with a unique operationId.
func action(t *testing.T, id string) any {
	return lit(t, `{"get": {"operationId": "`+id+`", "summary": "Get orders", "description": "Gets orders.",
		"responses": {"200": {"description": "OK", "schema": {"type": "object"}}}}}`)
}

type ruleCase struct {
	name    string // subtest name; defaults to rule
	rule    string
	path    string // where the finding must be
	props   bool   // the finding is about apiProperties.json
	violate func(t *testing.T, def, props doc)
	// respect changes the base so that it exercises the rule without
	// breaking it; nil when the base itself is the respecting definition.
	respect func(t *testing.T, def, props doc)
}

func ruleCases() []ruleCase {
	return append([]ruleCase{
		// Document.
		{rule: ruleSpecificationVersionIncorrect, path: `$.swagger`,
			violate: func(t *testing.T, d, _ doc) { d["swagger"] = "3.0" }},
		{name: "SpecificationVersionIncorrect/missing", rule: ruleSpecificationVersionIncorrect, path: `$.swagger`,
			violate: func(t *testing.T, d, _ doc) { delete(d, "swagger") }},
		{rule: ruleHostNameNotValid, path: `$.host`,
			violate: func(t *testing.T, d, _ doc) { d["host"] = "https://api.example.com/v1" }},
		{rule: ruleBasePathNotValid, path: `$.basePath`,
			violate: func(t *testing.T, d, _ doc) { d["basePath"] = "v1" }},
		{rule: ruleSchemesArrayEmpty, path: `$.schemes`,
			violate: func(t *testing.T, d, _ doc) { d["schemes"] = []any{} }},
		{rule: ruleSchemeNotValid, path: `$.schemes[1]`,
			violate: func(t *testing.T, d, _ doc) { d["schemes"] = []any{"https", "ftp"} },
			respect: func(t *testing.T, d, _ doc) { d["schemes"] = []any{"https", "http"} }},
		{rule: ruleSchemeNotSupported, path: `$.schemes[1]`,
			violate: func(t *testing.T, d, _ doc) { d["schemes"] = []any{"https", "wss"} }},
		{rule: ruleTotalOperationsCountExceedsMaxAllowed, path: `$.paths`,
			violate: func(t *testing.T, d, _ doc) {
				for i := range platform.MaxOperations - 1 { // the template has 2
					obj(t, d, "paths")[fmt.Sprintf("/orders/%d", i)] = action(t, fmt.Sprintf("GetOrders%d", i))
				}
			},
			respect: func(t *testing.T, d, _ doc) {
				for i := range platform.MaxOperations - 2 {
					obj(t, d, "paths")[fmt.Sprintf("/orders/%d", i)] = action(t, fmt.Sprintf("GetOrders%d", i))
				}
			}},
		{rule: ruleSecurityRequirementMustBeDefined, path: `$.security[0].oauth`,
			violate: func(t *testing.T, d, _ doc) { d["security"] = lit(t, `[{"oauth": []}]`) }},

		// Operations and parameters.
		{rule: ruleOperationIDRequired, path: jpDeleteOp + `.operationId`,
			violate: func(t *testing.T, d, _ doc) { delete(deleteOp(t, d), "operationId") }},
		{rule: ruleOperationIDNotUnique, path: jpDeleteOp + `.operationId`,
			violate: func(t *testing.T, d, _ doc) { deleteOp(t, d)["operationId"] = "OnOrderCreated" }},
		{rule: ruleOperationIDSanitized, path: jpPost + `.operationId`,
			violate: func(t *testing.T, d, _ doc) { post(t, d)["operationId"] = "on-order-created" },
			respect: func(t *testing.T, d, _ doc) { post(t, d)["operationId"] = "On_Order_Created" }},
		{rule: ruleOperationSummaryTooLong, path: jpPost + `.summary`,
			violate: func(t *testing.T, d, _ doc) {
				post(t, d)["summary"] = "When an order is created" + strings.Repeat("x", 57) // 81
			},
			respect: func(t *testing.T, d, _ doc) {
				post(t, d)["summary"] = "When an order is created" + strings.Repeat("x", 56) // 80
			}},
		{rule: ruleRestrictedCharactersInSummary, path: jpPost + `.summary`,
			violate: func(t *testing.T, d, _ doc) { post(t, d)["summary"] = "When an order is created/updated" },
			respect: func(t *testing.T, d, _ doc) { post(t, d)["summary"] = "When an order is created (or updated)" }},
		{rule: ruleOperationMustHaveResponse, path: jpDeleteOp + `.responses`,
			violate: func(t *testing.T, d, _ doc) { delete(deleteOp(t, d), "responses") }},
		{rule: ruleOperationShouldHaveSuccessfulResponse, path: jpDeleteOp + `.responses`,
			violate: func(t *testing.T, d, _ doc) {
				deleteOp(t, d)["responses"] = lit(t, `{"404": {"description": "Not found"}}`)
			},
			respect: func(t *testing.T, d, _ doc) {
				deleteOp(t, d)["responses"] = lit(t, `{"204": {"description": "Deleted"}, "404": {"description": "Not found"}}`)
			}},
		{rule: ruleBodyOrFormDataParameterInFetchOperation, path: `$.paths['/orders'].get.parameters[0]`,
			violate: func(t *testing.T, d, _ doc) {
				a := action(t, "GetOrders")
				obj(t, a, "get")["parameters"] = lit(t, `[{"name": "body", "in": "body", "schema": {"type": "object"}}]`)
				obj(t, d, "paths")["/orders"] = a
			},
			respect: func(t *testing.T, d, _ doc) {
				a := action(t, "GetOrders")
				obj(t, a, "get")["parameters"] = lit(t, `[{"name": "q", "in": "query", "type": "string"}]`)
				obj(t, d, "paths")["/orders"] = a
			}},
		{rule: ruleOperationParametersContainMultipleBodyParm, path: jpPost + `.parameters[1]`,
			violate: func(t *testing.T, d, _ doc) {
				appendTo(t, post(t, d), "parameters", lit(t, `{"name": "more", "in": "body", "schema": {"type": "object"}}`))
			}},
		{rule: ruleConnectionIDParameterNotAllowed, path: jpPost + `.parameters[1].name`,
			violate: func(t *testing.T, d, _ doc) {
				appendTo(t, post(t, d), "parameters", lit(t, `{"name": "connectionId", "in": "query", "type": "string"}`))
			},
			respect: func(t *testing.T, d, _ doc) {
				appendTo(t, post(t, d), "parameters", lit(t, `{"name": "connection", "in": "query", "type": "string"}`))
			}},
		{rule: rulePathParameterMustBeRequired, path: jpDeleteOp + `.parameters[0].required`,
			violate: func(t *testing.T, d, _ doc) { obj(t, deleteOp(t, d), "parameters", "0")["required"] = false }},
		{name: "PathParameterMustBeRequired/missing", rule: rulePathParameterMustBeRequired, path: jpDeleteOp + `.parameters[0].required`,
			violate: func(t *testing.T, d, _ doc) { delete(obj(t, deleteOp(t, d), "parameters", "0"), "required") }},
		{rule: rulePathParameterNotDefinedInTemplate, path: jpDeleteOp + `.parameters[1]`,
			violate: func(t *testing.T, d, _ doc) {
				appendTo(t, deleteOp(t, d), "parameters", lit(t,
					`{"name": "version", "in": "path", "required": true, "type": "string", "x-ms-url-encoding": "single"}`))
			}},
		{rule: ruleOperationMissingPathParameter, path: `$.paths['/subscriptions/{subscriptionId}/{version}'].delete`,
			violate: func(t *testing.T, d, _ doc) {
				paths := obj(t, d, "paths")
				paths[deletePath+"/{version}"] = paths[deletePath]
				delete(paths, deletePath)
			},
			respect: func(t *testing.T, d, _ doc) {
				paths := obj(t, d, "paths")
				paths[deletePath+"/{version}"] = paths[deletePath]
				delete(paths, deletePath)
				appendTo(t, obj(t, paths, deletePath+"/{version}", "delete"), "parameters", lit(t,
					`{"name": "version", "in": "path", "required": true, "type": "string", "x-ms-url-encoding": "single"}`))
			}},
		{rule: rulePathParameterMissingEncoding, path: jpDeleteOp + `.parameters[0]`,
			violate: func(t *testing.T, d, _ doc) { delete(obj(t, deleteOp(t, d), "parameters", "0"), "x-ms-url-encoding") }},
		{rule: ruleDefaultResponseHasSchema, path: jpDeleteOp + `.responses.default.schema`,
			violate: func(t *testing.T, d, _ doc) {
				obj(t, deleteOp(t, d), "responses")["default"] = lit(t, `{"description": "Error", "schema": {"type": "object"}}`)
			},
			respect: func(t *testing.T, d, _ doc) {
				// The portal's wizard writes an empty schema: it declares nothing.
				obj(t, deleteOp(t, d), "responses")["default"] = lit(t, `{"description": "Error", "schema": {}}`)
			}},
		{rule: ruleSchemaReferenceNotValid, path: jpPost + `.responses['201'].schema['$ref']`,
			violate: func(t *testing.T, d, _ doc) {
				obj(t, post(t, d), "responses", "201", "schema")["$ref"] = "#/parameters/Subscription"
			}},
		{rule: ruleSchemaReferenceNotFound, path: jpPost + `.responses['201'].schema['$ref']`,
			violate: func(t *testing.T, d, _ doc) {
				obj(t, post(t, d), "responses", "201", "schema")["$ref"] = "#/definitions/Missing"
			}},
		{rule: ruleParameterReferenceNotValid, path: jpPost + `.parameters[1]['$ref']`,
			violate: func(t *testing.T, d, _ doc) {
				appendTo(t, post(t, d), "parameters", lit(t, `{"$ref": "#/definitions/Subscription"}`))
			},
			respect: func(t *testing.T, d, _ doc) {
				d["parameters"] = lit(t, `{"Region": {"name": "region", "in": "query", "type": "string", "description": "Region."}}`)
				appendTo(t, post(t, d), "parameters", lit(t, `{"$ref": "#/parameters/Region"}`))
			}},
		{rule: ruleParameterReferenceNotFound, path: jpPost + `.parameters[1]['$ref']`,
			violate: func(t *testing.T, d, _ doc) {
				appendTo(t, post(t, d), "parameters", lit(t, `{"$ref": "#/parameters/Region"}`))
			}},
		{rule: ruleResponseReferenceNotValid, path: jpDeleteOp + `.responses['404']['$ref']`,
			violate: func(t *testing.T, d, _ doc) {
				obj(t, deleteOp(t, d), "responses")["404"] = lit(t, `{"$ref": "#/definitions/Subscription"}`)
			},
			respect: func(t *testing.T, d, _ doc) {
				d["responses"] = lit(t, `{"NotFound": {"description": "Not found"}}`)
				obj(t, deleteOp(t, d), "responses")["404"] = lit(t, `{"$ref": "#/responses/NotFound"}`)
			}},
		{rule: ruleResponseReferenceNotFound, path: jpDeleteOp + `.responses['404']['$ref']`,
			violate: func(t *testing.T, d, _ doc) {
				obj(t, deleteOp(t, d), "responses")["404"] = lit(t, `{"$ref": "#/responses/NotFound"}`)
			}},
		{rule: rulePropertyMustBeRequired, path: jpBody + `.schema.properties.event`,
			violate: func(t *testing.T, d, _ doc) { bodySchema(t, d)["required"] = []any{"callbackUrl"} }},
		{rule: ruleInternalPropertyWithDefaultOptional, path: jpPost + `.parameters[1]`,
			violate: func(t *testing.T, d, _ doc) {
				appendTo(t, post(t, d), "parameters", lit(t,
					`{"name": "api-version", "in": "query", "type": "string", "default": "2024-01-01", "x-ms-visibility": "internal"}`))
			},
			respect: func(t *testing.T, d, _ doc) {
				appendTo(t, post(t, d), "parameters", lit(t,
					`{"name": "api-version", "in": "query", "type": "string", "default": "2024-01-01", "x-ms-visibility": "internal", "required": true}`))
			}},

		// Webhooks (validator).
		{rule: ruleNotificationURLNotAllowedInThisPosition, path: jpPost + `.parameters[1]['x-ms-notification-url']`,
			violate: func(t *testing.T, d, _ doc) {
				appendTo(t, post(t, d), "parameters", lit(t,
					`{"name": "cb", "in": "query", "type": "string", "x-ms-notification-url": true}`))
			}},
		{name: "NotificationUrlNotAllowedInThisPosition/operation", rule: ruleNotificationURLNotAllowedInThisPosition,
			path:    jpDeleteOp + `['x-ms-notification-url']`,
			violate: func(t *testing.T, d, _ doc) { deleteOp(t, d)["x-ms-notification-url"] = true },
			respect: func(t *testing.T, d, _ doc) {
				// A flag in a response schema describes an output: harmless.
				obj(t, d, "definitions", "Subscription", "properties", "id")["x-ms-notification-url"] = true
				// A definition no operation uses is no position at all.
				obj(t, d, "definitions")["Unused"] = lit(t,
					`{"type": "object", "properties": {"url": {"type": "string", "x-ms-notification-url": true}}}`)
			}},
		{rule: ruleNotificationURLNotInternal, path: jpCallback + `['x-ms-visibility']`,
			violate: func(t *testing.T, d, _ doc) { delete(callbackProp(t, d), "x-ms-visibility") },
			respect: func(t *testing.T, d, _ doc) {
				// Internal on a parent is enough.
				delete(callbackProp(t, d), "x-ms-visibility")
				obj(t, post(t, d), "parameters", "0")["x-ms-visibility"] = "internal"
			}},
		{rule: ruleNotificationURLNotRequired, path: jpBody + `.schema.required`,
			violate: func(t *testing.T, d, _ doc) { bodySchema(t, d)["required"] = []any{"event"} }},
		{name: "NotificationUrlNotRequired/body", rule: ruleNotificationURLNotRequired, path: jpBody + `.required`,
			violate: func(t *testing.T, d, _ doc) { delete(obj(t, post(t, d), "parameters", "0"), "required") }},
		{rule: ruleNotificationURLNotString, path: jpCallback + `.type`,
			violate: func(t *testing.T, d, _ doc) { callbackProp(t, d)["type"] = "integer" }},
		{rule: ruleWebhookOperationsMissingNotificationURL, path: jpPost,
			violate: func(t *testing.T, d, _ doc) { delete(callbackProp(t, d), "x-ms-notification-url") }},
		{rule: ruleOperationMustHaveNotificationContentExtension, path: jpTrigger + `['x-ms-notification-content']`,
			violate: func(t *testing.T, d, _ doc) {
				delete(obj(t, d, "paths", triggerPath), "x-ms-notification-content")
			}},
		{rule: ruleSchemaDefinitionSetIncorrectly, path: jpTrigger + `['x-ms-notification-content'].schema`,
			violate: func(t *testing.T, d, _ doc) {
				delete(obj(t, d, "paths", triggerPath, "x-ms-notification-content"), "schema")
				delete(obj(t, post(t, d), "responses", "201"), "schema")
			},
			respect: func(t *testing.T, d, _ doc) {
				// The 201 response's schema is enough for the validator.
				delete(obj(t, d, "paths", triggerPath, "x-ms-notification-content"), "schema")
			}},

		// Triggers (triggerd).
		{rule: ruleWebhookOperationMissingTriggerExtension, path: jpPost + `['x-ms-trigger']`,
			violate: func(t *testing.T, d, _ doc) { delete(post(t, d), "x-ms-trigger") }},
		{rule: ruleNotificationContentInsideOperation, path: jpPost + `['x-ms-notification-content']`,
			violate: func(t *testing.T, d, _ doc) {
				item := obj(t, d, "paths", triggerPath)
				post(t, d)["x-ms-notification-content"] = item["x-ms-notification-content"]
				delete(item, "x-ms-notification-content")
			}},
		{rule: ruleWebhookTriggerMissingDeleteOperation, path: jpPost,
			violate: func(t *testing.T, d, _ doc) { delete(obj(t, d, "paths"), deletePath) }},
		{rule: ruleDeleteOperationDoesNotMatchLocation, path: jpPost,
			violate: func(t *testing.T, d, _ doc) {
				// DELETE /subscriptions cannot tell which subscription.
				paths := obj(t, d, "paths")
				op := deleteOp(t, d)
				delete(op, "parameters")
				paths["/subscriptions"] = doc{"delete": op}
				delete(paths, deletePath)
			},
			respect: func(t *testing.T, d, _ doc) {
				// A required query parameter can carry the id (BoldSign).
				paths := obj(t, d, "paths")
				op := deleteOp(t, d)
				op["parameters"] = lit(t, `[{"name": "id", "in": "query", "required": true, "type": "string"}]`)
				paths["/subscriptions"] = doc{"delete": op}
				delete(paths, deletePath)
			}},
		{name: "DeleteOperationDoesNotMatchLocation/header", rule: ruleDeleteOperationDoesNotMatchLocation, path: jpPost,
			violate: func(t *testing.T, d, _ doc) {
				// A header cannot come from the Location URL.
				paths := obj(t, d, "paths")
				op := deleteOp(t, d)
				op["parameters"] = lit(t, `[{"name": "X-Subscription", "in": "header", "required": true, "type": "string"}]`)
				paths["/subscriptions"] = doc{"delete": op}
				delete(paths, deletePath)
			}},
		{rule: ruleDeleteOperationNotInternal, path: jpDeleteOp + `['x-ms-visibility']`,
			violate: func(t *testing.T, d, _ doc) { delete(deleteOp(t, d), "x-ms-visibility") }},
		{rule: ruleWebhookRegistrationMissingLocationHeader, path: jpPost + `.responses['201'].headers`,
			violate: func(t *testing.T, d, _ doc) { delete(obj(t, post(t, d), "responses", "201"), "headers") }},
		{rule: rulePollingTriggerMissingLocationOrRetryAfter, path: `$.paths['/trigger/orders'].get.responses['202'].headers`,
			violate: func(t *testing.T, d, _ doc) {
				p := lit(t, pollingTrigger)
				delete(obj(t, p, "get", "responses", "202"), "headers")
				obj(t, d, "paths")["/trigger/orders"] = p
			},
			respect: func(t *testing.T, d, _ doc) { obj(t, d, "paths")["/trigger/orders"] = lit(t, pollingTrigger) }},
		{name: "PollingTriggerMissingLocationOrRetryAfter/policy", rule: rulePollingTriggerMissingLocationOrRetryAfter,
			path: `$.paths['/trigger/orders'].get.responses['200'].headers`,
			violate: func(t *testing.T, d, _ doc) {
				p := lit(t, pollingTrigger)
				delete(obj(t, p, "get", "responses", "200", "headers"), "Retry-After")
				delete(obj(t, p, "get", "responses"), "202")
				obj(t, d, "paths")["/trigger/orders"] = p
			},
			respect: func(t *testing.T, d, props doc) {
				// The platform keeps the state (https://learn.microsoft.com/connectors/custom-connectors/openapi-extensions): no headers needed.
				p := lit(t, pollingTrigger)
				delete(obj(t, p, "get", "responses", "200"), "headers")
				delete(obj(t, p, "get", "responses"), "202")
				obj(t, d, "paths")["/trigger/orders"] = p
				obj(t, props, "properties")["policyTemplateInstances"] = lit(t, `[{
					"templateId": "pollingtrigger", "title": "Poll", "type": "PollingTrigger",
					"parameters": {
						"x-ms-apimTemplateParameter.triggerConfig": {"triggerState": "@{triggerBody().cursor}"},
						"x-ms-apimTemplateParameter.triggerDataPath": "@triggerBody().value",
						"x-ms-apimTemplate-operationName": ["OnNewOrders"]}}]`)
			}},

		// JSON Schemas.
		{rule: ruleSchemaViolation, path: `$.info.version`,
			violate: func(t *testing.T, d, _ doc) { obj(t, d, "info")["version"] = json.Number("1") }},
		{name: "SchemaViolation/missing", rule: ruleSchemaViolation, path: `$.info.title`,
			violate: func(t *testing.T, d, _ doc) { delete(obj(t, d, "info"), "title") }},
		{rule: ruleSchemaPropertyNotAllowed, path: jpPost + `['x-ms-unknown']`,
			violate: func(t *testing.T, d, _ doc) { post(t, d)["x-ms-unknown"] = true },
			respect: func(t *testing.T, d, _ doc) { post(t, d)["x-unknown"] = true }},
		{rule: ruleAPIPropertiesSchemaViolation, path: `$.properties.iconBrandColor`, props: true,
			violate: func(t *testing.T, _, p doc) { obj(t, p, "properties")["iconBrandColor"] = json.Number("5") }},
		{rule: ruleAPIPropertiesSchemaPropertyNotAllowed, path: `$.properties.colour`, props: true,
			violate: func(t *testing.T, _, p doc) { obj(t, p, "properties")["colour"] = "red" },
			respect: func(t *testing.T, _, p doc) {
				// Accepted by the platform though the schema predates them (https://github.com/microsoft/PowerPlatformConnectors/blob/dev/schemas/paconn-apiProperties.schema.json).
				obj(t, p, "properties")["scriptOperations"] = []any{"OnOrderCreated"}
				obj(t, p, "properties")["connectionParameterSets"] = doc{}
			}},

		// apiProperties.json against the definition.
		{rule: ruleOperationIDNotFound, path: `$.properties.policyTemplateInstances[0].parameters['x-ms-apimTemplate-operationName'][0]`, props: true,
			violate: func(t *testing.T, _, p doc) {
				obj(t, p, "properties")["policyTemplateInstances"] = lit(t, `[{"templateId": "setheader", "title": "Version",
					"parameters": {"x-ms-apimTemplateParameter.name": "X-Api-Version", "x-ms-apimTemplateParameter.value": "1",
					"x-ms-apimTemplate-operationName": ["OnOrderUpdated"]}}]`)
			},
			respect: func(t *testing.T, _, p doc) {
				obj(t, p, "properties")["policyTemplateInstances"] = lit(t, `[{"templateId": "setheader", "title": "Version",
					"parameters": {"x-ms-apimTemplateParameter.name": "X-Api-Version", "x-ms-apimTemplateParameter.value": "1",
					"x-ms-apimTemplate-operationName": ["OnOrderCreated"]}}]`)
			}},
		{rule: ruleCapabilitiesMissingTrigger, path: `$.properties.capabilities`, props: true,
			violate: func(t *testing.T, _, p doc) { obj(t, p, "properties")["capabilities"] = []any{"actions"} }},
	}, validatorRuleCases()...)
}

func lintDocs(t *testing.T, def, props doc) Result {
	t.Helper()
	res, err := Lint(encodeDoc(t, def), Options{Properties: encodeDoc(t, props)})
	require.NoError(t, err)
	return res
}

const (
	templateFile      = "testdata/webhook-template.json"
	templatePropsFile = "testdata/webhook-template.apiProperties.json"
)

// The template of https://learn.microsoft.com/connectors/custom-connectors/create-webhook-trigger (with security
// declared) is a correct webhook connector: nothing to report at all.
func TestTemplateIsClean(t *testing.T) {
	t.Parallel()
	res := lintDocs(t, loadDoc(t, templateFile), loadDoc(t, templatePropsFile))
	require.Empty(t, res.Findings)
	require.False(t, res.HasErrors())
}

func TestRules(t *testing.T) {
	t.Parallel()
	for _, tc := range ruleCases() {
		name := tc.name
		if name == "" {
			name = tc.rule
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			wantDoc := DocumentDefinition
			if tc.props {
				wantDoc = DocumentProperties
			}

			def, props := loadDoc(t, templateFile), loadDoc(t, templatePropsFile)
			tc.violate(t, def, props)
			res := lintDocs(t, def, props)
			require.Len(t, res.Findings, 1, "want exactly one %s finding, got:\n%s", tc.rule, findingLines(res))
			f := res.Findings[0]
			require.Equal(t, tc.rule, f.Rule, "%s", f)
			require.Equal(t, tc.path, f.Path, "%s", f)
			require.Equal(t, wantDoc, f.Document, "%s", f)
			require.Equal(t, ruleIndex[tc.rule].Severity, f.Severity)
			require.NotEmpty(t, f.Message)
			require.Equal(t, f.Severity == SeverityError, res.HasErrors())

			def, props = loadDoc(t, templateFile), loadDoc(t, templatePropsFile)
			if tc.respect != nil {
				tc.respect(t, def, props)
			}
			res = lintDocs(t, def, props)
			require.Empty(t, res.Findings, "the definition respecting %s has findings:\n%s", tc.rule, findingLines(res))
		})
	}
}

// Every rule of the catalogue has a case above, so no rule is untested.
func TestEveryRuleIsTested(t *testing.T) {
	t.Parallel()
	tested := make(map[string]bool)
	for _, tc := range ruleCases() {
		tested[tc.rule] = true
	}
	// Rules whose input cannot be built by changing a decoded document are
	// tested by name elsewhere.
	for _, rule := range []string{
		ruleAPIPropertiesNotValidJSON, // TestLintRejectsUnreadableInput
	} {
		tested[rule] = true
	}
	for _, r := range Rules() {
		require.True(t, tested[r.Name], "rule %s has no test case", r.Name)
	}
	require.Len(t, tested, len(Rules()), "a test case names a rule missing from the catalogue")
}

func findingLines(res Result) string {
	var b strings.Builder
	for _, f := range res.Findings {
		fmt.Fprintf(&b, "  [%s] %s\n", f.Document, f)
	}
	return b.String()
}
