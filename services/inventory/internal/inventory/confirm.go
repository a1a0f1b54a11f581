package inventory

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Confirm turns the order's ACTIVE reservation into a sale: its units leave
// on_hand and reserved. Staff are told when there is nothing to confirm;
// events record a placeholder (payment before reservation) or do nothing
// (payment after expiry or release: the saga cancels the order).
//
// A sale is offered to the store as a PlainConfirmation first: when the
// stock rows agree with the reservation, the store applies it in its
// fastest way (see Tx.ConfirmPlain); otherwise the rules below move the
// lines and report the disagreement.
func (s *Service) Confirm(ctx context.Context, orderID uuid.UUID, origin Origin) (Outcome, error) {
	var out Outcome
	err := s.update(ctx, func(tx Tx) ([]uuid.UUID, error) {
		var err error
		out, err = s.confirm(ctx, tx, orderID, origin)
		return out.Changed, err
	})
	return out, err
}

func (s *Service) confirm(ctx context.Context, tx Tx, orderID uuid.UUID, origin Origin) (Outcome, error) {
	r, placed, err := s.lockFor(ctx, tx, orderID, origin, StatusConfirmed, "")
	if err != nil || placed {
		return Outcome{Reservation: r}, wrap("confirm order", orderID, err)
	}
	switch r.Status {
	case StatusConfirmed:
		return Outcome{Reservation: r, Noop: true}, nil
	case StatusReleased, StatusExpired:
		if origin == FromStaff {
			return Outcome{Reservation: r}, fmt.Errorf("confirm order %s: the reservation is %s: %w", orderID, r.Status, ErrReservationClosed)
		}
		s.log.WarnContext(ctx, "payment succeeded for a reservation that is no longer active; nothing to confirm",
			"order_id", orderID, "reservation_id", r.ID, "status", r.Status)
		return Outcome{Reservation: r, Noop: true}, nil
	}
	at := s.now()
	if r.Placeholder || len(r.Lines) == 0 {
		return s.confirmByRules(ctx, tx, r, at)
	}
	stored, done, err := tx.ConfirmPlain(ctx, PlainConfirmation{
		Reservation: r, At: at, Announce: Confirmed{OrderID: r.OrderID, ReservationID: r.ID},
	})
	switch {
	case err != nil:
		return Outcome{}, wrap("confirm order", orderID, err)
	case !done:
		return s.confirmByRules(ctx, tx, r, at)
	}
	return Outcome{Reservation: stored, Changed: productIDs(stored.Lines)}, nil
}

func (s *Service) confirmByRules(ctx context.Context, tx Tx, r Reservation, now time.Time) (Outcome, error) {
	l, err := s.moveLines(ctx, tx, r, MoveSold, "")
	if err != nil {
		return Outcome{}, wrap("confirm order", r.OrderID, err)
	}
	r.Status, r.UpdatedAt = StatusConfirmed, now
	if err := tx.UpdateReservation(ctx, r, false); err != nil {
		return Outcome{}, wrap("confirm order", r.OrderID, err)
	}
	if err := s.apply(ctx, tx, l, Confirmed{OrderID: r.OrderID, ReservationID: r.ID}); err != nil {
		return Outcome{}, wrap("confirm order", r.OrderID, err)
	}
	return Outcome{Reservation: r, Changed: stockIDs(l.changed())}, nil
}
