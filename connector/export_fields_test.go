package connector_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd/catalog"
	"github.com/triggerd/triggerd/connector"
)

const exportFieldsCatalog = `connector:
  title: Web Store
  description: Starts your flows when orders are created or change in the web store.
  iconBrandColor: "#0b6a0b"
  categories: [Commerce, Data]
triggers:
  - name: order.created
    operationId: OrderCreated
    summary: When an order is created
    description: This operation triggers when an order is created.
    schema:
      type: object
      properties:
        id: {type: integer, x-ms-summary: Order number, description: The order's number.}
        total: {type: number, title: Total with tax, description: The amount charged.}
        order_key: {type: string, description: The key.}
        customer: {type: object, properties: {emailAddress: {type: string}}}
`

// The catalog's colour, categories and property labels reach the export
// as a certification reviewer expects them.
func TestExportFieldsFromCatalog(t *testing.T) {
	t.Parallel()
	cat, err := catalog.Parse([]byte(exportFieldsCatalog), "store.yaml")
	require.NoError(t, err)
	files, err := connector.Generate(cat, connector.Options{})
	require.NoError(t, err)

	var props struct {
		Properties struct {
			IconBrandColor string `json:"iconBrandColor"`
		} `json:"properties"`
	}
	require.NoError(t, json.Unmarshal(files.Properties, &props))
	require.Equal(t, "#0b6a0b", props.Properties.IconBrandColor)

	var def map[string]any
	require.NoError(t, json.Unmarshal(files.Definition, &def))
	var categories string
	for _, m := range def["x-ms-connector-metadata"].([]any) {
		if e := m.(map[string]any); e["propertyName"] == "Categories" {
			categories = e["propertyValue"].(string)
		}
	}
	require.Equal(t, "Commerce;Data", categories)

	item := def["paths"].(map[string]any)["/webhooks/order.created"].(map[string]any)
	schema := item["x-ms-notification-content"].(map[string]any)["schema"].(map[string]any)
	p := schema["properties"].(map[string]any)
	label := func(names ...string) any {
		var cur any = p
		for i, n := range names {
			cur = cur.(map[string]any)[n]
			if i < len(names)-1 {
				cur = cur.(map[string]any)["properties"]
			}
		}
		return cur.(map[string]any)["x-ms-summary"]
	}
	require.Equal(t, "Order number", label("id"))
	require.Equal(t, "Total with tax", label("total"))
	require.Equal(t, "Order Key", label("order_key"))
	require.Equal(t, "Customer", label("customer"))
	require.Equal(t, "Email Address", label("customer", "emailAddress"))

	// Options still win over the catalog.
	files, err = connector.Generate(cat, connector.Options{IconBrandColor: "#123abc", Categories: []string{"AI"}})
	require.NoError(t, err)
	require.Contains(t, string(files.Properties), `"iconBrandColor": "#123abc"`)
	require.Contains(t, string(files.Definition), `"propertyValue": "AI"`)
}

// The platform's limits on these fields are checked when the catalog is
// parsed, with a message naming the field.
func TestExportFieldsCheckedAtParse(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct{ from, to, want string }{
		"colour form":     {`"#0b6a0b"`, `green`, "connector.iconBrandColor"},
		"reserved colour": {`"#0b6a0b"`, `"#FFFFFF"`, "reserved"},
		"category":        {`[Commerce, Data]`, `[Commerce, Shopping]`, "connector.categories[1]: \"Shopping\" is not a category"},
		"three":           {`[Commerce, Data]`, `[Commerce, Data, AI]`, "TooManyConnectorCategories"},
		"twice":           {`[Commerce, Data]`, `[Data, Data]`, "listed twice"},
		"summary chars":   {`x-ms-summary: Order number`, `x-ms-summary: Order number/id`, "properties.id.x-ms-summary"},
		"summary length":  {`x-ms-summary: Order number`, `x-ms-summary: ` + strings.Repeat("n", 81), "OperationSummaryTooLong"},
		"title type":      {`title: Total with tax`, `title: 5`, "properties.total.title: must be a string"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			src := strings.Replace(exportFieldsCatalog, tc.from, tc.to, 1)
			require.NotEqual(t, exportFieldsCatalog, src)
			_, err := catalog.Parse([]byte(src), "store.yaml")
			require.ErrorContains(t, err, tc.want)
		})
	}
}
