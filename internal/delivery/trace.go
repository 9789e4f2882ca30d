package delivery

import (
	"context"
	"net/http"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/triggerd/triggerd/internal/store"
)

// w3c is the W3C Trace Context format (https://www.w3.org/TR/trace-context/)
// of the traceparent header and of the publishing span kept in a job.
var w3c = propagation.TraceContext{}

// traceparent is sc as a traceparent value; empty when sc is not valid.
func traceparent(sc trace.SpanContext) string {
	if !sc.IsValid() {
		return ""
	}
	carrier := propagation.MapCarrier{}
	w3c.Inject(trace.ContextWithSpanContext(context.Background(), sc), carrier)
	return carrier.Get("traceparent")
}

// linkOf reads a traceparent kept in a job back into a span context.
func linkOf(tp string) trace.SpanContext {
	if tp == "" {
		return trace.SpanContext{}
	}
	return trace.SpanContextFromContext(w3c.Extract(context.Background(), propagation.MapCarrier{"traceparent": tp}))
}

// propagateTrace puts the span of ctx on an outbound POST.
func propagateTrace(ctx context.Context, h http.Header) {
	w3c.Inject(ctx, propagation.HeaderCarrier(h))
}

// startAttemptSpan starts the span of one attempt, a new trace linked to the
// publishing span (an attempt can run hours after its publish, so it is not
// a child). It never names the callback URL.
func (e *riverEngine) startAttemptSpan(ctx context.Context, link trace.SpanContext, subscriptionID, trigger, messageID string, number int) (context.Context, trace.Span) {
	if !e.tracing {
		// Tracing off: no allocation on the hot path.
		return ctx, trace.SpanFromContext(ctx)
	}
	opts := []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindClient), trace.WithNewRoot(), trace.WithAttributes(
		attribute.String("triggerd.trigger", trigger),
		attribute.String("triggerd.subscription_id", subscriptionID),
		attribute.String("triggerd.webhook_id", messageID),
		attribute.Int("triggerd.attempt", number),
	)}
	if link.IsValid() {
		opts = append(opts, trace.WithLinks(trace.Link{SpanContext: link}))
	}
	return e.cfg.Tracer.Start(ctx, "triggerd.deliver", opts...)
}

// endAttemptSpan records the attempt's result on its span and ends it.
func endAttemptSpan(span trace.Span, o outcome) {
	if !span.IsRecording() {
		span.End()
		return
	}
	a := o.record.Attempt
	span.SetAttributes(attribute.Int("http.response.status_code", a.Status), attribute.String("triggerd.outcome", string(a.Outcome)),
		attribute.StringSlice("triggerd.event_ids", a.EventIDs))
	if a.Outcome != store.AttemptDelivered {
		span.SetStatus(codes.Error, a.Error)
	}
	span.End()
}
