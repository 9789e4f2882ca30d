package httpapi_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd/catalog"
	"github.com/triggerd/triggerd/internal/httpapi"
)

func TestDecodePollQuery(t *testing.T) {
	t.Parallel()
	cat, err := catalog.Parse([]byte(`
connector: {title: Inventory, description: Starts flows when stock levels change in the warehouse.}
triggers:
  - name: stock.changed
    operationId: StockChanged
    summary: When stock levels change
    description: This operation triggers when stock levels change.
    kinds: [polling]
    schema: {type: object, properties: {warehouse: {type: string}, region: {type: string}}}
    filters:
      - {name: warehouse, summary: Warehouse, description: Only this warehouse., required: true}
      - {name: region, summary: Region, description: Only this region., enum: [north, south, east, west]}
`), "inventory.yaml")
	require.NoError(t, err)
	tr, _ := cat.Trigger("stock.changed")

	filters, state, err := httpapi.DecodePollQuery(url.Values{"warehouse": {"W1"}, "region": {"north"}, "triggerState": {"abc"}}, tr)
	require.NoError(t, err)
	require.Equal(t, map[string]string{"warehouse": "W1", "region": "north"}, filters)
	require.Equal(t, "abc", state)

	filters, state, err = httpapi.DecodePollQuery(url.Values{"warehouse": {"W1"}, "region": {""}}, tr)
	require.NoError(t, err)
	require.Equal(t, map[string]string{"warehouse": "W1"}, filters, "an empty filter is no filter")
	require.Empty(t, state)

	for q, want := range map[string]string{
		"warehouse=W1&colour=red":                    "unknown query parameter \"colour\" for trigger stock.changed; allowed parameters: warehouse, region, triggerState",
		"warehouse=W1&region=up":                     `region: "up" is not one of north, south, east, west`,
		"region=north":                               "warehouse is required for trigger stock.changed: Only this warehouse.",
		"warehouse=W1&warehouse=W2":                  "query parameter warehouse is given 2 times; give it once",
		"warehouse=W1&triggerState=a&triggerState=b": "query parameter triggerState is given 2 times; give it once",
	} {
		query, err := url.ParseQuery(q)
		require.NoError(t, err)
		_, _, err = httpapi.DecodePollQuery(query, tr)
		var re *httpapi.RequestError
		require.ErrorAs(t, err, &re, q)
		require.Equal(t, http.StatusUnprocessableEntity, re.Status, q)
		require.Equal(t, want, re.Message, q)
	}
}

// A poll's query comes from the internet: nothing may panic the decoder, and
// what it accepts holds only declared filters with allowed values.
func FuzzDecodePollQuery(f *testing.F) {
	tr, _ := catalog.Demo().Trigger("order.updated")
	for _, seed := range []string{"status=paid&triggerState=AbC-_1", "", "triggerState=", "status=a&status=b", "x=1", "%zz", "status=%E2%82%AC;a=b"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		query, err := url.ParseQuery(raw)
		if err != nil {
			return // answered 400 before decoding
		}
		filters, _, err := httpapi.DecodePollQuery(query, tr)
		if err != nil {
			var re *httpapi.RequestError
			require.ErrorAs(t, err, &re)
			require.NotEmpty(t, re.Message)
			return
		}
		for k, v := range filters {
			require.Equal(t, "status", k)
			require.NotEmpty(t, v)
		}
	})
}
