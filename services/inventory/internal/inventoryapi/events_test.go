package inventoryapi_test

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/segmentio/kafka-go"
	"google.golang.org/protobuf/proto"

	"github.com/shop-oss/shop/pkg/event"
	"github.com/shop-oss/shop/proto-events/eventsv1"
)

func orderCreated(order string, lines ...*eventsv1.OrderLine) *eventsv1.OrderCreated {
	return &eventsv1.OrderCreated{OrderId: order, UserId: buyerID, Lines: lines, Total: &eventsv1.Money{AmountMinor: 100, Currency: "EUR"}}
}

// wantPayable checks that INVENTORY_RESERVED passes on the owner and total
// of orderCreated's order, which payment creates the payment from.
func wantPayable(t *testing.T, m *eventsv1.InventoryReserved) {
	t.Helper()
	if m.GetUserId() != buyerID || m.GetTotal().GetAmountMinor() != 100 || m.GetTotal().GetCurrency() != "EUR" {
		t.Errorf("INVENTORY_RESERVED of order %s: owner %q, total %v; want %s, 100 EUR",
			m.GetOrderId(), m.GetUserId(), m.GetTotal(), buyerID)
	}
}

func ol(product string, q int32) *eventsv1.OrderLine {
	return &eventsv1.OrderLine{ProductId: product, Quantity: q, UnitPrice: &eventsv1.Money{AmountMinor: 10, Currency: "EUR"}}
}

// The saga through the broker: ORDER_CREATED in, INVENTORY_RESERVED out;
// PAYMENT_SUCCESS in, INVENTORY_CONFIRMED out; ORDER_CANCELLED (paid) in,
// INVENTORY_RELEASED out and the units back. Every event is delivered twice
// and applied once.
func TestSagaThroughTheBroker(t *testing.T) {
	h := start(t, nil)
	out := h.watch(eventsv1.TopicInventory)
	p, q := h.product(10), h.product(3)

	order := uuid.NewString()
	created := h.publish(order, orderCreated(order, ol(p, 6), ol(q, 3)))
	h.produce(created[0].Message()) // redelivery: the same event again
	reserved := h.wait(out, eventsv1.TypeInventoryReserved, order, 1)
	msg, err := event.DecodeAs[*eventsv1.InventoryReserved](reserved[0])
	if err != nil {
		t.Fatal(err)
	}
	if msg.GetReservationId() == "" || len(msg.GetLines()) != 2 || msg.GetExpiresAt().AsTime().Before(time.Now().Add(14*time.Minute)) {
		t.Errorf("INVENTORY_RESERVED: %v", msg)
	}
	wantPayable(t, msg)
	if reserved[0].CausationID != created[0].ID.String() || reserved[0].CorrelationID != order {
		t.Errorf("envelope: causation %s, correlation %s", reserved[0].CausationID, reserved[0].CorrelationID)
	}
	h.waitStock(p, 10, 6)
	h.waitStock(q, 3, 3)
	// p fell from 10 to 4 available: low (default threshold 5); q was low
	// already and does not signal again.
	lows := h.wait(out, eventsv1.TypeStockLow, p, 1)
	if low, _ := event.DecodeAs[*eventsv1.StockLow](lows[0]); low.GetAvailable() != 4 || low.GetThreshold() != 5 {
		t.Errorf("STOCK_LOW: %v", low)
	}

	// Another order wants what is left of q: rejected, naming the short line.
	short := uuid.NewString()
	h.publish(short, orderCreated(short, ol(p, 1), ol(q, 1)))
	rej, _ := event.DecodeAs[*eventsv1.InventoryRejected](h.wait(out, eventsv1.TypeInventoryRejected, short, 1)[0])
	if rej.GetReason() != "OUT_OF_STOCK" || len(rej.GetShortLines()) != 1 || rej.GetShortLines()[0].GetProductId() != q ||
		rej.GetShortLines()[0].GetRequested() != 1 || rej.GetShortLines()[0].GetAvailable() != 0 {
		t.Errorf("INVENTORY_REJECTED: %v", rej)
	}

	paid := h.publish(order, &eventsv1.PaymentSucceeded{OrderId: order, PaymentId: uuid.NewString()})
	h.produce(paid[0].Message())
	h.wait(out, eventsv1.TypeInventoryConfirmed, order, 1)
	h.waitStock(p, 4, 0)
	h.waitStock(q, 0, 0)

	cancelled := h.publish(order, &eventsv1.OrderCancelled{OrderId: order, Reason: "ADMIN", PreviousStatus: "PAID", Paid: true})
	h.produce(cancelled[0].Message())
	rel, _ := event.DecodeAs[*eventsv1.InventoryReleased](h.wait(out, eventsv1.TypeInventoryReleased, order, 1)[0])
	if rel.GetReason() != "ORDER_CANCELLED" || rel.GetReservationId() != msg.GetReservationId() {
		t.Errorf("INVENTORY_RELEASED: %v", rel)
	}
	h.waitStock(p, 10, 0)
	h.waitStock(q, 3, 0)

	// A redelivered ORDER_CREATED under a new event ID (the producer
	// retried) reserves nothing more.
	h.publish(order, orderCreated(order, ol(p, 6), ol(q, 3)))
	h.publish(order, &eventsv1.PaymentFailed{OrderId: order, ReasonCode: "CARD_DECLINED"})
	time.Sleep(500 * time.Millisecond)
	h.waitStock(p, 10, 0)
	h.wait(out, eventsv1.TypeInventoryReserved, order, 1)
	h.wait(out, eventsv1.TypeInventoryReleased, order, 1)
}

// Out of order through the broker: payment before the order (the payment
// event on another topic overtakes it), and an order with invalid lines:
// both end correct, nothing is dead-lettered.
func TestOutOfOrderAndInvalidEventsThroughTheBroker(t *testing.T) {
	h := start(t, nil)
	out := h.watch(eventsv1.TopicInventory)
	dlq := h.watch("inventory.dlq")
	p := h.product(4)

	order := uuid.NewString()
	h.publish(order, &eventsv1.PaymentSucceeded{OrderId: order, PaymentId: uuid.NewString()})
	h.waitFor("placeholder", func() bool {
		var r struct{ Placeholder bool }
		return h.call(http.MethodGet, "/api/v1/inventory/reservations/"+order, "admin", nil, &r) == http.StatusOK && r.Placeholder
	})
	h.publish(order, orderCreated(order, ol(p, 3)))
	reserved, _ := event.DecodeAs[*eventsv1.InventoryReserved](h.wait(out, eventsv1.TypeInventoryReserved, order, 1)[0])
	wantPayable(t, reserved)
	h.wait(out, eventsv1.TypeInventoryConfirmed, order, 1)
	h.waitStock(p, 1, 0)

	bad := uuid.NewString()
	h.publish(bad, orderCreated(bad, ol(p, 0), ol("not-a-uuid", 1)))
	rej, _ := event.DecodeAs[*eventsv1.InventoryRejected](h.wait(out, eventsv1.TypeInventoryRejected, bad, 1)[0])
	if rej.GetReason() != "INVALID_ORDER" || len(rej.GetShortLines()) != 2 {
		t.Errorf("INVENTORY_REJECTED: %v", rej)
	}

	// A message that cannot name its order goes to the DLQ, once.
	h.publish("x", &eventsv1.PaymentFailed{OrderId: "garbage"})
	h.waitFor("dead letter", func() bool { return len(dlq.of(eventsv1.TypePaymentFailed, "x")) == 1 })
	if n := len(dlq.msgs); n != 1 {
		t.Errorf("%d dead letters, want 1", n)
	}
	h.waitStock(p, 1, 0)
}

// Reservations expire: the stock comes back and RESERVATION_EXPIRED is
// published once.
func TestReservationsExpire(t *testing.T) {
	h := start(t, map[string]string{"SHOP_INVENTORY_RESERVATION_TTL": "1s", "SHOP_INVENTORY_SWEEP_INTERVAL": "50ms"})
	out := h.watch(eventsv1.TopicInventory)
	p := h.product(5)
	order := uuid.NewString()
	h.publish(order, orderCreated(order, ol(p, 4)))
	h.wait(out, eventsv1.TypeInventoryReserved, order, 1)
	exp, _ := event.DecodeAs[*eventsv1.ReservationExpired](h.wait(out, eventsv1.TypeReservationExpired, order, 1)[0])
	if exp.GetOrderId() != order || exp.GetReservationId() == "" {
		t.Errorf("RESERVATION_EXPIRED: %v", exp)
	}
	h.waitStock(p, 5, 0)
	// A payment arriving after the expiry changes nothing.
	h.publish(order, &eventsv1.PaymentSucceeded{OrderId: order, PaymentId: uuid.NewString()})
	time.Sleep(500 * time.Millisecond)
	h.waitStock(p, 5, 0)
	if n := len(out.of(eventsv1.TypeInventoryConfirmed, order)); n != 0 {
		t.Errorf("%d INVENTORY_CONFIRMED after expiry", n)
	}
}

// Many orders over the same few products, each with its lines in its own
// order, and their payments on another topic: the consumer handles them in
// batches on several workers at once, and no transaction ever deadlocks
// (the batches lock their rows in one global order first).
func TestOverlappingOrdersInBatchesNeverDeadlock(t *testing.T) {
	// Several workers, so that batches run side by side (the default is
	// one).
	h := start(t, map[string]string{"SHOP_INVENTORY_CONSUMER_WORKERS": "8"})
	out := h.watch(eventsv1.TopicInventory)
	products := make([]string, 6)
	for i := range products {
		products[i] = h.product(100_000)
	}
	r := rand.New(rand.NewPCG(1, 2))
	const orders = 400
	message := func(order string, m proto.Message) kafka.Message {
		e, err := event.New(context.Background(), order, m)
		if err != nil {
			t.Fatal(err)
		}
		return e.Message()
	}
	var created, paid []kafka.Message
	sold := map[string]int64{}
	for range orders {
		order := uuid.NewString()
		var lines []*eventsv1.OrderLine
		for _, i := range r.Perm(len(products))[:3] {
			lines = append(lines, ol(products[i], 1))
			sold[products[i]]++
		}
		created = append(created, message(order, orderCreated(order, lines...)))
		paid = append(paid, message(order, &eventsv1.PaymentSucceeded{OrderId: order, PaymentId: uuid.NewString()}))
	}
	// Both topics at once, so that batches of orders and of payments for the
	// same orders run side by side.
	var wg sync.WaitGroup
	wg.Go(func() { h.produce(created...) })
	wg.Go(func() { h.produce(paid...) })
	wg.Wait()

	h.waitFor("every order confirmed", func() bool {
		return len(out.of(eventsv1.TypeInventoryConfirmed, "")) >= orders
	})
	for _, p := range products {
		h.waitStock(p, 100_000-sold[p], 0)
	}
	if n := len(out.of(eventsv1.TypeInventoryRejected, "")); n != 0 {
		t.Errorf("%d orders rejected, want none", n)
	}

	// A deadlock fails a batch, which the consumer then handles event by
	// event, logging why.
	if strings.Contains(h.logs.String(), "deadlock detected") {
		t.Error("a batch transaction deadlocked")
	}
	// processed_at is the transaction's start: equal values, one batch.
	conn, err := pgx.Connect(context.Background(), h.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var largest int64
	err = conn.QueryRow(context.Background(), `SELECT max(n) FROM (SELECT count(*) AS n FROM processed_events
		GROUP BY processed_at) AS b`).Scan(&largest)
	if err != nil {
		t.Fatal(err)
	}
	if largest < 2 {
		t.Fatalf("the largest batch handled %d events: nothing ran in batches, the test proves nothing", largest)
	}
}
