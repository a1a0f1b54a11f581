package app_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/shop-oss/shop/pkg/event"
	"github.com/shop-oss/shop/pkg/testkit"
	"github.com/shop-oss/shop/proto-events/eventsv1"
	"github.com/shop-oss/shop/services/order/internal/ordertest"
)

// dlqEntry is an entry of the admin DLQ listing, as the tests read it.
type dlqEntry struct {
	EventID string `json:"event_id"`
	Cause   string `json:"cause"`
	Error   string `json:"error"`
}

// deadLettered waits until the service's DLQ holds ev, and returns its
// entry.
func (e *env) deadLettered(t testing.TB, ev event.Event) dlqEntry {
	t.Helper()
	var found dlqEntry
	testkit.Eventually(t, 30*time.Second, ev.Type+" "+ev.ID.String()+" not dead-lettered", func() bool {
		r := e.Do("GET", "/api/v1/admin/dlq/order?limit=200", ordertest.AdminID, nil)
		var page struct{ Entries []dlqEntry }
		if r.Status != 200 || json.Unmarshal(r.Body, &page) != nil {
			return false
		}
		for _, en := range page.Entries {
			if en.EventID == ev.ID.String() {
				found = en
				return true
			}
		}
		return false
	})
	return found
}

// A payment event whose amount or currency is not the order's total is
// dead-lettered, cause "rejected", with the reason, through the real
// consumer; the order does not move and its timeline does not grow
// (issue 24 item 7: anyone who can write to the broker could mark an
// order PAID). The right payment, behind them, still goes through.
func TestPaymentEventsOfAnotherAmountAreDeadLettered(t *testing.T) {
	e := newEnv(t, nil)
	e.Catalog()
	o := e.Place(ordertest.CustomerID, ordertest.Line(ordertest.Alpha, 1)) // 1999 EUR
	if err := e.ApplyDirect(ordertest.NewEvent(t, o.ID, ordertest.Reserved(o.ID))); err != nil {
		t.Fatal(err)
	}
	pay := func(amount int64, currency string) *eventsv1.PaymentSucceeded {
		return &eventsv1.PaymentSucceeded{OrderId: o.ID, PaymentId: uuid.NewString(),
			Amount: &eventsv1.Money{AmountMinor: amount, Currency: currency}}
	}
	forged := []event.Event{
		ordertest.NewEvent(t, o.ID, pay(1, "EUR")),
		ordertest.NewEvent(t, o.ID, pay(1999, "USD")),
		ordertest.NewEvent(t, o.ID, &eventsv1.PaymentFailed{OrderId: o.ID, PaymentId: uuid.NewString(), ReasonCode: "CARD_DECLINED",
			Amount: &eventsv1.Money{AmountMinor: 5, Currency: "EUR"}}),
	}
	e.ProduceEvents(forged...)
	for _, ev := range forged {
		en := e.deadLettered(t, ev)
		if en.Cause != "rejected" || !strings.Contains(en.Error, "disagrees with the order") ||
			!strings.Contains(en.Error, "whose total is 1999 EUR") {
			t.Errorf("%s: DLQ entry %+v", ev.Type, en)
		}
	}
	if got := e.Status(o.ID); got != "PAYMENT_PENDING" {
		t.Fatalf("after the forged payments: %s", got)
	}
	if n := e.HistoryCount(o.ID); n != 2 { // placed, reserved
		t.Fatalf("after the forged payments: %d timeline entries %+v", n, e.Timeline(o.ID))
	}
	e.Feed(o.ID, pay(1999, "EUR"))
	e.WaitStatus(o.ID, "PAID")
}
