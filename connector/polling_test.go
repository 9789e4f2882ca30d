package connector_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd/catalog"
	"github.com/triggerd/triggerd/connector"
	"github.com/triggerd/triggerd/connector/lint"
)

// Every trigger offered for polling has GET /trigger/{name} in the shape of
// https://learn.microsoft.com/azure/logic-apps/logic-apps-create-api-app; the others have none.
func TestPollingContract(t *testing.T) {
	t.Parallel()
	for _, tc := range exportCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			doc := parseDefinition(t, generate(t, tc.cat, tc.opts))
			webhooks := false
			for _, trig := range tc.cat.Triggers {
				webhooks = webhooks || trig.Offers(catalog.KindWebhook)
				item := doc.Paths["/trigger/"+trig.Name]
				if !trig.Offers(catalog.KindPolling) {
					require.Nil(t, item, "trigger %s is not offered for polling", trig.Name)
					continue
				}
				require.NotNil(t, item, "polling trigger %s has no path item", trig.Name)
				require.NotContains(t, item.Extensions, "x-ms-notification-content", "a polling trigger is not a webhook")
				op := item.Get
				require.NotNil(t, op, "polling trigger %s is not a GET", trig.Name)
				require.Nil(t, item.Post)
				require.Equal(t, trig.OperationID+"Poll", op.OperationID, "the polling operationId is derived")
				require.Equal(t, trig.Summary+" (polling)", op.Summary)
				require.True(t, strings.HasPrefix(op.Description, trig.Description), op.Description)
				require.NotEqual(t, trig.Description, op.Description)
				require.Equal(t, "batch", op.Extensions["x-ms-trigger"])
				require.Equal(t, map[string]any{"kind": "query", "mode": "polling"}, op.Extensions["x-ms-trigger-metadata"])
				require.Equal(t, trig.HintOrDefault(), op.Extensions["x-ms-trigger-hint"])

				// The filters as visible query parameters, then the
				// internal, optional state without a default.
				require.Len(t, op.Parameters, len(trig.Filters)+1)
				for i, f := range trig.Filters {
					p := op.Parameters[i]
					require.Equal(t, f.Name, p.Name)
					require.Equal(t, "query", p.In)
					require.True(t, p.Type.Is("string"))
					require.Equal(t, f.Required, p.Required, f.Name)
					require.NotContains(t, p.Extensions, "x-ms-visibility")
					require.Equal(t, f.Summary, p.Extensions["x-ms-summary"])
					require.Equal(t, f.Description, p.Description)
					require.Len(t, p.Enum, len(f.Enum))
				}
				state := op.Parameters[len(trig.Filters)]
				require.Equal(t, "triggerState", state.Name)
				require.Equal(t, "query", state.In)
				require.False(t, state.Required)
				require.Nil(t, state.Default)
				require.Equal(t, "internal", state.Extensions["x-ms-visibility"])

				// 200 and 202 declare Location and Retry-After; 200 holds
				// the events under "value".
				for _, code := range []string{"200", "202"} {
					r := op.Responses.Value(code)
					require.NotNil(t, r, code)
					require.True(t, r.Headers["Location"].Type.Is("string"), code)
					require.True(t, r.Headers["Retry-After"].Type.Is("integer"), code)
				}
				body := op.Responses.Value("200").Schema.Value
				require.True(t, body.Type.Is("object"))
				value := body.Properties["value"].Value
				require.True(t, value.Type.Is("array"))
				var event map[string]any
				require.NoError(t, json.Unmarshal(trig.Schema, &event))
				items := value.Items.Value
				require.True(t, items.Type.Is(event["type"].(string)))
				require.Equal(t, keys(event["properties"]), keys(items.Properties))
				require.Nil(t, op.Responses.Value("202").Schema)
			}
			if !webhooks {
				require.Nil(t, doc.Paths["/webhooks/{id}"], "a connector without webhook triggers has nothing to delete")
			}
		})
	}
}

// The platform calls the Location of a polling response through the
// connector only when it resolves, against host and basePath, to the same
// operation (https://learn.microsoft.com/azure/logic-apps/logic-apps-create-api-app).
func TestPollingLocationResolves(t *testing.T) {
	t.Parallel()
	for _, public := range []string{"http://127.0.0.1:8080", "https://api.example.com/", "https://hooks.example.com:8443/store/api"} {
		doc := parseDefinition(t, generate(t, catalog.Demo(), connector.Options{PublicURL: public}))
		// What the server returns: <public-url>/v1/trigger/<name>?…
		loc, err := url.Parse(strings.TrimSuffix(public, "/") + "/v1/trigger/order.updated?status=paid&triggerState=AbC-_1")
		require.NoError(t, err)
		require.Contains(t, doc.Schemes, loc.Scheme)
		require.Equal(t, loc.Host, doc.Host)
		rest, ok := strings.CutPrefix(loc.Path, doc.BasePath)
		require.True(t, ok, "Location path %s is not under basePath %s", loc.Path, doc.BasePath)
		var matched []string
		for tmpl, item := range doc.Paths {
			if item.Get != nil && matchTemplate(tmpl, rest) != nil {
				matched = append(matched, item.Get.OperationID)
			}
		}
		require.Equal(t, []string{"OrderUpdatedPoll"}, matched, public)
		declared := map[string]bool{}
		for _, p := range doc.Paths[rest].Get.Parameters {
			declared[p.Name] = p.In == "query"
		}
		for name := range loc.Query() {
			require.True(t, declared[name], "Location query parameter %s is not a declared query parameter", name)
		}
	}
}

func TestPollingGenerateErrors(t *testing.T) {
	t.Parallel()
	a := orderActions()[0]
	a.OperationID = "OrderCreatedPoll"
	_, err := connector.Generate(catalog.Demo(), connector.Options{Actions: []connector.Action{a}})
	require.ErrorContains(t, err, `operationId "OrderCreatedPoll" is already used by polling trigger order.created`)

	a = orderActions()[0]
	a.Path = "/Trigger/orders"
	a.Parameters = a.Parameters[1:]
	_, err = connector.Generate(catalog.Demo(), connector.Options{Actions: []connector.Action{a}})
	require.ErrorContains(t, err, "triggerd's own polling operations")
}

// The lint check of TestExportPassesLint sees a polling operation that
// loses its headers: the generated ones are not merely unchecked.
func TestLintSeesABrokenPollingExport(t *testing.T) {
	t.Parallel()
	files := generate(t, catalog.Demo(), connector.Options{})
	var doc map[string]any
	require.NoError(t, json.Unmarshal(files.Definition, &doc))
	get := doc["paths"].(map[string]any)["/trigger/order.created"].(map[string]any)["get"].(map[string]any)
	delete(get["responses"].(map[string]any)["202"].(map[string]any), "headers")
	broken, err := json.Marshal(doc)
	require.NoError(t, err)
	res, err := lint.Lint(broken, lint.Options{Properties: files.Properties})
	require.NoError(t, err)
	var rules []string
	for _, f := range res.Findings {
		if f.Severity == lint.SeverityWarning || f.Severity == lint.SeverityError {
			rules = append(rules, f.Rule)
		}
	}
	require.Contains(t, rules, "PollingTriggerMissingLocationOrRetryAfter")
}
