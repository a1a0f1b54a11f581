package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/segmentio/kafka-go"

	"github.com/shop-oss/shop/proto-events/eventsv1"
)

const (
	cardOK       = "4242424242424242"
	cardDeclined = "4000000000000002"
	cardTimeout  = "4000000000000408" // the gateway never answers: the payment fails
)

// The saga paths of the architecture, over HTTP, with all five services as
// real processes, asserting final states in each service's own database.
func TestSagaPaths(t *testing.T) {
	s := openShop(t, nil)

	t.Run("happy path to delivered", func(t *testing.T) {
		p := s.product(t, "Headphones", 5000, 10)
		o := s.order(t, s.customer, line{p, 2})
		s.waitStatus(t, o, "PAYMENT_PENDING")
		s.waitStock(t, p, 10, 2)
		if code := s.pay(t, o, cardOK); code != 200 {
			t.Fatalf("confirm: %d", code)
		}
		s.waitStatus(t, o, "PAID")
		s.waitStock(t, p, 8, 0) // sold
		if st, _ := s.paymentStatus(t, o); st != "SUCCEEDED" {
			t.Fatalf("payment %s", st)
		}
		must(t, 200, "POST", s.url("order")+"/api/v1/orders/"+o+"/ship", s.admin, nil)
		must(t, 200, "POST", s.url("order")+"/api/v1/orders/"+o+"/deliver", s.admin, nil)
		if st := s.orderStatus(t, o); st != "DELIVERED" {
			t.Fatalf("order %s", st)
		}
		eventually(t, "the whole saga in the timeline", 30*time.Second, func() bool {
			types := eventTypes(s.timeline(t, o))
			for _, want := range []string{eventsv1.TypeInventoryReserved, eventsv1.TypePaymentInitiated,
				eventsv1.TypePaymentSuccess, eventsv1.TypeInventoryConfirmed} {
				if !types[want] {
					return false
				}
			}
			return true
		})
	})

	t.Run("out of stock is cancelled and charges nothing", func(t *testing.T) {
		p := s.product(t, "Rare vinyl", 3000, 1)
		o := s.order(t, s.customer, line{p, 2})
		s.waitStatus(t, o, "CANCELLED")
		s.waitStock(t, p, 1, 0)
		s.caughtUp(t, "payment", eventsv1.TopicOrder, eventsv1.TopicInventory)
		var n int
		s.query(t, "payment", "SELECT count(*) FROM payments WHERE order_id = $1", []any{o}, &n)
		if n != 0 {
			t.Fatalf("a payment exists for an out-of-stock order")
		}
	})

	t.Run("declined card leaves the order open for another card", func(t *testing.T) {
		p := s.product(t, "Kettle", 3500, 10)
		o := s.order(t, s.customer, line{p, 2})
		s.waitStatus(t, o, "PAYMENT_PENDING")
		if code := s.pay(t, o, cardDeclined); code != 402 {
			t.Fatalf("declined confirm: %d, want 402", code)
		}
		if st, _ := s.paymentStatus(t, o); st != "PENDING" {
			t.Fatalf("payment after a decline: %s", st)
		}
		if code := s.pay(t, o, cardOK); code != 200 {
			t.Fatalf("the next card: %d, want 200", code)
		}
		s.waitStatus(t, o, "PAID")
		s.waitStock(t, p, 8, 0)
	})

	t.Run("gateway failure releases the stock and cancels", func(t *testing.T) {
		p := s.product(t, "Lamp", 2500, 10)
		o := s.order(t, s.customer, line{p, 3})
		s.waitStatus(t, o, "PAYMENT_PENDING")
		if code := s.pay(t, o, cardTimeout); code != 402 {
			t.Fatalf("failed confirm: %d, want 402", code)
		}
		s.waitStatus(t, o, "CANCELLED")
		s.waitStock(t, p, 10, 0)
		if st, _ := s.paymentStatus(t, o); st != "FAILED" {
			t.Fatalf("payment %s", st)
		}
	})

	t.Run("customer cancel before payment releases and voids", func(t *testing.T) {
		p := s.product(t, "Mug", 900, 10)
		o := s.order(t, s.customer, line{p, 4})
		s.waitStatus(t, o, "PAYMENT_PENDING")
		s.payment(t, o)
		must(t, 200, "POST", s.url("order")+"/api/v1/orders/"+o+"/cancel", s.customer, nil)
		s.waitStatus(t, o, "CANCELLED")
		s.waitStock(t, p, 10, 0)
		s.waitPaymentStatus(t, o, "VOIDED")
	})

	t.Run("admin cancel after payment refunds and restocks", func(t *testing.T) {
		p := s.product(t, "Chair", 12000, 5)
		o := s.order(t, s.customer, line{p, 1})
		s.waitStatus(t, o, "PAYMENT_PENDING")
		if code := s.pay(t, o, cardOK); code != 200 {
			t.Fatalf("confirm: %d", code)
		}
		s.waitStatus(t, o, "PAID")
		s.waitStock(t, p, 4, 0)
		must(t, 200, "POST", s.url("order")+"/api/v1/orders/"+o+"/cancel", s.admin, nil)
		s.waitStatus(t, o, "CANCELLED")
		s.waitPaymentStatus(t, o, "REFUNDED")
		if _, refunded := s.paymentStatus(t, o); refunded != 12000 {
			t.Fatalf("refunded %d, want 12000", refunded)
		}
		s.waitStock(t, p, 5, 0)
	})

	t.Run("events for an order wait through a service restart", func(t *testing.T) {
		p := s.product(t, "Kettle", 4000, 10)
		s.stop("inventory")
		o := s.order(t, s.customer, line{p, 1})
		time.Sleep(500 * time.Millisecond)
		if st := s.orderStatus(t, o); st != "CREATED" {
			t.Fatalf("order moved to %s with inventory down", st)
		}
		s.start("inventory")
		s.waitReady("inventory")
		s.waitStatus(t, o, "PAYMENT_PENDING")
		if code := s.pay(t, o, cardOK); code != 200 {
			t.Fatalf("confirm: %d", code)
		}
		s.waitStatus(t, o, "PAID")
		s.waitStock(t, p, 9, 0)
	})

	t.Run("a poison event goes to the DLQ without blocking other orders", func(t *testing.T) {
		poisonKey := uuid.NewString()
		s.produce(t, kafka.Message{Topic: eventsv1.TopicOrder, Key: []byte(poisonKey), Value: []byte("not protobuf"),
			Headers: []kafka.Header{{Key: "event-id", Value: []byte(uuid.NewString())}, {Key: "event-type", Value: []byte(eventsv1.TypeOrderCreated)},
				{Key: "schema-version", Value: []byte("1")}}})
		p := s.product(t, "Pen", 300, 10)
		o := s.order(t, s.customer, line{p, 1})
		s.waitStatus(t, o, "PAYMENT_PENDING")
		eventually(t, "the poison event in inventory's DLQ", 30*time.Second, func() bool {
			_, page := call(t, "GET", s.url("inventory")+"/api/v1/admin/dlq/inventory", s.admin, nil)
			for _, e := range asList(page["entries"]) {
				if e["key"] == poisonKey {
					return true
				}
			}
			return false
		})
	})

	t.Run("DLQ replay reaches only the failing service", s.dlqReplayReachesOnlyTheFailingService)

	t.Run("refused requests leave the Idempotency-Key free", s.refusedRequestsLeaveTheKeyFree)

	t.Run("every consumer fed every event twice changes nothing", func(t *testing.T) {
		consumes := map[string][]string{
			"inventory": {eventsv1.TopicOrder, eventsv1.TopicPayment, eventsv1.TopicCatalog},
			"order":     {eventsv1.TopicCatalog, eventsv1.TopicInventory, eventsv1.TopicPayment},
			"payment":   {eventsv1.TopicInventory, eventsv1.TopicOrder},
		}
		for g, topics := range consumes {
			s.caughtUp(t, g, topics...)
		}
		before := s.snapshot(t)
		n := s.redeliverAll(t, eventsv1.TopicCatalog, eventsv1.TopicOrder, eventsv1.TopicInventory, eventsv1.TopicPayment)
		if n == 0 {
			t.Fatal("nothing to redeliver")
		}
		for g, topics := range consumes {
			s.caughtUp(t, g, topics...)
		}
		if after := s.snapshot(t); after != before {
			t.Fatalf("state changed after redelivering %d events:\nbefore %s\nafter  %s", n, before, after)
		}
	})

	// Last: what the whole run stored and logged.
	t.Run("no stored column or log line holds a card number, a password or a token", s.noSecretsStoredOrLogged)
}

func asList(v any) []map[string]any {
	var out []map[string]any
	for _, x := range v.([]any) {
		out = append(out, x.(map[string]any))
	}
	return out
}

// snapshot summarises the saga state of every service's database.
func (s *shop) snapshot(t *testing.T) string {
	t.Helper()
	var orders, stock, payments, history string
	s.query(t, "order", "SELECT coalesce(string_agg(id::text || '=' || status, ',' ORDER BY id), '') FROM orders", nil, &orders)
	s.query(t, "order", "SELECT count(*)::text FROM order_history", nil, &history)
	s.query(t, "inventory", "SELECT coalesce(string_agg(product_id::text || '=' || on_hand || '/' || reserved, ',' ORDER BY product_id), '') FROM stock", nil, &stock)
	s.query(t, "payment", "SELECT coalesce(string_agg(order_id::text || '=' || status || '/' || refunded_minor, ',' ORDER BY order_id), '') FROM payments", nil, &payments)
	return "orders[" + orders + "] history[" + history + "] stock[" + stock + "] payments[" + payments + "]"
}

// The saga's timeouts: a short reservation TTL and a slow gateway.
func TestSagaTimeouts(t *testing.T) {
	s := openShop(t, map[string]map[string]string{
		"inventory": {"SHOP_INVENTORY_RESERVATION_TTL": "3s", "SHOP_INVENTORY_SWEEP_INTERVAL": "300ms"},
		"payment":   {"SHOP_PAYMENT_GATEWAY_LATENCY": "5s", "SHOP_PAYMENT_GATEWAY_ATTEMPT_TIMEOUT": "10s"},
	})

	t.Run("no payment before the TTL: expired, cancelled, voided", func(t *testing.T) {
		p := s.product(t, "Clock", 1500, 10)
		o := s.order(t, s.customer, line{p, 2})
		s.waitStatus(t, o, "PAYMENT_PENDING")
		s.waitStatus(t, o, "CANCELLED")
		s.waitStock(t, p, 10, 0)
		s.waitPaymentStatus(t, o, "VOIDED")
		var reason string
		s.query(t, "order", "SELECT reason FROM order_history WHERE order_id = $1 AND to_status = 'CANCELLED' AND kind = 'TRANSITION'", []any{o}, &reason)
		if reason != "RESERVATION_EXPIRED" {
			t.Fatalf("cancel reason %q", reason)
		}
	})

	t.Run("a late success after expiry is refunded", func(t *testing.T) {
		p := s.product(t, "Vase", 7000, 10)
		o := s.order(t, s.customer, line{p, 1})
		s.waitStatus(t, o, "PAYMENT_PENDING")
		// The charge takes 5s; the reservation expires after 3s.
		done := make(chan int, 1)
		go func() { done <- s.pay(t, o, cardOK) }()
		s.waitStatus(t, o, "CANCELLED")
		select {
		case code := <-done:
			if code != 200 {
				t.Fatalf("the slow confirm answered %d; want 200 (charged before the cancellation reached payment)", code)
			}
		case <-time.After(60 * time.Second):
			t.Fatal("confirm did not return")
		}
		s.waitPaymentStatus(t, o, "REFUNDED")
		s.waitStock(t, p, 10, 0)
		if st := s.orderStatus(t, o); st != "CANCELLED" {
			t.Fatalf("order %s", st)
		}
	})
}

func (s *stack) kafkaClient() *kafka.Client {
	return &kafka.Client{Addr: kafka.TCP(s.Broker.Addr()), Timeout: 10 * time.Second}
}

func (s *stack) produce(t *testing.T, msgs ...kafka.Message) {
	t.Helper()
	w := &kafka.Writer{Addr: kafka.TCP(s.Broker.Addr()), Balancer: &kafka.Murmur2Balancer{}, RequiredAcks: kafka.RequireAll, BatchTimeout: time.Millisecond}
	defer w.Close()
	if err := w.WriteMessages(context.Background(), msgs...); err != nil {
		t.Fatal(err)
	}
}

// caughtUp waits until group has committed offsets up to the end of every
// partition of topics.
func (s *stack) caughtUp(t *testing.T, group string, topics ...string) {
	t.Helper()
	client := s.kafkaClient()
	ctx := context.Background()
	lag := ""
	defer func() {
		if t.Failed() {
			t.Logf("%s lag: %s", group, lag)
		}
	}()
	eventually(t, group+" to catch up", 60*time.Second, func() bool {
		md, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: topics})
		if err != nil {
			return false
		}
		req := &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{}}
		fetch := &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{}}
		for _, tp := range md.Topics {
			for _, p := range tp.Partitions {
				req.Topics[tp.Name] = append(req.Topics[tp.Name], kafka.LastOffsetOf(p.ID))
				fetch.Topics[tp.Name] = append(fetch.Topics[tp.Name], p.ID)
			}
		}
		ends, err := client.ListOffsets(ctx, req)
		if err != nil {
			return false
		}
		committed, err := client.OffsetFetch(ctx, fetch)
		if err != nil || committed.Error != nil {
			return false
		}
		for topic, parts := range ends.Topics {
			for _, p := range parts {
				if p.LastOffset == 0 {
					continue
				}
				var at int64 = -1
				for _, c := range committed.Topics[topic] {
					if c.Partition == p.Partition {
						at = c.CommittedOffset
					}
				}
				if at < p.LastOffset {
					lag = fmt.Sprintf("%s/%d committed %d of %d", topic, p.Partition, at, p.LastOffset)
					return false
				}
			}
		}
		return true
	})
}

// redeliverAll produces every message of topics once more, unchanged (same
// event IDs, keys and headers), and returns how many.
func (s *stack) redeliverAll(t *testing.T, topics ...string) int {
	t.Helper()
	var all []kafka.Message
	for _, topic := range topics {
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{s.Broker.Addr()}, GroupID: "redeliver-" + uuid.NewString(),
			Topic: topic, StartOffset: kafka.FirstOffset, MaxWait: 200 * time.Millisecond})
		for {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			m, err := r.FetchMessage(ctx)
			cancel()
			if err != nil {
				break
			}
			all = append(all, kafka.Message{Topic: m.Topic, Key: m.Key, Value: m.Value, Headers: m.Headers})
		}
		_ = r.Close()
	}
	s.produce(t, all...)
	return len(all)
}
