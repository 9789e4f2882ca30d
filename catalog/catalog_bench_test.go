package catalog_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/triggerd/triggerd/catalog"
)

// benchOrder is the order every triggerd benchmark publishes (about 120
// bytes), so per-event costs here add up to the figures of `triggerd bench`.
var benchOrder = []byte(`{"id":123,"order_key":"wc_order_123","status":"processing","currency":"EUR","date_created":"2026-11-27T12:00:00Z","total":42.5}`)

// BenchmarkValidateData is the schema check every published event passes
// before a transaction opens.
func BenchmarkValidateData(b *testing.B) {
	tr, _ := catalog.Demo().Trigger("order.created")
	b.ReportAllocs()
	b.SetBytes(int64(len(benchOrder)))
	for b.Loop() {
		if err := tr.ValidateData(benchOrder); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkValidateDataInvalid is the cost of refusing an event, error
// message included.
func BenchmarkValidateDataInvalid(b *testing.B) {
	tr, _ := catalog.Demo().Trigger("order.created")
	bad := bytes.Replace(benchOrder, []byte(`"id":123`), []byte(`"id":"123"`), 1)
	b.ReportAllocs()
	for b.Loop() {
		if err := tr.ValidateData(bad); err == nil {
			b.Fatal("a string id must be refused")
		}
	}
}

// BenchmarkMatch matches one event against the filters of many
// subscriptions, as publishing does for a filtered trigger: the data is
// decoded once per event (as internal/publish does), then matched per
// subscription. Half the subscriptions filter on the event's status.
func BenchmarkMatch(b *testing.B) {
	tr, _ := catalog.Demo().Trigger("order.updated")
	for _, subs := range []int{1, 1000} {
		filters := make([]map[string]string, subs)
		for i := range filters {
			switch i % 4 {
			case 0:
				filters[i] = map[string]string{"status": "processing"} // matches
			case 1:
				filters[i] = map[string]string{"status": "completed"} // does not
			default:
				filters[i] = map[string]string{} // no filter set: matches
			}
		}
		b.Run(fmt.Sprintf("subscriptions=%d", subs), func(b *testing.B) {
			b.ReportAllocs()
			matched := 0
			for b.Loop() {
				var data map[string]any
				dec := json.NewDecoder(bytes.NewReader(benchOrder))
				dec.UseNumber()
				if err := dec.Decode(&data); err != nil {
					b.Fatal(err)
				}
				matched = 0
				for _, f := range filters {
					if tr.Match(f, data) {
						matched++
					}
				}
			}
			if want := subs - subs/4; matched != want {
				b.Fatalf("%d of %d subscriptions matched, want %d", matched, subs, want)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(subs), "ns/subscription")
		})
	}
}
