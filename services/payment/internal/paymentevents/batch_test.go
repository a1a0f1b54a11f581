package paymentevents_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/shop-oss/shop/pkg/consumer"
	"github.com/shop-oss/shop/pkg/database"
	"github.com/shop-oss/shop/pkg/event"
	"github.com/shop-oss/shop/proto-events/eventsv1"
	"github.com/shop-oss/shop/services/payment/internal/payment"
	"github.com/shop-oss/shop/services/payment/internal/paymentdb"
	"github.com/shop-oss/shop/services/payment/internal/paymentevents"
	"github.com/shop-oss/shop/services/payment/internal/paymenttest"
)

// A batch handled as the consumer does (one TxStartingWith transaction,
// Prepare, then each handler in key order with Prepare's context) ends as
// if its events were handled one by one: the payments are created where
// the batch completes an order's picture (whichever event comes second),
// not where it does not (not known, not reserved, cancelled), once where
// the order has a payment already, and by the handlers for an order with
// two events in the batch. Prepare has written them before the handlers
// run, and the waiting requests of exactly the orders that got a payment
// are woken.
func TestBatchEndsAsOneByOne(t *testing.T) {
	f := paymenttest.Start(t, spec, nil)
	ctx := context.Background()
	later := time.Now().Add(15 * time.Minute)
	svc, err := payment.New(payment.Options{Store: paymentdb.New(f.Svc.DB, f.Svc.DB), Gateway: f.Gateway})
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		woken []string
	)
	h := paymentevents.NewHandlers(svc, func(orderID string) {
		mu.Lock()
		woken = append(woken, orderID)
		mu.Unlock()
	})

	orders := map[string]string{} // name → order ID
	for _, name := range []string{"known", "reserved", "paid", "cancelled", "new", "newReserved", "both"} {
		orders[name] = uuid.NewString()
	}
	user := uuid.NewString()
	// Before the batch, one by one.
	f.Apply(t,
		paymenttest.OrderCreated(t, orders["known"], user, 1000),
		paymenttest.Reserved(t, orders["reserved"], later),
		paymenttest.OrderCreated(t, orders["paid"], user, 3000),
		paymenttest.Reserved(t, orders["paid"], later),
		paymenttest.OrderCreated(t, orders["cancelled"], user, 4000),
		paymenttest.Cancelled(t, orders["cancelled"], "customer", false),
	)
	batch := []event.Event{
		paymenttest.Reserved(t, orders["known"], later),             // completes the picture: a payment
		paymenttest.OrderCreated(t, orders["reserved"], user, 2000), // likewise, the other way round
		paymenttest.Reserved(t, orders["paid"], later),              // repeated: the payment exists
		paymenttest.Reserved(t, orders["cancelled"], later),         // closed: none
		paymenttest.OrderCreated(t, orders["new"], user, 5000),      // not reserved yet: none
		paymenttest.Reserved(t, orders["newReserved"], later),       // not known yet: none
		paymenttest.OrderCreated(t, orders["both"], user, 6000),     // two events of one order:
		paymenttest.Reserved(t, orders["both"], later),              // the handlers, in order
	}
	slices.SortStableFunc(batch, func(a, b event.Event) int { return strings.Compare(a.Key, b.Key) })
	handle := map[string]consumer.Handler{
		eventsv1.TypeOrderCreated:      h.OrderCreated,
		eventsv1.TypeInventoryReserved: h.InventoryReserved,
	}

	err = database.TxStartingWith(ctx, f.Svc.DB, database.First{SQL: "SELECT 1"}, func(tx *gorm.DB) error {
		hctx, err := h.Prepare(ctx, tx, batch)
		if err != nil {
			return err
		}
		// Prepare wrote the payments already; the handlers finish the rest.
		var early []string
		if err := tx.Raw("SELECT order_id::text FROM payments WHERE order_id IN ? ORDER BY order_id",
			[]string{orders["known"], orders["reserved"], orders["both"]}).Scan(&early).Error; err != nil {
			return err
		}
		want := []string{orders["known"], orders["reserved"]}
		slices.Sort(want)
		if !slices.Equal(early, want) {
			t.Errorf("after Prepare, payments of %v; want %v", early, want)
		}
		for _, e := range batch {
			if err := handle[e.Type](e.Context(hctx), tx, e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	for name, want := range map[string]int{"known": 1, "reserved": 1, "paid": 1, "cancelled": 0, "new": 0, "newReserved": 0, "both": 1} {
		s := stateOf(t, f, orders[name])
		if s.Payments != want || want == 1 && s.Status != "PENDING" {
			t.Errorf("%s: %+v; want %d PENDING payment(s)", name, s, want)
		}
	}
	for _, name := range []string{"known", "reserved", "both"} {
		if got := payments(t, f, orders[name]); !slices.Equal(got, []string{eventsv1.TypePaymentInitiated}) {
			t.Errorf("%s: published %v; want one PAYMENT_INITIATED", name, got)
		}
	}
	var amounts []int64
	if err := f.Svc.DB.Raw("SELECT amount_minor FROM payments WHERE order_id IN ? ORDER BY amount_minor",
		[]string{orders["known"], orders["reserved"], orders["both"]}).Scan(&amounts).Error; err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(amounts, []int64{1000, 2000, 6000}) {
		t.Errorf("amounts %v; want the orders' totals [1000 2000 6000]", amounts)
	}
	want := []string{orders["known"], orders["reserved"], orders["both"]}
	slices.Sort(want)
	slices.Sort(woken)
	if !slices.Equal(woken, want) {
		t.Errorf("woke the waiters of %v; want %v", woken, want)
	}
}
