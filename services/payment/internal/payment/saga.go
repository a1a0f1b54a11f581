package payment

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// The payment side of the order saga. Each handler runs in the consumer's
// transaction (tx), which also claims the event in the inbox: a redelivered
// event is skipped before it gets here, and every handler is also written
// to be idempotent on its own (a second identical event changes nothing).
//
// INVENTORY_RESERVED carries what the payment needs (the order's owner and
// total, which inventory passes on from ORDER_CREATED), so payment does not
// consume ORDER_CREATED: one event, one transaction per order. What payment
// knows of each order is its projection, which ORDER_CANCELLED (another
// topic, so in any interleaving) and RESERVATION_EXPIRED also write: a
// payment is created only for a known, reserved order that is still open.
// Locks are taken in one order everywhere (projection row, then payment
// row) so handlers and HTTP calls cannot deadlock.

// Reserved is what payment needs of INVENTORY_RESERVED: the reservation
// and, when inventory passed them on from the order's ORDER_CREATED, the
// order's owner and total (UserID empty when not).
type Reserved struct {
	OrderID       string
	ReservationID string
	ExpiresAt     time.Time // zero: no expiry known
	UserID        string
	Total         Money
}

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

// HandleInventoryReserved records the reservation, and the order's owner
// and total when the event carries them, and creates the payment once the
// order is known; created says whether it did.
func (s *Service) HandleInventoryReserved(ctx context.Context, tx Tx, in Reserved) (created bool, err error) {
	if in.UserID != "" && in.Total.AmountMinor <= 0 {
		return false, fmt.Errorf("order %s: total %d: %w", in.OrderID, in.Total.AmountMinor, ErrInvalidEvent)
	}
	o, err := tx.SaveReservation(ctx, in)
	if err != nil {
		return false, err
	}
	return s.createIfReady(ctx, tx, o)
}

func (s *Service) createIfReady(ctx context.Context, tx Tx, o Order) (bool, error) {
	plan, ok := s.PlanPayment(o)
	if !ok {
		return false, nil
	}
	created, err := tx.CreatePayment(ctx, plan.Payment, plan.Initiated)
	if err != nil {
		return false, err
	}
	return s.PaymentPlanned(created), nil
}

// PlanPayment is the pending payment that an ORDER_CREATED or
// INVENTORY_RESERVED recorded in o creates, when o is ready to pay (ok):
// for a caller that writes the payments of many events at once (the
// consumer's batches, see paymentevents). It reports each outcome with
// PaymentPlanned.
func (s *Service) PlanPayment(o Order) (plan PendingPayment, ok bool) {
	if !o.ReadyToPay() {
		return PendingPayment{}, false
	}
	return s.pending(o), true
}

// PaymentPlanned takes note of what writing a planned payment did
// (created false: the order had a payment already) and returns created.
func (s *Service) PaymentPlanned(created bool) bool {
	if created {
		s.obs.Outcome("initiated", "")
	}
	return created
}

// HandleReservationExpired voids the order's pending payment. A payment
// that was captured in the meantime is left alone here: the order service
// cancels the order on expiry, and ORDER_CANCELLED refunds it.
func (s *Service) HandleReservationExpired(ctx context.Context, tx Tx, orderID string) error {
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
	case p.Status.Captured():
		s.log.WarnContext(ctx, "reservation expired after the payment was captured; refunding when the order is cancelled",
			"order_id", orderID, "payment_id", p.ID, "status", string(p.Status))
	}
	return nil
}

// HandleOrderCancelled voids a pending payment, and refunds all that
// remains of a captured one, whatever the event's paid flag says: no money
// is kept for a cancelled order.
func (s *Service) HandleOrderCancelled(ctx context.Context, tx Tx, in OrderCancelled) error {
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
	case p.Remaining() > 0:
		_, r, err := s.refund(ctx, tx, p, p.Remaining(), ReasonOrderCancelled, "")
		if err == nil {
			s.obs.Outcome("refunded", r.Reason)
		}
		return err
	}
	return nil // failed, voided or refunded already: nothing is held
}

func (s *Service) void(ctx context.Context, tx Tx, cur Payment, reason string) error {
	p, err := cur.Void(reason)
	if err != nil {
		return err
	}
	if err := tx.UpdatePayment(ctx, &p, StatusPending, voidedEvent(p)); err != nil {
		return err
	}
	s.obs.Outcome("voided", reason)
	return nil
}

// ErrInvalidEvent marks an event whose content breaks the contract; it can
// never be applied (the consumer dead-letters it).
var ErrInvalidEvent = errors.New("invalid event")

// ErrEventMismatch marks an event whose numbers disagree with payment's own
// records (an ORDER_CANCELLED naming another owner or total than the
// order's payment): applying it would trust the event over the records, so
// the consumer dead-letters it with the reason.
var ErrEventMismatch = errors.New("event disagrees with the payment's records")

// checkCancelled refuses an ORDER_CANCELLED that is not about this order's
// payment: the owner and total it states must be those of the order as
// payment knows it (o, from INVENTORY_RESERVED) and of its payment p (when
// hasPayment). A refund moves money, so an event that would refund a
// captured payment must state the total it expects to be given back.
func checkCancelled(in OrderCancelled, o Order, p Payment, hasPayment bool) error {
	mismatch := func(what string, args ...any) error {
		return fmt.Errorf("%w: ORDER_CANCELLED of order %s: %s", ErrEventMismatch, in.OrderID, fmt.Sprintf(what, args...))
	}
	if hasPayment && p.Remaining() > 0 && in.Total == nil {
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
