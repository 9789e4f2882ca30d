package triggerd_test

import (
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/triggerd/triggerd"
)

func spansNamed(sr *tracetest.SpanRecorder, name string) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range sr.Ended() {
		if s.Name() == name {
			out = append(out, s)
		}
	}
	return out
}

func attr(s sdktrace.ReadOnlySpan, key string) attribute.Value {
	for _, kv := range s.Attributes() {
		if string(kv.Key) == key {
			return kv.Value
		}
	}
	return attribute.Value{}
}

// TestTraces links a publish to its attempts, the fast path's first and the
// queue's retry, and carries each attempt's span to the receiver.
func TestTraces(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, postgres bool) {
		sr := tracetest.NewSpanRecorder()
		tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr))
		b := setup(t, &setupOpts{postgres: postgres, cfg: triggerd.Config{TracerProvider: tp, RetrySchedule: []time.Duration{20 * time.Millisecond}}})
		var calls atomic.Int32
		rc := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
			if calls.Add(1) == 1 {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			w.WriteHeader(http.StatusOK)
		})
		sub, _ := b.register(t, "order.created", rc.URL+"/cb?sig=traceSecretSig", nil)
		res := b.publish(t, map[string]any{"type": "order.created", "data": order(1, "new")})
		first, second := rc.next(t), rc.next(t)

		var deliver []sdktrace.ReadOnlySpan
		eventually(t, func() bool { deliver = spansNamed(sr, "triggerd.deliver"); return len(deliver) == 2 }, "two attempt spans")
		publishes := spansNamed(sr, "triggerd.publish")
		require.Len(t, publishes, 1)
		pub := publishes[0]
		// The request's span ends once its handler returned, which can be
		// after the client read the answer.
		var requests []sdktrace.ReadOnlySpan
		eventually(t, func() bool { requests = spansNamed(sr, "POST /v1/events"); return len(requests) == 1 }, "the request's span")
		require.Equal(t, requests[0].SpanContext().SpanID(), pub.Parent().SpanID(), "the publish is a child of its request")

		for i, got := range []received{first, second} {
			d := deliver[i]
			require.Len(t, d.Links(), 1)
			require.Equal(t, pub.SpanContext().TraceID(), d.Links()[0].SpanContext.TraceID(), "attempt %d links to the publish", i+1)
			require.Equal(t, pub.SpanContext().SpanID(), d.Links()[0].SpanContext.SpanID())
			require.Equal(t, sub.ID, attr(d, "triggerd.subscription_id").AsString())
			require.Equal(t, res.Events[0].ID, attr(d, "triggerd.webhook_id").AsString())
			require.Equal(t, "order.created", attr(d, "triggerd.trigger").AsString())
			require.EqualValues(t, i+1, attr(d, "triggerd.attempt").AsInt64())
			tp := got.Header.Get("traceparent")
			require.Equal(t, "00-"+d.SpanContext().TraceID().String()+"-"+d.SpanContext().SpanID().String()+"-01", tp,
				"the POST carries its attempt's span")
		}
		require.Equal(t, "retry", attr(deliver[0], "triggerd.outcome").AsString())
		require.EqualValues(t, 503, attr(deliver[0], "http.response.status_code").AsInt64())
		require.Equal(t, "delivered", attr(deliver[1], "triggerd.outcome").AsString())
		for _, s := range sr.Ended() {
			for _, kv := range s.Attributes() {
				require.NotContains(t, kv.Value.String(), "traceSecretSig", "no callback URL in any span")
			}
		}
	})
}

// TestNoTracePropagation keeps the traceparent header off the POSTs.
func TestNoTracePropagation(t *testing.T) {
	t.Parallel()
	sr := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr))
	b := setup(t, &setupOpts{cfg: triggerd.Config{TracerProvider: tp, NoTracePropagation: true}})
	rc := newReceiver(t, nil)
	b.register(t, "order.created", rc.URL+"/cb", nil)
	b.publish(t, map[string]any{"type": "order.created", "data": order(1, "new")})
	require.Empty(t, rc.next(t).Header.Get("traceparent"))
	eventually(t, func() bool { return len(spansNamed(sr, "triggerd.deliver")) == 1 }, "the attempt still has its span")
}
