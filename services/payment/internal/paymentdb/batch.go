package paymentdb

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/shop-oss/shop/pkg/database"
	"github.com/shop-oss/shop/services/payment/internal/payment"
)

// orderLockClass is the first key of the advisory locks a batch takes.
const orderLockClass = 0x9a7e

// SaveReservations records the reservations in the projection and then
// creates the payments pay announces for the rows (payment.Tx). One
// reservation is two plain statements. Several, or any of a batch (Bind
// with the batch's orders), are two pipelines, one round trip each: the
// transaction must be one that pipelines (database.TxStartingWith, as the
// consumer's), else nothing is written and the error says so.
//
// A batch first takes an advisory lock per order of the whole batch, in
// one global order, in the first pipeline: two batches sharing orders (an
// order's events arrive on two topics, so on two workers) then wait for
// each other there, holding nothing, instead of each locking its
// pipeline's orders and then its handlers' ones in two runs and
// deadlocking. Advisory, because a projection row may not exist yet.
func (t *Tx) SaveReservations(ctx context.Context, ins []payment.Reserved, pay func(payment.Order) *payment.PaymentInitiated) ([]bool, error) {
	pipelined := len(ins) > 1 || len(t.lock) > 0
	orders, err := t.saveAll(ctx, ins, pipelined)
	if err != nil {
		return nil, err
	}
	var plans []payment.PaymentInitiated
	var planned []int // index in ins of plans[k]
	for i, o := range orders {
		if e := pay(o); e != nil {
			plans = append(plans, *e)
			planned = append(planned, i)
		}
	}
	created := make([]bool, len(ins))
	done, err := t.createAll(ctx, plans, pipelined)
	for k, i := range planned[:len(done)] {
		created[i] = done[k]
	}
	return created, err
}

// saveAll upserts the reservations, in order, each seeing the ones before
// it, and returns each order's row, locked.
func (t *Tx) saveAll(ctx context.Context, ins []payment.Reserved, pipelined bool) ([]payment.Order, error) {
	orders := make([]payment.Order, len(ins))
	if !pipelined {
		for i, in := range ins {
			var err error
			if orders[i], err = t.upsertOrder(ctx, saveReservationSQL, saveReservationArgs(in)...); err != nil {
				return nil, err
			}
		}
		return orders, nil
	}
	p := database.NewPipeline(t.db)
	if len(t.lock) > 0 {
		p.Queue(database.LockKeysSQL, orderLockClass, database.ParseUUIDs(t.lock))
		t.lock = nil // held until the transaction ends
	}
	for i, in := range ins {
		p.Queue(saveReservationSQL, saveReservationArgs(in)...).Query(func(rows pgx.Rows) error {
			row, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[orderRow])
			orders[i] = row.toDomain()
			return err
		})
	}
	return orders, send(ctx, p, "save orders")
}

// createAll inserts each announced payment with its PAYMENT_INITIATED,
// unless its order has a payment already; created[i] says whether plans[i]
// was written.
func (t *Tx) createAll(ctx context.Context, plans []payment.PaymentInitiated, pipelined bool) ([]bool, error) {
	created := make([]bool, len(plans))
	p := database.NewPipeline(t.db)
	for i, plan := range plans {
		sql, args, err := createPaymentStatement(ctx, plan.Payment, []payment.Event{plan})
		if err != nil {
			return nil, fmt.Errorf("create payment for order %s: %w", plan.Payment.OrderID, err)
		}
		if !pipelined {
			if created[i], err = t.createPayment(ctx, plan.Payment.OrderID, sql, args); err != nil {
				return nil, err
			}
			continue
		}
		p.Queue(sql, args...).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				created[i] = true
			}
			return rows.Err()
		})
	}
	return created, send(ctx, p, "create payments")
}

// createPayment runs the insert of an order's payment (createPaymentStatement)
// and reports whether it wrote the payment.
func (t *Tx) createPayment(ctx context.Context, orderID, sql string, args []any) (bool, error) {
	var rows []struct{ ID string }
	if err := t.db.WithContext(ctx).Raw(sql, args...).Scan(&rows).Error; err != nil {
		return false, fmt.Errorf("create payment for order %s: %w", orderID, translate(err))
	}
	return len(rows) == 1, nil
}

// send sends p's statements (none: nothing to do); what names them in an
// error.
func send(ctx context.Context, p *database.Pipeline, what string) error {
	ok, err := p.Send(ctx)
	switch {
	case err != nil:
		return fmt.Errorf("%s (%d statements): %w", what, p.Len(), translate(err))
	case !ok:
		return fmt.Errorf("%s: %w", what, errNoPipeline)
	}
	return nil
}

// errNoPipeline: several reservations at once need a transaction that
// pipelines.
var errNoPipeline = errors.New("paymentdb: the transaction cannot pipeline (not a database.TxStartingWith one)")
