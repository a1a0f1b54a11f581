// Package logging builds the JSON slog logger every service uses and carries
// what a log line should name in a context.Context, so that a line written
// anywhere below an HTTP request or an event handler names the request, the
// trace and span, the order, and the event being handled, without the call
// site passing them:
//
//	service, request_id, correlation_id, trace_id, span_id, order_id,
//	topic, partition, offset, event_id, event_type
//
// The HTTP middleware (package web) and the consumer (package consumer) put
// them in the context; trace_id and span_id are those of the OpenTelemetry
// span in the context (package tracing). The IDs travel between processes as
// HTTP headers (X-Request-ID, X-Correlation-ID, traceparent) and as Kafka
// headers (see package event).
package logging

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"

	"go.opentelemetry.io/otel/trace"
)

// HTTP header names for the IDs.
const (
	HeaderRequestID     = "X-Request-ID"
	HeaderCorrelationID = "X-Correlation-ID"
)

type ctxKey int

const (
	keyRequestID ctxKey = iota
	keyCorrelationID
	keyCausationID
	keyOrderID
	keyScope
	keyEvent
)

// WithRequestID returns ctx carrying the request ID.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, keyRequestID, id)
}

// RequestID returns the request ID in ctx, or "".
func RequestID(ctx context.Context) string { return str(ctx, keyRequestID) }

// WithCorrelationID returns ctx carrying the correlation ID: the ID that ties
// together everything done for one business flow (the order ID in a saga).
func WithCorrelationID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, keyCorrelationID, id)
}

// CorrelationID returns the correlation ID in ctx, or "".
func CorrelationID(ctx context.Context) string { return str(ctx, keyCorrelationID) }

// WithCausationID returns ctx carrying the ID of the event being handled;
// events emitted while handling it name it as their cause.
func WithCausationID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, keyCausationID, id)
}

// CausationID returns the causation ID in ctx, or "".
func CausationID(ctx context.Context) string { return str(ctx, keyCausationID) }

// WithOrderID returns ctx carrying the ID of the order the work is for
// (logged as order_id).
func WithOrderID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, keyOrderID, id)
}

// OrderID returns the order ID in ctx: the one WithOrderID set, else the
// one SetOrderID recorded in its scope, else "".
func OrderID(ctx context.Context) string {
	if id := str(ctx, keyOrderID); id != "" {
		return id
	}
	if sc, ok := ctx.Value(keyScope).(*scope); ok {
		if id := sc.orderID.Load(); id != nil {
			return *id
		}
	}
	return ""
}

// scope holds what a request learns about itself while it runs (the order
// it turns out to be about), for the lines logged after, the access log
// line included.
type scope struct{ orderID atomic.Pointer[string] }

// WithScope returns ctx with a scope that SetOrderID can fill in later:
// the HTTP middleware opens one per request.
func WithScope(ctx context.Context) context.Context {
	return context.WithValue(ctx, keyScope, new(scope))
}

// SetOrderID records the order a request is about in ctx's scope (see
// WithScope), unless an order ID is already known; outside a scope it does
// nothing. Package event calls it when an order's event is made, so a
// request that places or pays an order logs its ID from then on.
func SetOrderID(ctx context.Context, id string) {
	if id == "" || str(ctx, keyOrderID) != "" {
		return
	}
	if sc, ok := ctx.Value(keyScope).(*scope); ok {
		sc.orderID.CompareAndSwap(nil, &id)
	}
}

// Event names the Kafka message being handled.
type Event struct {
	Topic     string
	Partition int
	Offset    int64
	ID, Type  string
}

// WithEvent returns ctx carrying the message being handled (logged as
// topic, partition, offset, event_id and event_type).
func WithEvent(ctx context.Context, e Event) context.Context {
	return context.WithValue(ctx, keyEvent, &e)
}

func str(ctx context.Context, k ctxKey) string {
	s, _ := ctx.Value(k).(string)
	return s
}

// New returns a JSON logger writing to w at level, tagged with the service
// name, that adds the IDs found in the context of each record.
func New(w io.Writer, level slog.Level, service string) *slog.Logger {
	h := slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})
	return slog.New(contextHandler{h}).With(slog.String("service", service))
}

// ParseLevel parses debug, info, warn or error (any case).
func ParseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.TrimSpace(s))); err != nil {
		return 0, fmt.Errorf("log level %q: want debug, info, warn or error", s)
	}
	return l, nil
}

// contextHandler adds what a record's context carries as attributes,
// except those the record names itself.
type contextHandler struct{ slog.Handler }

func (h contextHandler) Handle(ctx context.Context, r slog.Record) error {
	if ctx == nil {
		return h.Handler.Handle(ctx, r)
	}
	var (
		attrs [12]slog.Attr
		n     int
	)
	add := func(a slog.Attr) {
		if n < len(attrs) && !hasAttr(r, a.Key) {
			attrs[n] = a
			n++
		}
	}
	if id := RequestID(ctx); id != "" {
		add(slog.String("request_id", id))
	}
	if id := CorrelationID(ctx); id != "" {
		add(slog.String("correlation_id", id))
	}
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		add(slog.String("trace_id", sc.TraceID().String()))
		add(slog.String("span_id", sc.SpanID().String()))
	}
	if id := OrderID(ctx); id != "" {
		add(slog.String("order_id", id))
	}
	if e, ok := ctx.Value(keyEvent).(*Event); ok {
		add(slog.String("topic", e.Topic))
		add(slog.Int("partition", e.Partition))
		add(slog.Int64("offset", e.Offset))
		add(slog.String("event_id", e.ID))
		add(slog.String("event_type", e.Type))
	} else if id := CausationID(ctx); id != "" {
		add(slog.String("event_id", id))
	}
	r.AddAttrs(attrs[:n]...)
	return h.Handler.Handle(ctx, r)
}

// hasAttr reports whether r names key at its top level.
func hasAttr(r slog.Record, key string) bool {
	found := false
	r.Attrs(func(a slog.Attr) bool {
		found = a.Key == key
		return !found
	})
	return found
}

func (h contextHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return contextHandler{h.Handler.WithAttrs(attrs)}
}

func (h contextHandler) WithGroup(name string) slog.Handler {
	return contextHandler{h.Handler.WithGroup(name)}
}
