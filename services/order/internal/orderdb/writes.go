package orderdb

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/shop-oss/shop/pkg/database"
	"github.com/shop-oss/shop/pkg/event"
	"github.com/shop-oss/shop/pkg/outbox"
	"github.com/shop-oss/shop/services/order/internal/order"
)

// The saga's writes are single statements: a placed order (order, items,
// first timeline entry, ORDER_CREATED) and a status change (status,
// timeline entry, event) each go to PostgreSQL in one round trip, instead
// of one per row. A statement is atomic on its own, so placing an order
// needs no explicit transaction at all.

// historyColumns are the order_history columns a step writes.
const historyColumns = `order_id, at, kind, from_status, to_status, actor_id, actor_role,
		reason, note, event_id, event_type, emitted_event_id, emitted_event_type, detail`

// historyInsert inserts one timeline entry from the row of `src`, with
// the parameters of historyValues (a SELECT list: each cast to its type).
const historyInsert = `INSERT INTO order_history (` + historyColumns + `)
	SELECT src.id, ?::timestamptz, ?::text, ?::text, ?::text, ?::uuid, ?::text,
		?::text, ?::text, ?::uuid, ?::text, ?::uuid, ?::text, ?::jsonb FROM src`

func historyValues(r historyRow) []any {
	return []any{r.At, r.Kind, r.FromStatus, r.ToStatus, r.ActorID, r.ActorRole,
		r.Reason, r.Note, r.EventID, r.EventType, r.EmittedEventID, r.EmittedEventType, string(r.Detail)}
}

// createOrderSQL inserts the order (the SELECT takes a WHERE when a
// receipt goes first), its items, its first timeline entry and its event,
// and returns whether it inserted the order.
const createOrderSQL = `src AS (
		INSERT INTO orders (id, user_id, status, currency, total_minor, seller_id, idempotency_key, item_count,
			created_at, updated_at, status_changed_at)
		SELECT ?::uuid, ?::uuid, ?::text, ?::text, ?::bigint, ?::uuid, ?::text, ?::int,
			?::timestamptz, ?::timestamptz, ?::timestamptz %s
		RETURNING id
	), items AS (
		INSERT INTO order_items (order_id, line_no, product_id, sku, name, seller_id, quantity, unit_price_minor)
		SELECT src.id, l.line_no, l.product_id, l.sku, l.name, l.seller_id, l.quantity, l.unit_price_minor
		FROM src, jsonb_to_recordset(?::jsonb) AS l(line_no int, product_id uuid, sku text, name text,
			seller_id uuid, quantity int, unit_price_minor bigint)
	), history AS (
		` + historyInsert + `
	), emitted AS (
		` + "%s" + `
	)
	SELECT count(*) FROM src`

var (
	createOrderAlone = "WITH " + fmt.Sprintf(createOrderSQL, "", outbox.InsertFrom("src"))
	// The receipt's statement goes between the two parts.
	createOrderWithReceipt = [2]string{"WITH receipt AS (",
		"), " + fmt.Sprintf(createOrderSQL, "WHERE EXISTS (SELECT 1 FROM receipt)", outbox.InsertFrom("src"))}
)

// CreateOrder inserts the order, its items, its first timeline entry
// (emitting created) and the event, in one statement; with a receipt
// first, whose row the order waits for.
func (s *Store) CreateOrder(ctx context.Context, o order.Order, first order.HistoryEntry, created order.Event, receipt order.Receipt) error {
	var statement func() (string, []any)
	if receipt != nil {
		r, ok := receipt.(interface{ Statement() (string, []any) })
		if !ok {
			return fmt.Errorf("insert order: a receipt of type %T, not an idempotency record", receipt)
		}
		statement = r.Statement
	}
	e, err := newEvent(ctx, o.ID, created)
	if err != nil {
		return err
	}
	r := orderToRow(o)
	items := make([]itemRow, len(o.Items))
	for i, it := range o.Items {
		items[i] = itemToRow(o.ID, i, it)
	}
	lines, err := json.Marshal(items)
	if err != nil {
		return fmt.Errorf("encode items: %w", err)
	}
	first.Emitted = &order.EventRef{ID: e.ID.String(), Type: e.Type}
	h, err := historyToRow(first)
	if err != nil {
		return err
	}
	sql := createOrderAlone
	var args []any
	if statement != nil {
		rs, ra := statement()
		sql = createOrderWithReceipt[0] + rs + createOrderWithReceipt[1]
		args = ra
	}
	args = append(args, r.ID, r.UserID, r.Status, r.Currency, r.TotalMinor, r.SellerID, r.IdempotencyKey, r.ItemCount,
		r.CreatedAt, r.UpdatedAt, r.StatusChangedAt, string(lines))
	args = append(append(args, historyValues(h)...), outbox.Values(e)...)
	// The only unique constraint an insert of a new ID can break is
	// (user_id, idempotency_key): the user placed this order already.
	var n int64
	err = s.db.WithContext(ctx).Raw(sql, args...).Scan(&n).Error
	switch {
	case database.IsUniqueViolation(err):
		return order.ErrDuplicateKey
	case err != nil:
		return fmt.Errorf("insert order: %w", err)
	case n == 0:
		return order.ErrReceiptRefused
	}
	return nil
}

const moveSQL = `WITH src AS (
		UPDATE orders SET status = ?, status_changed_at = ?, updated_at = ?, paid_at = ?, cancel_reason = ?
		WHERE id = ? AND status = ?
		RETURNING id
	), history AS (
		` + historyInsert + `
	)`

// Move writes o's status fields, guarded by from, appends entry (emitting
// ev, when not nil) and adds ev to the outbox, in one statement. The
// timeline entry and the event are written only if the update was.
func (t *Tx) Move(ctx context.Context, o order.Order, from order.Status, entry order.HistoryEntry, emitted order.Event) (*order.EventRef, error) {
	var e *event.Event
	if emitted != nil {
		ev, err := newEvent(ctx, o.ID, emitted)
		if err != nil {
			return nil, err
		}
		e = &ev
		entry.Emitted = &order.EventRef{ID: ev.ID.String(), Type: ev.Type}
	}
	h, err := historyToRow(entry)
	if err != nil {
		return nil, err
	}
	r := orderToRow(o)
	sql := moveSQL
	args := []any{r.Status, r.StatusChangedAt, r.UpdatedAt, r.PaidAt, r.CancelReason, r.ID, string(from)}
	args = append(args, historyValues(h)...)
	if e != nil {
		sql += `, emitted AS (
		` + outbox.InsertFrom("src") + `
	)`
		args = append(args, outbox.Values(*e)...)
	}
	sql += `
	SELECT count(*) FROM src`
	var n int64
	if err := t.db.WithContext(ctx).Raw(sql, args...).Scan(&n).Error; err != nil {
		return nil, fmt.Errorf("update order %s: %w", o.ID, err)
	}
	if n != 1 {
		return nil, fmt.Errorf("update order %s from %s: %w", o.ID, from, errLostUpdate)
	}
	return entry.Emitted, nil
}

// advanceSQL is moveSQL for a caller that has not read the order: it keeps
// the fields it is not given, and stands still when the timeline already
// has the event (the unique index order_history_event backs that up) or,
// given a total, when the order's is another.
const advanceSQL = `WITH src AS (
		UPDATE orders o SET status = ?, status_changed_at = ?, updated_at = ?,
			paid_at = COALESCE(?, o.paid_at), cancel_reason = COALESCE(?, o.cancel_reason)
		WHERE o.id = ? AND o.status = ?
			AND NOT EXISTS (SELECT 1 FROM order_history h WHERE h.order_id = o.id AND h.event_id = ?)
			AND (?::bigint IS NULL OR (o.total_minor = ?::bigint AND o.currency = ?::text))
		RETURNING o.id, o.created_at
	), history AS (
		` + historyInsert + `
	)
	SELECT created_at FROM src`

// Advance writes the status fields that o sets (status, its timestamps, and
// paid_at or cancel_reason when set), if the row is in from and its
// timeline does not have entry's cause, and appends entry, in one statement.
// It reports whether it moved the order and, if so, when the order was
// created.
// In a batch, the statement that the batch sent ahead (SendAhead) is not
// sent again: its outcome is the answer.
func (t *Tx) Advance(ctx context.Context, m order.BlindMove) (time.Time, bool, error) {
	if t.sent.answers(m.Entry, true) {
		return t.sent.createdAt, t.sent.done, nil
	}
	args, err := advanceArgs(m)
	if err != nil {
		return time.Time{}, false, err
	}
	var moved []struct{ CreatedAt time.Time }
	if err := t.db.WithContext(ctx).Raw(advanceSQL, args...).Scan(&moved).Error; err != nil {
		return time.Time{}, false, fmt.Errorf("advance order %s from %s: %w", m.Order.ID, m.From, err)
	}
	if len(moved) == 0 {
		return time.Time{}, false, nil
	}
	return moved[0].CreatedAt, true, nil
}

func advanceArgs(m order.BlindMove) ([]any, error) {
	h, err := historyToRow(m.Entry)
	if err != nil {
		return nil, err
	}
	r := orderToRow(m.Order)
	var amount *int64
	var currency *string
	if m.Total != nil {
		amount, currency = &m.Total.AmountMinor, &m.Total.Currency
	}
	args := []any{r.Status, r.StatusChangedAt, r.UpdatedAt, r.PaidAt, r.CancelReason, r.ID, string(m.From), h.EventID,
		amount, amount, currency}
	return append(args, historyValues(h)...), nil
}

// lockOrdersSQL locks orders in ID order: the sort runs below the lock,
// so the rows are locked in the order they are returned.
const lockOrdersSQL = `SELECT 1 FROM orders WHERE id = ANY(?::uuid[]) ORDER BY id FOR NO KEY UPDATE`

// recordEventSQL reads the order's status under the order's row lock (the
// one LockOrder takes), so that the entry says where the order stands when
// it is written: a transition in flight (an uncommitted cancellation) is
// waited for and then seen, and none can slip between this entry and the
// commit. Read without the lock, an INVENTORY_RELEASED that raced the
// cancellation was recorded as PAYMENT_PENDING after the CANCELLED entry.
// The entry's time, taken before the lock was waited for, is moved up to
// the time the order entered its status when that is later (the locked
// row is read as it is after the wait), so that no entry is dated before
// the transition it follows. Two such entries racing each other keep the
// times their events were handled at: the timeline's order is its IDs'.
const recordEventSQL = `WITH src AS (
		SELECT id, status, status_changed_at FROM orders WHERE id = ? FOR NO KEY UPDATE
	), history AS (
		INSERT INTO order_history (` + historyColumns + `)
		SELECT src.id, GREATEST(?::timestamptz, src.status_changed_at), ?::text, src.status, src.status, ?::uuid, ?::text,
			?::text, ?::text, ?::uuid, ?::text, ?::uuid, ?::text, ?::jsonb FROM src
		ON CONFLICT (order_id, event_id) WHERE event_id IS NOT NULL DO NOTHING
	)
	SELECT count(*) FROM src`

// RecordEvent appends a status-less timeline entry in one statement, under
// the order's row lock; the unique index order_history_event makes a
// repeated event a no-op. In a batch that sent it ahead (SendAhead), its
// outcome is the answer.
func (t *Tx) RecordEvent(ctx context.Context, entry order.HistoryEntry) (bool, error) {
	if t.sent.answers(entry, false) {
		return t.sent.done, nil
	}
	args, err := recordEventArgs(entry)
	if err != nil {
		return false, err
	}
	var n int64
	if err := t.db.WithContext(ctx).Raw(recordEventSQL, args...).Scan(&n).Error; err != nil {
		return false, fmt.Errorf("record %s in the timeline of %s: %w", entry.Reason, entry.OrderID, err)
	}
	return n == 1, nil
}

func recordEventArgs(entry order.HistoryEntry) ([]any, error) {
	r, err := historyToRow(entry)
	if err != nil {
		return nil, err
	}
	return []any{entry.OrderID, r.At, r.Kind, r.ActorID, r.ActorRole,
		r.Reason, r.Note, r.EventID, r.EventType, r.EmittedEventID, r.EmittedEventType, string(r.Detail)}, nil
}

// Products reads replica rows outside a transaction (the order's prices
// are those read here, as in any read-committed transaction).
func (s *Store) Products(ctx context.Context, ids []string) (map[string]order.Product, error) {
	var rows []productRow
	if err := s.db.WithContext(ctx).Where("id = ANY(?::uuid[])", database.ParseUUIDs(ids)).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("load products: %w", err)
	}
	out := make(map[string]order.Product, len(rows))
	for _, r := range rows {
		out[r.ID] = r.toDomain()
	}
	return out, nil
}
