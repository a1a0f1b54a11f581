package web

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/shop-oss/shop/pkg/logging"
)

// A request runs in a server span that continues the caller's trace, and
// its access log line names that trace and span and the order its route
// names.
func TestRequestSpanContinuesTheCallersTraceAndIsLogged(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	var logs bytes.Buffer
	e, err := NewEngine(Options{
		Logger: logging.New(&logs, slog.LevelInfo, "order"),
		Tracer: sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec)).Tracer("test"),
	})
	if err != nil {
		t.Fatal(err)
	}
	e.GET("/api/v1/orders/:id", func(c *gin.Context) { c.Status(http.StatusNoContent) })

	const order = "0190f5a8-0000-7000-8000-000000000001"
	req := httptest.NewRequest(http.MethodGet, "/api/v1/orders/"+order, nil)
	req.Header.Set("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
	e.ServeHTTP(httptest.NewRecorder(), req)

	spans := rec.Ended()
	if len(spans) != 1 {
		t.Fatalf("%d spans, want 1", len(spans))
	}
	s := spans[0]
	if s.Name() != "GET /api/v1/orders/:id" || s.SpanContext().TraceID().String() != "0af7651916cd43dd8448eb211c80319c" ||
		s.Parent().SpanID().String() != "b7ad6b7169203331" {
		t.Fatalf("span %q in trace %v with parent %v", s.Name(), s.SpanContext().TraceID(), s.Parent().SpanID())
	}
	var line map[string]any
	if err := json.Unmarshal(logs.Bytes(), &line); err != nil {
		t.Fatalf("access log: %v: %s", err, logs.String())
	}
	if line["trace_id"] != s.SpanContext().TraceID().String() || line["span_id"] != s.SpanContext().SpanID().String() ||
		line["order_id"] != order {
		t.Errorf("access log line %v: want the span's trace and span IDs and order_id %s", line, order)
	}
}

// Probes and scrapes are not traced: they would be most of the traces, one
// span each. The shop's own routes still are.
func TestOperationalRoutesAreNotTraced(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	e, err := NewEngine(Options{
		Logger: logging.New(&bytes.Buffer{}, slog.LevelInfo, "order"),
		Tracer: sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec)).Tracer("test"),
	})
	if err != nil {
		t.Fatal(err)
	}
	NewHealth(nil, time.Second, nil).Mount(e, prometheus.NewRegistry())
	e.GET("/api/v1/orders", func(c *gin.Context) { c.Status(http.StatusNoContent) })
	for _, path := range []string{"/healthz", "/readyz", "/metrics", "/api/v1/orders"} {
		res := httptest.NewRecorder()
		e.ServeHTTP(res, httptest.NewRequest(http.MethodGet, path, nil))
		if res.Code >= 300 {
			t.Fatalf("GET %s: %d", path, res.Code)
		}
	}
	var names []string
	for _, s := range rec.Ended() {
		names = append(names, s.Name())
	}
	if len(names) != 1 || names[0] != "GET /api/v1/orders" {
		t.Errorf("spans %v, want only GET /api/v1/orders", names)
	}
}
