package inventorydb_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/shop-oss/shop/pkg/database"
	"github.com/shop-oss/shop/pkg/testkit"
	"github.com/shop-oss/shop/services/inventory/internal/inventory"
	"github.com/shop-oss/shop/services/inventory/internal/inventorydb"
)

// LockBatch locks the batch's reservations and the stock of their lines and
// of the given products; unknown orders lock nothing.
func TestLockBatchLocksReservationsAndTheirStock(t *testing.T) {
	e := newEnv(t)
	a, b, other := e.product(10), e.product(10), e.product(10)
	order := uuid.New()
	if _, err := e.svc.Reserve(e.ctx, inventory.ReserveRequest{OrderID: order, Lines: []inventory.Line{{ProductID: a, Quantity: 1}}}); err != nil {
		t.Fatal(err)
	}
	r := e.reservation(order)

	err := e.db.Transaction(func(tx *gorm.DB) error {
		unknown := uuid.New()
		locked, err := inventorydb.LockBatch(e.ctx, tx, []uuid.UUID{order, unknown}, []uuid.UUID{b})
		if err != nil {
			return err
		}
		got, ok := locked.Reservation(order)
		if !ok || got.ID != r.ID || len(got.Lines) != 1 || got.Lines[0] != (inventory.Line{ProductID: a, Quantity: 1}) {
			t.Errorf("LockBatch returned %+v; want the order's reservation %s with its line", got, r.ID)
		}
		if _, ok := locked.Reservation(unknown); ok {
			t.Error("LockBatch returned a reservation of an unknown order")
		}
		if !slices.Contains(locked.Products, a) || !slices.Contains(locked.Products, b) || slices.Contains(locked.Products, other) {
			t.Errorf("LockBatch says it holds the stock of %v; want %s and %s, not %s", locked.Products, a, b, other)
		}
		// Another connection finds exactly those rows locked.
		lockedElsewhere := func(sql string, id uuid.UUID) bool {
			err := e.db.Transaction(func(probe *gorm.DB) error {
				return probe.Exec(sql+" FOR UPDATE NOWAIT", id).Error
			})
			return database.IsCode(err, "55P03") // lock_not_available
		}
		for _, c := range []struct {
			what string
			sql  string
			id   uuid.UUID
			want bool
		}{
			{"the order's reservation", "SELECT 1 FROM reservations WHERE id = ?", r.ID, true},
			{"stock of the reservation's line", "SELECT 1 FROM stock WHERE product_id = ?", a, true},
			{"stock of the given product", "SELECT 1 FROM stock WHERE product_id = ?", b, true},
			{"stock of another product", "SELECT 1 FROM stock WHERE product_id = ?", other, false},
		} {
			if got := lockedElsewhere(c.sql, c.id); got != c.want {
				t.Errorf("%s locked: %v, want %v", c.what, got, c.want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// LockBatch finds a reservation's lines by index even before the tables
// have statistics (a new database, before autovacuum's first analyse): as a
// join, the planner then hashed all of reservation_lines for every batch.
func TestLockBatchReadsLinesByIndexWithoutStatistics(t *testing.T) {
	e := newEnv(t)
	err := e.db.Exec(`
		INSERT INTO reservations (id, order_id, status, expires_at)
		SELECT gen_random_uuid(), gen_random_uuid(), 'ACTIVE', now() + interval '1 hour' FROM generate_series(1, 8000);
		INSERT INTO reservation_lines (reservation_id, product_id, quantity)
		SELECT id, gen_random_uuid(), 1 FROM reservations CROSS JOIN generate_series(1, 2)`).Error
	if err != nil {
		t.Fatal(err)
	}
	var orders []uuid.UUID
	if err := e.db.Raw("SELECT order_id FROM reservations LIMIT 3").Scan(&orders).Error; err != nil {
		t.Fatal(err)
	}
	err = e.db.Transaction(func(tx *gorm.DB) error {
		// A busy consumer's prepared statement soon runs a generic plan,
		// made once for any argument (estimating 10 orders).
		if err := tx.Exec("SET LOCAL plan_cache_mode = force_generic_plan").Error; err != nil {
			return err
		}
		if _, err := inventorydb.LockBatch(e.ctx, tx, orders, nil); err != nil {
			return err
		}
		var scans struct{ SeqScan, IdxScan int64 }
		err := tx.Raw(`SELECT seq_scan, coalesce(idx_scan, 0) AS idx_scan FROM pg_stat_xact_user_tables
			WHERE relname = 'reservation_lines'`).Scan(&scans).Error
		if err != nil {
			return err
		}
		if scans.SeqScan != 0 || scans.IdxScan == 0 {
			t.Errorf("LockBatch scanned reservation_lines %d times sequentially and %d times by index; want only by index",
				scans.SeqScan, scans.IdxScan)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Apply applies, in one pipeline in the batch's transaction, the plain
// reservations the use cases' dry runs planned, each judged on the figures
// the ones before it left, exactly as one by one; the handlers then finish
// every one in order through Bind, and the declined ones by the rules.
// Outside a TxStartingWith transaction it runs nothing.
func TestApplyJudgesEachOnWhatTheOnesBeforeLeft(t *testing.T) {
	e := newEnv(t)
	a := e.product(10) // low-stock threshold 5
	// 10 → 7 plain; 7 → 4 would cross the threshold: declined; 7 → 6
	// plain (the second left nothing); 6 → 0: declined, crossing.
	var reqs []inventory.ReserveRequest
	for _, q := range []int64{3, 3, 1, 6} {
		reqs = append(reqs, reserveReq(uuid.New(), line(a, q)))
	}
	batch := e.reservations(reqs...)

	err := e.db.Transaction(func(tx *gorm.DB) error {
		if _, err := e.prepare(tx, nil, []uuid.UUID{a}, batch...); err != nil {
			return err
		}
		if got := reservedIn(t, tx, reqs); got != "[false false false false]" {
			t.Errorf("in a gorm transaction the pipeline reserved %s; want nothing run", got)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	e.wantStock(a, 10, 0)

	var results []inventory.ReserveResult
	err = database.TxStartingWith(e.ctx, e.db, database.First{SQL: "SELECT 1"}, func(tx *gorm.DB) error {
		applied, err := e.prepare(tx, nil, []uuid.UUID{a}, batch...)
		if err != nil {
			return err
		}
		if got := reservedIn(t, tx, reqs); got != "[true false true false]" {
			t.Errorf("the pipeline reserved %s; want [true false true false]", got)
		}
		for i, req := range reqs {
			res, err := e.svc.In(inventorydb.Bind(tx, applied[i])).Reserve(e.ctx, req)
			if rej := (*inventory.Rejection)(nil); err != nil && !errors.As(err, &rej) {
				return err
			}
			results = append(results, res)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The rules then reserve the second (6 → 3, signalling low stock) and
	// reject the fourth (6 wanted, 3 left).
	for i, want := range []bool{true, true, true, false} {
		if got := results[i].Rejection == nil; got != want {
			t.Errorf("order %d reserved: %v, want %v (%+v)", i, got, want, results[i].Rejection)
		}
	}
	e.wantStock(a, 10, 7)
	if n := e.outboxCount("INVENTORY_RESERVED", ""); n != 3 {
		t.Errorf("%d INVENTORY_RESERVED, want 3", n)
	}
	if n := e.outboxCount("INVENTORY_REJECTED", ""); n != 1 {
		t.Errorf("%d INVENTORY_REJECTED, want 1", n)
	}
	if n := e.outboxCount("STOCK_LOW", ""); n != 1 {
		t.Errorf("%d STOCK_LOW, want 1", n)
	}
	e.checkInvariants()
}

// Apply sells paid orders in its pipeline; the handlers, through Bind,
// then finish each from the outcome: one sale per order, reported as a
// change of its products, with one INVENTORY_CONFIRMED.
func TestApplyConfirmsPaidOrdersInThePipeline(t *testing.T) {
	e := newEnv(t)
	a, b := e.product(100), e.product(100)
	orders := []uuid.UUID{uuid.New(), uuid.New()}
	for i, p := range []uuid.UUID{a, b} {
		if _, err := e.svc.Reserve(e.ctx, reserveReq(orders[i], line(p, int64(i+2)))); err != nil {
			t.Fatal(err)
		}
	}
	var batch []func(inventory.Transactions)
	for _, o := range orders {
		batch = append(batch, func(t inventory.Transactions) { _, _ = e.svc.In(t).Confirm(e.ctx, o, inventory.FromEvent) })
	}
	err := database.TxStartingWith(e.ctx, e.db, database.First{SQL: "SELECT 1"}, func(tx *gorm.DB) error {
		applied, err := e.prepare(tx, orders, nil, batch...)
		if err != nil {
			return err
		}
		var confirmed int64
		if err := tx.Raw("SELECT count(*) FROM reservations WHERE status = 'CONFIRMED'").Scan(&confirmed).Error; err != nil {
			return err
		}
		if confirmed != 2 {
			t.Errorf("%d reservations confirmed by the pipeline, want 2", confirmed)
		}
		for i, o := range orders {
			out, err := e.svc.In(inventorydb.Bind(tx, applied[i])).Confirm(e.ctx, o, inventory.FromEvent)
			if err != nil {
				return err
			}
			want := []uuid.UUID{a, b}[i]
			if out.Noop || out.Reservation.Status != inventory.StatusConfirmed || len(out.Changed) != 1 || out.Changed[0] != want {
				t.Errorf("order %d: %+v; want confirmed, changing %s", i, out, want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	e.wantStock(a, 98, 0)
	e.wantStock(b, 97, 0)
	for _, o := range orders {
		if n := e.outboxCount("INVENTORY_CONFIRMED", o.String()); n != 1 {
			t.Errorf("order %s: %d INVENTORY_CONFIRMED, want 1", o, n)
		}
	}
	e.checkInvariants()
}

// reservations are the use cases of a consumer batch of ORDER_CREATED
// events, one per request.
func (e *env) reservations(reqs ...inventory.ReserveRequest) []func(inventory.Transactions) {
	var uses []func(inventory.Transactions)
	for _, r := range reqs {
		uses = append(uses, func(t inventory.Transactions) { _, _ = e.svc.In(t).Reserve(e.ctx, r) })
	}
	return uses
}

// prepare does in tx what a consumer batch's Prepare does with the events
// whose use cases are uses: it locks the orders and products, plans each
// use case and applies the plans. applied[i] is what became of uses[i]
// (the zero Applied when it was not planned, or the pipeline did not run).
func (e *env) prepare(tx *gorm.DB, orders, products []uuid.UUID, uses ...func(inventory.Transactions)) ([]inventorydb.Applied, error) {
	locked, err := inventorydb.LockBatch(e.ctx, tx, orders, products)
	if err != nil {
		return nil, err
	}
	var planned []inventorydb.Planned
	var which []int
	for i, use := range uses {
		if p, ok := locked.Plan(use); ok {
			planned, which = append(planned, p), append(which, i)
		}
	}
	out, ok, err := inventorydb.Apply(e.ctx, tx, planned)
	applied := make([]inventorydb.Applied, len(uses))
	if ok {
		for j, i := range which {
			applied[i] = out[j]
		}
	}
	return applied, err
}

// reservedIn says, request by request, whether tx holds a reservation of
// its order.
func reservedIn(t testing.TB, tx *gorm.DB, reqs []inventory.ReserveRequest) string {
	t.Helper()
	got := make([]bool, len(reqs))
	for i, r := range reqs {
		var n int64
		if err := tx.Raw("SELECT count(*) FROM reservations WHERE order_id = ?", r.OrderID).Scan(&n).Error; err != nil {
			t.Fatal(err)
		}
		got[i] = n == 1
	}
	return fmt.Sprint(got)
}

// Two batches that reserve the same product on two workers: the second
// waits for the first's stock lock (LockBatch) and judges its reservation
// on what the first left, although the pipeline's statements do not lock
// the rows again. (Without LockBatch's lock, the second would judge on the
// figures from before the first committed, and its UPDATE would then wait
// for the first and apply on top of it.)
//
// 10 on hand, low-stock threshold 5, 3 wanted by each: the first is plain
// (10 → 7); the second, judged on the 7 left, would cross the threshold,
// so it is not plain. Judged on the 10 from before the first committed, it
// would be.
func TestConcurrentBatchesJudgeOnWhatTheOtherLeft(t *testing.T) {
	e := newEnv(t)
	a := e.product(10)
	batch := func(pause func()) error {
		req := reserveReq(uuid.New(), line(a, 3))
		return database.TxStartingWith(e.ctx, e.db, database.First{SQL: "SELECT 1"}, func(tx *gorm.DB) error {
			if _, err := e.prepare(tx, nil, []uuid.UUID{a}, e.reservations(req)...); err != nil {
				return err
			}
			pause() // the first holds its changes, uncommitted, while the second starts
			if reservedIn(t, tx, []inventory.ReserveRequest{req}) != "[true]" {
				return errNotPlain
			}
			return nil
		})
	}
	errFirst, errSecond := testkit.Interleave(t, e.db, batch, batch)
	if errFirst != nil || errSecond != errNotPlain {
		t.Fatalf("first batch: %v; second: %v; want nil and %v", errFirst, errSecond, errNotPlain)
	}
	e.wantStock(a, 10, 3)
	e.checkInvariants()
}

var errNotPlain = errors.New("not plain")
