package connector_test

import (
	"bytes"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd/catalog"
	"github.com/triggerd/triggerd/connector"
)

// orderActions is what a web store would add next to its triggers: the
// "Get order details" action the platform's training recommends pairing with
// small notifications (https://learn.microsoft.com/connectors/custom-connectors/create-webhook-trigger).
func orderActions() []connector.Action {
	return []connector.Action{
		{
			OperationID: "GetOrder",
			Method:      "GET",
			Path:        "/orders/{id}",
			Summary:     "Get order details",
			Description: "Gets the details of an order by its ID.",
			Visibility:  connector.VisibilityImportant,
			Parameters: []connector.Parameter{
				{Name: "id", In: "path", Type: "integer", Summary: "Order ID", Description: "The ID of the order."},
				{Name: "expand", In: "query", Summary: "Expand", Description: "Related records to include.", Enum: []string{"lines", "customer"}},
			},
			ResponseDescription: "The order.",
			Response:            json.RawMessage(`{"type":"object","properties":{"id":{"type":"integer","format":"int32","x-ms-summary":"Order ID","description":"The order ID."},"total":{"type":"number","format":"decimal","description":"The total <incl. tax> & shipping."}}}`),
		},
		{
			OperationID:    "AddOrderNote",
			Method:         "post",
			Path:           "/orders/{id}/notes",
			Summary:        "Add a note to an order",
			Description:    "Adds a note to an order.",
			Parameters:     []connector.Parameter{{Name: "id", In: "path", Summary: "Order ID", Description: "The ID of the order."}},
			RequestBody:    json.RawMessage(`{"type":"object","required":["text"],"properties":{"text":{"type":"string","x-ms-summary":"Note","description":"The note's text."}}}`),
			ResponseStatus: 201,
		},
	}
}

func loadBatchCatalog(t *testing.T) *catalog.Catalog {
	t.Helper()
	return loadCatalog(t, "batch.yaml")
}

func loadCatalog(t *testing.T, name string) *catalog.Catalog {
	t.Helper()
	cat, err := catalog.Load(filepath.Join("testdata", name))
	require.NoError(t, err)
	return cat
}

// exportCase is a catalog and options whose export must satisfy every
// contract point.
type exportCase struct {
	name string
	cat  *catalog.Catalog
	opts connector.Options
}

func exportCases(t *testing.T) []exportCase {
	return []exportCase{
		{"demo", catalog.Demo(), connector.Options{}},
		{"demo-https-actions", catalog.Demo(), connector.Options{PublicURL: "https://api.example.com", Actions: orderActions()}},
		{"batch-prefixed", loadBatchCatalog(t), connector.Options{PublicURL: "http://127.0.0.1:8080/prefix/", Categories: []string{"Commerce", "Data"}}},
		{"polling-only", loadCatalog(t, "polling.yaml"), connector.Options{PublicURL: "https://api.example.com/store"}},
	}
}

func generate(t *testing.T, cat *catalog.Catalog, opts connector.Options) *connector.Files {
	t.Helper()
	files, err := connector.Generate(cat, opts)
	require.NoError(t, err)
	return files
}

func parseDefinition(t *testing.T, files *connector.Files) *openapi2.T {
	t.Helper()
	var doc openapi2.T
	require.NoError(t, json.Unmarshal(files.Definition, &doc))
	return &doc
}

func TestExportValidatesAgainstMicrosoftSchemas(t *testing.T) {
	t.Parallel()
	s := loadSchemas(t)
	for _, tc := range exportCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			files := generate(t, tc.cat, tc.opts)
			requireValid(t, s.definition, connector.DefinitionFile, files.Definition)
			requireValid(t, s.properties, connector.PropertiesFile, files.Properties)
			requireValid(t, s.settings, connector.SettingsFile, files.Settings)
		})
	}
}

// The schema check above must be able to fail: definitions that break the
// contract in ways the schema knows about are rejected.
func TestMicrosoftSchemaRejectsBrokenDefinitions(t *testing.T) {
	t.Parallel()
	s := loadSchemas(t)
	files := generate(t, catalog.Demo(), connector.Options{})
	for name, breakIt := range map[string]func(item map[string]any){
		"notification content on the operation": func(item map[string]any) {
			item["post"].(map[string]any)["x-ms-notification-content"] = item["x-ms-notification-content"]
			delete(item, "x-ms-notification-content")
		},
		// Why the generator drops formats such as the demo's decimal.
		"format outside the schema's list": func(item map[string]any) {
			schema := item["x-ms-notification-content"].(map[string]any)["schema"].(map[string]any)
			schema["properties"].(map[string]any)["total"].(map[string]any)["format"] = "decimal"
		},
	} {
		var doc map[string]any
		require.NoError(t, json.Unmarshal(files.Definition, &doc))
		breakIt(doc["paths"].(map[string]any)["/webhooks/order.created"].(map[string]any))
		broken, err := json.Marshal(doc)
		require.NoError(t, err)
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(broken))
		require.NoError(t, err)
		require.Error(t, s.definition.Validate(inst), name)
	}
}

func TestTriggerContract(t *testing.T) {
	t.Parallel()
	for _, tc := range exportCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			files := generate(t, tc.cat, tc.opts)
			doc := parseDefinition(t, files)

			require.Equal(t, "2.0", doc.Swagger)
			require.Equal(t, tc.cat.Connector.Title, doc.Info.Title)
			require.Equal(t, tc.cat.Connector.Description, doc.Info.Description)
			require.Equal(t, []string{"application/json"}, doc.Consumes)
			require.Equal(t, []string{"application/json"}, doc.Produces)

			for _, trig := range tc.cat.Triggers {
				item := doc.Paths["/webhooks/"+trig.Name]
				if !trig.Offers(catalog.KindWebhook) {
					require.Nil(t, item, "trigger %s is not offered as a webhook", trig.Name)
					continue
				}
				require.NotNil(t, item, "trigger %s has no path item", trig.Name)
				op := item.Post
				require.NotNil(t, op, "trigger %s is not a POST", trig.Name)
				require.Equal(t, trig.OperationID, op.OperationID)
				require.Equal(t, trig.Summary, op.Summary)
				require.Equal(t, trig.Description, op.Description)
				require.Equal(t, string(trig.Mode), op.Extensions["x-ms-trigger"])
				require.Equal(t, trig.HintOrDefault(), op.Extensions["x-ms-trigger-hint"])

				// x-ms-notification-content sits on the path item and
				// nowhere in the operation (https://learn.microsoft.com/connectors/custom-connectors/create-webhook-trigger).
				require.NotContains(t, op.Extensions, "x-ms-notification-content")
				nc, ok := item.Extensions["x-ms-notification-content"].(map[string]any)
				require.True(t, ok, "trigger %s: no x-ms-notification-content on the path item", trig.Name)
				require.Equal(t, trig.SchemaDescription, nc["description"])
				notif := nc["schema"].(map[string]any)
				var event map[string]any
				require.NoError(t, json.Unmarshal(trig.Schema, &event))
				if trig.Mode == catalog.ModeBatch {
					require.Equal(t, "array", notif["type"])
					notif = notif["items"].(map[string]any)
				}
				require.Equal(t, event["type"], notif["type"])
				require.Equal(t, event["required"], notif["required"])
				require.Equal(t, keys(event["properties"]), keys(notif["properties"]))

				// One body parameter whose schema carries the callback
				// property: string, internal, notification URL, required
				// all the way up (https://learn.microsoft.com/connectors/custom-connectors/create-webhook-trigger).
				require.Len(t, op.Parameters, 1)
				body := op.Parameters[0]
				require.Equal(t, "body", body.In)
				require.True(t, body.Required)
				bs := body.Schema.Value
				require.True(t, bs.Type.Is("object"))
				cb := bs.Properties["callbackUrl"].Value
				require.True(t, cb.Type.Is("string"))
				require.Equal(t, "internal", cb.Extensions["x-ms-visibility"])
				require.Equal(t, true, cb.Extensions["x-ms-notification-url"])
				require.Contains(t, bs.Required, "callbackUrl")

				// Filters are visible string fields with a label and a
				// description; required ones are required.
				require.Len(t, bs.Properties, 1+len(trig.Filters))
				for _, f := range trig.Filters {
					p := bs.Properties[f.Name].Value
					require.NotNil(t, p, "filter %s missing", f.Name)
					require.True(t, p.Type.Is("string"))
					require.NotContains(t, p.Extensions, "x-ms-visibility")
					require.Equal(t, f.Summary, p.Extensions["x-ms-summary"])
					require.Equal(t, f.Description, p.Description)
					require.Equal(t, f.Required, slices.Contains(bs.Required, f.Name), "filter %s required", f.Name)
					if len(f.Enum) > 0 {
						require.Len(t, p.Enum, len(f.Enum))
						for i, v := range f.Enum {
							require.Equal(t, v, p.Enum[i])
						}
					} else {
						require.Empty(t, p.Enum)
					}
				}

				// 201 with a Location header and the subscription.
				created := op.Responses.Value("201")
				require.NotNil(t, created)
				require.Contains(t, created.Headers, "Location")
				require.True(t, created.Headers["Location"].Type.Is("string"))
				require.Equal(t, "#/definitions/Subscription", created.Schema.Ref)
			}

			sub := doc.Definitions["Subscription"].Value
			require.ElementsMatch(t, []string{"id", "trigger", "callbackUrl", "filters", "createdAt", "secret"}, keys(sub.Properties))

			// Security: the X-API-Key header, required everywhere.
			sec := doc.SecurityDefinitions[connector.APIKeyParameter]
			require.NotNil(t, sec)
			require.Equal(t, "apiKey", sec.Type)
			require.Equal(t, "header", sec.In)
			require.Equal(t, "X-API-Key", sec.Name)
			require.Len(t, doc.Security, 1)
			require.Contains(t, doc.Security[0], connector.APIKeyParameter)

			// apiProperties has the matching connection parameter.
			var props struct {
				Properties struct {
					ConnectionParameters map[string]struct {
						Type         string `json:"type"`
						UIDefinition struct {
							DisplayName, Description, Tooltip string
							Constraints                       struct {
								Required string `json:"required"`
							}
						} `json:"uiDefinition"`
					} `json:"connectionParameters"`
					IconBrandColor string   `json:"iconBrandColor"`
					Capabilities   []string `json:"capabilities"`
				} `json:"properties"`
			}
			require.NoError(t, json.Unmarshal(files.Properties, &props))
			key := props.Properties.ConnectionParameters[connector.APIKeyParameter]
			require.Equal(t, "securestring", key.Type)
			require.NotEmpty(t, key.UIDefinition.DisplayName)
			require.NotEmpty(t, key.UIDefinition.Description)
			require.NotEmpty(t, key.UIDefinition.Tooltip)
			require.Equal(t, "true", key.UIDefinition.Constraints.Required)
			require.Contains(t, props.Properties.Capabilities, "triggers")
			require.Equal(t, connector.DefaultIconBrandColor, props.Properties.IconBrandColor)

			meta := map[string]string{}
			for _, m := range doc.Extensions["x-ms-connector-metadata"].([]any) {
				e := m.(map[string]any)
				meta[e["propertyName"].(string)] = e["propertyValue"].(string)
			}
			require.Equal(t, tc.cat.Connector.Website, meta["Website"])
			require.Equal(t, tc.cat.Connector.PrivacyPolicy, meta["Privacy policy"])
			require.NotEmpty(t, meta["Categories"])
		})
	}
}

// The platform sends DELETE to the Location the registration returned. It
// reaches triggerd with the connection's API key only when that URL resolves,
// against the definition's scheme, host and basePath, to an internal DELETE
// operation (https://learn.microsoft.com/connectors/custom-connectors/create-webhook-trigger).
func TestLocationResolvesToInternalDelete(t *testing.T) {
	t.Parallel()
	const id = "01JD7Q8X3M5N6P7R8S9T0V1W2X"
	for _, public := range []string{
		"http://127.0.0.1:8080",
		"https://api.example.com",
		"https://api.example.com/",
		"http://127.0.0.1:8080/prefix",
		"https://hooks.example.com:8443/store/api",
	} {
		t.Run(public, func(t *testing.T) {
			t.Parallel()
			doc := parseDefinition(t, generate(t, catalog.Demo(), connector.Options{PublicURL: public}))

			// What the server returns: <public-url>/v1/webhooks/<id>.
			loc, err := url.Parse(strings.TrimSuffix(public, "/") + "/v1/webhooks/" + id)
			require.NoError(t, err)

			require.Contains(t, doc.Schemes, loc.Scheme)
			require.Equal(t, loc.Host, doc.Host)
			require.True(t, strings.HasPrefix(loc.Path, doc.BasePath+"/"), "Location path %s is not under basePath %s", loc.Path, doc.BasePath)
			rest := strings.TrimPrefix(loc.Path, doc.BasePath)

			var matched []string
			for tmpl, item := range doc.Paths {
				if item.Delete != nil && matchTemplate(tmpl, rest) != nil {
					matched = append(matched, tmpl)
				}
			}
			require.Equal(t, []string{"/webhooks/{id}"}, matched)
			del := doc.Paths["/webhooks/{id}"].Delete
			require.Equal(t, connector.DeleteOperationID, del.OperationID)
			require.Equal(t, "internal", del.Extensions["x-ms-visibility"])
			require.Equal(t, id, matchTemplate("/webhooks/{id}", rest)["id"])

			require.Len(t, del.Parameters, 1)
			p := del.Parameters[0]
			require.Equal(t, "id", p.Name)
			require.Equal(t, "path", p.In)
			require.True(t, p.Required)
			require.True(t, p.Type.Is("string"))
			require.Equal(t, "single", p.Extensions["x-ms-url-encoding"])
			require.NotNil(t, del.Responses.Value("204"))
		})
	}
}

// matchTemplate matches a concrete path against a Swagger path template and
// returns the template's parameters, or nil when it does not match.
func matchTemplate(tmpl, path string) map[string]string {
	ts := strings.Split(strings.Trim(tmpl, "/"), "/")
	ps := strings.Split(strings.Trim(path, "/"), "/")
	if len(ts) != len(ps) {
		return nil
	}
	params := map[string]string{}
	for i, seg := range ts {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			if ps[i] == "" {
				return nil
			}
			params[seg[1:len(seg)-1]] = ps[i]
			continue
		}
		if seg != ps[i] {
			return nil
		}
	}
	return params
}

func TestPublicURLFields(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		public, scheme, host, basePath string
	}{
		{"", "http", "127.0.0.1:8080", "/v1"},
		{"https://api.example.com", "https", "api.example.com", "/v1"},
		{"HTTPS://api.example.com/", "https", "api.example.com", "/v1"},
		{"http://127.0.0.1:8080/prefix", "http", "127.0.0.1:8080", "/prefix/v1"},
		{"https://example.com/a/b/", "https", "example.com", "/a/b/v1"},
	} {
		doc := parseDefinition(t, generate(t, catalog.Demo(), connector.Options{PublicURL: tc.public}))
		require.Equal(t, []string{tc.scheme}, doc.Schemes, tc.public)
		require.Equal(t, tc.host, doc.Host, tc.public)
		require.Equal(t, tc.basePath, doc.BasePath, tc.public)
	}
}

func TestPublicURLErrors(t *testing.T) {
	t.Parallel()
	for public, want := range map[string]string{
		"api.example.com":                 "https://",
		"ftp://example.com":               "https://",
		"https://":                        "no host",
		"https://user:pw@example.com":     "credentials",
		"https://example.com/?a=1":        "query",
		"https://example.com/#frag":       "query or fragment",
		"http://[::1]:8080":               "IPv6",
		"https://example.com/{tenant}":    "{",
		"https://exa mple.com":            "public URL",
		"http://127.0.0.1:8080/pre%7Bfix": "{",
		"https://example.com/a//b":        "empty segment",
	} {
		_, err := connector.Generate(catalog.Demo(), connector.Options{PublicURL: public})
		require.ErrorContains(t, err, want, public)
	}
}

func TestActions(t *testing.T) {
	t.Parallel()
	files := generate(t, catalog.Demo(), connector.Options{PublicURL: "https://api.example.com", Actions: orderActions()})
	doc := parseDefinition(t, files)

	get := doc.Paths["/orders/{id}"].Get
	require.NotNil(t, get)
	require.Equal(t, "GetOrder", get.OperationID)
	require.Equal(t, "important", get.Extensions["x-ms-visibility"])
	require.Len(t, get.Parameters, 2)
	id := get.Parameters[0]
	require.Equal(t, "path", id.In)
	require.True(t, id.Required, "path parameters are always required")
	require.True(t, id.Type.Is("integer"))
	require.Equal(t, "Order ID", id.Extensions["x-ms-summary"])
	require.Equal(t, "single", id.Extensions["x-ms-url-encoding"])
	expand := get.Parameters[1]
	require.Equal(t, "query", expand.In)
	require.False(t, expand.Required)
	require.True(t, expand.Type.Is("string"), "type defaults to string")
	require.Equal(t, []any{"lines", "customer"}, expand.Enum)
	ok := get.Responses.Value("200")
	require.Equal(t, "The order.", ok.Description)
	total := ok.Schema.Value.Properties["total"].Value
	require.Empty(t, total.Format, "formats the Microsoft schema rejects are dropped")
	require.Equal(t, "The total <incl. tax> & shipping.", total.Description)
	require.Equal(t, "int32", ok.Schema.Value.Properties["id"].Value.Format)
	require.NotContains(t, string(files.Definition), `\u003c`, "prose is not HTML-escaped")

	post := doc.Paths["/orders/{id}/notes"].Post
	require.NotNil(t, post)
	require.Len(t, post.Parameters, 2)
	require.Equal(t, "body", post.Parameters[1].In)
	require.True(t, post.Parameters[1].Required)
	require.Equal(t, []string{"text"}, post.Parameters[1].Schema.Value.Required)
	created := post.Responses.Value("201")
	require.Equal(t, connector.DefaultResponseDescription, created.Description)

	var props struct {
		Properties struct {
			Capabilities []string `json:"capabilities"`
		} `json:"properties"`
	}
	require.NoError(t, json.Unmarshal(files.Properties, &props))
	require.Equal(t, []string{"actions", "triggers"}, props.Properties.Capabilities)
}

func TestActionErrors(t *testing.T) {
	t.Parallel()
	valid := func() connector.Action { return orderActions()[0] }
	for _, tc := range []struct {
		name   string
		mutate func(a *connector.Action)
		want   string
	}{
		{"operationId", func(a *connector.Action) { a.OperationID = "get-order" }, "PascalCase"},
		{"operationId clash with trigger", func(a *connector.Action) { a.OperationID = "OrderCreated" }, "already used by trigger order.created"},
		{"operationId clash with delete", func(a *connector.Action) { a.OperationID = connector.DeleteOperationID }, "already used by the unsubscribe operation"},
		{"method", func(a *connector.Action) { a.Method = "HEAD" }, "GET, POST, PUT, PATCH or DELETE"},
		{"relative path", func(a *connector.Action) { a.Path = "orders/{id}" }, "must start with /"},
		{"query in path", func(a *connector.Action) { a.Path = "/orders/{id}?x=1" }, "query"},
		{"webhooks path", func(a *connector.Action) { a.Path = "/Webhooks/{id}" }, "triggerd's own webhook operations"},
		{"summary missing", func(a *connector.Action) { a.Summary = "" }, "summary is required"},
		{"summary chars", func(a *connector.Action) { a.Summary = "Get order/details" }, "RestrictedCharactersInSummary"},
		{"description", func(a *connector.Action) { a.Description = "" }, "description is required"},
		{"visibility", func(a *connector.Action) { a.Visibility = "hidden" }, "visibility"},
		{"missing path parameter", func(a *connector.Action) { a.Parameters = a.Parameters[1:] }, "OperationMissingPathParameter"},
		{"extra path parameter", func(a *connector.Action) { a.Path = "/orders" }, "PathParameterNotDefinedInTemplate"},
		{"parameter location", func(a *connector.Action) { a.Parameters[1].In = "body" }, "path, query or header"},
		{"parameter type", func(a *connector.Action) { a.Parameters[1].Type = "file" }, "string, integer, number or boolean"},
		{"parameter description", func(a *connector.Action) { a.Parameters[1].Description = "" }, "description is required"},
		{"connectionId", func(a *connector.Action) { a.Parameters[1].Name = "connectionId" }, "ConnectionIdParameterNotAllowed"},
		{"internal required", func(a *connector.Action) {
			a.Parameters[1].Visibility = connector.VisibilityInternal
			a.Parameters[1].Required = true
		}, "internal parameter cannot be required"},
		{"GET body", func(a *connector.Action) { a.RequestBody = json.RawMessage(`{"type":"object"}`) }, "BodyOrFormDataParameterInFetchOperationNotAllowed"},
		{"bad response schema", func(a *connector.Action) { a.Response = json.RawMessage(`[1]`) }, "must be a JSON object"},
		{"status", func(a *connector.Action) { a.ResponseStatus = 404 }, "2xx"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := valid()
			tc.mutate(&a)
			_, err := connector.Generate(catalog.Demo(), connector.Options{Actions: []connector.Action{a}})
			require.ErrorContains(t, err, tc.want)
		})
	}

	t.Run("duplicates", func(t *testing.T) {
		t.Parallel()
		a, b := valid(), valid()
		b.OperationID = "GetOrderAgain"
		_, err := connector.Generate(catalog.Demo(), connector.Options{Actions: []connector.Action{a, b}})
		require.ErrorContains(t, err, "GET /orders/{id} is already declared by GetOrder")
		b.Path = "/Orders/{id}"
		_, err = connector.Generate(catalog.Demo(), connector.Options{Actions: []connector.Action{a, b}})
		require.ErrorContains(t, err, "only in case")
		b = valid()
		_, err = connector.Generate(catalog.Demo(), connector.Options{Actions: []connector.Action{a, b}})
		require.ErrorContains(t, err, `operationId "GetOrder" is already used by action GetOrder`)
	})

	t.Run("every problem at once", func(t *testing.T) {
		t.Parallel()
		a := valid()
		a.Summary = ""
		a.Description = ""
		_, err := connector.Generate(catalog.Demo(), connector.Options{Actions: []connector.Action{a}, Categories: []string{"A", "B", "C"}})
		require.ErrorContains(t, err, "summary is required")
		require.ErrorContains(t, err, "description is required")
		require.ErrorContains(t, err, "at most 2")
	})
}

func TestOptionErrors(t *testing.T) {
	t.Parallel()
	_, err := connector.Generate(nil, connector.Options{})
	require.ErrorContains(t, err, "catalog is nil")
	_, err = connector.Generate(catalog.Demo(), connector.Options{IconBrandColor: "red"})
	require.ErrorContains(t, err, "#rrggbb")
	_, err = connector.Generate(catalog.Demo(), connector.Options{Categories: []string{"Data;AI"}})
	require.ErrorContains(t, err, "one non-empty category")
}

func TestOptionsReachTheFiles(t *testing.T) {
	t.Parallel()
	files := generate(t, catalog.Demo(), connector.Options{Version: "2.3", IconBrandColor: "#123abc", Categories: []string{"Commerce", "Data"}})
	doc := parseDefinition(t, files)
	require.Equal(t, "2.3", doc.Info.Version)
	require.Contains(t, string(files.Definition), `"propertyValue": "Commerce;Data"`)
	require.Contains(t, string(files.Properties), `"iconBrandColor": "#123abc"`)
}

// Two exports of the same input are byte-identical, so reviews diff only
// real changes.
func TestGenerateIsDeterministic(t *testing.T) {
	t.Parallel()
	cat := loadBatchCatalog(t)
	opts := connector.Options{PublicURL: "https://api.example.com", Actions: orderActions()}
	first := generate(t, cat, opts)
	for range 5 {
		again := generate(t, cat, opts)
		require.Equal(t, string(first.Definition), string(again.Definition))
		require.Equal(t, string(first.Properties), string(again.Properties))
		require.Equal(t, string(first.Settings), string(again.Settings))
	}

	// Paths follow the catalog, then the DELETE, then the actions.
	var order []string
	dec := json.NewDecoder(strings.NewReader(string(first.Definition)))
	var raw struct {
		Paths json.RawMessage `json:"paths"`
	}
	require.NoError(t, dec.Decode(&raw))
	pd := json.NewDecoder(strings.NewReader(string(raw.Paths)))
	_, err := pd.Token()
	require.NoError(t, err)
	for pd.More() {
		tok, err := pd.Token()
		require.NoError(t, err)
		order = append(order, tok.(string))
		var skip json.RawMessage
		require.NoError(t, pd.Decode(&skip))
	}
	require.Equal(t, []string{"/webhooks/stock.changed", "/webhooks/shipment.sent", "/webhooks/{id}", "/orders/{id}", "/orders/{id}/notes"}, order)
}

func TestGenerateDoesNotChangeTheCatalog(t *testing.T) {
	t.Parallel()
	cat := loadBatchCatalog(t)
	before, err := json.Marshal(cat)
	require.NoError(t, err)
	generate(t, cat, connector.Options{})
	after, err := json.Marshal(cat)
	require.NoError(t, err)
	require.JSONEq(t, string(before), string(after))
	require.Contains(t, string(cat.Triggers[0].Schema), `"decimal"`)
}

func TestWriteDir(t *testing.T) {
	t.Parallel()
	files := generate(t, catalog.Demo(), connector.Options{})
	dir := filepath.Join(t.TempDir(), "out", "nested")
	require.NoError(t, files.WriteDir(dir))
	for name, want := range map[string][]byte{
		connector.DefinitionFile: files.Definition,
		connector.PropertiesFile: files.Properties,
		connector.SettingsFile:   files.Settings,
	} {
		got, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		require.Equal(t, string(want), string(got))
		require.True(t, strings.HasSuffix(string(got), "}\n"))
	}

	// The connector ID and environment paconn writes after create survive
	// a re-export; everything else is regenerated.
	const env = "0123abcd-0000-1111-2222-333344445555"
	settingsPath := filepath.Join(dir, connector.SettingsFile)
	require.NoError(t, os.WriteFile(settingsPath, []byte(`{"connectorId": "shared_triggerd-5f00", "environment": "`+env+`", "apiDefinition": "old.json"}`), 0o644))
	require.NoError(t, files.WriteDir(dir))
	got, err := os.ReadFile(settingsPath)
	require.NoError(t, err)
	var settings map[string]string
	require.NoError(t, json.Unmarshal(got, &settings))
	require.Equal(t, "shared_triggerd-5f00", settings["connectorId"])
	require.Equal(t, env, settings["environment"])
	require.Equal(t, connector.DefinitionFile, settings["apiDefinition"])

	require.NoError(t, os.WriteFile(settingsPath, []byte("not json"), 0o644))
	require.ErrorContains(t, files.WriteDir(dir), "fix or delete it")
	require.NoError(t, os.Remove(settingsPath))

	// A file where the directory should be is reported.
	blocker := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(blocker, nil, 0o644))
	require.ErrorContains(t, files.WriteDir(blocker), "create output directory")

	// Last, as it skips without the reference material.
	requireValid(t, loadSchemas(t).settings, "merged settings.json", got)
}

func keys(m any) []string {
	var out []string
	switch x := m.(type) {
	case map[string]any:
		for k := range x {
			out = append(out, k)
		}
	case openapi2.Schemas:
		for k := range x {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}
