package main

import (
	"context"
	"fmt"
	"os"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/triggerd/triggerd"
)

// otlpEnv are the standard variables that name where traces go
// (https://opentelemetry.io/docs/specs/otel/protocol/exporter/); tracing is
// off unless one is set.
var otlpEnv = []string{"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"}

// newTracerProvider exports spans over OTLP/HTTP when the OTEL_* environment
// asks for it (endpoint, headers, sampler, service name and resource are all
// read from it by the SDK), and returns nil otherwise.
func newTracerProvider(ctx context.Context) (*sdktrace.TracerProvider, error) {
	on := false
	for _, k := range otlpEnv {
		on = on || os.Getenv(k) != ""
	}
	if !on || os.Getenv("OTEL_SDK_DISABLED") == "true" || os.Getenv("OTEL_TRACES_EXPORTER") == "none" {
		return nil, nil
	}
	exp, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("traces: OTLP exporter from the OTEL_* environment: %w", err)
	}
	// service.name first, so OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES
	// override it.
	res, err := resource.New(ctx,
		resource.WithAttributes(attribute.String("service.name", "triggerd"), attribute.String("service.version", triggerd.Version)),
		resource.WithFromEnv(), resource.WithHost())
	if err != nil {
		return nil, fmt.Errorf("traces: resource: %w", err)
	}
	return sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res)), nil
}
