package paymentdb

import (
	"context"

	"github.com/shop-oss/shop/services/payment/internal/payment"
)

// CreatePayment writes p with events as SaveReservations writes a payment
// (one insert that the order's existing payment refuses), for the store's
// tests.
func CreatePayment(ctx context.Context, tx payment.Tx, p payment.Payment, events ...payment.Event) (bool, error) {
	sql, args, err := createPaymentStatement(ctx, p, events)
	if err != nil {
		return false, err
	}
	return tx.(*Tx).createPayment(ctx, p.OrderID, sql, args)
}
