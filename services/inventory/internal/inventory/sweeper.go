package inventory

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// RunSweeper expires overdue reservations every SweepInterval until ctx
// ends. Every replica runs one: they share the work (SKIP LOCKED) and each
// reservation expires exactly once. Failures are logged and retried on the
// next tick; they never stop the service.
func (s *Service) RunSweeper(ctx context.Context) error {
	t := time.NewTicker(s.cfg.SweepInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		for ctx.Err() == nil {
			n, err := s.ExpireDue(ctx)
			if err != nil {
				if ctx.Err() == nil {
					s.log.WarnContext(ctx, "expire reservations failed; retrying on the next tick", "error", err.Error())
				}
				break
			}
			if n < s.cfg.SweepBatch {
				break
			}
		}
	}
}

// ExpireDue expires one batch (at most SweepBatch) of overdue ACTIVE
// reservations in one transaction: their units are released and
// RESERVATION_EXPIRED is published for each. It returns how many expired.
func (s *Service) ExpireDue(ctx context.Context) (int, error) {
	n := 0
	err := s.update(ctx, func(tx Tx) ([]uuid.UUID, error) {
		now := s.now()
		due, err := tx.LockDueReservations(ctx, now, s.cfg.SweepBatch)
		if err != nil || len(due) == 0 {
			return nil, err
		}
		var ids []uuid.UUID
		for _, r := range due {
			ids = append(ids, productIDs(r.Lines)...)
		}
		// Every product of the batch is locked at once, in product-ID order.
		stock, err := tx.LockStock(ctx, ids)
		if err != nil {
			return nil, err
		}
		l := newLedger(stock)
		events := make([]Event, 0, len(due))
		expired := make([]uuid.UUID, 0, len(due))
		for _, r := range due {
			for _, ln := range r.Lines {
				err := l.move(MoveReleased, ln.ProductID, ln.Quantity,
					ref{ReservationID: r.ID, OrderID: r.OrderID, Reason: ReasonReservationExpired})
				if err != nil {
					return nil, err
				}
			}
			events = append(events, Expired{OrderID: r.OrderID, ReservationID: r.ID})
			expired = append(expired, r.ID)
		}
		if err := tx.ExpireReservations(ctx, expired, now); err != nil {
			return nil, err
		}
		if err := s.apply(ctx, tx, l, events...); err != nil {
			return nil, err
		}
		n = len(due)
		return stockIDs(l.changed()), nil
	})
	if err == nil && n > 0 && s.cfg.Expired != nil {
		s.cfg.Expired(n)
	}
	return n, err
}
