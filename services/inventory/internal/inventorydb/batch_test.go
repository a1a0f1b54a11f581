package inventorydb_test

import (
	"testing"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/shop-oss/shop/pkg/database"
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
		if err := inventorydb.LockBatch(e.ctx, tx, []uuid.UUID{order, uuid.New()}, []uuid.UUID{b}); err != nil {
			return err
		}
		// Another connection finds exactly those rows locked.
		locked := func(sql string, id uuid.UUID) bool {
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
			if got := locked(c.sql, c.id); got != c.want {
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
		if err := inventorydb.LockBatch(e.ctx, tx, orders, nil); err != nil {
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
