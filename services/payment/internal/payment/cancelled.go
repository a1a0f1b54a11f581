package payment

import (
	"context"
	"errors"
	"fmt"
)

// OrderCancelled is what payment needs of ORDER_CANCELLED.
type OrderCancelled struct {
	OrderID string
	Reason  string
	// Paid is the order service's view; payment refunds whenever its own
	// payment was captured, whatever Paid says (a late success).
	Paid bool
	// UserID and Total are the order's owner and total as the event states
	// them (empty and nil when it does not): they must be those payment
	// knows of the order (see checkCancelled).
	UserID string
	Total  *Money
}

// OnOrderCancelled voids a pending payment, and refunds all that
// remains of a captured one, whatever the event's paid flag says: no money
// is kept for a cancelled order.
func (s *Service) OnOrderCancelled(ctx context.Context, tx Tx, in OrderCancelled) error {
	o, err := tx.MarkCancelled(ctx, in.OrderID, in.Reason)
	if err != nil {
		return err
	}
	p, err := tx.LockPaymentByOrder(ctx, in.OrderID)
	if err == nil || errors.Is(err, ErrPaymentNotFound) {
		// Checked before anything moves; the error rolls the mark back.
		if err := checkCancelled(in, o, p, err == nil); err != nil {
			return err
		}
	}
	switch {
	case errors.Is(err, ErrPaymentNotFound):
		if in.Paid {
			s.log.WarnContext(ctx, "ORDER_CANCELLED says paid but payment has no payment for the order", "order_id", in.OrderID)
		}
		return nil
	case err != nil:
		return err
	case p.Status == StatusPending:
		return s.void(ctx, tx, p, ReasonOrderCancelled)
	case p.remaining() > 0:
		_, r, err := s.refund(ctx, tx, p, p.remaining(), ReasonOrderCancelled, "")
		if err == nil {
			s.obs.Outcome("refunded", r.Reason)
		}
		return err
	}
	return nil // failed, voided or refunded already: nothing is held
}

// checkCancelled refuses an ORDER_CANCELLED that is not about this order's
// payment: the owner and total it states must be those of the order as
// payment knows it (o, from INVENTORY_RESERVED) and of its payment p (when
// hasPayment). A refund moves money, so an event that would refund a
// captured payment must state the total it expects to be given back.
func checkCancelled(in OrderCancelled, o Order, p Payment, hasPayment bool) error {
	mismatch := func(what string, args ...any) error {
		return fmt.Errorf("%w: ORDER_CANCELLED of order %s: %s", ErrEventMismatch, in.OrderID, fmt.Sprintf(what, args...))
	}
	if hasPayment && p.remaining() > 0 && in.Total == nil {
		return mismatch("states no total, and would refund payment %s of %d %s", p.ID, p.Amount.AmountMinor, p.Amount.Currency)
	}
	if in.UserID != "" {
		if o.Known() && in.UserID != o.UserID {
			return mismatch("owner %s, but the order's is %s", in.UserID, o.UserID)
		}
		if hasPayment && in.UserID != p.UserID {
			return mismatch("owner %s, but payment %s is %s's", in.UserID, p.ID, p.UserID)
		}
	}
	if in.Total != nil {
		if o.Known() && *in.Total != o.Total {
			return mismatch("total %d %s, but the order's is %d %s", in.Total.AmountMinor, in.Total.Currency, o.Total.AmountMinor, o.Total.Currency)
		}
		if hasPayment && *in.Total != p.Amount {
			return mismatch("total %d %s, but payment %s is of %d %s", in.Total.AmountMinor, in.Total.Currency, p.ID, p.Amount.AmountMinor, p.Amount.Currency)
		}
	}
	return nil
}
