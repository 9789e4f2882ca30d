package triggerd_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd"
	"github.com/triggerd/triggerd/catalog"
)

const batchCatalog = `
connector:
  title: Batch Store
  description: A store whose stock changes arrive in batches, for the batch-mode tests.
triggers:
  - name: stock.changed
    operationId: StockChanged
    summary: When stock changes
    description: This operation triggers when the stock of products changes.
    mode: batch
    batch: {size: 3, window: 300ms}
    schema:
      type: object
      required: [sku]
      properties:
        sku: {type: string, description: Product}
        warehouse: {type: string, description: Warehouse}
    filters:
      - name: warehouse
        summary: Warehouse
        description: Only changes in this warehouse.
`

func TestBatchMode(t *testing.T) {
	t.Parallel()
	backends(t, testBatchMode)
}

func testBatchMode(t *testing.T, postgres bool) {
	cat, err := catalog.Parse([]byte(batchCatalog), "batch.yaml")
	require.NoError(t, err)
	b := setup(t, &setupOpts{postgres: postgres, cfg: triggerd.Config{Catalog: cat}})
	rc := newReceiver(t, nil)
	sub, _ := b.register(t, "stock.changed", rc.URL+"/batch", map[string]string{"warehouse": "north"})

	events := make([]map[string]any, 0, 8)
	for _, sku := range []string{"a", "b", "c", "d", "e", "f", "g"} {
		events = append(events, map[string]any{"type": "stock.changed", "data": map[string]any{"sku": sku, "warehouse": "north"}})
	}
	events = append(events, map[string]any{"type": "stock.changed", "data": map[string]any{"sku": "x", "warehouse": "south"}})
	published := time.Now()
	b.publish(t, events)

	wh, err := standardwebhooks.NewWebhook(sub.Secret)
	require.NoError(t, err)
	var (
		skus    []string
		batches [][]string
		partial received // the one batch that is not full
	)
	for len(skus) < 7 {
		got := rc.next(t)
		require.NoError(t, wh.Verify(got.Body, got.Header))
		require.True(t, strings.HasPrefix(got.Header.Get("webhook-id"), "bat_"))
		var items []struct{ SKU string }
		require.NoError(t, json.Unmarshal(got.Body, &items), "a batch is a JSON array")
		require.LessOrEqual(t, len(items), 3, "a batch holds at most its size")
		var batch []string
		for _, it := range items {
			batch = append(batch, it.SKU)
		}
		require.True(t, slices.IsSorted(batch), "events keep their order inside a batch: %v", batch)
		batches = append(batches, batch)
		skus = append(skus, batch...)
		if len(batch) < 3 {
			partial = got
		}
	}
	// Batches are concurrent deliveries: they may arrive in any order (no
	// per-subscription FIFO is promised), but each event comes exactly once.
	slices.Sort(skus)
	require.Equal(t, []string{"a", "b", "c", "d", "e", "f", "g"}, skus, "every event once; the filtered one never")
	require.Len(t, batches, 3)
	require.NotNil(t, partial.Header, "one batch is partial")
	require.GreaterOrEqual(t, partial.At.Sub(published), 300*time.Millisecond, "an incomplete batch waits for its window")

	detail := b.waitAttempts(t, sub.ID, 3)
	var sizes []int
	for _, a := range detail.Attempts {
		sizes = append(sizes, len(a.EventIDs))
	}
	require.ElementsMatch(t, []int{3, 3, 1}, sizes, "each attempt records the events of its batch")
}
