package payment

import (
	"context"
	"time"
)

// Store is the service's storage. Reads outside a transaction are plain
// reads; every change goes through InTx.
type Store interface {
	// InTx runs fn in one database transaction: the change, its outbox
	// events and (for event handlers) the inbox claim commit together.
	InTx(ctx context.Context, fn func(tx Tx) error) error
	// InChargeTx is InTx for a charge: the transaction starts by locking
	// payment id without waiting (ErrPaymentBusy at once when another
	// transaction holds it, ErrPaymentNotFound), and fn gets the payment
	// and when the order's reservation expires (zero when unknown, read
	// unlocked). BEGIN and the lock take one round trip.
	InChargeTx(ctx context.Context, id string, fn func(tx Tx, cur Payment, expires time.Time) error) error
	// Payment returns a payment with its refunds, or ErrPaymentNotFound.
	Payment(ctx context.Context, id string) (Payment, error)
	// Payments lists payments newest first, by keyset.
	Payments(ctx context.Context, f ListFilter) (Page, error)
	// OrderState returns the order's projection and whether the order has
	// a payment, or ErrOrderNotFound.
	OrderState(ctx context.Context, orderID string) (o Order, hasPayment bool, err error)
}

// Tx is the storage inside one transaction.
type Tx interface {
	// Order returns the order's projection, or ErrOrderNotFound; with lock,
	// the row stays locked until the end of the transaction.
	Order(ctx context.Context, orderID string, lock bool) (Order, error)
	// SaveReservations records each INVENTORY_RESERVED (the reservation,
	// and the owner and total when known) in the projection, creating the
	// row when it is the first event seen, and then, with the row locked,
	// writes the payment that pay announces for the order's row (nil:
	// none), with that event, unless the order has a payment already.
	// created[i] says whether ins[i] got its payment. Several reservations
	// (of distinct orders) are written at once: one round trip for the
	// records and one for the payments (the consumer's batches).
	SaveReservations(ctx context.Context, ins []Reserved, pay func(Order) *PaymentInitiated) (created []bool, err error)
	// MarkExpired records RESERVATION_EXPIRED in the projection, creating
	// the row when it is the first event seen, and returns the row, locked.
	MarkExpired(ctx context.Context, orderID string) (Order, error)
	// MarkCancelled records ORDER_CANCELLED, likewise.
	MarkCancelled(ctx context.Context, orderID, reason string) (Order, error)

	// LockPayment returns the payment, locked until the end of the
	// transaction (waiting for another transaction's lock).
	LockPayment(ctx context.Context, id string) (Payment, error)
	// LockPaymentByOrder returns the order's payment, locked, or
	// ErrPaymentNotFound.
	LockPaymentByOrder(ctx context.Context, orderID string) (Payment, error)
	// PaymentByOrder is LockPaymentByOrder without the lock.
	PaymentByOrder(ctx context.Context, orderID string) (Payment, error)
	// UpdatePayment writes p's mutable fields when the row is still at
	// p.Version and in status from (a conditional UPDATE); else
	// ErrStateChanged. It bumps p.Version. The events (keyed by the
	// order) go to the outbox with the change, and only with it.
	UpdatePayment(ctx context.Context, p *Payment, from Status, events ...Event) error
	// UpdatePaymentWith is UpdatePayment that writes p.UpdatedAt as given
	// (the caller's clock, so that an answer rendered before the write
	// shows what was written) and receipt (nil: none) in the same
	// statement.
	UpdatePaymentWith(ctx context.Context, p *Payment, from Status, receipt Receipt, events ...Event) error
	// AddRefund inserts a refund.
	AddRefund(ctx context.Context, r Refund) error
}

// Receipt is written with a payment's change, in the same statement: the
// completion of the idempotency record of the request that made it, which
// the API makes and the store writes (paymentdb takes an
// idempotency.Record). The rules only pass it on.
type Receipt any

// ListFilter selects payments. UserID restricts to one owner (set for
// everyone but staff).
type ListFilter struct {
	UserID  string
	OrderID string
	Status  Status
	Limit   int
	// After is the keyset position decoded from a cursor.
	After *Cursor
	// Primary reads from the primary database, not the read replica: a
	// long poll woken by a commit must see that commit.
	Primary bool
}

// Cursor is a keyset position: the last item of the previous page.
type Cursor struct {
	CreatedAt time.Time
	ID        string
}

// Page is one page of a list; Next is nil at the end.
type Page struct {
	Items []Payment
	Next  *Cursor
}
