package inventorydb_test

import (
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/shop-oss/shop/pkg/database"
	"github.com/shop-oss/shop/proto-events/eventsv1"
	"github.com/shop-oss/shop/services/inventory/internal/inventory"
)

// 500 buyers race for 100 units: exactly 100 win.
func TestConcurrentReservationsNeverOversell(t *testing.T) {
	e := newEnv(t)
	p := e.product(100)
	var got tally
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range 500 {
		wg.Go(func() {
			<-start
			got.reserve(t, e, line(p, 1))
		})
	}
	close(start)
	wg.Wait()
	if got.ok.Load() != 100 || got.rejected.Load() != 400 || got.failed.Load() != 0 {
		t.Fatalf("reserved %d, rejected %d, failed %d; want 100, 400, 0", got.ok.Load(), got.rejected.Load(), got.failed.Load())
	}
	e.wantStock(p, 100, 100)
	if n := e.outboxCount(eventsv1.TypeInventoryReserved, ""); n != 100 {
		t.Errorf("%d INVENTORY_RESERVED events, want 100", n)
	}
	if n := e.outboxCount(eventsv1.TypeInventoryRejected, ""); n != 400 {
		t.Errorf("%d INVENTORY_REJECTED events, want 400", n)
	}
	if n := e.outboxCount(eventsv1.TypeStockLow, p.String()); n != 1 {
		t.Errorf("%d STOCK_LOW events, want 1 (crossing the threshold once)", n)
	}
	e.checkInvariants()
}

// Orders of several lines overlapping on the same few products, from many
// goroutines, in every line order: no deadlock, no oversell, all or nothing.
func TestOverlappingMultiLineOrdersNeitherDeadlockNorOversell(t *testing.T) {
	e := newEnv(t)
	products := make([]uuid.UUID, 6)
	for i := range products {
		products[i] = e.product(40)
	}
	var got tally
	var wg sync.WaitGroup
	for g := range 40 {
		wg.Go(func() {
			for i := range 10 {
				// Lines in a different order per goroutine: the store must
				// lock in product-ID order whatever the request's order.
				n := 2 + (g+i)%4
				lines := make([]inventory.Line, 0, n)
				for k := range n {
					lines = append(lines, line(products[(g*7+i*3+k*5)%len(products)], int64(1+k%2)))
				}
				lines = dedupe(lines)
				for k := range lines {
					j := len(lines) - 1 - k
					if k < j && g%2 == 0 {
						lines[k], lines[j] = lines[j], lines[k]
					}
				}
				got.reserve(t, e, lines...) // a deadlock would fail it (SQLSTATE 40P01)
			}
		})
	}
	wg.Wait()
	if got.ok.Load() == 0 || got.rejected.Load() == 0 || got.failed.Load() != 0 {
		t.Fatalf("reserved %d, rejected %d, failed %d: the test should see the first two only", got.ok.Load(), got.rejected.Load(), got.failed.Load())
	}
	for _, p := range products {
		s := e.stock(p)
		if s.Reserved > s.OnHand || s.OnHand != 40 {
			t.Errorf("product %s: on hand %d, reserved %d", p, s.OnHand, s.Reserved)
		}
	}
	e.checkInvariants()
}

// tally counts the outcomes of reservations made from many goroutines.
type tally struct{ ok, rejected, failed atomic.Int64 }

// reserve reserves lines for a new order and counts the outcome; an error
// other than a short line fails the test.
func (n *tally) reserve(t *testing.T, e *env, lines ...inventory.Line) {
	res, err := e.svc.Reserve(e.ctx, reserveReq(uuid.New(), lines...))
	switch {
	case err == nil && res.Created:
		n.ok.Add(1)
	case errors.Is(err, inventory.ErrInsufficientStock):
		n.rejected.Add(1)
	default:
		n.failed.Add(1)
		t.Errorf("reserve: %v", err)
	}
}

func dedupe(lines []inventory.Line) []inventory.Line {
	seen := map[uuid.UUID]bool{}
	out := lines[:0]
	for _, l := range lines {
		if !seen[l.ProductID] {
			seen[l.ProductID] = true
			out = append(out, l)
		}
	}
	return out
}

// Two sweepers (two replicas) expire 25 overdue reservations: each exactly
// once, their stock released once.
func TestTwoSweepersExpireEachReservationExactlyOnce(t *testing.T) {
	e := newEnv(t)
	a, b := e.product(100), e.product(100)
	var orders []uuid.UUID
	for i := range 25 {
		order := uuid.New()
		orders = append(orders, order)
		if _, err := e.svc.Reserve(e.ctx, reserveReq(order, line(a, 2), line(b, int64(1+i%2)))); err != nil {
			t.Fatal(err)
		}
	}
	keep := uuid.New() // reserved later: not due
	e.clock.Advance(ttl / 2)
	if _, err := e.svc.Reserve(e.ctx, reserveReq(keep, line(a, 1))); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(ttl/2 + time.Second)

	second := e.newService()
	var total atomic.Int64
	var wg sync.WaitGroup
	for _, svc := range []*inventory.Service{e.svc, second, e.svc, second} {
		wg.Go(func() {
			for {
				n, err := svc.ExpireDue(e.ctx)
				if err != nil {
					t.Errorf("expire: %v", err)
					return
				}
				total.Add(int64(n))
				if n == 0 {
					return
				}
			}
		})
	}
	wg.Wait()
	if total.Load() != 25 {
		t.Fatalf("expired %d reservations, want 25", total.Load())
	}
	for _, o := range orders {
		if r := e.reservation(o); r.Status != inventory.StatusExpired || r.Reason != inventory.ReasonReservationExpired {
			t.Errorf("order %s: %s", o, describe(r))
		}
		if n := e.outboxCount(eventsv1.TypeReservationExpired, o.String()); n != 1 {
			t.Errorf("order %s: %d RESERVATION_EXPIRED events, want 1", o, n)
		}
	}
	if r := e.reservation(keep); r.Status != inventory.StatusActive {
		t.Errorf("the reservation that is not due: %s", describe(r))
	}
	e.wantStock(a, 100, 1)
	e.wantStock(b, 100, 0)
	e.checkInvariants()
}

// Every operation repeated gives the state of doing it once, and publishes
// nothing more.
func TestRepeatedOperationsChangeNothing(t *testing.T) {
	e := newEnv(t)
	p, q := e.product(10), e.product(10)
	order := uuid.New()
	req := reserveReq(order, line(p, 2), line(q, 3))
	for i := range 2 {
		e.inEvent(func(svc *inventory.Service) error {
			res, err := svc.Reserve(e.ctx, req)
			if err == nil && res.Created != (i == 0) {
				t.Errorf("attempt %d: created = %v", i, res.Created)
			}
			return err
		})
	}
	e.wantStock(p, 10, 2)
	for range 2 {
		e.inEvent(func(svc *inventory.Service) error {
			_, err := svc.Confirm(e.ctx, order, inventory.FromEvent)
			return err
		})
	}
	e.wantStock(p, 8, 0)
	e.wantStock(q, 7, 0)
	for range 2 {
		e.inEvent(func(svc *inventory.Service) error {
			_, err := svc.Release(e.ctx, order, inventory.ReasonOrderCancelled, inventory.FromEvent)
			return err
		})
	}
	e.wantStock(p, 10, 0)
	e.wantStock(q, 10, 0)
	for typ, want := range map[string]int64{
		eventsv1.TypeInventoryReserved: 1, eventsv1.TypeInventoryConfirmed: 1, eventsv1.TypeInventoryReleased: 1,
	} {
		if n := e.outboxCount(typ, order.String()); n != want {
			t.Errorf("%d %s events, want %d", n, typ, want)
		}
	}
	if r := e.reservation(order); r.Status != inventory.StatusReleased || !r.Restocked {
		t.Errorf("reservation: %s", describe(r))
	}
	e.checkInvariants()
}

// Events of one order arriving in any order end in the state in-order
// arrival gives, never in an error.
func TestOutOfOrderArrivalEndsCorrect(t *testing.T) {
	type step string
	const (
		reserve step = "reserve"
		confirm step = "confirm"
		fail    step = "payment failed"
		cancel  step = "cancel"
		expire  step = "expire"
	)
	cases := []struct {
		name           string
		steps          []step
		status         inventory.Status
		onHand, reserv int64
	}{
		{"in order: reserve, confirm", []step{reserve, confirm}, inventory.StatusConfirmed, 7, 0},
		{"confirm before reserve", []step{confirm, reserve}, inventory.StatusConfirmed, 7, 0},
		{"confirm before reserve, then cancel", []step{confirm, reserve, cancel}, inventory.StatusReleased, 10, 0},
		{"cancel before reserve", []step{cancel, reserve}, inventory.StatusReleased, 10, 0},
		{"payment failed before reserve", []step{fail, reserve, confirm}, inventory.StatusReleased, 10, 0},
		{"release after expiry", []step{reserve, expire, fail, cancel}, inventory.StatusExpired, 10, 0},
		{"confirm after expiry", []step{reserve, expire, confirm}, inventory.StatusExpired, 10, 0},
		{"cancel after confirm restocks", []step{reserve, confirm, cancel}, inventory.StatusReleased, 10, 0},
		{"payment failed after confirm keeps the sale", []step{reserve, confirm, fail}, inventory.StatusConfirmed, 7, 0},
		{"cancel before confirm", []step{reserve, cancel, confirm}, inventory.StatusReleased, 10, 0},
		{"confirm then cancel before reserve", []step{confirm, cancel, reserve}, inventory.StatusReleased, 10, 0},
	}
	e := newEnv(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := e.product(10)
			order := uuid.New()
			for _, s := range tc.steps {
				if s == expire {
					e.clock.Advance(ttl + time.Second)
					if _, err := e.svc.ExpireDue(e.ctx); err != nil {
						t.Fatal(err)
					}
					continue
				}
				e.inEvent(func(svc *inventory.Service) error {
					var err error
					switch s {
					case reserve:
						var res inventory.ReserveResult
						res, err = svc.Reserve(e.ctx, reserveReq(order, line(p, 3)))
						if errors.Is(err, inventory.ErrReservationConflict) {
							err = nil // the event handler logs this and moves on
						} else if res.Rejection != nil {
							t.Errorf("rejected: %v", res.Rejection)
							err = nil // committed, as the event handler does
						}
					case confirm:
						_, err = svc.Confirm(e.ctx, order, inventory.FromEvent)
					case fail:
						_, err = svc.Release(e.ctx, order, inventory.ReasonPaymentFailed, inventory.FromEvent)
					case cancel:
						_, err = svc.Release(e.ctx, order, inventory.ReasonOrderCancelled, inventory.FromEvent)
					}
					return err
				})
			}
			if r := e.reservation(order); r.Status != tc.status {
				t.Errorf("reservation: %s; want %s", describe(r), tc.status)
			}
			e.wantStock(p, tc.onHand, tc.reserv)
			e.checkInvariants()
		})
	}
}

// Invalid requests and unknown products: clear errors, nothing reserved.
func TestBadReservationsReserveNothing(t *testing.T) {
	e := newEnv(t)
	p, q := e.product(10), e.product(10)
	archived := e.product(10)
	e.inEvent(func(svc *inventory.Service) error {
		_, err := svc.ArchiveProduct(e.ctx, archived, 2)
		return err
	})
	many := make([]inventory.Line, inventory.MaxLines+1)
	for i := range many {
		many[i] = line(uuid.New(), 1)
	}
	cases := []struct {
		name  string
		lines []inventory.Line
		want  error
	}{
		{"zero quantity", []inventory.Line{line(p, 1), line(q, 0)}, nil},
		{"negative quantity", []inventory.Line{line(p, -1)}, nil},
		{"absurd quantity", []inventory.Line{line(p, 1), line(q, 1<<40)}, nil},
		{"duplicate lines", []inventory.Line{line(p, 1), line(q, 1), line(p, 2)}, nil},
		{"no lines", nil, nil},
		{"too many lines", many, nil},
		{"unknown product", []inventory.Line{line(p, 1), line(uuid.New(), 1)}, inventory.ErrProductUnavailable},
		{"archived product", []inventory.Line{line(p, 1), line(archived, 1)}, inventory.ErrProductUnavailable},
		{"one line short", []inventory.Line{line(p, 1), line(q, 11)}, inventory.ErrInsufficientStock},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			order := uuid.New()
			_, err := e.svc.Reserve(e.ctx, reserveReq(order, tc.lines...))
			switch {
			case tc.want == nil && !inventory.IsValidation(err):
				t.Fatalf("err = %v, want a validation error", err)
			case tc.want != nil && !errors.Is(err, tc.want):
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if _, err := e.store.Reservation(e.ctx, order); !errors.Is(err, inventory.ErrReservationNotFound) {
				t.Errorf("a reservation was stored: %v", err)
			}
			e.wantStock(p, 10, 0)
			e.wantStock(q, 10, 0)
		})
	}
	e.checkInvariants()
}

// The CHECK constraint holds even against code that skips the rules.
func TestDatabaseRefusesReservedAboveOnHand(t *testing.T) {
	e := newEnv(t)
	p := e.product(3)
	err := e.db.Exec(`UPDATE stock SET reserved = 4 WHERE product_id = ?`, p).Error
	if !database.IsCheckViolation(err) {
		t.Fatalf("err = %v, want a CHECK violation", err)
	}
}

// The single-column rules live in domains (migration 0002): values off
// them are refused as check violations, as the CHECKs they replace did.
func TestDatabaseRefusesValuesOffTheRules(t *testing.T) {
	e := newEnv(t)
	p := e.product(3)
	order := uuid.New()
	if _, err := e.svc.Reserve(e.ctx, inventory.ReserveRequest{OrderID: order, Lines: []inventory.Line{{ProductID: p, Quantity: 1}}}); err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		"UPDATE stock SET status = 'GONE' WHERE product_id = ?",
		"UPDATE stock SET low_stock_threshold = -1 WHERE product_id = ?",
		"UPDATE stock_movements SET kind = 'STOLEN' WHERE product_id = ?",
		"UPDATE reservation_lines SET quantity = 0 WHERE product_id = ?",
		"UPDATE reservations SET status = 'LOST' WHERE id = (SELECT reservation_id FROM reservation_lines WHERE product_id = ?)",
	} {
		if err := e.db.Exec(stmt, p).Error; !database.IsCheckViolation(err) {
			t.Errorf("%s: %v, want a check violation", stmt, err)
		}
	}
}

func TestSetStockAndAdjust(t *testing.T) {
	e := newEnv(t)
	p := e.product(10)
	seller := inventory.Actor{UserID: sellerID}
	other := inventory.Actor{UserID: uuid.New()}
	if _, err := e.svc.Reserve(e.ctx, reserveReq(uuid.New(), line(p, 4))); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.SetStock(e.ctx, other, p, 20, nil); !errors.Is(err, inventory.ErrForbidden) {
		t.Fatalf("stranger sets stock: %v", err)
	}
	if _, err := e.svc.SetStock(e.ctx, seller, p, 3, nil); !errors.Is(err, inventory.ErrBelowReserved) {
		t.Fatalf("below reserved: %v", err)
	}
	threshold := int64(2)
	s, err := e.svc.SetStock(e.ctx, seller, p, 25, &threshold)
	if err != nil || s.OnHand != 25 || s.Reserved != 4 || s.Threshold(5) != 2 {
		t.Fatalf("set: %+v, %v", s, err)
	}
	if _, err := e.svc.Adjust(e.ctx, inventory.Actor{Admin: true}, p, inventory.MoveAdjusted, -22, "water damage"); !errors.Is(err, inventory.ErrBelowReserved) {
		t.Fatalf("adjust below reserved: %v", err)
	}
	s, err = e.svc.Adjust(e.ctx, inventory.Actor{Admin: true}, p, inventory.MoveAdjusted, -20, "water damage")
	if err != nil || s.OnHand != 5 {
		t.Fatalf("adjust: %+v, %v", s, err)
	}
	if _, err := e.svc.Adjust(e.ctx, seller, p, inventory.MoveReceived, 5, "delivery 42"); err != nil {
		t.Fatal(err)
	}
	e.wantStock(p, 10, 4)
	ms, err := e.svc.Movements(e.ctx, seller, p, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	kinds := []inventory.MovementKind{}
	for _, m := range ms {
		kinds = append(kinds, m.Kind)
	}
	want := []inventory.MovementKind{"RECEIVED", "ADJUSTED", "ADJUSTED", "RESERVED", "RECEIVED"}
	if len(kinds) != len(want) {
		t.Fatalf("movements %v, want %v", kinds, want)
	}
	for i := range want {
		if kinds[i] != want[i] {
			t.Fatalf("movements %v, want %v", kinds, want)
		}
	}
	if ms[0].OnHandAfter != 10 || ms[0].ReservedAfter != 4 || ms[0].ActorID != sellerID || ms[0].Reason != "delivery 42" {
		t.Errorf("newest movement: %+v", ms[0])
	}
	older, err := e.svc.Movements(e.ctx, seller, p, ms[1].ID, 10)
	if err != nil || len(older) != 3 {
		t.Fatalf("page after %d: %d movements, %v", ms[1].ID, len(older), err)
	}
	e.checkInvariants()
}

// Catalog's events: newer versions win, older ones are ignored, whatever
// the order; a seed row takes catalog's view.
func TestProductVersions(t *testing.T) {
	e := newEnv(t)
	p := e.product(5) // seeded: catalog_version NULL
	upsert := func(status inventory.ProductStatus, version int64) bool {
		var applied bool
		e.inEvent(func(svc *inventory.Service) error {
			ids, err := svc.UpsertProduct(e.ctx, inventory.Product{ID: p, SellerID: sellerID, SKU: "X", Status: status, Version: version})
			applied = len(ids) == 1
			return err
		})
		return applied
	}
	if !upsert(inventory.ProductActive, 3) {
		t.Fatal("the first catalog version was not applied over the seed row")
	}
	if upsert(inventory.ProductDraft, 2) {
		t.Fatal("an older version was applied")
	}
	e.inEvent(func(svc *inventory.Service) error {
		_, err := svc.ArchiveProduct(e.ctx, p, 4)
		return err
	})
	if upsert(inventory.ProductActive, 4) {
		t.Fatal("the same version was applied twice")
	}
	s := e.stock(p)
	if s.Status != inventory.ProductArchived || *s.CatalogVersion != 4 || s.OnHand != 5 || s.SKU != "X" {
		t.Fatalf("stock: %+v", s)
	}
}

func TestSeedIsIdempotent(t *testing.T) {
	e := newEnv(t)
	known := uuid.New()
	e.inEvent(func(svc *inventory.Service) error {
		_, err := svc.UpsertProduct(e.ctx, inventory.Product{ID: known, SellerID: sellerID, SKU: "A", Status: inventory.ProductActive, Version: 1})
		return err
	})
	items := []inventory.SeedItem{
		{Product: inventory.Product{ID: known, SellerID: sellerID, SKU: "A", Status: inventory.ProductActive}, Quantity: 7},
		{Product: inventory.Product{ID: uuid.New(), SellerID: sellerID, SKU: "B", Status: inventory.ProductActive}, Quantity: 9},
	}
	for i, want := range []int{2, 0} {
		n, err := e.svc.Seed(e.ctx, items)
		if err != nil || n != want {
			t.Fatalf("seed run %d: %d stocked, %v; want %d", i+1, n, err, want)
		}
	}
	e.wantStock(known, 7, 0)
	e.wantStock(items[1].Product.ID, 9, 0)
	if v := e.stock(known).CatalogVersion; v == nil || *v != 1 {
		t.Errorf("the seed overwrote catalog's product: version %v", v)
	}
	e.checkInvariants()
}

// The sweeper's query and a product's ledger page use their indexes.
func TestHotQueriesUseIndexes(t *testing.T) {
	e := newEnv(t)
	e.db.Exec(`SET enable_seqscan = off`)
	for _, q := range []struct{ sql, index string }{
		{`EXPLAIN SELECT id FROM reservations WHERE status = 'ACTIVE' AND expires_at <= now() ORDER BY expires_at LIMIT 100`, "reservations_due_idx"},
		{`EXPLAIN SELECT * FROM stock_movements WHERE product_id = '` + uuid.NewString() + `' ORDER BY id DESC LIMIT 20`, "stock_movements_product_idx"},
	} {
		var plan []string
		if err := e.db.Raw(q.sql).Scan(&plan).Error; err != nil {
			t.Fatal(err)
		}
		found := false
		for _, l := range plan {
			found = found || strings.Contains(l, q.index)
		}
		if !found {
			t.Errorf("%s does not use %s:\n%v", q.sql, q.index, plan)
		}
	}
}
