package inventorydb_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/shop-oss/shop/pkg/testkit"
	"github.com/shop-oss/shop/services/inventory/internal/inventory"
	"github.com/shop-oss/shop/services/inventory/internal/inventorydb"
	"github.com/shop-oss/shop/services/inventory/internal/inventorytest"
)

// env is a fresh migrated database with a store and a domain service whose
// clock the test controls.
type env struct {
	t     testing.TB
	db    *gorm.DB
	store *inventorydb.Store
	svc   *inventory.Service
	clock *clock
	ctx   context.Context
}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

const ttl = 15 * time.Minute

func newEnv(t testing.TB) *env {
	t.Helper()
	db, _ := inventorytest.Database(t)
	ctx := context.Background()
	e := &env{t: t, db: db, store: inventorydb.New(db, nil), clock: &clock{now: time.Now().UTC()}, ctx: ctx}
	e.svc = e.newService()
	return e
}

// newService returns another service on the same database (a second
// replica), sharing the clock.
func (e *env) newService() *inventory.Service {
	return inventory.NewService(e.store, inventory.NoCache{}, inventory.Config{
		ReservationTTL: ttl, LowStockThreshold: 5, SweepBatch: 10, Now: e.clock.Now,
	}, testkit.Logger(e.t))
}

// product creates an ACTIVE product with onHand units received.
func (e *env) product(onHand int64) uuid.UUID {
	e.t.Helper()
	id := uuid.New()
	_, err := e.svc.Seed(e.ctx, []inventory.SeedItem{{
		Product:  inventory.Product{ID: id, SellerID: sellerID, SKU: "SKU-" + id.String()[:8], Status: inventory.ProductActive},
		Quantity: onHand,
	}})
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

var sellerID = uuid.MustParse("00000000-0000-7000-8000-000000000002")

func (e *env) stock(id uuid.UUID) inventory.Stock {
	e.t.Helper()
	s, err := e.store.Stock(e.ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

func (e *env) wantStock(id uuid.UUID, onHand, reserved int64) {
	e.t.Helper()
	s := e.stock(id)
	if s.OnHand != onHand || s.Reserved != reserved {
		e.t.Fatalf("product %s: on hand %d, reserved %d; want %d, %d", id, s.OnHand, s.Reserved, onHand, reserved)
	}
}

func (e *env) reservation(order uuid.UUID) inventory.Reservation {
	e.t.Helper()
	r, err := e.store.Reservation(e.ctx, order)
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

// outboxCount counts outbox events of a type (for an order, when given).
func (e *env) outboxCount(eventType string, key string) int64 {
	e.t.Helper()
	var n int64
	q := e.db.Table("outbox").Where("event_type = ?", eventType)
	if key != "" {
		q = q.Where("message_key = ?", key)
	}
	if err := q.Count(&n).Error; err != nil {
		e.t.Fatal(err)
	}
	return n
}

// checkInvariants fails the test unless, for every product, the ledger sums
// to the stock figures, 0 <= reserved <= on_hand, and reserved equals the
// lines of ACTIVE reservations.
func (e *env) checkInvariants() {
	e.t.Helper()
	var bad []struct {
		ProductID                                      uuid.UUID
		OnHand, Reserved, LedgerOnHand, LedgerReserved int64
		ActiveLines                                    int64
	}
	err := e.db.Raw(`SELECT s.product_id, s.on_hand, s.reserved,
			COALESCE(m.on_hand, 0) AS ledger_on_hand, COALESCE(m.reserved, 0) AS ledger_reserved,
			COALESCE(a.q, 0) AS active_lines
		FROM stock s
		LEFT JOIN (SELECT product_id, sum(on_hand_delta) AS on_hand, sum(reserved_delta) AS reserved
			FROM stock_movements GROUP BY product_id) m USING (product_id)
		LEFT JOIN (SELECT l.product_id, sum(l.quantity) AS q FROM reservation_lines l
			JOIN reservations r ON r.id = l.reservation_id WHERE r.status = 'ACTIVE' GROUP BY l.product_id) a USING (product_id)
		WHERE s.on_hand <> COALESCE(m.on_hand, 0) OR s.reserved <> COALESCE(m.reserved, 0)
			OR s.reserved <> COALESCE(a.q, 0) OR s.reserved < 0 OR s.reserved > s.on_hand`).Scan(&bad).Error
	if err != nil {
		e.t.Fatal(err)
	}
	for _, b := range bad {
		e.t.Errorf("product %s: stock %d/%d, ledger %d/%d, active lines %d", b.ProductID, b.OnHand, b.Reserved,
			b.LedgerOnHand, b.LedgerReserved, b.ActiveLines)
	}
}

func reserveReq(order uuid.UUID, lines ...inventory.Line) inventory.ReserveRequest {
	return inventory.ReserveRequest{OrderID: order, Lines: lines}
}

func line(p uuid.UUID, q int64) inventory.Line { return inventory.Line{ProductID: p, Quantity: q} }

// inEvent runs fn as an event handler would: with the service working in a
// transaction of the caller, through Bind.
func (e *env) inEvent(fn func(svc *inventory.Service) error) {
	e.t.Helper()
	err := e.db.Transaction(func(tx *gorm.DB) error { return fn(e.svc.In(inventorydb.Bind(tx, inventorydb.Applied{}))) })
	if err != nil {
		e.t.Fatal(err)
	}
}

func describe(r inventory.Reservation) string {
	return fmt.Sprintf("%s placeholder=%v lines=%v reason=%q restocked=%v", r.Status, r.Placeholder, r.Lines, r.Reason, r.Restocked)
}
