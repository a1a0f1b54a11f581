package inventorydb

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/shop-oss/shop/pkg/database"
	"github.com/shop-oss/shop/services/inventory/internal/inventory"
)

// txStore implements inventory.Tx on one gorm transaction.
type txStore struct {
	db *gorm.DB
}

func (t *txStore) q(ctx context.Context) *gorm.DB { return t.db.WithContext(ctx) }

// InsertReservation inserts the reservation and its lines in one statement;
// nothing when the order already has one.
func (t *txStore) InsertReservation(ctx context.Context, r inventory.Reservation) (bool, error) {
	ids, qty := splitLines(r.Lines)
	var n int64
	err := t.q(ctx).Raw(`WITH r AS (
			INSERT INTO reservations (id, order_id, status, placeholder, expires_at, reason, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (order_id) DO NOTHING
			RETURNING id
		), l AS (
			INSERT INTO reservation_lines (reservation_id, product_id, quantity)
			SELECT r.id, x.p, x.q FROM r, unnest(?::uuid[], ?::bigint[]) AS x(p, q)
		)
		SELECT count(*) FROM r`,
		r.ID, r.OrderID, string(r.Status), r.Placeholder, r.ExpiresAt, r.Reason, r.CreatedAt, r.UpdatedAt,
		ids, qty).Scan(&n).Error
	if err != nil {
		return false, fmt.Errorf("insert reservation: %w", err)
	}
	return n == 1, nil
}

func (t *txStore) LockReservation(ctx context.Context, orderID uuid.UUID) (inventory.Reservation, error) {
	return selectReservation(t.q(ctx), reservationSelect+` WHERE r.order_id = ? FOR UPDATE OF r`, orderID)
}

func (t *txStore) UpdateReservation(ctx context.Context, r inventory.Reservation, lines bool) error {
	err := t.q(ctx).Exec(`UPDATE reservations SET status = ?, placeholder = ?, expires_at = ?, reason = ?, restocked = ?, updated_at = ?
		WHERE id = ?`, string(r.Status), r.Placeholder, r.ExpiresAt, r.Reason, r.Restocked, r.UpdatedAt, r.ID).Error
	if err != nil {
		return fmt.Errorf("update reservation: %w", err)
	}
	if !lines {
		return nil
	}
	ids, qty := splitLines(r.Lines)
	err = t.q(ctx).Exec(`INSERT INTO reservation_lines (reservation_id, product_id, quantity)
		SELECT ?, x.p, x.q FROM unnest(?::uuid[], ?::bigint[]) AS x(p, q)`, r.ID, ids, qty).Error
	if err != nil {
		return fmt.Errorf("insert reservation lines: %w", err)
	}
	return nil
}

func (t *txStore) DeleteReservation(ctx context.Context, id uuid.UUID) error {
	if err := t.q(ctx).Exec(`DELETE FROM reservations WHERE id = ?`, id).Error; err != nil {
		return fmt.Errorf("delete reservation: %w", err)
	}
	return nil
}

func (t *txStore) LockDueReservations(ctx context.Context, now time.Time, limit int) ([]inventory.Reservation, error) {
	var rows []reservationRow
	err := t.q(ctx).Raw(reservationSelect+` WHERE r.status = 'ACTIVE' AND r.expires_at <= ?
		ORDER BY r.expires_at LIMIT ? FOR UPDATE OF r SKIP LOCKED`, now, limit).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("lock due reservations: %w", err)
	}
	out := make([]inventory.Reservation, len(rows))
	for i, row := range rows {
		if out[i], err = row.toDomain(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (t *txStore) ExpireReservations(ctx context.Context, ids []uuid.UUID, at time.Time) error {
	err := t.q(ctx).Exec(`UPDATE reservations SET status = 'EXPIRED', reason = ?, updated_at = ?
		WHERE id = ANY(?::uuid[])`, inventory.ReasonReservationExpired, at, database.UUIDArray(ids)).Error
	if err != nil {
		return fmt.Errorf("expire reservations: %w", err)
	}
	return nil
}

// LockStock locks in product-ID order: the lock node sits above the sort,
// so rows are locked in the order they are returned.
func (t *txStore) LockStock(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]inventory.Stock, error) {
	var rows []stockRow
	err := t.q(ctx).Raw(`SELECT `+stockColumns+` FROM stock WHERE product_id = ANY(?::uuid[])
		ORDER BY product_id FOR NO KEY UPDATE`, database.UUIDArray(ids)).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("lock stock: %w", err)
	}
	out := make(map[uuid.UUID]inventory.Stock, len(rows))
	for _, r := range rows {
		out[r.ProductID] = r.toDomain()
	}
	return out, nil
}

// ApplyMovements updates the stock rows by the summed deltas and inserts the
// ledger entries, in one statement, then checks the new figures against the
// domain's.
func (t *txStore) ApplyMovements(ctx context.Context, moves []inventory.Movement, final []inventory.Stock) error {
	n := len(moves)
	var (
		products, reservations, orders, actors = make(database.UUIDArray, n), make(database.UUIDArray, n), make(database.UUIDArray, n), make(database.UUIDArray, n)
		dOnHand, dReserved, onHand, reserved   = make(database.Int64Array, n), make(database.Int64Array, n), make(database.Int64Array, n), make(database.Int64Array, n)
		kinds, reasons                         = make(database.TextArray, n), make(database.TextArray, n)
	)
	for i, m := range moves {
		products[i], reservations[i], orders[i], actors[i] = m.ProductID, m.ReservationID, m.OrderID, m.ActorID
		dOnHand[i], dReserved[i], onHand[i], reserved[i] = m.OnHandDelta, m.ReservedDelta, m.OnHandAfter, m.ReservedAfter
		kinds[i], reasons[i] = string(m.Kind), m.Reason
	}
	var rows []struct {
		ProductID        uuid.UUID
		OnHand, Reserved int64
	}
	err := t.q(ctx).Raw(`WITH d AS (
			SELECT p, sum(oh) AS oh, sum(rs) AS rs
			FROM unnest(?::uuid[], ?::bigint[], ?::bigint[]) AS m(p, oh, rs)
			GROUP BY p
		), u AS (
			UPDATE stock s SET on_hand = s.on_hand + d.oh, reserved = s.reserved + d.rs, updated_at = now()
			FROM d WHERE s.product_id = d.p
			RETURNING s.product_id, s.on_hand, s.reserved
		), m AS (
			INSERT INTO stock_movements (product_id, kind, on_hand_delta, reserved_delta, on_hand_after, reserved_after,
				reservation_id, order_id, reason, actor_id)
			SELECT * FROM unnest(?::uuid[], ?::text[], ?::bigint[], ?::bigint[], ?::bigint[], ?::bigint[],
				?::uuid[], ?::uuid[], ?::text[], ?::uuid[])
		)
		SELECT product_id, on_hand, reserved FROM u`,
		products, dOnHand, dReserved,
		products, kinds, dOnHand, dReserved, onHand, reserved, reservations, orders, reasons, actors).Scan(&rows).Error
	if err != nil {
		return fmt.Errorf("apply %d stock movements: %w", n, err)
	}
	want := make(map[uuid.UUID]inventory.Stock, len(final))
	for _, s := range final {
		want[s.ProductID] = s
	}
	if len(rows) != len(want) {
		return fmt.Errorf("%w: %d rows updated, %d expected", errLedger, len(rows), len(want))
	}
	for _, r := range rows {
		w, ok := want[r.ProductID]
		if !ok || w.OnHand != r.OnHand || w.Reserved != r.Reserved {
			return fmt.Errorf("%w: product %s is %d/%d in the database, %d/%d by the ledger",
				errLedger, r.ProductID, r.OnHand, r.Reserved, w.OnHand, w.Reserved)
		}
	}
	return nil
}

func (t *txStore) SetThreshold(ctx context.Context, productID uuid.UUID, threshold *int64) error {
	err := t.q(ctx).Exec(`UPDATE stock SET low_stock_threshold = ?, updated_at = now() WHERE product_id = ?`,
		threshold, productID).Error
	if err != nil {
		return fmt.Errorf("set low-stock threshold: %w", err)
	}
	return nil
}

func (t *txStore) HasMovements(ctx context.Context, productID uuid.UUID) (bool, error) {
	var has bool
	err := t.q(ctx).Raw(`SELECT EXISTS (SELECT 1 FROM stock_movements WHERE product_id = ?)`, productID).Scan(&has).Error
	if err != nil {
		return false, fmt.Errorf("look up movements: %w", err)
	}
	return has, nil
}

// UpsertProduct applies a newer catalog version; a row made by the seed
// (catalog_version NULL) always takes catalog's view.
func (t *txStore) UpsertProduct(ctx context.Context, p inventory.Product) (bool, error) {
	res := t.q(ctx).Exec(`INSERT INTO stock (product_id, seller_id, sku, status, catalog_version) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (product_id) DO UPDATE SET seller_id = EXCLUDED.seller_id, sku = EXCLUDED.sku,
			status = EXCLUDED.status, catalog_version = EXCLUDED.catalog_version, updated_at = now()
		WHERE stock.catalog_version IS NULL OR stock.catalog_version < EXCLUDED.catalog_version`,
		p.ID, nullUUID(p.SellerID), p.SKU, string(p.Status), p.Version)
	if res.Error != nil {
		return false, fmt.Errorf("upsert product: %w", res.Error)
	}
	return res.RowsAffected > 0, nil
}

func (t *txStore) ArchiveProduct(ctx context.Context, productID uuid.UUID, version int64) (bool, error) {
	res := t.q(ctx).Exec(`INSERT INTO stock (product_id, status, catalog_version) VALUES (?, 'ARCHIVED', ?)
		ON CONFLICT (product_id) DO UPDATE SET status = 'ARCHIVED', catalog_version = EXCLUDED.catalog_version, updated_at = now()
		WHERE stock.catalog_version IS NULL OR stock.catalog_version < EXCLUDED.catalog_version`, productID, version)
	if res.Error != nil {
		return false, fmt.Errorf("archive product: %w", res.Error)
	}
	return res.RowsAffected > 0, nil
}

func (t *txStore) EnsureProduct(ctx context.Context, p inventory.Product) error {
	err := t.q(ctx).Exec(`INSERT INTO stock (product_id, seller_id, sku, status) VALUES (?, ?, ?, ?)
		ON CONFLICT (product_id) DO NOTHING`, p.ID, nullUUID(p.SellerID), p.SKU, string(p.Status)).Error
	if err != nil {
		return fmt.Errorf("ensure product: %w", err)
	}
	return nil
}

func splitLines(lines []inventory.Line) (database.UUIDArray, database.Int64Array) {
	ids, qty := make(database.UUIDArray, len(lines)), make(database.Int64Array, len(lines))
	for i, l := range lines {
		ids[i], qty[i] = l.ProductID, l.Quantity
	}
	return ids, qty
}

// nullUUID is id, or NULL for uuid.Nil.
func nullUUID(id uuid.UUID) any {
	if id == uuid.Nil {
		return nil
	}
	return id
}
