package tracing

import (
	"context"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

func envOf(m map[string]string) Env {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// Spans are exported only when an OTLP endpoint is set and nothing turns
// the SDK off; what Shop cannot honour is refused, naming the variable.
func TestExportingFollowsTheStandardEnvironment(t *testing.T) {
	for _, c := range []struct {
		env     map[string]string
		want    bool
		wantErr string
	}{
		{env: nil, want: false},
		{env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, want: true},
		{env: map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4318/v1/traces"}, want: true},
		{env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_SDK_DISABLED": "true"}, want: false},
		{env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_TRACES_EXPORTER": "none"}, want: false},
		{env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_TRACES_EXPORTER": "zipkin"}, wantErr: "OTEL_TRACES_EXPORTER"},
		{env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, wantErr: "OTEL_EXPORTER_OTLP_PROTOCOL"},
		{env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"}, want: true},
	} {
		got, err := exporting(envOf(c.env))
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("%v: error %v, want one naming %s", c.env, err, c.wantErr)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%v: exporting = %v, %v; want %v", c.env, got, err, c.want)
		}
	}
}

// Without an endpoint spans record nothing but still have IDs, and a
// caller's trace goes on through them.
func TestDisabledStillPropagates(t *testing.T) {
	tr, err := New(context.Background(), "order", "dev", envOf(nil), nil)
	if err != nil || tr.Exporting {
		t.Fatalf("New without endpoint: %v, exporting %v", err, tr.Exporting)
	}
	const parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	ctx, span := tr.Tracer().Start(WithRemoteParent(context.Background(), parent), "x")
	defer span.End()
	if span.IsRecording() {
		t.Error("a disabled tracer records")
	}
	sc := trace.SpanContextFromContext(ctx)
	if sc.TraceID().String() != "0af7651916cd43dd8448eb211c80319c" || sc.SpanID().String() == "b7ad6b7169203331" {
		t.Errorf("span %v: want the caller's trace and a span ID of its own", sc)
	}
	got := Traceparent(ctx)
	if p, ok := Parse(got); !ok || p.TraceID() != sc.TraceID() || p.SpanID() != sc.SpanID() {
		t.Errorf("Traceparent %q does not parse back to %v", got, sc)
	}
	if _, ok := Parse("00-zz-1-01"); ok {
		t.Error("an invalid traceparent parsed")
	}
}

// A request's server span is sampled by the root sampler whatever the
// caller's traceparent says (a browser cannot make every service record,
// nor hide, its requests), while a consumed event's span follows its
// parent's decision, so a recorded order stays recorded across services.
func TestServerSpansDoNotTakeTheCallersSampledFlag(t *testing.T) {
	const (
		sampled    = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
		notSampled = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"
	)
	for _, c := range []struct {
		sampler, arg, parent string
		kind                 trace.SpanKind
		want                 bool
	}{
		{"parentbased_traceidratio", "0", sampled, trace.SpanKindServer, false},
		{"parentbased_traceidratio", "0", sampled, trace.SpanKindConsumer, true},
		{"parentbased_traceidratio", "0", sampled, trace.SpanKindInternal, true},
		{"parentbased_always_on", "", notSampled, trace.SpanKindServer, true},
		{"parentbased_always_on", "", notSampled, trace.SpanKindConsumer, false},
		{"", "", notSampled, trace.SpanKindServer, true},
		{"parentbased_always_off", "", sampled, trace.SpanKindServer, false},
		{"traceidratio", "1", notSampled, trace.SpanKindConsumer, true},
		{"always_off", "", sampled, trace.SpanKindConsumer, false},
	} {
		s, err := sampler(envOf(map[string]string{"OTEL_TRACES_SAMPLER": c.sampler, "OTEL_TRACES_SAMPLER_ARG": c.arg}))
		if err != nil {
			t.Fatalf("%s: %v", c.sampler, err)
		}
		p := sdktrace.NewTracerProvider(sdktrace.WithSampler(s))
		_, span := p.Tracer("t").Start(WithRemoteParent(context.Background(), c.parent), "x", trace.WithSpanKind(c.kind))
		if got := span.IsRecording(); got != c.want {
			t.Errorf("%s(%s), parent %s, %v span: recording = %v, want %v", c.sampler, c.arg, c.parent[53:], c.kind, got, c.want)
		}
		span.End()
	}
	for _, bad := range []map[string]string{
		{"OTEL_TRACES_SAMPLER": "jaeger_remote"},
		{"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "1.5"},
	} {
		if _, err := sampler(envOf(bad)); err == nil || !strings.Contains(err.Error(), "OTEL_TRACES_SAMPLER") {
			t.Errorf("%v: error %v, want one naming the variable", bad, err)
		}
	}
}
