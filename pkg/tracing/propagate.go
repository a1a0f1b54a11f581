package tracing

import (
	"context"
	"net/http"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// The W3C Trace Context propagator: stateless, so one value serves all.
var w3c = propagation.TraceContext{}

// Traceparent is the W3C traceparent of the span in ctx ("" without a
// valid one): what an event emitted now carries, in its outbox row and
// then in its Kafka headers.
func Traceparent(ctx context.Context) string {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return ""
	}
	return Format(sc)
}

// Format is sc as a W3C traceparent header value (version 00).
func Format(sc trace.SpanContext) string {
	tid, sid := sc.TraceID(), sc.SpanID()
	b := make([]byte, 0, 55)
	b = append(b, "00-"...)
	b = appendHex(b, tid[:])
	b = append(b, '-')
	b = appendHex(b, sid[:])
	b = append(b, '-')
	return string(appendHex(b, []byte{byte(sc.TraceFlags())}))
}

func appendHex(b, src []byte) []byte {
	const digits = "0123456789abcdef"
	for _, c := range src {
		b = append(b, digits[c>>4], digits[c&0x0f])
	}
	return b
}

// Parse reads a traceparent into a remote span context; ok is false when
// it is empty or not valid W3C Trace Context.
func Parse(traceparent string) (sc trace.SpanContext, ok bool) {
	if traceparent == "" {
		return trace.SpanContext{}, false
	}
	sc = trace.SpanContextFromContext(w3c.Extract(context.Background(), oneHeader(traceparent)))
	return sc, sc.IsValid()
}

// WithRemoteParent returns ctx with the span context of traceparent as the
// remote parent of the spans started from it (ctx itself when traceparent
// is not valid: the next span then starts a trace).
func WithRemoteParent(ctx context.Context, traceparent string) context.Context {
	sc, ok := Parse(traceparent)
	if !ok {
		return ctx
	}
	return trace.ContextWithRemoteSpanContext(ctx, sc)
}

// FromHTTP returns ctx with the remote parent that h's traceparent (and
// tracestate) name, if any.
func FromHTTP(ctx context.Context, h http.Header) context.Context {
	return w3c.Extract(ctx, propagation.HeaderCarrier(h))
}

// ToHTTP sets traceparent (and tracestate) in h for the span in ctx: for
// outgoing requests.
func ToHTTP(ctx context.Context, h http.Header) {
	w3c.Inject(ctx, propagation.HeaderCarrier(h))
}

// oneHeader is a carrier holding only a traceparent.
type oneHeader string

func (o oneHeader) Get(key string) string {
	if key == "traceparent" {
		return string(o)
	}
	return ""
}
func (oneHeader) Set(string, string) {}
func (oneHeader) Keys() []string     { return []string{"traceparent"} }
