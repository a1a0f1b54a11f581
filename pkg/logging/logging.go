// Package logging builds the JSON slog logger every service uses and carries
// the request, correlation and causation IDs in a context.Context, so that a
// log line written anywhere below an HTTP request or an event handler names
// the request and the saga it belongs to.
//
// The IDs travel between processes as HTTP headers (X-Request-ID,
// X-Correlation-ID, traceparent) and as Kafka headers (see package event).
package logging

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// HTTP header names for the IDs.
const (
	HeaderRequestID     = "X-Request-ID"
	HeaderCorrelationID = "X-Correlation-ID"
	HeaderTraceparent   = "traceparent"
)

type ctxKey int

const (
	keyRequestID ctxKey = iota
	keyCorrelationID
	keyCausationID
	keyTraceparent
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

// WithTraceparent returns ctx carrying a W3C traceparent, passed through
// unchanged so that a tracer added later sees one trace per saga.
func WithTraceparent(ctx context.Context, tp string) context.Context {
	return context.WithValue(ctx, keyTraceparent, tp)
}

// Traceparent returns the W3C traceparent in ctx, or "".
func Traceparent(ctx context.Context) string { return str(ctx, keyTraceparent) }

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

// contextHandler adds the IDs carried by a record's context as attributes.
type contextHandler struct{ slog.Handler }

func (h contextHandler) Handle(ctx context.Context, r slog.Record) error {
	if ctx != nil {
		if id := RequestID(ctx); id != "" {
			r.AddAttrs(slog.String("request_id", id))
		}
		if id := CorrelationID(ctx); id != "" {
			r.AddAttrs(slog.String("correlation_id", id))
		}
		if id := CausationID(ctx); id != "" {
			r.AddAttrs(slog.String("event_id", id))
		}
	}
	return h.Handler.Handle(ctx, r)
}

func (h contextHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return contextHandler{h.Handler.WithAttrs(attrs)}
}

func (h contextHandler) WithGroup(name string) slog.Handler {
	return contextHandler{h.Handler.WithGroup(name)}
}
