// Package tracing sets up OpenTelemetry tracing for a service and carries
// W3C trace context (traceparent) across the places the standard
// instrumentation does not reach: an outbox row and a Kafka message.
//
// Tracing is configured by the standard OTEL_* environment. It exports
// (OTLP over HTTP, protobuf) only when OTEL_EXPORTER_OTLP_ENDPOINT or
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set; the sampler is the one
// OTEL_TRACES_SAMPLER names (default parentbased_always_on), except that a
// request's server span never takes its caller's sampled flag (see sampler). Without an
// endpoint nothing is recorded or exported, but spans still get IDs, so
// every log line names a trace and a span and a traceparent still travels
// with each request and event: logs of one flow share a trace ID either way.
package tracing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
)

// ScopeName is the instrumentation scope of Shop's own spans.
const ScopeName = "github.com/shop-oss/shop/pkg"

// Tracing is a service's tracer provider.
type Tracing struct {
	provider *sdktrace.TracerProvider
	// Exporting says spans are recorded and sent to an OTLP endpoint.
	Exporting bool
}

// Env reads a variable of the environment; os.LookupEnv in production, a
// map in tests.
type Env func(key string) (string, bool)

// New returns the tracer provider that env (nil: the process environment)
// asks for, for service at version. A setting it cannot honour (another
// exporter or protocol than OTLP over HTTP) is an error naming the
// variable.
func New(ctx context.Context, service, version string, env Env, log *slog.Logger) (*Tracing, error) {
	if env == nil {
		env = os.LookupEnv
	}
	on, err := exporting(env)
	if err != nil {
		return nil, err
	}
	if !on {
		// No exporter: a sampler that records nothing, so a span costs an
		// ID and a small allocation, and no processor.
		return &Tracing{provider: sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()))}, nil
	}
	sample, err := sampler(env)
	if err != nil {
		return nil, err
	}
	exp, err := otlptracehttp.New(ctx) // endpoint, headers, timeout, compression: OTEL_EXPORTER_OTLP_*
	if err != nil {
		return nil, fmt.Errorf("OTLP trace exporter: %w", err)
	}
	res, err := resource.New(ctx,
		resource.WithAttributes(semconv.ServiceName(service), semconv.ServiceVersion(version)),
		resource.WithFromEnv(), // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win
		resource.WithHost(),
		resource.WithProcessPID(),
	)
	if err != nil && !errors.Is(err, resource.ErrPartialResource) {
		return nil, fmt.Errorf("trace resource: %w", err)
	}
	// The batching comes from OTEL_BSP_*: the SDK reads it itself.
	p := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res), sdktrace.WithSampler(sample))
	if log != nil {
		endpoint, _ := env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
		if endpoint == "" {
			endpoint, _ = env("OTEL_EXPORTER_OTLP_ENDPOINT")
		}
		log.Info("tracing: exporting spans over OTLP/HTTP", "endpoint", endpoint, "sampler", sample.Description())
	}
	return &Tracing{provider: p, Exporting: true}, nil
}

// exporting reports whether env asks for spans to be exported.
func exporting(env Env) (bool, error) {
	if v, _ := env("OTEL_SDK_DISABLED"); strings.EqualFold(strings.TrimSpace(v), "true") {
		return false, nil
	}
	switch v, _ := env("OTEL_TRACES_EXPORTER"); strings.TrimSpace(v) {
	case "", "otlp":
	case "none":
		return false, nil
	default:
		return false, fmt.Errorf("OTEL_TRACES_EXPORTER=%q: Shop exports traces with otlp (or none)", v)
	}
	for _, k := range []string{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"} {
		if v, ok := env(k); ok && strings.TrimSpace(v) != "" {
			if strings.TrimSpace(v) != "http/protobuf" {
				return false, fmt.Errorf("%s=%q: Shop exports OTLP over HTTP (http/protobuf, port 4318), not gRPC", k, v)
			}
			break
		}
	}
	a, _ := env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
	b, _ := env("OTEL_EXPORTER_OTLP_ENDPOINT")
	return strings.TrimSpace(a) != "" || strings.TrimSpace(b) != "", nil
}

// Tracer is the tracer of Shop's spans.
func (t *Tracing) Tracer() trace.Tracer { return t.provider.Tracer(ScopeName) }

// Provider is the tracer provider, for instrumentation libraries.
func (t *Tracing) Provider() trace.TracerProvider { return t.provider }

// Shutdown exports the spans still buffered (bounded by ctx) and stops.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if err := t.provider.Shutdown(ctx); err != nil {
		return fmt.Errorf("tracing shutdown: %w", err)
	}
	return nil
}

// Disabled is a tracer provider that records nothing but still gives spans
// IDs (what New returns without an endpoint), for tests and tools that
// build a part of a service without New.
func Disabled() *Tracing {
	return &Tracing{provider: sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()))}
}

// TracerOr returns t, or a Disabled tracer when t is nil: for the optional
// Tracer fields of configuration structs.
func TracerOr(t trace.Tracer) trace.Tracer {
	if t != nil {
		return t
	}
	return disabledTracer
}

var disabledTracer = Disabled().Tracer()
