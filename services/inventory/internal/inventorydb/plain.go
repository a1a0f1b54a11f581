package inventorydb

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"github.com/shop-oss/shop/pkg/database"
	"github.com/shop-oss/shop/pkg/outbox"
	"github.com/shop-oss/shop/services/inventory/internal/inventory"
)

// lockStock is how a plain statement locks its stock rows when it runs on
// its own. In a batch that already holds them (LockBatch), the statements
// read them without locking again (the held* statements): a row this
// transaction already updated is a new version, and locking it again writes
// a WAL record and dirties its page, about 3.3 per order under the saga
// load, for nothing; no other transaction can change a row the batch
// holds, so each statement's snapshot sees its newest version.
const lockStock = "FOR NO KEY UPDATE"

// heldReserveSQL and heldConfirmSQL are reservePlainSQL and
// confirmPlainSQL for a transaction that holds the lines' stock rows.
var (
	heldReserveSQL = reservePlainStatement("")
	heldConfirmSQL = confirmPlainStatement("")
)

// reservePlainSQL applies a plain reservation (inventory.PlainReservation)
// in one statement:
//
//   - locked: the lines' stock rows, locked in product-ID order (the lock
//     node sits above the sort), as every other path locks them; it returns
//     the newest committed figures, whatever this statement's snapshot saw;
//   - plain: whether every line is plain, judged on those locked figures:
//     ACTIVE, enough available, and no crossing of the low-stock threshold
//     (already low stays low and signals nothing, as the rules say);
//   - the reservation is inserted only if plain, and not at all when the
//     order has one (ON CONFLICT), so everything after it happens only when
//     it was inserted: lines, stock, ledger and outbox follow its RETURNING.
//
// The UPDATE reads the rows through its snapshot, finds them changed by the
// transactions it waited for, and re-reads the newest version (it holds the
// lock), so reserved grows from the figures judged above.
var reservePlainSQL = reservePlainStatement(lockStock)

func reservePlainStatement(lock string) string {
	return `WITH w AS (
		SELECT p, q FROM unnest(?::uuid[], ?::bigint[]) AS w(p, q)
	), locked AS (
		SELECT product_id, status, on_hand - reserved AS available,
			COALESCE(low_stock_threshold, ?::bigint) AS threshold
		FROM stock WHERE product_id = ANY(?::uuid[]) ORDER BY product_id ` + lock + `
	), plain AS (
		SELECT count(*) = ?::bigint AS ok FROM locked JOIN w ON w.p = locked.product_id
		WHERE locked.status = 'ACTIVE' AND locked.available >= w.q
			AND (locked.available - w.q > locked.threshold OR locked.available <= locked.threshold)
	), r AS (
		INSERT INTO reservations (id, order_id, status, placeholder, expires_at, reason, created_at, updated_at)
		SELECT ?::uuid, ?::uuid, 'ACTIVE', false, ?::timestamptz, '', ?::timestamptz, ?::timestamptz FROM plain WHERE plain.ok
		ON CONFLICT (order_id) DO NOTHING
		RETURNING id, order_id
	), rl AS (
		INSERT INTO reservation_lines (reservation_id, product_id, quantity)
		SELECT r.id, w.p, w.q FROM r, w
	), u AS (
		UPDATE stock s SET reserved = s.reserved + w.q, updated_at = now()
		FROM w, r WHERE s.product_id = w.p
		RETURNING s.product_id, s.on_hand, s.reserved, w.q, r.id AS reservation_id, r.order_id
	), m AS (
		INSERT INTO stock_movements (product_id, kind, on_hand_delta, reserved_delta, on_hand_after, reserved_after,
			reservation_id, order_id)
		SELECT product_id, 'RESERVED', 0, q, on_hand, reserved, reservation_id, order_id FROM u
	), o AS (
		` + outbox.InsertFrom("r") + `
	)
	SELECT count(*) FROM r`
}

// reservePlain runs a plain reservation's statement (reservePlainSQL, or
// heldReserveSQL in a batch that holds the rows) on db.
func reservePlain(ctx context.Context, db *gorm.DB, sql string, p inventory.PlainReservation) (bool, error) {
	args, err := reservePlainArgs(ctx, p)
	if err != nil {
		return false, err
	}
	return applyPlain(ctx, db, "reserve", sql, args)
}

func reservePlainArgs(ctx context.Context, p inventory.PlainReservation) ([]any, error) {
	r := p.Reservation
	return plainArgs(ctx, "reserve", r, p.Announce, func(ids database.UUIDArray, qty database.Int64Array) []any {
		return []any{ids, qty, p.LowStockDefault, ids, len(r.Lines), r.ID, r.OrderID, r.ExpiresAt, r.CreatedAt, r.UpdatedAt}
	})
}

// plainArgs returns the parameters of a plain statement for r (ACTIVE, not
// a placeholder, with lines): lines' for the lines, then announce's event.
func plainArgs(ctx context.Context, what string, r inventory.Reservation, announce inventory.Event,
	lines func(ids database.UUIDArray, qty database.Int64Array) []any) ([]any, error) {
	if r.Status != inventory.StatusActive || r.Placeholder || len(r.Lines) == 0 {
		return nil, fmt.Errorf("inventorydb: not a plain %s: %s, placeholder %t, %d lines", what, r.Status, r.Placeholder, len(r.Lines))
	}
	ev, err := envelope(ctx, announce)
	if err != nil {
		return nil, err
	}
	return append(lines(splitLines(r.Lines)), outbox.Values(ev)...), nil
}

// applyPlain runs a plain statement, which selects how many reservations it
// wrote; it reports whether that was one.
func applyPlain(ctx context.Context, db *gorm.DB, what, sql string, args []any) (bool, error) {
	var n int64
	if err := db.WithContext(ctx).Raw(sql, args...).Scan(&n).Error; err != nil {
		return false, fmt.Errorf("%s: %w", what, err)
	}
	return n == 1, nil
}

// confirmPlainSQL applies a plain confirmation (inventory.PlainConfirmation)
// in one statement, in the caller's transaction, which holds the
// reservation's row lock:
//
//   - locked: the lines' stock rows, locked in product-ID order, as every
//     other path locks them, with their newest committed figures;
//   - plain: whether every line's row exists and holds at least the line's
//     quantity in reserved;
//   - the reservation becomes CONFIRMED only if plain and still ACTIVE, and
//     everything after it follows its RETURNING: stock, ledger and outbox.
var confirmPlainSQL = confirmPlainStatement(lockStock)

func confirmPlainStatement(lock string) string {
	return `WITH w AS (
		SELECT p, q FROM unnest(?::uuid[], ?::bigint[]) AS w(p, q)
	), locked AS (
		SELECT product_id, reserved FROM stock WHERE product_id = ANY(?::uuid[]) ORDER BY product_id ` + lock + `
	), plain AS (
		SELECT count(*) = ?::bigint AS ok FROM locked JOIN w ON w.p = locked.product_id
		WHERE locked.reserved >= w.q
	), r AS (
		UPDATE reservations SET status = 'CONFIRMED', updated_at = ?::timestamptz
		WHERE id = ?::uuid AND status = 'ACTIVE' AND (SELECT ok FROM plain)
		RETURNING id, order_id
	), u AS (
		UPDATE stock s SET on_hand = s.on_hand - w.q, reserved = s.reserved - w.q, updated_at = now()
		FROM w, r WHERE s.product_id = w.p
		RETURNING s.product_id, s.on_hand, s.reserved, w.q, r.id AS reservation_id, r.order_id
	), m AS (
		INSERT INTO stock_movements (product_id, kind, on_hand_delta, reserved_delta, on_hand_after, reserved_after,
			reservation_id, order_id)
		SELECT product_id, 'SOLD', -q, -q, on_hand, reserved, reservation_id, order_id FROM u
	), o AS (
		` + outbox.InsertFrom("r") + `
	)
	SELECT count(*) FROM r`
}

// ConfirmPlain implements inventory.Tx.
func (t *txStore) ConfirmPlain(ctx context.Context, c inventory.PlainConfirmation) (inventory.Reservation, bool, error) {
	args, err := confirmPlainArgs(ctx, c)
	if err != nil {
		return inventory.Reservation{}, false, err
	}
	done, err := applyPlain(ctx, t.db, "confirm", confirmPlainSQL, args)
	return asConfirmed(c), done, err
}

// asConfirmed is c's reservation as a plain confirmation stores it.
func asConfirmed(c inventory.PlainConfirmation) inventory.Reservation {
	r := c.Reservation
	r.Status, r.UpdatedAt = inventory.StatusConfirmed, c.At
	return r
}

func confirmPlainArgs(ctx context.Context, c inventory.PlainConfirmation) ([]any, error) {
	r := c.Reservation
	return plainArgs(ctx, "confirm", r, c.Announce, func(ids database.UUIDArray, qty database.Int64Array) []any {
		return []any{ids, qty, ids, len(r.Lines), c.At, r.ID}
	})
}
