package catalog_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd/catalog"
)

func TestDemo(t *testing.T) {
	t.Parallel()
	c := catalog.Demo()
	require.Equal(t, []string{"order.created", "order.updated"}, c.TriggerNames())
	tr, ok := c.Trigger("order.created")
	require.True(t, ok)
	require.Equal(t, catalog.ModeSingle, tr.Mode)
	require.NoError(t, tr.ValidateData([]byte(`{"id":1,"order_key":"k","status":"new","total":12.5}`)))

	err := tr.ValidateData([]byte(`{"id":"x","order_key":"k","status":"new"}`))
	var de *catalog.DataError
	require.ErrorAs(t, err, &de)
	require.Equal(t, "/id", de.Path)

	err = tr.ValidateData([]byte(`{"id":3000000000,"order_key":"k","status":"new"}`))
	require.ErrorAs(t, err, &de)
	require.Equal(t, "/id", de.Path, "int32 overflow must be refused")

	err = tr.ValidateData([]byte(`{"order_key":"k","status":"new"}`))
	require.ErrorAs(t, err, &de)
	require.Contains(t, de.Message, "id")
}

func TestMatch(t *testing.T) {
	t.Parallel()
	tr, _ := catalog.Demo().Trigger("order.updated")
	data := map[string]any{"id": 1, "status": "shipped"}
	require.True(t, tr.Match(nil, data))
	require.True(t, tr.Match(map[string]string{"status": ""}, data))
	require.True(t, tr.Match(map[string]string{"status": "shipped"}, data))
	require.False(t, tr.Match(map[string]string{"status": "new"}, data))
	require.False(t, tr.Match(map[string]string{"status": "shipped"}, map[string]any{"id": 1}))
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct{ yaml, want string }{
		"bad yaml":       {"connector: [", "x.yaml: $:"},
		"unknown field":  {"connector: {title: a}\nbogus: 1\n", "bogus"},
		"long title":     {"connector: {title: " + strings.Repeat("a", 31) + "}\n", "connector.title: is 31 characters"},
		"no triggers":    {"connector: {title: t, description: " + strings.Repeat("d", 40) + "}\n", "triggers: at least one"},
		"bad name":       {base + "  - {name: Order, operationId: A, summary: When a, description: This operation triggers when a, schema: {type: object}}\n", "triggers[0].name"},
		"bad summary":    {base + "  - {name: a, operationId: A, summary: On a, description: This operation triggers when a, schema: {type: object}}\n", "triggers[0].summary"},
		"bad mode":       {base + "  - {name: a, operationId: A, summary: When a, description: This operation triggers when a, mode: many, schema: {type: object}}\n", "triggers[0].mode"},
		"missing schema": {base + "  - {name: a, operationId: A, summary: When a, description: This operation triggers when a}\n", "triggers[0].schema: is required"},
		"oneOf":          {base + "  - {name: a, operationId: A, summary: When a, description: This operation triggers when a, schema: {oneOf: []}}\n", "keyword \"oneOf\""},
		"filter path":    {base + "  - {name: a, operationId: A, summary: When a, description: This operation triggers when a, schema: {type: object}, filters: [{name: s, summary: S, description: d}]}\n", "filters[0].path"},
		"dup op":         {base + "  - {name: a, operationId: A, summary: When a, description: This operation triggers when a, schema: {type: object}}\n  - {name: b, operationId: A, summary: When b, description: This operation triggers when b, schema: {type: object}}\n", "triggers[1].operationId"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := catalog.Parse([]byte(tc.yaml), "x.yaml")
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
		})
	}
}

const base = "connector: {title: t, description: a connector description long enough}\ntriggers:\n"

func TestBatchDefaults(t *testing.T) {
	t.Parallel()
	c, err := catalog.Parse([]byte(base+"  - {name: a, operationId: A, summary: When a, description: This operation triggers when a, mode: batch, schema: {type: object}}\n"), "x.yaml")
	require.NoError(t, err)
	tr, _ := c.Trigger("a")
	require.Equal(t, catalog.BatchSizeDefault, tr.Batch.Size)
	require.Equal(t, catalog.Duration(catalog.BatchWindowDefault), tr.Batch.Window)
}

func TestKinds(t *testing.T) {
	t.Parallel()
	demo := catalog.Demo()
	for _, name := range []string{"order.created", "order.updated"} {
		tr, _ := demo.Trigger(name)
		require.Equal(t, []catalog.Kind{catalog.KindWebhook, catalog.KindPolling}, tr.Kinds, name)
		require.True(t, tr.Offers(catalog.KindWebhook))
		require.True(t, tr.Offers(catalog.KindPolling))
	}
	created, _ := demo.Trigger("order.created")
	require.Equal(t, "OrderCreatedPoll", created.PollingOperationID())
	require.Equal(t, "When an order is created (polling)", created.PollingSummary())
	require.True(t, strings.HasPrefix(created.PollingDescription(), created.Description+" "))

	// No kinds means webhook only.
	c, err := catalog.Parse([]byte(base+"  - {name: a, operationId: A, summary: When a, description: This operation triggers when a, schema: {type: object}}\n"), "x.yaml")
	require.NoError(t, err)
	tr, _ := c.Trigger("a")
	require.Equal(t, []catalog.Kind{catalog.KindWebhook}, tr.Kinds)
	require.False(t, tr.Offers(catalog.KindPolling))

	// Polling only is allowed.
	c, err = catalog.Parse([]byte(base+"  - {name: a, operationId: A, summary: When a, description: This operation triggers when a, kinds: [polling], schema: {type: object}}\n"), "x.yaml")
	require.NoError(t, err)
	tr, _ = c.Trigger("a")
	require.False(t, tr.Offers(catalog.KindWebhook))
	require.True(t, tr.Offers(catalog.KindPolling))
}

func TestKindErrors(t *testing.T) {
	t.Parallel()
	trig := func(name, op, extra string) string {
		return "  - {name: " + name + ", operationId: " + op + ", summary: When " + name + ", description: This operation triggers when " + name + ", schema: {type: object}" + extra + "}\n"
	}
	for name, tc := range map[string]struct{ yaml, want string }{
		"unknown kind": {base + trig("a", "A", ", kinds: [push]"), `triggers[0].kinds[0]: "push" is not a kind`},
		"twice":        {base + trig("a", "A", ", kinds: [polling, polling]"), `triggers[0].kinds[1]: "polling" is listed twice`},
		"derived clash": {base + trig("a", "A", ", kinds: [webhook, polling]") + trig("b", "APoll", ""),
			`triggers[0].kinds: polling needs the operationId "APoll"`},
		"long polling summary": {base + "  - {name: a, operationId: A, summary: When " + strings.Repeat("a", 70) + ", description: This operation triggers when a, kinds: [polling], schema: {type: object}}\n",
			"triggers[0].summary: is 75 characters; at most 70"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := catalog.Parse([]byte(tc.yaml), "x.yaml")
			require.ErrorContains(t, err, tc.want)
		})
	}
}
