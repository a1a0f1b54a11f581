package orderdb

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/proto"
	"gorm.io/gorm"

	"github.com/shop-oss/shop/pkg/database"
	"github.com/shop-oss/shop/pkg/event"
	"github.com/shop-oss/shop/pkg/logging"
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
func (s *Store) CreateOrder(ctx context.Context, o order.Order, first order.HistoryEntry, created proto.Message, receipt order.Receipt) error {
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
	if receipt != nil {
		rs, ra := receipt.Statement()
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
// msg, when not nil) and adds msg to the outbox, in one statement. The
// timeline entry and the event are written only if the update was.
func (t *Tx) Move(ctx context.Context, o order.Order, from order.Status, entry order.HistoryEntry, msg proto.Message) (*order.EventRef, error) {
	var e *event.Event
	if msg != nil {
		ev, err := newEvent(ctx, o.ID, msg)
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
// has the event (the unique index order_history_event backs that up).
const advanceSQL = `WITH src AS (
		UPDATE orders o SET status = ?, status_changed_at = ?, updated_at = ?,
			paid_at = COALESCE(?, o.paid_at), cancel_reason = COALESCE(?, o.cancel_reason)
		WHERE o.id = ? AND o.status = ?
			AND NOT EXISTS (SELECT 1 FROM order_history h WHERE h.order_id = o.id AND h.event_id = ?)
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
func (t *Tx) Advance(ctx context.Context, o order.Order, from order.Status, entry order.HistoryEntry) (time.Time, bool, error) {
	args, err := advanceArgs(o, from, entry)
	if err != nil {
		return time.Time{}, false, err
	}
	var moved []struct{ CreatedAt time.Time }
	if err := t.db.WithContext(ctx).Raw(advanceSQL, args...).Scan(&moved).Error; err != nil {
		return time.Time{}, false, fmt.Errorf("advance order %s from %s: %w", o.ID, from, err)
	}
	if len(moved) == 0 {
		return time.Time{}, false, nil
	}
	return moved[0].CreatedAt, true, nil
}

func advanceArgs(o order.Order, from order.Status, entry order.HistoryEntry) ([]any, error) {
	h, err := historyToRow(entry)
	if err != nil {
		return nil, err
	}
	r := orderToRow(o)
	args := []any{r.Status, r.StatusChangedAt, r.UpdatedAt, r.PaidAt, r.CancelReason, r.ID, string(from), h.EventID}
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
// the newest entry's when that is later, so that times follow the order of
// the entries.
const recordEventSQL = `WITH src AS (
		SELECT id, status FROM orders WHERE id = ? FOR NO KEY UPDATE
	), history AS (
		INSERT INTO order_history (` + historyColumns + `)
		SELECT src.id, GREATEST(?::timestamptz, (SELECT max(h.at) FROM order_history h WHERE h.order_id = src.id)), ?::text, src.status, src.status, ?::uuid, ?::text,
			?::text, ?::text, ?::uuid, ?::text, ?::uuid, ?::text, ?::jsonb FROM src
		ON CONFLICT (order_id, event_id) WHERE event_id IS NOT NULL DO NOTHING
	)
	SELECT count(*) FROM src`

// RecordEvent appends a status-less timeline entry in one statement, under
// the order's row lock; the unique index order_history_event makes a
// repeated event a no-op.
func (t *Tx) RecordEvent(ctx context.Context, entry order.HistoryEntry) (bool, error) {
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

// ApplyFastAll runs the usual-case statements of a consumer batch's saga
// events (order.SagaPlan: a timeline entry or a blind move each) in tx, in
// order, as one pipeline: one round trip for all of them instead of one
// each. The caller finishes every event with order.Service.FinishSaga, in
// order, from its outcome. Plans without a statement get a zero outcome.
// ok is false, and nothing ran, when tx cannot pipeline (it is not a
// database.TxStartingWith transaction).
//
// The pipeline first locks the orders in lock (as LockOrder does), in ID
// order: the caller names every order that the batch may lock, so that
// the batch takes all its order locks at once and in the one order every
// batch takes them. Otherwise the pipeline's moves would lock their orders
// before the rest of the batch locked its own (events that go the locking
// way, moves that did not apply), and two batches whose events share
// orders could each wait for the other until PostgreSQL's deadlock check
// (deadlock_timeout, 1 s) failed one of them: a second-long stall of every
// event behind them.
func (s *Store) ApplyFastAll(ctx context.Context, tx *gorm.DB, lock []string, plans []order.SagaPlan) ([]order.FastOutcome, bool, error) {
	p := database.NewPipeline(tx)
	if len(lock) > 0 {
		p.Queue(lockOrdersSQL, database.ParseUUIDs(lock)) // Send reads its rows and drops them
	}
	out := make([]order.FastOutcome, len(plans))
	for i, plan := range plans {
		switch {
		case plan.Record != nil:
			args, err := recordEventArgs(*plan.Record)
			if err != nil {
				return nil, false, err
			}
			p.Queue(recordEventSQL, args...).QueryRow(func(row pgx.Row) error {
				var n int64
				err := row.Scan(&n)
				out[i].Done = n == 1
				return err
			})
		case plan.Advance != nil:
			args, err := advanceArgs(plan.Advance.Order, plan.Advance.From, plan.Advance.Entry)
			if err != nil {
				return nil, false, err
			}
			p.Queue(advanceSQL, args...).Query(func(rows pgx.Rows) error {
				for rows.Next() {
					if err := rows.Scan(&out[i].CreatedAt); err != nil {
						return err
					}
					out[i].Done = true
				}
				return rows.Err()
			})
		}
	}
	switch ok, err := p.Send(ctx); {
	case err != nil:
		return nil, true, fmt.Errorf("apply %d saga events: %w", p.Len(), err)
	case !ok:
		return nil, false, nil
	}
	return out, true, nil
}

// newEvent is msg as the event for the order key; its correlation ID is
// the order ID, as the saga's events carry.
func newEvent(ctx context.Context, key string, msg proto.Message) (event.Event, error) {
	e, err := event.New(logging.WithCorrelationID(ctx, key), key, msg)
	if err != nil {
		return event.Event{}, fmt.Errorf("event for %s: %w", key, err)
	}
	return e, nil
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
