package inventory

import (
	"context"

	"github.com/google/uuid"
)

// Release returns an order's stock: an ACTIVE reservation is released; a
// CONFIRMED one (a paid order cancelled) is restocked, except after a failed
// payment, which cannot undo a sale. Staff are told when the order has no
// reservation; events record a placeholder so that a late reservation holds
// nothing.
func (s *Service) Release(ctx context.Context, orderID uuid.UUID, reason string, origin Origin) (Outcome, error) {
	var out Outcome
	err := s.update(ctx, func(tx Tx) ([]uuid.UUID, error) {
		var err error
		out, err = s.release(ctx, tx, orderID, reason, origin)
		return out.Changed, err
	})
	return out, err
}

func (s *Service) release(ctx context.Context, tx Tx, orderID uuid.UUID, reason string, origin Origin) (Outcome, error) {
	r, placed, err := s.lockFor(ctx, tx, orderID, origin, StatusReleased, reason)
	if err != nil || placed {
		return Outcome{Reservation: r}, wrap("release order", orderID, err)
	}
	kind := MoveReleased
	switch {
	case r.Status == StatusActive:
	case r.Status == StatusConfirmed && reason == ReasonPaymentFailed:
		s.log.WarnContext(ctx, "payment failed for an order already paid; the sale stands",
			"order_id", orderID, "reservation_id", r.ID)
		return Outcome{Reservation: r, Noop: true}, nil
	case r.Status == StatusConfirmed:
		kind = MoveRestocked
	default:
		return Outcome{Reservation: r, Noop: true}, nil
	}
	l, err := s.moveLines(ctx, tx, r, kind, reason)
	if err != nil {
		return Outcome{}, wrap("release order", orderID, err)
	}
	r.Status, r.Reason, r.Restocked, r.UpdatedAt = StatusReleased, reason, kind == MoveRestocked && !r.Placeholder, s.now()
	if err := tx.UpdateReservation(ctx, r, false); err != nil {
		return Outcome{}, wrap("release order", orderID, err)
	}
	if r.Placeholder {
		// A confirm placeholder held nothing: nothing to return or announce.
		return Outcome{Reservation: r}, nil
	}
	if err := s.apply(ctx, tx, l, Released{OrderID: orderID, ReservationID: r.ID, Reason: reason}); err != nil {
		return Outcome{}, wrap("release order", orderID, err)
	}
	return Outcome{Reservation: r, Changed: stockIDs(l.changed())}, nil
}
