package metric_test

import (
	"testing"
	"time"

	"github.com/triggerd/triggerd/internal/metric"
)

// BenchmarkPerDelivery is what the metrics add to one event published one
// per request and delivered once: the publish request counted and timed,
// the event counted, the attempt counted and timed, its latency observed.
// Beside the server's CPU per delivery in `triggerd bench` (about 0.5 ms),
// it says what share the metrics can take, without the bench's noise.
func BenchmarkPerDelivery(b *testing.B) {
	m := metric.New(nil)
	b.ReportAllocs()
	for b.Loop() {
		m.HTTPRequest("POST /v1/events", 202, 900*time.Microsecond)
		m.EventPublished("order.created")
		m.Attempt("order.created", "delivered", 700*time.Microsecond)
		m.Delivered("order.created", 2*time.Millisecond)
	}
}
