package payment

import (
	"context"
	"errors"
)

// OnReservationExpired voids the order's pending payment. A payment
// that was captured in the meantime is left alone here: the order service
// cancels the order on expiry, and ORDER_CANCELLED refunds it.
func (s *Service) OnReservationExpired(ctx context.Context, tx Tx, orderID string) error {
	if _, err := tx.MarkExpired(ctx, orderID); err != nil {
		return err
	}
	p, err := tx.LockPaymentByOrder(ctx, orderID)
	switch {
	case errors.Is(err, ErrPaymentNotFound):
		return nil // none yet; none will be created now
	case err != nil:
		return err
	case p.Status == StatusPending:
		return s.void(ctx, tx, p, ReasonReservationExpired)
	case p.Status.captured():
		s.log.WarnContext(ctx, "reservation expired after the payment was captured; refunding when the order is cancelled",
			"order_id", orderID, "payment_id", p.ID, "status", string(p.Status))
	}
	return nil
}

func (s *Service) void(ctx context.Context, tx Tx, cur Payment, reason string) error {
	p, err := cur.void(reason)
	if err != nil {
		return err
	}
	if err := tx.UpdatePayment(ctx, &p, StatusPending, PaymentVoided{p}); err != nil {
		return err
	}
	s.obs.Outcome("voided", reason)
	return nil
}
