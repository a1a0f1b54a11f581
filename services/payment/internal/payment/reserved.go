package payment

import (
	"context"
	"fmt"
	"time"
)

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

// OnInventoryReserved records INVENTORY_RESERVED events (the reservation,
// and the order's owner and total when the event carries them) and creates
// the payment of each order this makes ready to pay; created[i] says
// whether ins[i] did. The consumer's batches pass several, of distinct
// orders, and the store writes them at once.
func (s *Service) OnInventoryReserved(ctx context.Context, tx Tx, ins ...Reserved) (created []bool, err error) {
	for _, in := range ins {
		if in.UserID != "" && in.Total.AmountMinor <= 0 {
			return nil, fmt.Errorf("order %s: total %d: %w", in.OrderID, in.Total.AmountMinor, ErrInvalidEvent)
		}
	}
	created, err = tx.SaveReservations(ctx, ins, s.paymentFor)
	if err != nil {
		return nil, err
	}
	for _, c := range created {
		if c {
			s.obs.Outcome("initiated", "")
		}
	}
	return created, nil
}

// paymentFor is the pending payment an order's projection calls for, as
// the event that announces it: one once the order is known, reserved and
// still open, else none.
func (s *Service) paymentFor(o Order) *PaymentInitiated {
	if !o.ReadyToPay() {
		return nil
	}
	now := s.now().UTC()
	return &PaymentInitiated{Payment{
		ID: s.newID(), OrderID: o.ID, UserID: o.UserID, ReservationID: o.ReservationID,
		Amount: o.Total, Status: StatusPending, Version: 1, CreatedAt: now, UpdatedAt: now,
	}}
}
