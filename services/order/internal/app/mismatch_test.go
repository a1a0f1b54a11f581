package app_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/shop-oss/shop/pkg/event"
	"github.com/shop-oss/shop/proto-events/eventsv1"
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
	eventually(t, 30*time.Second, ev.Type+" "+ev.ID.String()+" not dead-lettered", func() bool {
		r := e.do("GET", "/api/v1/admin/dlq/order?limit=200", adminID, nil)
		var page struct{ Entries []dlqEntry }
		if r.status != 200 || json.Unmarshal(r.body, &page) != nil {
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
	e.catalog()
	o := e.place(customerID, line(pAlpha, 1)) // 1999 EUR
	if err := e.applyDirect(newEvent(t, o.ID, reserved(o.ID))); err != nil {
		t.Fatal(err)
	}
	pay := func(amount int64, currency string) *eventsv1.PaymentSucceeded {
		return &eventsv1.PaymentSucceeded{OrderId: o.ID, PaymentId: uuid.NewString(),
			Amount: &eventsv1.Money{AmountMinor: amount, Currency: currency}}
	}
	forged := []event.Event{
		newEvent(t, o.ID, pay(1, "EUR")),
		newEvent(t, o.ID, pay(1999, "USD")),
		newEvent(t, o.ID, &eventsv1.PaymentFailed{OrderId: o.ID, PaymentId: uuid.NewString(), ReasonCode: "CARD_DECLINED",
			Amount: &eventsv1.Money{AmountMinor: 5, Currency: "EUR"}}),
	}
	e.produceEvents(forged...)
	for _, ev := range forged {
		en := e.deadLettered(t, ev)
		if en.Cause != "rejected" || !strings.Contains(en.Error, "disagrees with the order") ||
			!strings.Contains(en.Error, "whose total is 1999 EUR") {
			t.Errorf("%s: DLQ entry %+v", ev.Type, en)
		}
	}
	if got := e.status(o.ID); got != "PAYMENT_PENDING" {
		t.Fatalf("after the forged payments: %s", got)
	}
	if n := e.historyCount(o.ID); n != 2 { // placed, reserved
		t.Fatalf("after the forged payments: %d timeline entries %+v", n, e.timeline(o.ID))
	}
	e.feed(o.ID, pay(1999, "EUR"))
	e.waitStatus(o.ID, "PAID")
}
