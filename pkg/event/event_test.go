package event

import (
	"context"
	"errors"
	"testing"

	"github.com/segmentio/kafka-go"
	"google.golang.org/protobuf/proto"

	"github.com/shop-oss/shop/pkg/logging"
	"github.com/shop-oss/shop/pkg/tracing"
	"github.com/shop-oss/shop/proto-events/eventsv1"
)

func orderCreated() *eventsv1.OrderCreated {
	return &eventsv1.OrderCreated{
		OrderId: "0190f5a8-0000-7000-8000-000000000001",
		UserId:  "0190f5a8-0000-7000-8000-000000000002",
		Lines:   []*eventsv1.OrderLine{{ProductId: "p1", Quantity: 2, UnitPrice: &eventsv1.Money{AmountMinor: 1250, Currency: "EUR"}}},
		Total:   &eventsv1.Money{AmountMinor: 2500, Currency: "EUR"},
	}
}

func TestEnvelopeRoundTripsThroughKafkaMessage(t *testing.T) {
	const tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	ctx := tracing.WithRemoteParent(logging.WithCausationID(logging.WithCorrelationID(context.Background(), "corr-1"), "cause-1"), tp)
	msg := orderCreated()
	e, err := New(ctx, msg.OrderId, msg)
	if err != nil {
		t.Fatal(err)
	}
	if e.Type != eventsv1.TypeOrderCreated || e.Topic != eventsv1.TopicOrder || e.ID.Version() != 7 {
		t.Fatalf("envelope: %+v", e)
	}

	got, err := FromMessage(e.Message())
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != e.ID || got.Type != e.Type || got.SchemaVersion != 1 || !got.OccurredAt.Equal(e.OccurredAt) ||
		got.CorrelationID != "corr-1" || got.CausationID != "cause-1" || got.Traceparent != tp || got.Key != msg.OrderId {
		t.Fatalf("round trip: got %+v, want %+v", got, e)
	}
	decoded, err := DecodeAs[*eventsv1.OrderCreated](got)
	if err != nil || !proto.Equal(decoded, msg) {
		t.Fatalf("payload: %v, %v", decoded, err)
	}
}

func TestNewDefaultsCorrelationToKey(t *testing.T) {
	e, err := New(context.Background(), "order-7", orderCreated())
	if err != nil || e.CorrelationID != "order-7" || e.CausationID != "" {
		t.Fatalf("%+v %v", e, err)
	}
}

func TestNewRejectsNonEventsAndEmptyKeys(t *testing.T) {
	if _, err := New(context.Background(), "k", &eventsv1.Money{}); err == nil {
		t.Error("Money accepted as an event")
	}
	if _, err := New(context.Background(), "", orderCreated()); err == nil {
		t.Error("empty key accepted")
	}
}

func TestHandlerContextChainsCausation(t *testing.T) {
	in, _ := New(context.Background(), "order-1", orderCreated())
	ctx := in.Context(context.Background())
	out, _ := New(ctx, "order-1", &eventsv1.OrderShipped{OrderId: "order-1"})
	if out.CausationID != in.ID.String() || out.CorrelationID != in.CorrelationID {
		t.Fatalf("caused event: %+v", out)
	}
}

func TestFromMessageRejectsMalformedEnvelopes(t *testing.T) {
	good, _ := New(context.Background(), "k", orderCreated())
	drop := func(key string) kafka.Message {
		m := good.Message()
		var hs []kafka.Header
		for _, h := range m.Headers {
			if h.Key != key {
				hs = append(hs, h)
			}
		}
		m.Headers = hs
		return m
	}
	set := func(key, v string) kafka.Message {
		m := good.Message()
		for i := range m.Headers {
			if m.Headers[i].Key == key {
				m.Headers[i].Value = []byte(v)
			}
		}
		return m
	}
	cases := map[string]kafka.Message{
		"no id":       drop(eventsv1.HeaderEventID),
		"bad id":      set(eventsv1.HeaderEventID, "not-a-uuid"),
		"no type":     drop(eventsv1.HeaderEventType),
		"no version":  drop(eventsv1.HeaderSchemaVersion),
		"bad version": set(eventsv1.HeaderSchemaVersion, "x"),
		"bad time":    set(eventsv1.HeaderOccurredAt, "yesterday"),
	}
	for name, m := range cases {
		if _, err := FromMessage(m); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: want ErrMalformed, got %v", name, err)
		}
	}
}

func TestDecodeRejectsGarbageAndUnknownTypes(t *testing.T) {
	e, _ := New(context.Background(), "k", orderCreated())
	e.Payload = []byte{0xff, 0xff, 0xff}
	if _, err := e.Decode(); !errors.Is(err, ErrMalformed) {
		t.Errorf("garbage payload: %v", err)
	}
	e.Type = "SOMETHING_ELSE"
	if _, err := e.Decode(); !errors.Is(err, ErrMalformed) {
		t.Errorf("unknown type: %v", err)
	}
	good, _ := New(context.Background(), "k", orderCreated())
	if _, err := DecodeAs[*eventsv1.OrderShipped](good); !errors.Is(err, ErrMalformed) {
		t.Errorf("wrong message type: %v", err)
	}
}

// An event handled in a trace continues it: the handler's context has the
// event's traceparent as its remote parent, its order as order_id, and an
// event emitted from it (with no span of its own) carries the traceparent
// on; an order's event made in a request tells the request's log scope.
func TestContextCarriesTraceAndOrder(t *testing.T) {
	const tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	in := Event{ID: [16]byte{1}, Type: eventsv1.TypeOrderCreated, Key: "order-1", CorrelationID: "order-1", Traceparent: tp}
	ctx := in.Context(context.Background())
	if got := logging.OrderID(ctx); got != "order-1" {
		t.Errorf("order ID %q", got)
	}
	out, err := New(ctx, "order-1", &eventsv1.OrderCancelled{OrderId: "order-1"})
	if err != nil || out.Traceparent != tp || out.CausationID != in.ID.String() {
		t.Fatalf("emitted %+v, %v", out, err)
	}

	product := Event{Type: eventsv1.TypeProductUpserted, Key: "product-1"}
	if got := logging.OrderID(product.Context(context.Background())); got != "" {
		t.Errorf("a product event names order %q", got)
	}

	req := logging.WithScope(context.Background())
	if _, err := New(req, "order-2", orderCreated()); err != nil {
		t.Fatal(err)
	}
	if got := logging.OrderID(req); got != "order-2" {
		t.Errorf("request scope learnt order %q, want order-2", got)
	}
}
