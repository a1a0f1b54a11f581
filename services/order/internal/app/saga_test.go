package app_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"

	"github.com/shop-oss/shop/pkg/event"
	"github.com/shop-oss/shop/proto-events/eventsv1"
)

func money(amount int64) *eventsv1.Money {
	return &eventsv1.Money{AmountMinor: amount, Currency: "EUR"}
}

// The saga events of another service about order id, as they publish them.
func reserved(id string) proto.Message {
	return &eventsv1.InventoryReserved{OrderId: id, ReservationId: uuid.NewString(),
		Lines: []*eventsv1.ReservedLine{{ProductId: pAlpha, Quantity: 1}}}
}
func rejected(id string) proto.Message {
	return &eventsv1.InventoryRejected{OrderId: id, Reason: "OUT_OF_STOCK",
		ShortLines: []*eventsv1.ShortLine{{ProductId: pAlpha, Requested: 1, Available: 0}}}
}
func expired(id string) proto.Message {
	return &eventsv1.ReservationExpired{OrderId: id, ReservationId: uuid.NewString()}
}
func confirmed(id string) proto.Message {
	return &eventsv1.InventoryConfirmed{OrderId: id, ReservationId: uuid.NewString()}
}
func released(id string) proto.Message {
	return &eventsv1.InventoryReleased{OrderId: id, ReservationId: uuid.NewString(), Reason: "PAYMENT_FAILED"}
}
func initiated(id string) proto.Message {
	return &eventsv1.PaymentInitiated{OrderId: id, PaymentId: uuid.NewString(), Amount: money(1999)}
}
func succeeded(id string) proto.Message {
	return &eventsv1.PaymentSucceeded{OrderId: id, PaymentId: uuid.NewString(), Amount: money(1999)}
}
func failed(id string) proto.Message {
	return &eventsv1.PaymentFailed{OrderId: id, PaymentId: uuid.NewString(), ReasonCode: "CARD_DECLINED", Amount: money(1999)}
}
func refunded(id string) proto.Message {
	return &eventsv1.PaymentRefunded{OrderId: id, PaymentId: uuid.NewString(), RefundId: uuid.NewString(),
		Amount: money(1999), Reason: "ORDER_CANCELLED"}
}
func voided(id string) proto.Message {
	return &eventsv1.PaymentVoided{OrderId: id, PaymentId: uuid.NewString(), Amount: money(1999), Reason: "RESERVATION_EXPIRED"}
}

// feed publishes the event and waits until the order's timeline records
// it.
func (e *env) feed(id string, msg proto.Message) event.Event {
	e.t.Helper()
	ev := e.produce(id, msg)
	e.waitRecorded(id, ev)
	return ev
}

func (e *env) waitRecorded(id string, ev event.Event) {
	e.t.Helper()
	eventually(e.t, 10*time.Second, ev.Type+" not recorded for "+id, func() bool {
		var n int
		e.svc.DB.Raw("SELECT count(*) FROM order_history WHERE order_id = ? AND event_id = ?", id, ev.ID).Scan(&n)
		return n == 1
	})
}

// lastEntry is the order's newest timeline entry.
func (e *env) lastEntry(id string) entryJSON {
	e.t.Helper()
	tl := e.timeline(id)
	return tl[len(tl)-1]
}

// cancelled decodes the ORDER_CANCELLED events published for id, waiting
// for at least one, and checks that no more are waiting in the outbox.
func (e *env) cancelled(id string) []*eventsv1.OrderCancelled {
	e.t.Helper()
	evs := e.published.wait(e.t, id, eventsv1.TypeOrderCancelled, 1)
	eventually(e.t, 10*time.Second, "outbox not drained", func() bool {
		var n int
		e.svc.DB.Raw("SELECT count(*) FROM outbox WHERE message_key = ?", id).Scan(&n)
		return n == 0
	})
	evs = e.published.wait(e.t, id, eventsv1.TypeOrderCancelled, 1)
	out := make([]*eventsv1.OrderCancelled, len(evs))
	for i, ev := range evs {
		m, err := event.DecodeAs[*eventsv1.OrderCancelled](ev)
		if err != nil {
			e.t.Fatal(err)
		}
		out[i] = m
	}
	return out
}

// TestSagaPaths drives orders through each path of the saga with the
// other services' events: paid, out of stock, payment failed, expired, and
// the events of two topics in either order.
func TestSagaPaths(t *testing.T) {
	e := newEnv(t, nil)
	e.catalog()

	t.Run("happyPathToPaidWithTimelineAndMetrics", func(t *testing.T) {
		before := e.metric("order_saga_created_to_paid_seconds", nil)
		o := e.place(customerID, line(pAlpha, 1))
		res := e.feed(o.ID, reserved(o.ID))
		if e.status(o.ID) != "PAYMENT_PENDING" {
			t.Fatalf("after INVENTORY_RESERVED: %s", e.status(o.ID))
		}
		ini := e.feed(o.ID, initiated(o.ID))
		pay := e.feed(o.ID, succeeded(o.ID))
		conf := e.feed(o.ID, confirmed(o.ID))
		if e.status(o.ID) != "PAID" {
			t.Fatalf("after PAYMENT_SUCCESS: %s", e.status(o.ID))
		}
		tl := e.timeline(o.ID)
		want := []struct{ kind, from, to, cause string }{
			{"TRANSITION", "", "CREATED", ""},
			{"TRANSITION", "CREATED", "PAYMENT_PENDING", res.ID.String()},
			{"EVENT", "PAYMENT_PENDING", "PAYMENT_PENDING", ini.ID.String()},
			{"TRANSITION", "PAYMENT_PENDING", "PAID", pay.ID.String()},
			{"EVENT", "PAID", "PAID", conf.ID.String()},
		}
		if len(tl) != len(want) {
			t.Fatalf("timeline %+v", tl)
		}
		for i, w := range want {
			got := tl[i]
			cause := ""
			if got.Event != nil {
				cause = got.Event.ID
			}
			if got.Kind != w.kind || got.From != w.from || got.To != w.to || cause != w.cause {
				t.Errorf("entry %d: %+v, want %+v", i, got, w)
			}
		}
		if tl[3].Detail["payment_id"] == "" || tl[3].Detail["amount_minor"] != "1999" || tl[3].Event.Type != "PAYMENT_SUCCESS" {
			t.Errorf("payment entry %+v", tl[3])
		}
		if tl[1].Detail["reservation_id"] == "" {
			t.Errorf("reservation entry %+v", tl[1])
		}
		if n := e.metric("order_saga_created_to_paid_seconds", nil); n != before+1 {
			t.Errorf("saga histogram count %v, want %v", n, before+1)
		}
		if n := e.metric("order_transitions_total", map[string]string{"from": "PAYMENT_PENDING", "to": "PAID"}); n < 1 {
			t.Errorf("transitions counter %v", n)
		}
		// /metrics serves them.
		r, err := http.Get(e.base + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		body, _ := io.ReadAll(r.Body)
		for _, name := range []string{"orders_created_total", "order_transitions_total{from=\"CREATED\",to=\"PAYMENT_PENDING\"}",
			"order_saga_created_to_paid_seconds_bucket", "orders_stuck{status=\"PAYMENT_PENDING\"}"} {
			if !strings.Contains(string(body), name) {
				t.Errorf("/metrics lacks %s", name)
			}
		}
	})

	t.Run("outOfStockCancelsAndPublishesOrderCancelled", func(t *testing.T) {
		o := e.place(customerID, line(pAlpha, 3))
		rej := e.feed(o.ID, rejected(o.ID))
		if e.status(o.ID) != "CANCELLED" {
			t.Fatalf("status %s", e.status(o.ID))
		}
		msgs := e.cancelled(o.ID)
		if len(msgs) != 1 || msgs[0].GetReason() != "OUT_OF_STOCK" || msgs[0].GetPreviousStatus() != "CREATED" ||
			msgs[0].GetPaid() || msgs[0].GetCancelledBy() != "" || msgs[0].GetUserId() != customerID || msgs[0].GetTotal().GetAmountMinor() != 3*1999 {
			t.Fatalf("ORDER_CANCELLED %v", msgs)
		}
		last := e.lastEntry(o.ID)
		if last.Reason != "OUT_OF_STOCK" || last.Event == nil || last.Event.ID != rej.ID.String() || last.Emitted == nil ||
			last.Actor != nil || last.Detail["short:"+pAlpha] != "1 requested, 0 available" {
			t.Fatalf("entry %+v", last)
		}
		// The ORDER_CANCELLED names the rejection as its cause.
		if ev := e.published.of(t, o.ID, eventsv1.TypeOrderCancelled)[0]; ev.CausationID != rej.ID.String() || ev.CorrelationID != o.ID {
			t.Errorf("causation %q correlation %q", ev.CausationID, ev.CorrelationID)
		}
	})

	t.Run("paymentFailedCancels", func(t *testing.T) {
		o := e.place(customerID, line(pAlpha, 1))
		e.feed(o.ID, reserved(o.ID))
		e.feed(o.ID, failed(o.ID))
		e.feed(o.ID, released(o.ID))
		msgs := e.cancelled(o.ID)
		if e.status(o.ID) != "CANCELLED" || len(msgs) != 1 || msgs[0].GetReason() != "PAYMENT_FAILED" ||
			msgs[0].GetPreviousStatus() != "PAYMENT_PENDING" || msgs[0].GetPaid() {
			t.Fatalf("%s %v", e.status(o.ID), msgs)
		}
		if last := e.lastEntry(o.ID); last.Kind != "EVENT" || last.Event.Type != "INVENTORY_RELEASED" {
			t.Fatalf("entry %+v", last)
		}
	})

	t.Run("reservationExpiredCancelsAndLatePaymentIsAbsorbed", func(t *testing.T) {
		o := e.place(customerID, line(pAlpha, 1))
		e.feed(o.ID, reserved(o.ID))
		e.feed(o.ID, expired(o.ID))
		e.feed(o.ID, voided(o.ID))
		late := e.feed(o.ID, succeeded(o.ID))
		e.feed(o.ID, refunded(o.ID))
		if e.status(o.ID) != "CANCELLED" {
			t.Fatalf("status %s", e.status(o.ID))
		}
		msgs := e.cancelled(o.ID)
		if len(msgs) != 1 || msgs[0].GetReason() != "RESERVATION_EXPIRED" || msgs[0].GetPaid() {
			t.Fatalf("ORDER_CANCELLED %v", msgs)
		}
		var kinds []string
		for _, en := range e.timeline(o.ID) {
			kinds = append(kinds, en.Kind+":"+en.To)
			if en.Event != nil && en.Event.ID == late.ID.String() &&
				(en.Kind != "IGNORED" || !strings.HasPrefix(en.Reason, "LATE_PAYMENT_AFTER_CANCELLATION")) {
				t.Errorf("late payment entry %+v", en)
			}
		}
		want := "TRANSITION:CREATED TRANSITION:PAYMENT_PENDING TRANSITION:CANCELLED EVENT:CANCELLED IGNORED:CANCELLED EVENT:CANCELLED"
		if strings.Join(kinds, " ") != want {
			t.Fatalf("timeline %v", kinds)
		}
	})

	t.Run("paymentSeenBeforeReservationStillPays", func(t *testing.T) {
		o := e.place(customerID, line(pAlpha, 1))
		e.feed(o.ID, succeeded(o.ID))
		late := e.feed(o.ID, reserved(o.ID))
		if e.status(o.ID) != "PAID" {
			t.Fatalf("status %s", e.status(o.ID))
		}
		if last := e.lastEntry(o.ID); last.Kind != "IGNORED" || last.Event.ID != late.ID.String() ||
			!strings.Contains(last.Reason, "cannot reserve an order that is PAID") {
			t.Fatalf("entry %+v", last)
		}
	})

	t.Run("expiryAfterPaymentCancelsPaidForARefund", func(t *testing.T) {
		o := e.place(customerID, line(pAlpha, 1))
		e.feed(o.ID, reserved(o.ID))
		e.feed(o.ID, succeeded(o.ID))
		e.feed(o.ID, expired(o.ID))
		msgs := e.cancelled(o.ID)
		if e.status(o.ID) != "CANCELLED" || len(msgs) != 1 || !msgs[0].GetPaid() || msgs[0].GetPreviousStatus() != "PAID" {
			t.Fatalf("%s %v", e.status(o.ID), msgs)
		}
	})
}

// TestSagaRedeliveredAndReorderedEvents holds the state when events come
// twice or out of order.
func TestSagaRedeliveredAndReorderedEvents(t *testing.T) {
	e := newEnv(t, nil)
	e.catalog()

	t.Run("eachConsumerFedEachEventTwiceKeepsTheSameState", func(t *testing.T) {
		cases := []struct {
			msg     func(string) proto.Message
			setup   []func(string) proto.Message
			status  string
			cancels int
		}{
			{reserved, nil, "PAYMENT_PENDING", 0},
			{rejected, nil, "CANCELLED", 1},
			{expired, []func(string) proto.Message{reserved}, "CANCELLED", 1},
			{succeeded, []func(string) proto.Message{reserved}, "PAID", 0},
			{failed, []func(string) proto.Message{reserved}, "CANCELLED", 1},
			{confirmed, []func(string) proto.Message{reserved, succeeded}, "PAID", 0},
			{released, []func(string) proto.Message{reserved, failed}, "CANCELLED", 1},
			{initiated, []func(string) proto.Message{reserved}, "PAYMENT_PENDING", 0},
			{refunded, []func(string) proto.Message{reserved, succeeded}, "PAID", 0},
			{voided, []func(string) proto.Message{reserved, expired}, "CANCELLED", 1},
		}
		for _, tc := range cases {
			o := e.place(customerID, line(pBeta, 1))
			for _, s := range tc.setup {
				if err := e.applyDirect(newEvent(t, o.ID, s(o.ID))); err != nil {
					t.Fatal(err)
				}
			}
			ev := newEvent(t, o.ID, tc.msg(o.ID))
			dupBefore := e.metric("consumer_events_total", map[string]string{"type": ev.Type, "outcome": "duplicate"})
			// Twice through the broker, with the same event ID: the inbox skips
			// the second delivery.
			e.produceEvents(ev, ev)
			e.waitRecorded(o.ID, ev)
			eventually(t, 10*time.Second, ev.Type+": the second delivery was not seen", func() bool {
				return e.metric("consumer_events_total", map[string]string{"type": ev.Type, "outcome": "duplicate"}) > dupBefore
			})
			entries := e.historyCount(o.ID)
			// Twice more straight into the handler, past the inbox (as after
			// its rows were pruned): the timeline knows the event.
			for range 2 {
				if err := e.applyDirect(ev); err != nil {
					t.Fatalf("%s: %v", ev.Type, err)
				}
			}
			if got := e.status(o.ID); got != tc.status || e.historyCount(o.ID) != entries {
				t.Errorf("%s: status %s (want %s), %d entries (had %d)", ev.Type, got, tc.status, e.historyCount(o.ID), entries)
			}
			if tc.cancels > 0 {
				if n := len(e.cancelled(o.ID)); n != tc.cancels {
					t.Errorf("%s: %d ORDER_CANCELLED", ev.Type, n)
				}
			} else if n := len(e.published.of(t, o.ID, eventsv1.TypeOrderCancelled)); n != 0 {
				t.Errorf("%s: %d ORDER_CANCELLED", ev.Type, n)
			}
		}
	})

	t.Run("catalogEventsOutOfOrderNeverRegress", func(t *testing.T) {
		id := uuid.NewString()
		up := func(v, amount int64, status string) event.Event {
			return newEvent(t, id, &eventsv1.ProductUpserted{ProductId: id, Sku: "OOO", Name: fmt.Sprintf("Gizmo v%d", v),
				SellerId: sellerID, Status: status, Version: v, Price: money(amount)})
		}
		price := func(v, amount int64) event.Event {
			return newEvent(t, id, &eventsv1.ProductPriceChanged{ProductId: id, Version: v, OldPrice: money(1), NewPrice: money(amount)})
		}
		last := up(3, 333, "ACTIVE")
		seq := []event.Event{
			up(2, 200, "ACTIVE"),
			up(1, 100, "ACTIVE"), // older: ignored
			price(3, 300),
			price(2, 250), // older: ignored
			newEvent(t, id, &eventsv1.ProductArchived{ProductId: id, Version: 4}),
			last, // older than the archive: cannot revive it
		}
		// Each twice: the consumer sees every event a second time.
		var twice []event.Event
		for _, ev := range seq {
			twice = append(twice, ev, ev)
		}
		e.produceEvents(twice...)
		eventually(t, 10*time.Second, "catalog events not consumed", func() bool {
			var n int
			e.svc.DB.Raw("SELECT count(*) FROM processed_events WHERE event_id = ?", last.ID).Scan(&n)
			return n == 1
		})
		var p struct {
			Name       string
			Status     string
			PriceMinor int64
			Version    int64
		}
		read := func() {
			e.svc.DB.Raw("SELECT name, status, price_minor, version FROM products WHERE id = ?", id).Scan(&p)
		}
		read()
		if p.Name != "Gizmo v2" || p.Status != "ARCHIVED" || p.PriceMinor != 300 || p.Version != 4 {
			t.Fatalf("replica %+v", p)
		}
		for _, ev := range seq { // and straight into the handler, past the inbox
			if err := e.applyDirect(ev); err != nil {
				t.Fatal(err)
			}
		}
		read()
		if p.Status != "ARCHIVED" || p.PriceMinor != 300 || p.Version != 4 {
			t.Fatalf("replica after replays %+v", p)
		}
		body := map[string]any{"lines": []any{line(id, 1)}}
		if r := e.do("POST", "/api/v1/orders", customerID, body, "Idempotency-Key", uuid.NewString()); r.status != 400 {
			t.Fatalf("archived product ordered: %d %s", r.status, r.body)
		}
		// A newer version brings it back, at its new price.
		e.produceEvents(up(5, 555, "ACTIVE"))
		eventually(t, 10*time.Second, "v5 not applied", func() bool { read(); return p.Version == 5 })
		o := e.place(customerID, line(id, 2))
		if o.Total.AmountMinor != 1110 || o.Items[0].Name != "Gizmo v5" {
			t.Fatalf("order %+v", o)
		}
	})
}

// TestSagaPoisonEvents sends what can never be handled: it is
// dead-lettered and the partition moves on.
func TestSagaPoisonEvents(t *testing.T) {
	e := newEnv(t, nil)
	e.catalog()

	t.Run("poisonEventsGoToTheDLQWithoutBlocking", func(t *testing.T) {
		dlqBefore := e.metric("consumer_events_total", map[string]string{"outcome": "dead_lettered"})
		stranger := uuid.NewString()
		unknown := newEvent(t, stranger, succeeded(stranger))
		garbage := newEvent(t, stranger, failed(stranger)).Message()
		garbage.Value = []byte{0xff, 0xff, 0xff}
		noOrder := newEvent(t, stranger, &eventsv1.PaymentFailed{})
		o := e.place(customerID, line(pAlpha, 1))
		after := newEvent(t, stranger, reserved(o.ID)) // same partition as the poison, behind it
		if err := e.writer.WriteMessages(t.Context(), unknown.Message(), garbage, noOrder.Message(), after.Message()); err != nil {
			t.Fatal(err)
		}
		e.waitStatus(o.ID, "PAYMENT_PENDING")
		eventually(t, 10*time.Second, "poison not dead-lettered", func() bool {
			return e.metric("consumer_events_total", map[string]string{"outcome": "dead_lettered"}) >= dlqBefore+3
		})
		r := e.do("GET", "/api/v1/admin/dlq/order", adminID, nil)
		if r.status != 200 || !strings.Contains(string(r.body), unknown.ID.String()) ||
			!strings.Contains(string(r.body), "unknown order") {
			t.Fatalf("DLQ: %d %s", r.status, r.body)
		}
		if r := e.do("GET", "/api/v1/admin/dlq/order", sellerID, nil); r.status != 403 {
			t.Fatalf("DLQ for a seller: %d", r.status)
		}
		// Replaying the unknown order's event dead-letters it again: still no
		// such order, and nothing else is held up.
		if r := e.do("POST", "/api/v1/admin/dlq/order/0/replay", adminID, nil); r.status != 200 {
			t.Fatalf("replay: %d %s", r.status, r.body)
		}
		if r := e.do("POST", "/api/v1/admin/dlq/order/999/replay", adminID, nil); r.status != 404 {
			t.Fatalf("replay of nothing: %d %s", r.status, r.body)
		}
		// The listing says who replayed the entry.
		r = e.do("GET", "/api/v1/admin/dlq/order", adminID, nil)
		var page struct {
			Entries []struct {
				Offset  int64 `json:"offset"`
				Replays []struct{ By string }
			}
		}
		if err := json.Unmarshal(r.body, &page); err != nil || r.status != 200 {
			t.Fatalf("DLQ after the replay: %d %s", r.status, r.body)
		}
		var by []string
		for _, en := range page.Entries {
			if en.Offset == 0 {
				for _, rp := range en.Replays {
					by = append(by, rp.By)
				}
			}
		}
		if len(by) != 1 || by[0] != adminID {
			t.Fatalf("replays of offset 0: %v, want [%s]", by, adminID)
		}
		// One entry, and a bulk dry run with a result per entry; the
		// garbage payload can never be replayed.
		if r := e.do("GET", "/api/v1/admin/dlq/order/0", adminID, nil); r.status != 200 || !strings.Contains(string(r.body), unknown.ID.String()) {
			t.Fatalf("entry 0: %d %s", r.status, r.body)
		}
		r = e.do("POST", "/api/v1/admin/dlq/order/replay", adminID, map[string]any{"filter": map[string]any{"order_id": stranger}, "dry_run": true})
		var dry struct {
			Counts map[string]int `json:"counts"`
		}
		if err := json.Unmarshal(r.body, &dry); err != nil || r.status != 200 || dry.Counts["refused"] < 1 || dry.Counts["would_replay"] < 1 {
			t.Fatalf("dry run of the stranger's entries: %d %s", r.status, r.body)
		}
	})
}

// TestConcurrentUpdatesToOneOrder races requests against events on the same
// orders; the row lock serialises them and every outcome is consistent.
func TestConcurrentUpdatesToOneOrder(t *testing.T) {
	e := newEnv(t, nil)
	e.catalog()
	const n = 8

	t.Run("cancelVersusPaymentSuccess", func(t *testing.T) {
		ids := make([]string, n)
		pays := make([]event.Event, n)
		for i := range ids {
			ids[i] = e.place(customerID, line(pAlpha, 1)).ID
			if err := e.applyDirect(newEvent(t, ids[i], reserved(ids[i]))); err != nil {
				t.Fatal(err)
			}
			pays[i] = newEvent(t, ids[i], succeeded(ids[i]))
		}
		var wg sync.WaitGroup
		codes := make([]int, n)
		start := make(chan struct{})
		for i := range ids {
			// Staggered starts make either side reach the row lock first
			// on some of the orders.
			lag := time.Duration(i%4) * time.Millisecond
			wg.Go(func() {
				<-start
				codes[i] = e.do("POST", "/api/v1/orders/"+ids[i]+"/cancel", customerID, nil).status
			})
			wg.Go(func() {
				<-start
				time.Sleep(lag)
				if err := e.applyDirect(pays[i]); err != nil {
					t.Errorf("payment: %v", err)
				}
			})
		}
		close(start)
		wg.Wait()
		outcomes := map[string]int{}
		for i, id := range ids {
			// The owner may cancel PAYMENT_PENDING and PAID alike, so the
			// cancel always succeeds; what the race decides is whether the
			// payment came first. Both orders of events must leave a
			// consistent record.
			if codes[i] != 200 || e.status(id) != "CANCELLED" {
				t.Fatalf("order %d: cancel %d, status %s", i, codes[i], e.status(id))
			}
			tl := e.timeline(id)
			prev := ""
			var paidFirst, latePayment bool
			for _, en := range tl {
				if en.Kind == "TRANSITION" {
					if en.From != prev {
						t.Fatalf("order %d: broken chain %+v", i, tl)
					}
					prev = en.To
					paidFirst = paidFirst || en.To == "PAID"
				}
				if en.Kind == "IGNORED" && en.Event.Type == "PAYMENT_SUCCESS" {
					latePayment = true
				}
			}
			if paidFirst == latePayment {
				t.Fatalf("order %d: payment both applied and ignored, or neither: %+v", i, tl)
			}
			msgs := e.cancelled(id)
			if len(msgs) != 1 || msgs[0].GetPaid() != paidFirst {
				t.Fatalf("order %d: paid first %v, ORDER_CANCELLED %v", i, paidFirst, msgs)
			}
			outcomes[fmt.Sprint("paid first ", paidFirst)]++
		}
		t.Logf("outcomes: %v", outcomes)
	})

	t.Run("shipVersusCancelExactlyOneWins", func(t *testing.T) {
		ids := make([]string, n)
		for i := range ids {
			ids[i] = e.place(customerID, line(pAlpha, 1)).ID
			for _, m := range []proto.Message{reserved(ids[i]), succeeded(ids[i])} {
				if err := e.applyDirect(newEvent(t, ids[i], m)); err != nil {
					t.Fatal(err)
				}
			}
		}
		var wg sync.WaitGroup
		ship, cancel := make([]int, n), make([]int, n)
		for i := range ids {
			wg.Go(func() { ship[i] = e.do("POST", "/api/v1/orders/"+ids[i]+"/ship", sellerID, nil).status })
			wg.Go(func() { cancel[i] = e.do("POST", "/api/v1/orders/"+ids[i]+"/cancel", customerID, nil).status })
		}
		wg.Wait()
		for i, id := range ids {
			want := map[[2]int]string{{200, 409}: "SHIPPED", {409, 200}: "CANCELLED"}[[2]int{ship[i], cancel[i]}]
			if want == "" || e.status(id) != want {
				t.Fatalf("order %d: ship %d, cancel %d, status %s", i, ship[i], cancel[i], e.status(id))
			}
			published := len(e.published.of(t, id, eventsv1.TypeOrderShipped)) + len(e.published.of(t, id, eventsv1.TypeOrderCancelled))
			if published > 1 {
				t.Fatalf("order %d: both ORDER_SHIPPED and ORDER_CANCELLED", i)
			}
		}
	})
}

// TestStuckOrders lists and counts the orders past their SLA.
func TestStuckOrders(t *testing.T) {
	e := newEnv(t, map[string]string{
		"SHOP_ORDER_SLA_CREATED":         "300ms",
		"SHOP_ORDER_SLA_PAYMENT_PENDING": "1h",
		"SHOP_ORDER_STUCK_INTERVAL":      "50ms",
	})
	e.catalog()
	stuck1 := e.place(customerID, line(pAlpha, 1))
	stuck2 := e.place(otherID, line(pAlpha, 1))
	pending := e.place(customerID, line(pAlpha, 1))
	e.feed(pending.ID, reserved(pending.ID))
	done := e.place(customerID, line(pAlpha, 1))
	e.do("POST", "/api/v1/orders/"+done.ID+"/cancel", customerID, nil)

	gauge := func(status string) float64 { return e.metric("orders_stuck", map[string]string{"status": status}) }
	eventually(t, 10*time.Second, "stuck gauge did not reach 2", func() bool { return gauge("CREATED") == 2 })
	if gauge("PAYMENT_PENDING") != 0 {
		t.Errorf("PAYMENT_PENDING gauge %v", gauge("PAYMENT_PENDING"))
	}
	r := e.do("GET", "/api/v1/orders?stuck=true", adminID, nil)
	var p struct{ Orders []orderJSON }
	r.json(t, &p)
	if r.status != 200 || len(p.Orders) != 2 || p.Orders[0].ID != stuck2.ID || p.Orders[1].ID != stuck1.ID {
		t.Fatalf("stuck list: %d %s", r.status, r.body)
	}
	r = e.do("GET", "/api/v1/orders?stuck=true&status=PAYMENT_PENDING", adminID, nil)
	r.json(t, &p)
	if len(p.Orders) != 0 {
		t.Fatalf("stuck PAYMENT_PENDING: %s", r.body)
	}
	var s struct{ Stuck map[string]int64 }
	e.do("GET", "/api/v1/orders/stats", adminID, nil).json(t, &s)
	if s.Stuck["CREATED"] != 2 || s.Stuck["PAYMENT_PENDING"] != 0 {
		t.Fatalf("stats stuck %v", s.Stuck)
	}
	// The saga moves one on: it is no longer stuck.
	e.feed(stuck1.ID, reserved(stuck1.ID))
	eventually(t, 10*time.Second, "stuck gauge did not drop to 1", func() bool { return gauge("CREATED") == 1 })
	r = e.do("GET", "/api/v1/orders?stuck=true", sellerID, nil) // sellers see their own
	r.json(t, &p)
	if r.status != 200 || len(p.Orders) != 1 || p.Orders[0].ID != stuck2.ID {
		t.Fatalf("seller's stuck list: %d %s", r.status, r.body)
	}
}

// An order that inventory never answers is cancelled by the saga's own
// timeout (SAGA_TIMEOUT) and ORDER_CANCELLED tells inventory and payment;
// an order answered in time, or still within the timeout, is left alone.
func TestOrderNeverAnsweredIsCancelledByTheSagaTimeout(t *testing.T) {
	e := newEnv(t, map[string]string{"SHOP_ORDER_CREATED_TIMEOUT": "2s", "SHOP_ORDER_STUCK_INTERVAL": "100ms"})
	e.catalog()
	lost := e.place(customerID, line(pAlpha, 1))
	answered := e.place(customerID, line(pAlpha, 1))
	e.feed(answered.ID, reserved(answered.ID))

	e.waitStatus(lost.ID, "CANCELLED")
	evs := e.cancelled(lost.ID)
	if len(evs) != 1 || evs[0].GetReason() != "SAGA_TIMEOUT" || evs[0].GetPreviousStatus() != "CREATED" || evs[0].GetPaid() {
		t.Fatalf("ORDER_CANCELLED for the unanswered order: %v", evs)
	}
	last := e.lastEntry(lost.ID)
	if last.Kind != "TRANSITION" || last.From != "CREATED" || last.To != "CANCELLED" || last.Reason != "SAGA_TIMEOUT" ||
		last.Emitted == nil || last.Emitted.Type != eventsv1.TypeOrderCancelled {
		t.Fatalf("timeline entry of the timeout: %+v", last)
	}
	var o orderJSON
	e.do("GET", "/api/v1/orders/"+lost.ID, customerID, nil).json(t, &o)
	if o.CancelReason != "SAGA_TIMEOUT" {
		t.Fatalf("cancel reason %q, want SAGA_TIMEOUT", o.CancelReason)
	}

	// Its inventory answer arriving late changes nothing.
	e.feed(lost.ID, reserved(lost.ID))
	if e.status(lost.ID) != "CANCELLED" || e.lastEntry(lost.ID).Kind != "IGNORED" {
		t.Fatalf("late INVENTORY_RESERVED: %s, %+v", e.status(lost.ID), e.lastEntry(lost.ID))
	}
	// A new order is within its timeout; the answered one waits for its
	// payment (the reservation's expiry resolves it, not this timeout).
	fresh := e.place(customerID, line(pAlpha, 1))
	time.Sleep(500 * time.Millisecond)
	if st := e.status(fresh.ID); st != "CREATED" {
		t.Fatalf("an order within the timeout is %s", st)
	}
	time.Sleep(2 * time.Second)
	if st := e.status(answered.ID); st != "PAYMENT_PENDING" {
		t.Fatalf("the answered order is %s, want PAYMENT_PENDING", st)
	}
	if n := len(e.published.of(t, answered.ID, eventsv1.TypeOrderCancelled)); n != 0 {
		t.Fatalf("the answered order was cancelled %d times", n)
	}
}
