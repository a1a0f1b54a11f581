package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"
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
