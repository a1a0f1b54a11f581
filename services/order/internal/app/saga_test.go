package app_test

import (
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
	"github.com/shop-oss/shop/pkg/testkit"
	"github.com/shop-oss/shop/proto-events/eventsv1"
	"github.com/shop-oss/shop/services/order/internal/ordertest"
)

// lastEntry is the order's newest timeline entry.
func (e *env) lastEntry(id string) ordertest.EntryJSON {
	e.T.Helper()
	tl := e.Timeline(id)
	return tl[len(tl)-1]
}

// cancelled decodes the ORDER_CANCELLED events published for id, waiting
// for at least one, and checks that no more are waiting in the outbox.
func (e *env) cancelled(id string) []*eventsv1.OrderCancelled {
	e.T.Helper()
	evs := e.Published.Wait(e.T, id, eventsv1.TypeOrderCancelled, 1)
	testkit.Eventually(e.T, 10*time.Second, "outbox not drained", func() bool {
		var n int
		e.Svc.DB.Raw("SELECT count(*) FROM outbox WHERE message_key = ?", id).Scan(&n)
		return n == 0
	})
	evs = e.Published.Wait(e.T, id, eventsv1.TypeOrderCancelled, 1)
	out := make([]*eventsv1.OrderCancelled, len(evs))
	for i, ev := range evs {
		m, err := event.DecodeAs[*eventsv1.OrderCancelled](ev)
		if err != nil {
			e.T.Fatal(err)
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
	e.Catalog()

	t.Run("happyPathToPaidWithTimelineAndMetrics", func(t *testing.T) {
		before := e.Metric("order_saga_created_to_paid_seconds", nil)
		o := e.Place(ordertest.CustomerID, ordertest.Line(ordertest.Alpha, 1))
		res := e.Feed(o.ID, ordertest.Reserved(o.ID))
		if e.Status(o.ID) != "PAYMENT_PENDING" {
			t.Fatalf("after INVENTORY_RESERVED: %s", e.Status(o.ID))
		}
		ini := e.Feed(o.ID, ordertest.Initiated(o.ID))
		pay := e.Feed(o.ID, ordertest.Succeeded(o.ID))
		conf := e.Feed(o.ID, ordertest.Confirmed(o.ID))
		if e.Status(o.ID) != "PAID" {
			t.Fatalf("after PAYMENT_SUCCESS: %s", e.Status(o.ID))
		}
		tl := e.Timeline(o.ID)
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
		if n := e.Metric("order_saga_created_to_paid_seconds", nil); n != before+1 {
			t.Errorf("saga histogram count %v, want %v", n, before+1)
		}
		if n := e.Metric("order_transitions_total", map[string]string{"from": "PAYMENT_PENDING", "to": "PAID"}); n < 1 {
			t.Errorf("transitions counter %v", n)
		}
		// /metrics serves them.
		r, err := http.Get(e.Base + "/metrics")
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
		o := e.Place(ordertest.CustomerID, ordertest.Line(ordertest.Alpha, 3))
		rej := e.Feed(o.ID, ordertest.Rejected(o.ID))
		if e.Status(o.ID) != "CANCELLED" {
			t.Fatalf("status %s", e.Status(o.ID))
		}
		msgs := e.cancelled(o.ID)
		if len(msgs) != 1 || msgs[0].GetReason() != "OUT_OF_STOCK" || msgs[0].GetPreviousStatus() != "CREATED" ||
			msgs[0].GetPaid() || msgs[0].GetCancelledBy() != "" || msgs[0].GetUserId() != ordertest.CustomerID || msgs[0].GetTotal().GetAmountMinor() != 3*1999 {
			t.Fatalf("ORDER_CANCELLED %v", msgs)
		}
		last := e.lastEntry(o.ID)
		if last.Reason != "OUT_OF_STOCK" || last.Event == nil || last.Event.ID != rej.ID.String() || last.Emitted == nil ||
			last.Actor != nil || last.Detail["short:"+ordertest.Alpha] != "1 requested, 0 available" {
			t.Fatalf("entry %+v", last)
		}
		// The ORDER_CANCELLED names the rejection as its cause.
		if ev := e.Published.Of(t, o.ID, eventsv1.TypeOrderCancelled)[0]; ev.CausationID != rej.ID.String() || ev.CorrelationID != o.ID {
			t.Errorf("causation %q correlation %q", ev.CausationID, ev.CorrelationID)
		}
	})

	t.Run("paymentFailedCancels", func(t *testing.T) {
		o := e.Place(ordertest.CustomerID, ordertest.Line(ordertest.Alpha, 1))
		e.Feed(o.ID, ordertest.Reserved(o.ID))
		e.Feed(o.ID, ordertest.Failed(o.ID))
		e.Feed(o.ID, ordertest.Released(o.ID))
		msgs := e.cancelled(o.ID)
		if e.Status(o.ID) != "CANCELLED" || len(msgs) != 1 || msgs[0].GetReason() != "PAYMENT_FAILED" ||
			msgs[0].GetPreviousStatus() != "PAYMENT_PENDING" || msgs[0].GetPaid() {
			t.Fatalf("%s %v", e.Status(o.ID), msgs)
		}
		if last := e.lastEntry(o.ID); last.Kind != "EVENT" || last.Event.Type != "INVENTORY_RELEASED" {
			t.Fatalf("entry %+v", last)
		}
	})

	t.Run("reservationExpiredCancelsAndLatePaymentIsAbsorbed", func(t *testing.T) {
		o := e.Place(ordertest.CustomerID, ordertest.Line(ordertest.Alpha, 1))
		e.Feed(o.ID, ordertest.Reserved(o.ID))
		e.Feed(o.ID, ordertest.Expired(o.ID))
		e.Feed(o.ID, ordertest.Voided(o.ID))
		late := e.Feed(o.ID, ordertest.Succeeded(o.ID))
		e.Feed(o.ID, ordertest.Refunded(o.ID))
		if e.Status(o.ID) != "CANCELLED" {
			t.Fatalf("status %s", e.Status(o.ID))
		}
		msgs := e.cancelled(o.ID)
		if len(msgs) != 1 || msgs[0].GetReason() != "RESERVATION_EXPIRED" || msgs[0].GetPaid() {
			t.Fatalf("ORDER_CANCELLED %v", msgs)
		}
		var kinds []string
		for _, en := range e.Timeline(o.ID) {
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
		o := e.Place(ordertest.CustomerID, ordertest.Line(ordertest.Alpha, 1))
		e.Feed(o.ID, ordertest.Succeeded(o.ID))
		late := e.Feed(o.ID, ordertest.Reserved(o.ID))
		if e.Status(o.ID) != "PAID" {
			t.Fatalf("status %s", e.Status(o.ID))
		}
		if last := e.lastEntry(o.ID); last.Kind != "IGNORED" || last.Event.ID != late.ID.String() ||
			!strings.Contains(last.Reason, "cannot reserve an order that is PAID") {
			t.Fatalf("entry %+v", last)
		}
	})

	t.Run("expiryAfterPaymentCancelsPaidForARefund", func(t *testing.T) {
		o := e.Place(ordertest.CustomerID, ordertest.Line(ordertest.Alpha, 1))
		e.Feed(o.ID, ordertest.Reserved(o.ID))
		e.Feed(o.ID, ordertest.Succeeded(o.ID))
		e.Feed(o.ID, ordertest.Expired(o.ID))
		msgs := e.cancelled(o.ID)
		if e.Status(o.ID) != "CANCELLED" || len(msgs) != 1 || !msgs[0].GetPaid() || msgs[0].GetPreviousStatus() != "PAID" {
			t.Fatalf("%s %v", e.Status(o.ID), msgs)
		}
	})
}

// TestSagaRedeliveredAndReorderedEvents holds the state when events come
// twice or out of order.
func TestSagaRedeliveredAndReorderedEvents(t *testing.T) {
	e := newEnv(t, nil)
	e.Catalog()

	t.Run("eachConsumerFedEachEventTwiceKeepsTheSameState", func(t *testing.T) {
		cases := []struct {
			msg     func(string) proto.Message
			setup   []func(string) proto.Message
			status  string
			cancels int
		}{
			{ordertest.Reserved, nil, "PAYMENT_PENDING", 0},
			{ordertest.Rejected, nil, "CANCELLED", 1},
			{ordertest.Expired, []func(string) proto.Message{ordertest.Reserved}, "CANCELLED", 1},
			{ordertest.Succeeded, []func(string) proto.Message{ordertest.Reserved}, "PAID", 0},
			{ordertest.Failed, []func(string) proto.Message{ordertest.Reserved}, "CANCELLED", 1},
			{ordertest.Confirmed, []func(string) proto.Message{ordertest.Reserved, ordertest.Succeeded}, "PAID", 0},
			{ordertest.Released, []func(string) proto.Message{ordertest.Reserved, ordertest.Failed}, "CANCELLED", 1},
			{ordertest.Initiated, []func(string) proto.Message{ordertest.Reserved}, "PAYMENT_PENDING", 0},
			{ordertest.Refunded, []func(string) proto.Message{ordertest.Reserved, ordertest.Succeeded}, "PAID", 0},
			{ordertest.Voided, []func(string) proto.Message{ordertest.Reserved, ordertest.Expired}, "CANCELLED", 1},
		}
		for _, tc := range cases {
			o := e.Place(ordertest.CustomerID, ordertest.Line(ordertest.Alpha, 1))
			for _, s := range tc.setup {
				if err := e.ApplyDirect(ordertest.NewEvent(t, o.ID, s(o.ID))); err != nil {
					t.Fatal(err)
				}
			}
			ev := ordertest.NewEvent(t, o.ID, tc.msg(o.ID))
			dupBefore := e.Metric("consumer_events_total", map[string]string{"type": ev.Type, "outcome": "duplicate"})
			// Twice through the broker, with the same event ID: the inbox skips
			// the second delivery.
			e.ProduceEvents(ev, ev)
			e.WaitRecorded(o.ID, ev)
			testkit.Eventually(t, 10*time.Second, ev.Type+": the second delivery was not seen", func() bool {
				return e.Metric("consumer_events_total", map[string]string{"type": ev.Type, "outcome": "duplicate"}) > dupBefore
			})
			entries := e.HistoryCount(o.ID)
			// Twice more straight into the handler, past the inbox (as after
			// its rows were pruned): the timeline knows the event.
			for range 2 {
				if err := e.ApplyDirect(ev); err != nil {
					t.Fatalf("%s: %v", ev.Type, err)
				}
			}
			if got := e.Status(o.ID); got != tc.status || e.HistoryCount(o.ID) != entries {
				t.Errorf("%s: status %s (want %s), %d entries (had %d)", ev.Type, got, tc.status, e.HistoryCount(o.ID), entries)
			}
			if tc.cancels > 0 {
				if n := len(e.cancelled(o.ID)); n != tc.cancels {
					t.Errorf("%s: %d ORDER_CANCELLED", ev.Type, n)
				}
			} else if n := len(e.Published.Of(t, o.ID, eventsv1.TypeOrderCancelled)); n != 0 {
				t.Errorf("%s: %d ORDER_CANCELLED", ev.Type, n)
			}
		}
	})

	t.Run("catalogEventsOutOfOrderNeverRegress", func(t *testing.T) {
		id := uuid.NewString()
		up := func(v, amount int64, status string) event.Event {
			return ordertest.NewEvent(t, id, &eventsv1.ProductUpserted{ProductId: id, Sku: "OOO", Name: fmt.Sprintf("Gizmo v%d", v),
				SellerId: ordertest.SellerID, Status: status, Version: v, Price: ordertest.Euros(amount)})
		}
		price := func(v, amount int64) event.Event {
			return ordertest.NewEvent(t, id, &eventsv1.ProductPriceChanged{ProductId: id, Version: v, OldPrice: ordertest.Euros(1), NewPrice: ordertest.Euros(amount)})
		}
		last := up(3, 333, "ACTIVE")
		seq := []event.Event{
			up(2, 200, "ACTIVE"),
			up(1, 100, "ACTIVE"), // older: ignored
			price(3, 300),
			price(2, 250), // older: ignored
			ordertest.NewEvent(t, id, &eventsv1.ProductArchived{ProductId: id, Version: 4}),
			last, // older than the archive: cannot revive it
		}
		// Each twice: the consumer sees every event a second time.
		var twice []event.Event
		for _, ev := range seq {
			twice = append(twice, ev, ev)
		}
		e.ProduceEvents(twice...)
		testkit.Eventually(t, 10*time.Second, "catalog events not consumed", func() bool {
			var n int
			e.Svc.DB.Raw("SELECT count(*) FROM processed_events WHERE event_id = ?", last.ID).Scan(&n)
			return n == 1
		})
		var p struct {
			Name       string
			Status     string
			PriceMinor int64
			Version    int64
		}
		read := func() {
			e.Svc.DB.Raw("SELECT name, status, price_minor, version FROM products WHERE id = ?", id).Scan(&p)
		}
		read()
		if p.Name != "Gizmo v2" || p.Status != "ARCHIVED" || p.PriceMinor != 300 || p.Version != 4 {
			t.Fatalf("replica %+v", p)
		}
		for _, ev := range seq { // and straight into the handler, past the inbox
			if err := e.ApplyDirect(ev); err != nil {
				t.Fatal(err)
			}
		}
		read()
		if p.Status != "ARCHIVED" || p.PriceMinor != 300 || p.Version != 4 {
			t.Fatalf("replica after replays %+v", p)
		}
		body := map[string]any{"lines": []any{ordertest.Line(id, 1)}}
		if r := e.Do("POST", "/api/v1/orders", ordertest.CustomerID, body, "Idempotency-Key", uuid.NewString()); r.Status != 400 {
			t.Fatalf("archived product ordered: %d %s", r.Status, r.Body)
		}
		// A newer version brings it back, at its new price.
		e.ProduceEvents(up(5, 555, "ACTIVE"))
		testkit.Eventually(t, 10*time.Second, "v5 not applied", func() bool { read(); return p.Version == 5 })
		o := e.Place(ordertest.CustomerID, ordertest.Line(id, 2))
		if o.Total.AmountMinor != 1110 || o.Items[0].Name != "Gizmo v5" {
			t.Fatalf("order %+v", o)
		}
	})
}

// TestConcurrentUpdatesToOneOrder races requests against events on the same
// orders; the row lock serialises them and every outcome is consistent.
func TestConcurrentUpdatesToOneOrder(t *testing.T) {
	e := newEnv(t, nil)
	e.Catalog()
	const n = 8

	t.Run("cancelVersusPaymentSuccess", func(t *testing.T) {
		ids := make([]string, n)
		pays := make([]event.Event, n)
		for i := range ids {
			ids[i] = e.Place(ordertest.CustomerID, ordertest.Line(ordertest.Alpha, 1)).ID
			if err := e.ApplyDirect(ordertest.NewEvent(t, ids[i], ordertest.Reserved(ids[i]))); err != nil {
				t.Fatal(err)
			}
			pays[i] = ordertest.NewEvent(t, ids[i], ordertest.Succeeded(ids[i]))
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
				codes[i] = e.Do("POST", "/api/v1/orders/"+ids[i]+"/cancel", ordertest.CustomerID, nil).Status
			})
			wg.Go(func() {
				<-start
				time.Sleep(lag)
				if err := e.ApplyDirect(pays[i]); err != nil {
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
			if codes[i] != 200 || e.Status(id) != "CANCELLED" {
				t.Fatalf("order %d: cancel %d, status %s", i, codes[i], e.Status(id))
			}
			tl := e.Timeline(id)
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
			ids[i] = e.Place(ordertest.CustomerID, ordertest.Line(ordertest.Alpha, 1)).ID
			for _, m := range []proto.Message{ordertest.Reserved(ids[i]), ordertest.Succeeded(ids[i])} {
				if err := e.ApplyDirect(ordertest.NewEvent(t, ids[i], m)); err != nil {
					t.Fatal(err)
				}
			}
		}
		var wg sync.WaitGroup
		ship, cancel := make([]int, n), make([]int, n)
		for i := range ids {
			wg.Go(func() { ship[i] = e.Do("POST", "/api/v1/orders/"+ids[i]+"/ship", ordertest.SellerID, nil).Status })
			wg.Go(func() { cancel[i] = e.Do("POST", "/api/v1/orders/"+ids[i]+"/cancel", ordertest.CustomerID, nil).Status })
		}
		wg.Wait()
		for i, id := range ids {
			want := map[[2]int]string{{200, 409}: "SHIPPED", {409, 200}: "CANCELLED"}[[2]int{ship[i], cancel[i]}]
			if want == "" || e.Status(id) != want {
				t.Fatalf("order %d: ship %d, cancel %d, status %s", i, ship[i], cancel[i], e.Status(id))
			}
			published := len(e.Published.Of(t, id, eventsv1.TypeOrderShipped)) + len(e.Published.Of(t, id, eventsv1.TypeOrderCancelled))
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
	e.Catalog()
	stuck1 := e.Place(ordertest.CustomerID, ordertest.Line(ordertest.Alpha, 1))
	stuck2 := e.Place(ordertest.OtherID, ordertest.Line(ordertest.Alpha, 1))
	pending := e.Place(ordertest.CustomerID, ordertest.Line(ordertest.Alpha, 1))
	e.Feed(pending.ID, ordertest.Reserved(pending.ID))
	done := e.Place(ordertest.CustomerID, ordertest.Line(ordertest.Alpha, 1))
	e.Do("POST", "/api/v1/orders/"+done.ID+"/cancel", ordertest.CustomerID, nil)

	gauge := func(status string) float64 { return e.Metric("orders_stuck", map[string]string{"status": status}) }
	testkit.Eventually(t, 10*time.Second, "stuck gauge did not reach 2", func() bool { return gauge("CREATED") == 2 })
	if gauge("PAYMENT_PENDING") != 0 {
		t.Errorf("PAYMENT_PENDING gauge %v", gauge("PAYMENT_PENDING"))
	}
	r := e.Do("GET", "/api/v1/orders?stuck=true", ordertest.AdminID, nil)
	var p struct{ Orders []ordertest.OrderJSON }
	r.JSON(t, &p)
	if r.Status != 200 || len(p.Orders) != 2 || p.Orders[0].ID != stuck2.ID || p.Orders[1].ID != stuck1.ID {
		t.Fatalf("stuck list: %d %s", r.Status, r.Body)
	}
	r = e.Do("GET", "/api/v1/orders?stuck=true&status=PAYMENT_PENDING", ordertest.AdminID, nil)
	r.JSON(t, &p)
	if len(p.Orders) != 0 {
		t.Fatalf("stuck PAYMENT_PENDING: %s", r.Body)
	}
	var s struct{ Stuck map[string]int64 }
	e.Do("GET", "/api/v1/orders/stats", ordertest.AdminID, nil).JSON(t, &s)
	if s.Stuck["CREATED"] != 2 || s.Stuck["PAYMENT_PENDING"] != 0 {
		t.Fatalf("stats stuck %v", s.Stuck)
	}
	// The saga moves one on: it is no longer stuck.
	e.Feed(stuck1.ID, ordertest.Reserved(stuck1.ID))
	testkit.Eventually(t, 10*time.Second, "stuck gauge did not drop to 1", func() bool { return gauge("CREATED") == 1 })
	r = e.Do("GET", "/api/v1/orders?stuck=true", ordertest.SellerID, nil) // sellers see their own
	r.JSON(t, &p)
	if r.Status != 200 || len(p.Orders) != 1 || p.Orders[0].ID != stuck2.ID {
		t.Fatalf("seller's stuck list: %d %s", r.Status, r.Body)
	}
}

// An order that inventory never answers is cancelled by the saga's own
// timeout (SAGA_TIMEOUT) and ORDER_CANCELLED tells inventory and payment;
// an order answered in time, or still within the timeout, is left alone.
func TestOrderNeverAnsweredIsCancelledByTheSagaTimeout(t *testing.T) {
	e := newEnv(t, map[string]string{"SHOP_ORDER_CREATED_TIMEOUT": "2s", "SHOP_ORDER_STUCK_INTERVAL": "100ms"})
	e.Catalog()
	lost := e.Place(ordertest.CustomerID, ordertest.Line(ordertest.Alpha, 1))
	answered := e.Place(ordertest.CustomerID, ordertest.Line(ordertest.Alpha, 1))
	e.Feed(answered.ID, ordertest.Reserved(answered.ID))

	e.WaitStatus(lost.ID, "CANCELLED")
	evs := e.cancelled(lost.ID)
	if len(evs) != 1 || evs[0].GetReason() != "SAGA_TIMEOUT" || evs[0].GetPreviousStatus() != "CREATED" || evs[0].GetPaid() {
		t.Fatalf("ORDER_CANCELLED for the unanswered order: %v", evs)
	}
	last := e.lastEntry(lost.ID)
	if last.Kind != "TRANSITION" || last.From != "CREATED" || last.To != "CANCELLED" || last.Reason != "SAGA_TIMEOUT" ||
		last.Emitted == nil || last.Emitted.Type != eventsv1.TypeOrderCancelled {
		t.Fatalf("timeline entry of the timeout: %+v", last)
	}
	var o ordertest.OrderJSON
	e.Do("GET", "/api/v1/orders/"+lost.ID, ordertest.CustomerID, nil).JSON(t, &o)
	if o.CancelReason != "SAGA_TIMEOUT" {
		t.Fatalf("cancel reason %q, want SAGA_TIMEOUT", o.CancelReason)
	}

	// Its inventory answer arriving late changes nothing.
	e.Feed(lost.ID, ordertest.Reserved(lost.ID))
	if e.Status(lost.ID) != "CANCELLED" || e.lastEntry(lost.ID).Kind != "IGNORED" {
		t.Fatalf("late INVENTORY_RESERVED: %s, %+v", e.Status(lost.ID), e.lastEntry(lost.ID))
	}
	// A new order is within its timeout; the answered one waits for its
	// payment (the reservation's expiry resolves it, not this timeout).
	fresh := e.Place(ordertest.CustomerID, ordertest.Line(ordertest.Alpha, 1))
	time.Sleep(500 * time.Millisecond)
	if st := e.Status(fresh.ID); st != "CREATED" {
		t.Fatalf("an order within the timeout is %s", st)
	}
	time.Sleep(2 * time.Second)
	if st := e.Status(answered.ID); st != "PAYMENT_PENDING" {
		t.Fatalf("the answered order is %s, want PAYMENT_PENDING", st)
	}
	if n := len(e.Published.Of(t, answered.ID, eventsv1.TypeOrderCancelled)); n != 0 {
		t.Fatalf("the answered order was cancelled %d times", n)
	}
}
