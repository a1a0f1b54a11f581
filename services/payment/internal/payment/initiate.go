package payment

import (
	"context"
	"errors"
	"fmt"
)

// Initiate returns the order's payment (idempotent: any number of calls
// return the same payment, whatever its status). The saga creates the
// payment in the same transaction that completes what payment needs to know
// (ORDER_CREATED and INVENTORY_RESERVED seen), so an order that has none is
// either not reserved yet (ErrOrderNotReady: retry shortly) or closed
// before it was (ErrOrderClosed).
func (s *Service) Initiate(ctx context.Context, who Actor, orderID string) (Payment, error) {
	var p Payment
	err := s.store.InTx(ctx, func(tx Tx) error {
		o, err := tx.Order(ctx, orderID, false)
		if err != nil {
			return err
		}
		if !who.canAccess(o.UserID) {
			return fmt.Errorf("order %s: %w", orderID, ErrOrderNotFound)
		}
		p, err = tx.PaymentByOrder(ctx, orderID)
		switch {
		case !errors.Is(err, ErrPaymentNotFound):
			return err // found (nil), or failed
		case o.closed():
			return fmt.Errorf("order %s: %w", orderID, ErrOrderClosed)
		}
		return fmt.Errorf("order %s: %w", orderID, ErrOrderNotReady)
	})
	return p, err
}
