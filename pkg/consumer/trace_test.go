package consumer_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"gorm.io/gorm"

	"github.com/shop-oss/shop/pkg/bustest"
	"github.com/shop-oss/shop/pkg/consumer"
	"github.com/shop-oss/shop/pkg/event"
	"github.com/shop-oss/shop/pkg/logging"
	"github.com/shop-oss/shop/pkg/testkit"
	"github.com/shop-oss/shop/pkg/tracing"
	"github.com/shop-oss/shop/proto-events/eventsv1"
)

// syncBuffer is a log sink the consumer's workers write to concurrently.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) lines(t *testing.T) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(s.b.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", l)
		}
		out = append(out, m)
	}
	return out
}

// An event handled continues the trace of the span that emitted it, the
// events its handler emits continue the handler's span, and the line
// logged for it names the trace, the order and the message. A replay of a
// dead letter is handled in the replay's trace, linked to the original.
func TestHandlingContinuesTheEventsTraceAndLogsIt(t *testing.T) {
	env := bustest.New(t)
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	tracer := tp.Tracer("test")
	var logs syncBuffer
	log := logging.New(&logs, slog.LevelInfo, "inventory")

	var (
		mu      sync.Mutex
		emitted = map[string]event.Event{} // by the handled event's ID
	)
	handle := func(ctx context.Context, tx *gorm.DB, e event.Event) error {
		out, err := event.New(ctx, e.Key, &eventsv1.InventoryReserved{OrderId: e.Key})
		if err != nil {
			return err
		}
		mu.Lock()
		emitted[e.ID.String()] = out
		mu.Unlock()
		return nil
	}
	cfg := consumer.Config{Group: bustest.Group, Topics: []string{eventsv1.TopicOrder}, RetryTopic: bustest.RetryTopic, Tracer: tracer}
	c := consumer.New(env.DB, env.Config, cfg, log, prometheus.NewRegistry())
	c.Handle(eventsv1.TypeOrderCreated, handle)
	env.Run(t, "consumer", c.Run)

	// The producer: a span of the order service's request.
	_, producer := tracer.Start(context.Background(), "POST /api/v1/orders")
	producer.End()
	order := "0190f5a8-0000-7000-8000-0000000000aa"
	e := bustest.OrderEvent(t, order, 1)
	e.Traceparent = tracing.Format(producer.SpanContext())

	// A replay: the admin's request traces it, and the original trace is
	// named in its header.
	_, original := tracer.Start(context.Background(), "the trace the event failed in")
	original.End()
	_, replay := tracer.Start(context.Background(), "test.retry publish")
	replay.End()
	r := bustest.OrderEvent(t, "0190f5a8-0000-7000-8000-0000000000bb", 2)
	r.Traceparent = tracing.Format(replay.SpanContext())
	rm := r.Message()
	rm.Topic = bustest.RetryTopic
	rm.Headers = append(rm.Headers,
		kafka.Header{Key: consumer.HeaderReplayedTopic, Value: []byte(eventsv1.TopicOrder)},
		kafka.Header{Key: consumer.HeaderReplayedTraceparent, Value: []byte(tracing.Format(original.SpanContext()))})

	env.Produce(t, e.Message(), rm)
	testkit.Eventually(t, 30*time.Second, "both events handled", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(emitted) == 2
	})

	var handled []sdktrace.ReadOnlySpan
	for _, s := range rec.Ended() {
		if s.Name() == eventsv1.TypeOrderCreated+" process" {
			handled = append(handled, s)
		}
	}
	if len(handled) != 2 {
		t.Fatalf("%d handling spans, want 2: %v", len(handled), rec.Ended())
	}
	for _, s := range handled {
		switch s.Parent().SpanID() {
		case producer.SpanContext().SpanID():
			if s.SpanContext().TraceID() != producer.SpanContext().TraceID() || len(s.Links()) != 0 {
				t.Errorf("handling span %v is not in the producer's trace alone", s.SpanContext())
			}
			if got := emitted[e.ID.String()].Traceparent; got != tracing.Format(s.SpanContext()) {
				t.Errorf("emitted event carries %s, want the handling span's %s", got, tracing.Format(s.SpanContext()))
			}
		case replay.SpanContext().SpanID():
			if len(s.Links()) != 1 || s.Links()[0].SpanContext.SpanID() != original.SpanContext().SpanID() {
				t.Errorf("replay's handling span links %v, want the original span", s.Links())
			}
		default:
			t.Errorf("handling span with parent %v: neither the producer nor the replay", s.Parent())
		}
	}

	var line map[string]any
	for _, l := range logs.lines(t) {
		if l["msg"] == "event handled" && l["order_id"] == order {
			line = l
		}
	}
	if line == nil {
		t.Fatalf("no 'event handled' line for order %s: %v", order, logs.lines(t))
	}
	want := map[string]any{"service": "inventory", "trace_id": producer.SpanContext().TraceID().String(),
		"topic": eventsv1.TopicOrder, "event_id": e.ID.String(), "event_type": eventsv1.TypeOrderCreated}
	for k, v := range want {
		if line[k] != v {
			t.Errorf("%s = %v, want %v (line %v)", k, line[k], v, line)
		}
	}
	for _, k := range []string{"span_id", "partition", "offset"} {
		if _, ok := line[k]; !ok {
			t.Errorf("no %s in %v", k, line)
		}
	}
}
