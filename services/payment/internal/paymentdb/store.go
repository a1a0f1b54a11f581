// Package paymentdb stores payments, refunds and the order projection in
// PostgreSQL with gorm, writes the service's events to the outbox in the
// same transactions, and translates driver errors into the payment
// package's errors.
package paymentdb

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"github.com/shop-oss/shop/pkg/database"
	"github.com/shop-oss/shop/pkg/idempotency"
	"github.com/shop-oss/shop/pkg/outbox"
	"github.com/shop-oss/shop/services/payment/internal/payment"
)

// Store implements payment.Store.
type Store struct {
	db   *gorm.DB
	read *gorm.DB
}

// New returns a Store writing to db and listing from read (a replica, or
// db again).
func New(db, read *gorm.DB) *Store {
	return &Store{db: db, read: read}
}

// InTx runs fn in a transaction of its own.
func (s *Store) InTx(ctx context.Context, fn func(payment.Tx) error) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return fn(&Tx{db: tx})
	})
}

// Bind wraps a transaction owned by the caller (the consumer's inbox
// transaction) as a payment.Tx. lock, when given, are the orders of the
// caller's whole batch: SaveReservations takes them first (see there).
func Bind(tx *gorm.DB, lock ...string) payment.Tx { return &Tx{db: tx, lock: lock} }

// Payment reads a payment and its refunds from the primary (a client that
// just confirmed must see the outcome).
func (s *Store) Payment(ctx context.Context, id string) (payment.Payment, error) {
	return (&Tx{db: s.db.WithContext(ctx)}).payment(ctx, "id = ?", id, "")
}

// OrderState reads the order's projection, and whether the order has a
// payment, from the primary in one statement.
func (s *Store) OrderState(ctx context.Context, orderID string) (payment.Order, bool, error) {
	var rows []struct {
		Order      orderRow `gorm:"embedded"`
		HasPayment bool
	}
	err := s.db.WithContext(ctx).Raw(`SELECT o.*, EXISTS (SELECT 1 FROM payments p WHERE p.order_id = o.order_id) AS has_payment
		FROM order_projection o WHERE o.order_id = ?`, orderID).Scan(&rows).Error
	switch {
	case isInvalidText(err):
		return payment.Order{}, false, fmt.Errorf("order %q: %w", orderID, payment.ErrOrderNotFound)
	case err != nil:
		return payment.Order{}, false, fmt.Errorf("read order %s: %w", orderID, err)
	case len(rows) == 0:
		return payment.Order{}, false, fmt.Errorf("order %s: %w", orderID, payment.ErrOrderNotFound)
	}
	return rows[0].Order.toDomain(), rows[0].HasPayment, nil
}

// Payments lists payments newest first, from the read database unless
// f.Primary.
func (s *Store) Payments(ctx context.Context, f payment.ListFilter) (payment.Page, error) {
	db := s.read
	if f.Primary {
		db = s.db
	}
	q := db.WithContext(ctx).Model(&paymentRow{})
	if f.UserID != "" {
		q = q.Where("user_id = ?", f.UserID)
	}
	if f.OrderID != "" {
		q = q.Where("order_id = ?", f.OrderID)
	}
	if f.Status != "" {
		q = q.Where("status = ?", string(f.Status))
	}
	if f.After != nil {
		q = q.Where("(created_at, id) < (?, ?)", f.After.CreatedAt, f.After.ID)
	}
	var rows []paymentRow
	if err := q.Order("created_at DESC, id DESC").Limit(f.Limit + 1).Find(&rows).Error; err != nil {
		return payment.Page{}, fmt.Errorf("list payments: %w", translate(err))
	}
	var page payment.Page
	if len(rows) > f.Limit {
		rows = rows[:f.Limit]
		last := rows[len(rows)-1]
		page.Next = &payment.Cursor{CreatedAt: last.CreatedAt, ID: last.ID}
	}
	refunds, err := loadRefunds(db.WithContext(ctx), rows...)
	if err != nil {
		return payment.Page{}, err
	}
	page.Items = make([]payment.Payment, len(rows))
	for i, r := range rows {
		page.Items[i] = r.toDomain(refunds[r.ID])
	}
	return page, nil
}

// Tx implements payment.Tx over one gorm transaction.
type Tx struct {
	db   *gorm.DB
	lock []string // orders to lock before the first batch write
}

// Order reads the order's projection.
func (t *Tx) Order(ctx context.Context, orderID string, lock bool) (payment.Order, error) {
	sql := "SELECT * FROM order_projection WHERE order_id = ?"
	if lock {
		sql += " FOR UPDATE"
	}
	var rows []orderRow
	if err := t.db.WithContext(ctx).Raw(sql, orderID).Scan(&rows).Error; err != nil {
		if isInvalidText(err) {
			return payment.Order{}, fmt.Errorf("order %q: %w", orderID, payment.ErrOrderNotFound)
		}
		return payment.Order{}, fmt.Errorf("read order %s: %w", orderID, err)
	}
	if len(rows) == 0 {
		return payment.Order{}, fmt.Errorf("order %s: %w", orderID, payment.ErrOrderNotFound)
	}
	return rows[0].toDomain(), nil
}

// Each projection upsert keeps the first value seen of each field (an
// event redelivered, or repeated by its producer, changes nothing) and
// returns the row, which INSERT ... ON CONFLICT DO UPDATE leaves locked.

// The owner, total and currency are all set or all NULL
// (order_projection_known), in the row and in the event, so keeping the
// first of each keeps them together.
const saveReservationSQL = `INSERT INTO order_projection (order_id, reservation_id, reservation_expires_at, user_id, total_minor, currency)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (order_id) DO UPDATE SET
			reservation_id = COALESCE(order_projection.reservation_id, EXCLUDED.reservation_id),
			reservation_expires_at = COALESCE(order_projection.reservation_expires_at, EXCLUDED.reservation_expires_at),
			user_id = COALESCE(order_projection.user_id, EXCLUDED.user_id),
			total_minor = COALESCE(order_projection.total_minor, EXCLUDED.total_minor),
			currency = COALESCE(order_projection.currency, EXCLUDED.currency),
			updated_at = now()
		RETURNING *`

func saveReservationArgs(in payment.Reserved) []any {
	var exp *time.Time
	if !in.ExpiresAt.IsZero() {
		exp = &in.ExpiresAt
	}
	if in.UserID == "" {
		return []any{in.OrderID, in.ReservationID, exp, nil, nil, nil}
	}
	return []any{in.OrderID, in.ReservationID, exp, in.UserID, in.Total.AmountMinor, in.Total.Currency}
}

// MarkExpired records RESERVATION_EXPIRED.
func (t *Tx) MarkExpired(ctx context.Context, orderID string) (payment.Order, error) {
	return t.upsertOrder(ctx, `INSERT INTO order_projection (order_id, expired_at) VALUES (?, now())
		ON CONFLICT (order_id) DO UPDATE SET
			expired_at = COALESCE(order_projection.expired_at, EXCLUDED.expired_at),
			updated_at = now()
		RETURNING *`, orderID)
}

// MarkCancelled records ORDER_CANCELLED.
func (t *Tx) MarkCancelled(ctx context.Context, orderID, reason string) (payment.Order, error) {
	return t.upsertOrder(ctx, `INSERT INTO order_projection (order_id, cancelled_at, cancel_reason) VALUES (?, now(), ?)
		ON CONFLICT (order_id) DO UPDATE SET
			cancel_reason = CASE WHEN order_projection.cancelled_at IS NULL THEN EXCLUDED.cancel_reason ELSE order_projection.cancel_reason END,
			cancelled_at = COALESCE(order_projection.cancelled_at, EXCLUDED.cancelled_at),
			updated_at = now()
		RETURNING *`, orderID, reason)
}

func (t *Tx) upsertOrder(ctx context.Context, sql string, args ...any) (payment.Order, error) {
	var rows []orderRow
	if err := t.db.WithContext(ctx).Raw(sql, args...).Scan(&rows).Error; err != nil {
		return payment.Order{}, fmt.Errorf("save order %v: %w", args[0], translate(err))
	}
	if len(rows) != 1 {
		return payment.Order{}, fmt.Errorf("save order %v: %d rows returned", args[0], len(rows))
	}
	return rows[0].toDomain(), nil
}

// LockPayment reads and locks a payment, waiting for another transaction's
// lock.
func (t *Tx) LockPayment(ctx context.Context, id string) (payment.Payment, error) {
	return t.payment(ctx, "id = ?", id, "FOR UPDATE")
}

// chargeRow is a payment with its order's reservation expiry.
type chargeRow struct {
	paymentRow
	ReservationExpiresAt *time.Time
}

// lockToCharge locks a payment without waiting, as the first statement of
// a charge's transaction: one that another transaction holds is
// ErrPaymentBusy at once (SKIP LOCKED finds no row, so there is no SQL
// error to log or to abort the transaction, and a plain read tells
// "locked" from "absent"). It also reads when the order's reservation
// expires (from the projection, not locked).
const lockToCharge = `SELECT p.*, o.reservation_expires_at FROM payments p
	LEFT JOIN order_projection o ON o.order_id = p.order_id
	WHERE p.id = $1 FOR UPDATE OF p SKIP LOCKED`

// InChargeTx runs fn in a transaction whose BEGIN travels with the
// payment's lock (database.TxStartingWith).
func (s *Store) InChargeTx(ctx context.Context, id string, fn func(payment.Tx, payment.Payment, time.Time) error) error {
	if _, err := uuid.Parse(id); err != nil {
		return fmt.Errorf("payment %q: %w", id, payment.ErrPaymentNotFound)
	}
	var locked []chargeRow
	first := database.First{SQL: lockToCharge, Args: []any{id}, Scan: func(rows pgx.Rows) (err error) {
		locked, err = pgx.CollectRows(rows, pgx.RowToStructByName[chargeRow])
		return err
	}}
	return database.TxStartingWith(ctx, s.db.WithContext(ctx), first, func(db *gorm.DB) error {
		tx := &Tx{db: db}
		if len(locked) == 0 {
			// Absent, or another transaction holds it.
			if _, err := tx.payment(ctx, "id = ?", id, ""); err != nil {
				return err
			}
			return fmt.Errorf("payment %s: %w", id, payment.ErrPaymentBusy)
		}
		r := locked[0]
		refunds, err := loadRefunds(db.WithContext(ctx), r.paymentRow)
		if err != nil {
			return err
		}
		var expires time.Time
		if r.ReservationExpiresAt != nil {
			expires = *r.ReservationExpiresAt
		}
		return fn(tx, r.toDomain(refunds[r.ID]), expires)
	})
}

// LockPaymentByOrder reads and locks an order's payment.
func (t *Tx) LockPaymentByOrder(ctx context.Context, orderID string) (payment.Payment, error) {
	return t.payment(ctx, "order_id = ?", orderID, "FOR UPDATE")
}

func (t *Tx) payment(ctx context.Context, where string, arg string, lock string) (payment.Payment, error) {
	db := t.db.WithContext(ctx)
	var rows []paymentRow
	err := db.Raw("SELECT * FROM payments WHERE "+where+" "+lock, arg).Scan(&rows).Error
	switch {
	case isInvalidText(err):
		return payment.Payment{}, fmt.Errorf("payment %q: %w", arg, payment.ErrPaymentNotFound)
	case err != nil:
		return payment.Payment{}, fmt.Errorf("read payment %s: %w", arg, err)
	case len(rows) == 0:
		return payment.Payment{}, fmt.Errorf("payment %s: %w", arg, payment.ErrPaymentNotFound)
	}
	refunds, err := loadRefunds(db, rows[0])
	if err != nil {
		return payment.Payment{}, err
	}
	return rows[0].toDomain(refunds[rows[0].ID]), nil
}

// PaymentByOrder reads an order's payment.
func (t *Tx) PaymentByOrder(ctx context.Context, orderID string) (payment.Payment, error) {
	return t.payment(ctx, "order_id = ?", orderID, "")
}

func createPaymentStatement(ctx context.Context, p payment.Payment, events []payment.Event) (string, []any, error) {
	r := toRow(p)
	return withEvents(ctx, p.OrderID, events, `INSERT INTO payments (id, order_id, user_id, reservation_id, amount_minor, currency,
			status, version, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (order_id) DO NOTHING
		RETURNING id`, "id",
		[]any{r.ID, r.OrderID, r.UserID, r.ReservationID, r.AmountMinor, r.Currency, r.Status, r.Version, r.CreatedAt, r.UpdatedAt}, nil)
}

// UpdatePayment writes p when the row is still at p.Version in status
// from, and adds events to the outbox, in one statement: the events are
// written only if the update was.
func (t *Tx) UpdatePayment(ctx context.Context, p *payment.Payment, from payment.Status, events ...payment.Event) error {
	return t.updatePayment(ctx, p, from, false, nil, events)
}

// UpdatePaymentWith is UpdatePayment with p.UpdatedAt written as given, and
// receipt (nil: none) in the same statement.
func (t *Tx) UpdatePaymentWith(ctx context.Context, p *payment.Payment, from payment.Status, receipt payment.Receipt, events ...payment.Event) error {
	return t.updatePayment(ctx, p, from, true, receipt, events)
}

func (t *Tx) updatePayment(ctx context.Context, p *payment.Payment, from payment.Status, givenTime bool, receipt payment.Receipt, events []payment.Event) error {
	r := toRow(*p)
	args := []any{r.Status, r.RefundedMinor, r.FailureReason, r.VoidReason, r.CardLast4, r.Attempts, r.ChargeID, r.CapturedAt}
	updatedAt := "now()"
	if givenTime {
		updatedAt = "?"
		args = append(args, p.UpdatedAt)
	}
	args = append(args, r.ID, string(from), r.Version)
	var updated []struct {
		Version   int
		UpdatedAt time.Time
	}
	sql, args, err := withEvents(ctx, p.OrderID, events, `UPDATE payments SET status = ?, refunded_minor = ?, failure_reason = ?, void_reason = ?,
			card_last4 = ?, attempts = ?, charge_id = ?, captured_at = ?, version = version + 1, updated_at = `+updatedAt+`
		WHERE id = ? AND status = ? AND version = ?
		RETURNING version, updated_at`, "version, updated_at", args, receipt)
	if err == nil {
		err = t.db.WithContext(ctx).Raw(sql, args...).Scan(&updated).Error
	}
	if err != nil {
		return fmt.Errorf("update payment %s to %s: %w", p.ID, p.Status, translate(err))
	}
	if len(updated) == 0 {
		return fmt.Errorf("update payment %s from %s (version %d): %w", p.ID, from, p.Version, payment.ErrStateChanged)
	}
	p.Version, p.UpdatedAt = updated[0].Version, updated[0].UpdatedAt
	return nil
}

// withEvents is the one statement that runs write, an INSERT or UPDATE ...
// RETURNING (one row or none) with args, the receipt (nil: none), and the
// order's events to the outbox once per row write wrote; it selects
// selected from write's RETURNING.
func withEvents(ctx context.Context, orderID string, evs []payment.Event, write, selected string, args []any, receipt payment.Receipt) (string, []any, error) {
	envs, err := newEvents(ctx, orderID, evs)
	if err != nil {
		return "", nil, err
	}
	var sql strings.Builder
	sql.WriteString("WITH src AS (" + write + ")")
	if receipt != nil {
		r, ok := receipt.(idempotency.Record)
		if !ok {
			return "", nil, fmt.Errorf("a receipt of type %T, not an idempotency record", receipt)
		}
		rs, ra := r.Statement()
		sql.WriteString(", receipt AS (" + rs + ")")
		args = append(args, ra...)
	}
	for i, e := range envs {
		fmt.Fprintf(&sql, ", event%d AS (%s)", i, outbox.InsertFrom("src"))
		args = append(args, outbox.Values(e)...)
	}
	sql.WriteString(" SELECT " + selected + " FROM src")
	return sql.String(), args, nil
}

// AddRefund inserts a refund row.
func (t *Tx) AddRefund(ctx context.Context, r payment.Refund) error {
	row := toRefundRow(r)
	if err := t.db.WithContext(ctx).Create(&row).Error; err != nil {
		return fmt.Errorf("add refund %s: %w", r.ID, translate(err))
	}
	return nil
}

// loadRefunds reads the refunds of the payments that have any: a refund
// and the payment's refunded_minor are written together, and the schema
// ties refunded_minor > 0 to the refunded statuses, so the others (every
// payment on the saga's way to PAID) cost no query.
func loadRefunds(db *gorm.DB, payments ...paymentRow) (map[string][]payment.Refund, error) {
	out := map[string][]payment.Refund{}
	var paymentIDs database.UUIDArray
	for _, p := range payments {
		if p.RefundedMinor > 0 {
			id, err := uuid.Parse(p.ID)
			if err != nil {
				return nil, fmt.Errorf("load refunds: payment ID %q: %w", p.ID, err)
			}
			paymentIDs = append(paymentIDs, id)
		}
	}
	if len(paymentIDs) == 0 {
		return out, nil
	}
	var rows []refundRow
	err := db.Where("payment_id = ANY(?::uuid[])", paymentIDs).
		Order("created_at, id").Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("load refunds: %w", err)
	}
	for _, r := range rows {
		out[r.PaymentID] = append(out[r.PaymentID], r.toDomain())
	}
	return out, nil
}

// translate turns constraint violations into domain errors.
func translate(err error) error {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return err
	}
	switch pgErr.ConstraintName {
	case "payments_refund_le_amount":
		return fmt.Errorf("%w (%s)", payment.ErrRefundExceedsPaid, pgErr.Message)
	case "payments_transition", "payments_captured_once", "payments_capture_recorded", "payments_refund_matches_status",
		"payments_immutable", "payments_refunds_final":
		return fmt.Errorf("%w (%s)", payment.ErrStateChanged, pgErr.Message)
	}
	return err
}

// isInvalidText reports a value that is not of the column's type (a
// malformed UUID): nothing can match it.
func isInvalidText(err error) bool { return database.IsCode(err, "22P02") }
