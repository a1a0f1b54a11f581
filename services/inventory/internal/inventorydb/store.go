// Package inventorydb is the inventory store on PostgreSQL (gorm over pgx):
// it implements inventory.Store and inventory.Tx with hand-written SQL,
// converts rows to domain types, writes events to the transactional outbox
// and translates driver errors into domain errors.
//
// The store owns the transactions (inventory.Transactions) and with them
// the speed: a plain reservation or sale is one statement (plain.go); a
// consumer batch takes its locks up front and sends its plain operations as
// one pipeline (batch.go). In the general case a change is kept to few
// round trips: the reservation and its lines in one statement, the stock
// rows locked in one, the stock update and its ledger entries in one, the
// outbox rows in one.
package inventorydb

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/shop-oss/shop/services/inventory/internal/inventory"
	"github.com/shop-oss/shop/services/inventory/internal/keygate"
)

// Store implements inventory.Store. Reads that may lag (lists, the ledger,
// availability) go to read, which is the primary unless a replica is set.
type Store struct {
	db, read *gorm.DB
	// hot queues this process's plain reservations per product (see
	// keygate).
	hot *keygate.Gate
}

// New returns a Store on db, reading from read (nil: db).
func New(db, read *gorm.DB) *Store {
	if read == nil {
		read = db
	}
	return &Store{db: db, read: read, hot: keygate.New(hotRowWriters)}
}

// hotRowWriters is how many plain reservations of one product a process
// lets into the database at once.
const hotRowWriters = 2

// Update implements inventory.Transactions: fn runs in a transaction of
// its own.
func (s *Store) Update(ctx context.Context, fn func(tx inventory.Tx) error) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return fn(&txStore{db: tx})
	})
}

// Reserve implements inventory.Transactions: the plain statement is a
// transaction of its own, so a hot product's row stays locked only while it
// runs, and this process queues its plain reservations per product
// (keygate); the rules then get a transaction of their own.
func (s *Store) Reserve(ctx context.Context, p inventory.PlainReservation, byRules func(tx inventory.Tx) error) (inventory.Reservation, bool, error) {
	ids, _ := splitLines(p.Reservation.Lines)
	release, err := s.hot.Enter(ctx, ids)
	if err != nil {
		return inventory.Reservation{}, false, err
	}
	done, err := reservePlain(ctx, s.db, reservePlainSQL, p)
	release()
	if err != nil || done {
		return p.Reservation, done, err
	}
	return inventory.Reservation{}, false, s.Update(ctx, byRules)
}

// Stock returns one product's stock.
func (s *Store) Stock(ctx context.Context, productID uuid.UUID) (inventory.Stock, error) {
	var rows []stockRow
	err := s.read.WithContext(ctx).Raw(`SELECT `+stockColumns+` FROM stock WHERE product_id = ?`, productID).Scan(&rows).Error
	if err != nil {
		return inventory.Stock{}, fmt.Errorf("select stock: %w", err)
	}
	if len(rows) == 0 {
		return inventory.Stock{}, inventory.ErrProductNotFound
	}
	return rows[0].toDomain(), nil
}

// ListStock returns a page of stock rows in product-ID order.
func (s *Store) ListStock(ctx context.Context, f inventory.StockFilter) ([]inventory.Stock, error) {
	q := s.read.WithContext(ctx).Table("stock").Select(stockColumns).
		Where("product_id > ?", f.After).Order("product_id").Limit(f.Limit)
	if f.SellerID != uuid.Nil {
		q = q.Where("seller_id = ?", f.SellerID)
	}
	if f.LowOnly {
		q = q.Where("on_hand - reserved <= COALESCE(low_stock_threshold, ?)", f.DefaultThreshold)
	}
	return scanAll[inventory.Stock, stockRow](q, "list stock")
}

// Movements returns a page of a product's ledger, newest first, older than
// beforeID (0: the newest).
func (s *Store) Movements(ctx context.Context, productID uuid.UUID, beforeID int64, limit int) ([]inventory.Movement, error) {
	q := s.read.WithContext(ctx).Table("stock_movements").Where("product_id = ?", productID).
		Order("id DESC").Limit(limit)
	if beforeID > 0 {
		q = q.Where("id < ?", beforeID)
	}
	return scanAll[inventory.Movement, movementRow](q, "list movements")
}

// scanAll runs q and converts its rows, of type R, to domain values.
func scanAll[D any, R interface{ toDomain() D }](q *gorm.DB, what string) ([]D, error) {
	var rows []R
	if err := q.Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	out := make([]D, len(rows))
	for i, r := range rows {
		out[i] = r.toDomain()
	}
	return out, nil
}

// Reservation returns an order's reservation (from the primary: staff look
// right after acting).
func (s *Store) Reservation(ctx context.Context, orderID uuid.UUID) (inventory.Reservation, error) {
	return selectReservation(s.db.WithContext(ctx), reservationSelect+` WHERE r.order_id = ?`, orderID)
}

func selectReservation(db *gorm.DB, sql string, args ...any) (inventory.Reservation, error) {
	var rows []reservationRow
	if err := db.Raw(sql, args...).Scan(&rows).Error; err != nil {
		return inventory.Reservation{}, fmt.Errorf("select reservation: %w", err)
	}
	if len(rows) == 0 {
		return inventory.Reservation{}, inventory.ErrReservationNotFound
	}
	return rows[0].toDomain()
}

// errLedger means the database's figures differ from the domain's after a
// change: a bug, or rows changed without their lock. The transaction rolls
// back.
var errLedger = errors.New("stock figures out of step with the ledger")
