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
	"github.com/shop-oss/shop/pkg/testkit"
	"github.com/shop-oss/shop/proto-events/eventsv1"
	"github.com/shop-oss/shop/services/payment/internal/payment"
	"github.com/shop-oss/shop/services/payment/internal/paymentdb"
	"github.com/shop-oss/shop/services/payment/internal/paymentevents"
	"github.com/shop-oss/shop/services/payment/internal/paymenttest"
)

// A batch handled as the consumer does (one TxStartingWith transaction,
// Prepare, then each handler in key order with Prepare's context) ends as
// if its events were handled one by one: the payments are created where
// the reservation names the order's owner and total, or the projection
// knew them (from an older payment service), not where neither does, nor
// for a cancelled order; once where the order has a payment already, and
// by the handlers for an order with two events in the batch. Prepare has
// written them before the handlers run, and the waiting requests of
// exactly the orders that got a payment are woken.
func TestBatchEndsAsOneByOne(t *testing.T) {
	f := paymenttest.Start(t, spec, nil)
	ctx := context.Background()
	later := time.Now().Add(15 * time.Minute)
	var (
		mu    sync.Mutex
		woken []string
	)
	h := handlers(t, f, func(orderID string) {
		mu.Lock()
		woken = append(woken, orderID)
		mu.Unlock()
	})

	orders := map[string]string{} // name → order ID
	for _, name := range []string{"reserved", "knownBefore", "unknown", "paid", "cancelled", "both"} {
		orders[name] = uuid.NewString()
	}
	user := uuid.NewString()
	// Before the batch, one by one.
	f.KnownToOlderService(t, orders["knownBefore"], user, 2000)
	f.Apply(t,
		paymenttest.Reserved(t, orders["paid"], user, 3000, later),
		paymenttest.Cancelled(t, orders["cancelled"], "customer", false),
	)
	batch := []event.Event{
		paymenttest.Reserved(t, orders["reserved"], user, 1000, later),    // a payment
		paymenttest.ReservedWithoutOrder(t, orders["knownBefore"], later), // likewise, from what was known
		paymenttest.ReservedWithoutOrder(t, orders["unknown"], later),     // owner and total unknown: none
		paymenttest.Reserved(t, orders["paid"], user, 3000, later),        // repeated: the payment exists
		paymenttest.Reserved(t, orders["cancelled"], user, 4000, later),   // closed: none
		paymenttest.Reserved(t, orders["both"], user, 6000, later),        // two events of one order:
		paymenttest.Cancelled(t, orders["both"], "customer", false),       // the handlers, in order
	}
	slices.SortStableFunc(batch, func(a, b event.Event) int { return strings.Compare(a.Key, b.Key) })
	handle := map[string]consumer.Handler{
		eventsv1.TypeInventoryReserved: h.InventoryReserved,
		eventsv1.TypeOrderCancelled:    h.OrderCancelled,
	}

	err := database.TxStartingWith(ctx, f.Svc.DB, database.First{SQL: "SELECT 1"}, func(tx *gorm.DB) error {
		hctx, err := h.Prepare(ctx, tx, batch)
		if err != nil {
			return err
		}
		// Prepare wrote the payments already; the handlers finish the rest.
		var early []string
		if err := tx.Raw("SELECT order_id::text FROM payments WHERE order_id IN ? ORDER BY order_id",
			[]string{orders["reserved"], orders["knownBefore"], orders["both"]}).Scan(&early).Error; err != nil {
			return err
		}
		want := []string{orders["reserved"], orders["knownBefore"]}
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

	for name, want := range map[string]struct {
		payments int
		status   string
	}{
		"reserved": {1, "PENDING"}, "knownBefore": {1, "PENDING"}, "unknown": {0, ""},
		"paid": {1, "PENDING"}, "cancelled": {0, ""}, "both": {1, "VOIDED"},
	} {
		if s := stateOf(t, f, orders[name]); s.Payments != want.payments || s.Status != want.status {
			t.Errorf("%s: %+v; want %d payment(s) %s", name, s, want.payments, want.status)
		}
	}
	for name, want := range map[string][]string{
		"reserved":    {eventsv1.TypePaymentInitiated},
		"knownBefore": {eventsv1.TypePaymentInitiated},
		"both":        {eventsv1.TypePaymentInitiated, eventsv1.TypePaymentVoided},
	} {
		if got := payments(t, f, orders[name]); !slices.Equal(got, want) {
			t.Errorf("%s: published %v; want %v", name, got, want)
		}
	}
	var amounts []int64
	if err := f.Svc.DB.Raw("SELECT amount_minor FROM payments WHERE order_id IN ? ORDER BY amount_minor",
		[]string{orders["reserved"], orders["knownBefore"], orders["both"]}).Scan(&amounts).Error; err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(amounts, []int64{1000, 2000, 6000}) {
		t.Errorf("amounts %v; want the orders' totals [1000 2000 6000]", amounts)
	}
	want := []string{orders["reserved"], orders["knownBefore"], orders["both"], orders["both"]}
	slices.Sort(want)
	slices.Sort(woken)
	if !slices.Equal(woken, want) {
		t.Errorf("woke the waiters of %v; want %v", woken, want)
	}
}

// Two batches whose events share orders, on two workers: batch A's
// pipeline records y's reservation and its handler then cancels x, batch
// B's pipeline records x's reservation and its handler then cancels y. Were
// each to lock its pipeline's orders and then its handlers', A would hold y
// and wait for x while B held x and waited for y, until PostgreSQL's
// deadlock check failed one of them a second later. Prepare first takes
// every order of the batch (advisory locks, in one order), so B waits for
// A before it locks anything, and both commit.
func TestBatchesSharingOrdersDoNotDeadlock(t *testing.T) {
	f := paymenttest.Start(t, spec, nil)
	ctx := context.Background()
	later := time.Now().Add(15 * time.Minute)
	h := handlers(t, f, nil)
	handle := map[string]consumer.Handler{
		eventsv1.TypeInventoryReserved: h.InventoryReserved,
		eventsv1.TypeOrderCancelled:    h.OrderCancelled,
	}
	x, y, z1, z2, user := uuid.NewString(), uuid.NewString(), uuid.NewString(), uuid.NewString(), uuid.NewString()
	sorted := func(evs ...event.Event) []event.Event {
		slices.SortStableFunc(evs, func(a, b event.Event) int { return strings.Compare(a.Key, b.Key) })
		return evs
	}
	batchA := sorted(paymenttest.Reserved(t, y, user, 100, later), paymenttest.Reserved(t, z1, user, 100, later), // the pipeline's
		paymenttest.Cancelled(t, x, "CUSTOMER_REQUEST", false)) // the handler's
	batchB := sorted(paymenttest.Reserved(t, x, user, 100, later), paymenttest.Reserved(t, z2, user, 100, later),
		paymenttest.Cancelled(t, y, "CUSTOMER_REQUEST", false))

	// run handles batch as the consumer does, pausing after Prepare.
	run := func(batch []event.Event, pause func()) error {
		return database.TxStartingWith(ctx, f.Svc.DB, database.First{SQL: "SELECT 1"}, func(tx *gorm.DB) error {
			hctx, err := h.Prepare(ctx, tx, batch)
			if err != nil {
				return err
			}
			pause()
			for _, e := range batch {
				if err := handle[e.Type](e.Context(hctx), tx, e); err != nil {
					return err
				}
			}
			return nil
		})
	}
	errA, errB := testkit.Interleave(t, f.Svc.DB,
		func(pause func()) error { return run(batchA, pause) },
		func(pause func()) error { return run(batchB, pause) })
	if errA != nil || errB != nil {
		t.Fatalf("batch A: %v; batch B: %v", errA, errB)
	}
	// A ran first: x was cancelled before its reservation (no payment), y's
	// payment was created and then voided by B.
	for id, want := range map[string]struct {
		payments int
		status   string
	}{x: {0, ""}, y: {1, "VOIDED"}, z1: {1, "PENDING"}, z2: {1, "PENDING"}} {
		if s := stateOf(t, f, id); s.Payments != want.payments || s.Status != want.status {
			t.Errorf("order %s: %+v; want %d payment(s) %s", id, s, want.payments, want.status)
		}
	}
}

// handlers are the service's event handlers over the fixture's database,
// telling changed what Register's wake-ups are told.
func handlers(t *testing.T, f *paymenttest.Fixture, changed func(orderID string)) *paymentevents.Handlers {
	t.Helper()
	svc, err := payment.New(payment.Options{Store: paymentdb.New(f.Svc.DB, f.Svc.DB), Gateway: f.Gateway})
	if err != nil {
		t.Fatal(err)
	}
	return paymentevents.New(svc, changed)
}
