package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/trace"
)

func TestLoggerAddsContextIDs(t *testing.T) {
	var buf bytes.Buffer
	log := New(&buf, slog.LevelInfo, "inventory").With("component", "test")

	ctx := WithCorrelationID(WithRequestID(context.Background(), "req-1"), "order-9")
	ctx = WithCausationID(ctx, "evt-3")
	log.InfoContext(ctx, "reserved", "lines", 2)

	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("not JSON: %v: %s", err, buf.String())
	}
	want := map[string]any{"service": "inventory", "component": "test", "request_id": "req-1",
		"correlation_id": "order-9", "event_id": "evt-3", "msg": "reserved", "level": "INFO"}
	for k, v := range want {
		if rec[k] != v {
			t.Errorf("%s = %v, want %v", k, rec[k], v)
		}
	}
}

func TestLoggerOmitsMissingIDsAndHonoursLevel(t *testing.T) {
	var buf bytes.Buffer
	log := New(&buf, slog.LevelWarn, "order")
	log.Info("dropped")
	log.Warn("kept")

	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("want exactly one JSON line, got %q", buf.String())
	}
	if _, ok := rec["request_id"]; ok {
		t.Errorf("request_id present without one in context: %v", rec)
	}
}

func TestParseLevel(t *testing.T) {
	for in, want := range map[string]slog.Level{"debug": slog.LevelDebug, "INFO": slog.LevelInfo, " warn ": slog.LevelWarn, "error": slog.LevelError} {
		got, err := ParseLevel(in)
		if err != nil || got != want {
			t.Errorf("ParseLevel(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseLevel("loud"); err == nil {
		t.Error("ParseLevel(loud) accepted")
	}
}

// A consumer's line names the trace, the span, the order and the message,
// from the context alone; a key the call site names itself is not doubled.
func TestLoggerAddsTraceOrderAndMessage(t *testing.T) {
	var buf bytes.Buffer
	log := New(&buf, slog.LevelInfo, "payment")
	sc := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{0x0a, 0xf7, 1}, SpanID: trace.SpanID{0xb7, 2}, TraceFlags: trace.FlagsSampled})
	ctx := trace.ContextWithSpanContext(context.Background(), sc)
	ctx = WithOrderID(WithCausationID(ctx, "evt-1"), "order-1")
	ctx = WithEvent(ctx, Event{Topic: "inventory.events", Partition: 3, Offset: 42, ID: "evt-1", Type: "INVENTORY_RESERVED"})
	log.InfoContext(ctx, "event handled", "order_id", "order-1")

	if n := strings.Count(buf.String(), `"order_id"`); n != 1 {
		t.Errorf("order_id written %d times: %s", n, buf.String())
	}
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"trace_id": sc.TraceID().String(), "span_id": sc.SpanID().String(), "order_id": "order-1",
		"topic": "inventory.events", "partition": 3.0, "offset": 42.0, "event_id": "evt-1", "event_type": "INVENTORY_RESERVED"}
	for k, v := range want {
		if rec[k] != v {
			t.Errorf("%s = %v, want %v", k, rec[k], v)
		}
	}
}

// A request learns its order while it runs (SetOrderID in its scope), and
// lines logged after, like the access log's, name it; the first order
// learnt stays.
func TestScopeLearnsTheOrderOnce(t *testing.T) {
	ctx := WithScope(context.Background())
	if OrderID(ctx) != "" {
		t.Fatal("order before any was set")
	}
	SetOrderID(ctx, "order-1")
	SetOrderID(ctx, "order-2")
	if got := OrderID(ctx); got != "order-1" {
		t.Errorf("OrderID = %q, want order-1", got)
	}
	SetOrderID(context.Background(), "order-3") // no scope: nothing to do, no panic
}
