package paymentevents_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/segmentio/kafka-go"

	"github.com/shop-oss/shop/pkg/auth"
	"github.com/shop-oss/shop/pkg/consumer"
	"github.com/shop-oss/shop/pkg/event"
	"github.com/shop-oss/shop/pkg/testkit"
	"github.com/shop-oss/shop/proto-events/eventsv1"
	"github.com/shop-oss/shop/services/payment/internal/paymenttest"
)

const spec = "../../api/openapi.yaml"

// state is what the service's database says of an order.
type state struct {
	Payments      int
	Status        string
	RefundedMinor int64
	VoidReason    string
	Refunds       int
}

func stateOf(t *testing.T, f *paymenttest.Fixture, orderID string) state {
	t.Helper()
	var s state
	err := f.Svc.DB.Raw(`SELECT
			(SELECT count(*) FROM payments WHERE order_id = ?) AS payments,
			coalesce((SELECT status FROM payments WHERE order_id = ?), '') AS status,
			coalesce((SELECT refunded_minor FROM payments WHERE order_id = ?), 0) AS refunded_minor,
			coalesce((SELECT void_reason FROM payments WHERE order_id = ?), '') AS void_reason,
			(SELECT count(*) FROM refunds r JOIN payments p ON p.id = r.payment_id WHERE p.order_id = ?) AS refunds`,
		orderID, orderID, orderID, orderID, orderID).Scan(&s).Error
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// twice applies e, then the same event again as a new event (a producer
// that repeated itself; a redelivery of the same event ID is skipped by the
// inbox, see TestBrokerDelivery), and checks the second changed nothing.
func twice(t *testing.T, f *paymenttest.Fixture, orderID string, e event.Event) state {
	t.Helper()
	f.Apply(t, e)
	first := stateOf(t, f, orderID)
	dup := e
	dup.ID = uuid.Must(uuid.NewV7())
	f.Apply(t, dup)
	if again := stateOf(t, f, orderID); again != first {
		t.Fatalf("%s applied twice: %+v, then %+v", e.Type, first, again)
	}
	return first
}

func payments(t *testing.T, f *paymenttest.Fixture, orderID string) []string {
	t.Helper()
	return paymenttest.Types(f.Published(t, orderID, 0))
}

// confirm pays the order's payment with card as its owner.
func confirm(t *testing.T, f *paymenttest.Fixture, user, orderID, card string) int {
	t.Helper()
	var id string
	f.Svc.DB.Raw("SELECT id FROM payments WHERE order_id = ?", orderID).Scan(&id)
	return f.Call(t, http.MethodPost, "/api/v1/payments/confirm", f.Token(t, user, auth.RoleCustomer),
		map[string]string{"payment_id": id, "card_number": card}, nil, "Idempotency-Key", uuid.NewString()).StatusCode
}

// reserveAndConfirm reserves the order for user (a payment of total) and
// confirms it with card, which must answer want.
func reserveAndConfirm(t *testing.T, f *paymenttest.Fixture, order, user string, total int64, card string, want int) {
	t.Helper()
	f.Apply(t, paymenttest.Reserved(t, order, user, total, time.Now().Add(15*time.Minute)))
	if code := confirm(t, f, user, order, card); code != want {
		t.Fatalf("confirm: %d, want %d", code, want)
	}
}

func TestSagaPaths(t *testing.T) {
	f := paymenttest.Start(t, spec, nil)
	later := time.Now().Add(15 * time.Minute)

	t.Run("reservedCreatesThePayment", func(t *testing.T) {
		order, user := uuid.NewString(), uuid.NewString()
		if s := twice(t, f, order, paymenttest.Reserved(t, order, user, 2500, later)); s.Payments != 1 || s.Status != "PENDING" {
			t.Fatalf("after the reservation: %+v", s)
		}
		var amount int64
		var owner string
		f.Svc.DB.Raw("SELECT amount_minor FROM payments WHERE order_id = ?", order).Scan(&amount)
		f.Svc.DB.Raw("SELECT user_id::text FROM payments WHERE order_id = ?", order).Scan(&owner)
		if amount != 2500 || owner != user {
			t.Fatalf("payment of %d for %s", amount, owner)
		}
		published := f.Published(t, order, 1)
		m, err := event.DecodeAs[*eventsv1.PaymentInitiated](published[0])
		if err != nil || len(published) != 1 || m.GetOrderId() != order || m.GetAmount().GetAmountMinor() != 2500 || m.GetPaymentId() == "" {
			t.Fatalf("PAYMENT_INITIATED %v %v (%d events)", m, err, len(published))
		}
	})

	// An INVENTORY_RESERVED without the order's owner and total (an older
	// inventory's) pays an order that an older payment service knew from
	// its ORDER_CREATED, and no other.
	t.Run("reservedWithoutOrder", func(t *testing.T) {
		known, unknown, user := uuid.NewString(), uuid.NewString(), uuid.NewString()
		f.KnownToOlderService(t, known, user, 1200)
		if s := twice(t, f, known, paymenttest.ReservedWithoutOrder(t, known, later)); s.Payments != 1 || s.Status != "PENDING" {
			t.Fatalf("an order known before: %+v", s)
		}
		var amount int64
		f.Svc.DB.Raw("SELECT amount_minor FROM payments WHERE order_id = ?", known).Scan(&amount)
		if amount != 1200 {
			t.Fatalf("payment of %d, want the known total 1200", amount)
		}
		if s := twice(t, f, unknown, paymenttest.ReservedWithoutOrder(t, unknown, later)); s.Payments != 0 {
			t.Fatalf("a payment for an order of unknown owner and total: %+v", s)
		}
	})

	t.Run("voidOnExpiry", func(t *testing.T) {
		order, user := uuid.NewString(), uuid.NewString()
		f.Apply(t, paymenttest.Reserved(t, order, user, 1000, later))
		if s := twice(t, f, order, paymenttest.Expired(t, order)); s.Status != "VOIDED" || s.VoidReason != "RESERVATION_EXPIRED" {
			t.Fatalf("after expiry: %+v", s)
		}
		// The order service then cancels: nothing more to do.
		if s := twice(t, f, order, paymenttest.Cancelled(t, order, "RESERVATION_EXPIRED", false)); s.Status != "VOIDED" {
			t.Fatalf("after cancel: %+v", s)
		}
		if code := confirm(t, f, user, order, paymenttest.Cards.Success); code != http.StatusConflict {
			t.Fatalf("confirm after the void: %d", code)
		}
		published := f.Published(t, order, 2)
		if got := paymenttest.Types(published); !slices.Equal(got, []string{eventsv1.TypePaymentInitiated, eventsv1.TypePaymentVoided}) {
			t.Fatalf("published %v", got)
		}
		m, _ := event.DecodeAs[*eventsv1.PaymentVoided](published[1])
		if m.GetReason() != "RESERVATION_EXPIRED" || m.GetAmount().GetAmountMinor() != 1000 {
			t.Fatalf("PAYMENT_VOIDED %v", m)
		}
	})

	t.Run("voidOnCancelBeforePayment", func(t *testing.T) {
		order, user := uuid.NewString(), uuid.NewString()
		f.Apply(t, paymenttest.Reserved(t, order, user, 1000, later))
		if s := twice(t, f, order, paymenttest.Cancelled(t, order, "CUSTOMER_REQUEST", false)); s.Status != "VOIDED" || s.VoidReason != "ORDER_CANCELLED" {
			t.Fatalf("after cancel: %+v", s)
		}
	})

	t.Run("cancelledBeforeReservedNeverPays", func(t *testing.T) {
		order, user := uuid.NewString(), uuid.NewString()
		f.Apply(t, paymenttest.Cancelled(t, order, "CUSTOMER_REQUEST", false))
		if s := twice(t, f, order, paymenttest.Reserved(t, order, user, 1000, later)); s.Payments != 0 {
			t.Fatalf("a payment for a cancelled order: %+v", s)
		}
	})

	t.Run("refundOnPaidCancel", func(t *testing.T) {
		order, user := uuid.NewString(), uuid.NewString()
		reserveAndConfirm(t, f, order, user, 3000, paymenttest.Cards.Success, http.StatusOK)
		s := twice(t, f, order, paymenttest.CancelledOf(t, order, user, 3000, "ADMIN", true))
		if s.Status != "REFUNDED" || s.RefundedMinor != 3000 || s.Refunds != 1 {
			t.Fatalf("after a paid cancel: %+v", s)
		}
		published := f.Published(t, order, 3)
		want := []string{eventsv1.TypePaymentInitiated, eventsv1.TypePaymentSuccess, eventsv1.TypePaymentRefunded}
		if got := paymenttest.Types(published); !slices.Equal(got, want) {
			t.Fatalf("published %v, want %v", got, want)
		}
		m, _ := event.DecodeAs[*eventsv1.PaymentRefunded](published[2])
		if m.GetAmount().GetAmountMinor() != 3000 || m.GetReason() != "ORDER_CANCELLED" || m.GetRefundId() == "" {
			t.Fatalf("PAYMENT_REFUNDED %v", m)
		}
	})

	t.Run("partlyRefundedThenCancelledRefundsTheRest", func(t *testing.T) {
		order, user := uuid.NewString(), uuid.NewString()
		reserveAndConfirm(t, f, order, user, 1000, paymenttest.Cards.Success, http.StatusOK)
		f.Svc.DB.Exec(`UPDATE payments SET status = 'PARTIALLY_REFUNDED', refunded_minor = 400, version = version + 1 WHERE order_id = ?`, order)
		if s := twice(t, f, order, paymenttest.CancelledOf(t, order, user, 1000, "ADMIN", true)); s.Status != "REFUNDED" || s.RefundedMinor != 1000 {
			t.Fatalf("after cancel: %+v", s)
		}
	})

	// A charge that succeeded just before the reservation expired: the
	// payment keeps SUCCEEDED on RESERVATION_EXPIRED (nothing to void), and
	// the order service's ORDER_CANCELLED, even with paid=false, refunds it.
	t.Run("lateSuccessAfterExpiryRefunded", func(t *testing.T) {
		order, user := uuid.NewString(), uuid.NewString()
		reserveAndConfirm(t, f, order, user, 1700, paymenttest.Cards.Success, http.StatusOK)
		if s := twice(t, f, order, paymenttest.Expired(t, order)); s.Status != "SUCCEEDED" {
			t.Fatalf("after expiry: %+v", s)
		}
		s := twice(t, f, order, paymenttest.CancelledOf(t, order, user, 1700, "RESERVATION_EXPIRED", false))
		if s.Status != "REFUNDED" || s.RefundedMinor != 1700 {
			t.Fatalf("money kept for a cancelled order: %+v", s)
		}
		want := []string{eventsv1.TypePaymentInitiated, eventsv1.TypePaymentSuccess, eventsv1.TypePaymentRefunded}
		if got := paymenttest.Types(f.Published(t, order, len(want))); !slices.Equal(got, want) {
			t.Fatalf("published %v, want %v", got, want)
		}
	})

	t.Run("failedThenCancelledKeepsFailed", func(t *testing.T) {
		order, user := uuid.NewString(), uuid.NewString()
		reserveAndConfirm(t, f, order, user, 1000, paymenttest.Cards.AlwaysTimeout, http.StatusPaymentRequired)
		if s := twice(t, f, order, paymenttest.Cancelled(t, order, "PAYMENT_FAILED", false)); s.Status != "FAILED" || s.Refunds != 0 {
			t.Fatalf("after cancel: %+v", s)
		}
	})

	t.Run("declinedThenCancelledVoids", func(t *testing.T) {
		order, user := uuid.NewString(), uuid.NewString()
		reserveAndConfirm(t, f, order, user, 1000, paymenttest.Cards.Declined, http.StatusPaymentRequired)
		if s := twice(t, f, order, paymenttest.Cancelled(t, order, "CUSTOMER_REQUEST", false)); s.Status != "VOIDED" || s.Refunds != 0 {
			t.Fatalf("after cancel: %+v", s)
		}
	})
}

func TestInvalidEventsArePermanent(t *testing.T) {
	f := paymenttest.Start(t, spec, nil)
	for name, e := range map[string]event.Event{
		"order ID not a UUID": paymenttest.Reserved(t, "order-1", uuid.NewString(), 100, time.Now()),
		"user ID not a UUID":  paymenttest.Reserved(t, uuid.NewString(), "bob", 100, time.Now()),
		"zero total":          paymenttest.Reserved(t, uuid.NewString(), uuid.NewString(), 0, time.Now()),
		"a total and no owner": func() event.Event {
			m := &eventsv1.InventoryReserved{OrderId: uuid.NewString(), ReservationId: uuid.NewString(),
				Total: &eventsv1.Money{AmountMinor: 100, Currency: "EUR"}}
			return paymenttest.Event(t, m.OrderId, m)
		}(),
		"an owner and no total": func() event.Event {
			m := &eventsv1.InventoryReserved{OrderId: uuid.NewString(), ReservationId: uuid.NewString(), UserId: uuid.NewString()}
			return paymenttest.Event(t, m.OrderId, m)
		}(),
		"currency not ISO 4217": func() event.Event {
			m := &eventsv1.InventoryReserved{OrderId: uuid.NewString(), ReservationId: uuid.NewString(), UserId: uuid.NewString(),
				Total: &eventsv1.Money{AmountMinor: 100, Currency: "eur"}}
			return paymenttest.Event(t, m.OrderId, m)
		}(),
		"payload of another type": func() event.Event {
			e := paymenttest.Expired(t, uuid.NewString())
			e.Payload = []byte{0xff, 0xff}
			return e
		}(),
	} {
		if err := f.ApplyErr(e); !consumer.IsPermanent(err) {
			t.Errorf("%s: %v, want a permanent error", name, err)
		}
	}
}

// Through the real broker and consumer group: a redelivered event (same
// ID) skipped, ORDER_CREATED left alone (the payment comes from
// INVENTORY_RESERVED), a poison message dead-lettered without blocking the
// order's event behind it, and the events on payment.events.
func TestBrokerDelivery(t *testing.T) {
	f := paymenttest.Start(t, spec, nil)
	later := time.Now().Add(15 * time.Minute)
	a, b, user := uuid.NewString(), uuid.NewString(), uuid.NewString()
	createdA, reservedA := paymenttest.OrderCreated(t, a, user, 1100), paymenttest.Reserved(t, a, user, 1100, later)
	reservedB, cancelledB := paymenttest.Reserved(t, b, user, 2200, later), paymenttest.Cancelled(t, b, "CUSTOMER_REQUEST", false)
	poison := kafka.Message{Topic: eventsv1.TopicOrder, Key: []byte(b), Value: []byte("not an event")}

	w := f.Svc.Broker.Writer()
	defer w.Close()
	write := func(msgs ...kafka.Message) {
		t.Helper()
		if err := w.WriteMessages(t.Context(), msgs...); err != nil {
			t.Fatal(err)
		}
	}
	write(createdA.Message(), reservedA.Message(), reservedA.Message(), createdA.Message(), reservedB.Message())
	testkit.Eventually(t, 30*time.Second, "both payments created", func() bool {
		return stateOf(t, f, a).Payments == 1 && stateOf(t, f, b).Payments == 1
	})
	for order, amount := range map[string]int64{a: 1100, b: 2200} {
		published := f.Published(t, order, 1)
		m, _ := event.DecodeAs[*eventsv1.PaymentInitiated](published[0])
		if len(published) != 1 || m.GetAmount().GetAmountMinor() != amount {
			t.Fatalf("order %s: published %v", order, paymenttest.Types(published))
		}
	}
	// The poison message goes first on B's partition of order.events.
	write(poison, cancelledB.Message())
	testkit.Eventually(t, 30*time.Second, "B's payment voided behind the poison message", func() bool {
		return stateOf(t, f, b).Status == "VOIDED"
	})
	admin := f.Token(t, uuid.NewString(), auth.RoleAdmin)
	testkit.Eventually(t, 10*time.Second, "the poison message in the DLQ", func() bool {
		var page struct {
			Entries []struct {
				Key           string `json:"key"`
				OriginalTopic string `json:"original_topic"`
			} `json:"entries"`
		}
		f.Call(t, http.MethodGet, "/api/v1/admin/dlq/payment", admin, nil, &page)
		return len(page.Entries) == 1 && page.Entries[0].Key == b && page.Entries[0].OriginalTopic == eventsv1.TopicOrder
	})
	var claimed int64
	f.Svc.DB.Raw("SELECT count(*) FROM processed_events").Scan(&claimed)
	if claimed != 3 {
		t.Fatalf("%d events claimed in the inbox, want the 3 distinct ones payment handles", claimed)
	}
}

// An ORDER_CANCELLED refunds or voids only the payment of the order it
// describes (issue 24 item 7): one stating another owner or total than the
// order's payment, or none at all where it would refund a captured
// payment, goes to the DLQ (cause "rejected") with the reason, through
// the real consumer, and the payment stays as it was. The genuine event
// behind it, on the same partition, then refunds.
func TestOrderCancelledOfAnotherPaymentIsDeadLettered(t *testing.T) {
	f := paymenttest.Start(t, spec, nil)
	order, user := uuid.NewString(), uuid.NewString()
	reserveAndConfirm(t, f, order, user, 3000, paymenttest.Cards.Success, http.StatusOK)
	forged := []event.Event{
		paymenttest.Cancelled(t, order, "ADMIN", true),                           // no total, would refund
		paymenttest.CancelledOf(t, order, user, 1, "ADMIN", true),                // another total
		paymenttest.CancelledOf(t, order, uuid.NewString(), 3000, "ADMIN", true), // another owner
		paymenttest.Event(t, order, &eventsv1.OrderCancelled{OrderId: order, UserId: user, Reason: "ADMIN", Paid: true,
			Total: &eventsv1.Money{AmountMinor: 3000, Currency: "USD"}}), // another currency
	}
	f.Publish(t, forged...)
	admin := f.Token(t, uuid.NewString(), auth.RoleAdmin)
	type entry struct {
		EventID string `json:"event_id"`
		Cause   string `json:"cause"`
		Error   string `json:"error"`
	}
	byID := map[string]entry{}
	testkit.Eventually(t, 30*time.Second, "the forged cancellations in the DLQ", func() bool {
		var page struct{ Entries []entry }
		f.Call(t, http.MethodGet, "/api/v1/admin/dlq/payment", admin, nil, &page)
		for _, en := range page.Entries {
			byID[en.EventID] = en
		}
		return len(byID) >= len(forged)
	})
	for _, e := range forged {
		en := byID[e.ID.String()]
		if en.Cause != "rejected" || !strings.Contains(en.Error, "disagrees with the payment's records") {
			t.Errorf("DLQ entry of %s: %+v", e.ID, en)
		}
	}
	if s := stateOf(t, f, order); s.Status != "SUCCEEDED" || s.Refunds != 0 {
		t.Fatalf("after the forged cancellations: %+v", s)
	}
	f.Publish(t, paymenttest.CancelledOf(t, order, user, 3000, "ADMIN", true))
	testkit.Eventually(t, 30*time.Second, "the genuine cancellation refunds", func() bool {
		s := stateOf(t, f, order)
		return s.Status == "REFUNDED" && s.RefundedMinor == 3000
	})
}
