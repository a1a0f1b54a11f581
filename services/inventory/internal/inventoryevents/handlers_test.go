package inventoryevents_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"
	"gorm.io/gorm"

	"github.com/shop-oss/shop/pkg/database"
	"github.com/shop-oss/shop/pkg/event"
	"github.com/shop-oss/shop/pkg/testkit"
	"github.com/shop-oss/shop/proto-events/eventsv1"
	"github.com/shop-oss/shop/services/inventory/internal/inventory"
	"github.com/shop-oss/shop/services/inventory/internal/inventorydb"
	"github.com/shop-oss/shop/services/inventory/internal/inventoryevents"
	"github.com/shop-oss/shop/services/inventory/internal/inventorytest"
)

// A batch handled as the consumer does (one TxStartingWith transaction,
// Prepare, then each handler in key order with Prepare's context) ends as
// if its events were handled one by one: plain orders, one that crosses the
// low-stock threshold, one that is short, one whose payment came first, one
// with invalid lines, payments of reserved orders, and an order placed and
// paid within the batch.
func TestBatchOfOrdersEndsAsOneByOne(t *testing.T) {
	db, _ := inventorytest.Database(t)
	ctx := context.Background()
	cache := &recordingCache{}
	svc := inventory.NewService(inventorydb.New(db, nil), cache, inventory.Config{
		ReservationTTL: 15 * time.Minute, LowStockThreshold: 5, SweepBatch: 10,
	}, testkit.Logger(t))
	h := inventoryevents.New(svc, testkit.Logger(t))
	p, q := uuid.New(), uuid.New()
	seller := uuid.New()
	for id, onHand := range map[uuid.UUID]int64{p: 10, q: 100} {
		_, err := svc.Seed(ctx, []inventory.SeedItem{{
			Product:  inventory.Product{ID: id, SellerID: seller, SKU: "SKU-" + id.String()[:8], Status: inventory.ProductActive},
			Quantity: onHand,
		}})
		if err != nil {
			t.Fatal(err)
		}
	}
	// Orders in key order, as the consumer hands them over.
	ids := make([]uuid.UUID, 6)
	for i := range ids {
		ids[i] = uuid.New()
	}
	slices.SortFunc(ids, func(a, b uuid.UUID) int { return slices.Compare(a[:], b[:]) })
	plainA, crossing, plainC, short, paidFirst, invalid := ids[0], ids[1], ids[2], ids[3], ids[4], ids[5]
	reservedA, reservedB, both := uuid.New(), uuid.New(), uuid.New()

	newEvent := func(order uuid.UUID, m proto.Message) event.Event {
		e, err := event.New(ctx, order.String(), m)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	created := func(order uuid.UUID, product string, qty int32) event.Event {
		return newEvent(order, &eventsv1.OrderCreated{OrderId: order.String(), UserId: uuid.NewString(),
			Lines: []*eventsv1.OrderLine{{ProductId: product, Quantity: qty, UnitPrice: &eventsv1.Money{AmountMinor: 10, Currency: "EUR"}}},
			Total: &eventsv1.Money{AmountMinor: 10 * int64(qty), Currency: "EUR"}})
	}
	cache.calls = nil // the seed's
	paid := func(order uuid.UUID) event.Event {
		return newEvent(order, &eventsv1.PaymentSucceeded{OrderId: order.String(), PaymentId: uuid.NewString()})
	}
	// Before the batch: the payment of one order arrives before the order
	// (a placeholder), and two orders are reserved.
	for _, e := range []event.Event{paid(paidFirst), created(reservedA, q.String(), 2), created(reservedB, q.String(), 1)} {
		err := db.Transaction(func(tx *gorm.DB) error { return h.Handle(ctx, tx, e) })
		if err != nil {
			t.Fatal(err)
		}
	}

	batch := []event.Event{
		created(plainA, p.String(), 3),    // 10 → 7 available: plain
		created(crossing, p.String(), 3),  // 7 → 4 crosses 5: the rules reserve it and signal low stock
		created(plainC, p.String(), 1),    // plain
		created(short, p.String(), 6),     // 3 left after the three before: rejected
		created(paidFirst, q.String(), 2), // reserved and sold at once
		created(invalid, "not-a-uuid", 1), // rejected as invalid
		paid(reservedA),                   // confirmed: plain
		paid(reservedB),
		created(both, q.String(), 1), // two events of one order: one by one, in order
		paid(both),
	}
	// Key order (stable), as the consumer hands a batch over.
	slices.SortStableFunc(batch, func(a, b event.Event) int { return strings.Compare(a.Key, b.Key) })
	// One by one, each change drops its products (the placeholder changes
	// no stock).
	if got := fmt.Sprint(cache.calls); got != fmt.Sprint([][]uuid.UUID{{q}, {q}}) {
		t.Fatalf("cache invalidations before the batch %s; want q for each reservation", got)
	}
	cache.calls = nil
	err := database.TxStartingWith(ctx, db, database.First{SQL: "SELECT 1"}, func(tx *gorm.DB) error {
		hctx, err := h.Prepare(ctx, tx, batch)
		if err != nil {
			return err
		}
		// Prepare applied the plain operations already, all in one round
		// trip; the handlers finish the rest.
		var early []string
		err = tx.Raw("SELECT order_id || ' ' || status FROM reservations WHERE NOT placeholder ORDER BY order_id").Scan(&early).Error
		if err != nil {
			return err
		}
		want := []string{plainA.String() + " ACTIVE", plainC.String() + " ACTIVE", reservedA.String() + " CONFIRMED", reservedB.String() + " CONFIRMED"}
		slices.Sort(want)
		if !slices.Equal(early, want) {
			t.Errorf("after Prepare, reservations %v; want %v", early, want)
		}
		for _, e := range batch {
			if err := h.Handle(e.Context(hctx), tx, e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("the cache is dropped once for the batch", func(t *testing.T) {
		if len(cache.calls) != 1 || !slices.Contains(cache.calls[0], p) || !slices.Contains(cache.calls[0], q) {
			t.Errorf("cache invalidations %v; want one, of %s and %s", cache.calls, p, q)
		}
	})
	t.Run("each order ends as one by one", func(t *testing.T) {
		for order, want := range map[uuid.UUID]string{plainA: "ACTIVE", crossing: "ACTIVE", plainC: "ACTIVE", short: "none", paidFirst: "CONFIRMED",
			invalid: "none", reservedA: "CONFIRMED", reservedB: "CONFIRMED", both: "CONFIRMED"} {
			var s []string
			if err := db.Raw("SELECT status FROM reservations WHERE order_id = ?", order).Scan(&s).Error; err != nil {
				t.Fatal(err)
			}
			got := "none"
			if len(s) > 0 {
				got = s[0]
			}
			if got != want {
				t.Errorf("order %s: reservation %s, want %s", order, got, want)
			}
		}
	})
	t.Run("the stock figures", func(t *testing.T) {
		for _, c := range []struct {
			product          uuid.UUID
			onHand, reserved int64
			why              string
		}{{p, 10, 7, "3+3+1 reserved"}, {q, 94, 0, "2+1+2+1 sold"}} {
			var r struct{ OnHand, Reserved int64 }
			if err := db.Raw("SELECT on_hand, reserved FROM stock WHERE product_id = ?", c.product).Scan(&r).Error; err != nil {
				t.Fatal(err)
			}
			if r.OnHand != c.onHand || r.Reserved != c.reserved {
				t.Errorf("%s: %d on hand, %d reserved; want %d, %d (%s)", c.product, r.OnHand, r.Reserved, c.onHand, c.reserved, c.why)
			}
		}
	})
	t.Run("the events published", func(t *testing.T) {
		for typ, want := range map[string]int64{"INVENTORY_RESERVED": 7, "INVENTORY_REJECTED": 2, "INVENTORY_CONFIRMED": 4, "STOCK_LOW": 1} {
			var n int64
			if err := db.Raw("SELECT count(*) FROM outbox WHERE event_type = ?", typ).Scan(&n).Error; err != nil {
				t.Fatal(err)
			}
			if n != want {
				t.Errorf("%d %s in the outbox, want %d", n, typ, want)
			}
		}
	})
}

// recordingCache caches nothing and records each invalidation.
type recordingCache struct {
	inventory.NoCache
	calls [][]uuid.UUID
}

func (c *recordingCache) Invalidate(_ context.Context, ids ...uuid.UUID) {
	c.calls = append(c.calls, ids)
}
