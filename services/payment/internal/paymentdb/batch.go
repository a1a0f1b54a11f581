package paymentdb

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/proto"
	"gorm.io/gorm"

	"github.com/shop-oss/shop/pkg/database"
	"github.com/shop-oss/shop/services/payment/internal/payment"
)

// orderLockClass is the first key of the advisory locks SaveAll takes.
const orderLockClass = 0x9a7e

// SaveAll records the reservations in the order projection in tx, in
// order, as SaveReservation does, but as one pipeline: one round trip for
// all of them instead of one each. It returns each order's row, locked, as
// SaveReservation does. ok is false, and nothing ran, when tx cannot
// pipeline (it is not a database.TxStartingWith transaction).
//
// The pipeline first takes an advisory lock per order in lock, in one
// global order: the caller names every order its batch may lock, so that
// two batches sharing orders (an order's events arrive on two topics, so on
// two workers) wait for each other there, holding nothing, instead of each
// locking its pipeline's orders and then its handlers' ones in two runs
// and deadlocking. Advisory, because a projection row may not exist yet.
func SaveAll(ctx context.Context, tx *gorm.DB, lock []string, reservations []payment.Reserved) (orders []payment.Order, ok bool, err error) {
	p := database.NewPipeline(tx)
	if len(lock) > 0 {
		p.Queue(database.LockKeysSQL, orderLockClass, database.ParseUUIDs(lock))
	}
	orders = make([]payment.Order, len(reservations))
	for i, r := range reservations {
		p.Queue(saveReservationSQL, saveReservationArgs(r)...).Query(func(rows pgx.Rows) error {
			row, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[orderRow])
			orders[i] = row.toDomain()
			return err
		})
	}
	if ok, err = sendAll(ctx, p, "save orders"); !ok || err != nil {
		return nil, ok, err
	}
	return orders, true, nil
}

// CreateAll writes the planned payments in tx, in order, as CreatePayment
// does (each with its PAYMENT_INITIATED), but as one pipeline. created[i]
// reports whether plans[i] was written: false when its order had a payment
// already. ok is false, and nothing ran, when tx cannot pipeline.
func CreateAll(ctx context.Context, tx *gorm.DB, plans []payment.PendingPayment) (created []bool, ok bool, err error) {
	p := database.NewPipeline(tx)
	created = make([]bool, len(plans))
	for i, plan := range plans {
		sql, args, err := createPaymentStatement(ctx, plan.Payment, []proto.Message{plan.Initiated})
		if err != nil {
			return nil, false, fmt.Errorf("create payment for order %s: %w", plan.Payment.OrderID, err)
		}
		p.Queue(sql, args...).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				created[i] = true
			}
			return rows.Err()
		})
	}
	if ok, err = sendAll(ctx, p, "create payments"); !ok || err != nil {
		return nil, ok, err
	}
	return created, true, nil
}

// sendAll sends p's statements; what names them in an error.
func sendAll(ctx context.Context, p *database.Pipeline, what string) (bool, error) {
	ok, err := p.Send(ctx)
	if err != nil {
		return true, fmt.Errorf("%s (%d statements): %w", what, p.Len(), translate(err))
	}
	return ok, nil
}
