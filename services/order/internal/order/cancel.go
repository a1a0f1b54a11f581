package order

import (
	"context"
	"fmt"
)

// Cancel cancels an order for its owner or an admin, from any state the
// table allows (before SHIPPED), and publishes ORDER_CANCELLED.
func (s *Service) Cancel(ctx context.Context, actor Actor, id, note string) (Order, error) {
	return s.act(ctx, actor, id, ActionCancel, Actor.canCancel, func(o Order) cause {
		reason := ReasonCustomerRequest
		if actor.ID != o.UserID {
			reason = ReasonAdmin
		}
		return cause{actor: &actor, reason: reason, note: note}
	})
}

// CancelTimedOut cancels, in one transaction, up to limit orders that have
// waited in CREATED longer than Config.CreatedTimeout (SAGA_TIMEOUT). Each
// cancellation publishes ORDER_CANCELLED like any other: inventory releases
// a reservation it may have made meanwhile (or records the cancellation,
// so that a late ORDER_CREATED reserves nothing), payment voids. Replicas
// may run it at once: each takes rows the others do not hold. It returns
// how many orders it cancelled.
func (s *Service) CancelTimedOut(ctx context.Context, limit int) (int, error) {
	if s.cfg.CreatedTimeout <= 0 {
		return 0, nil
	}
	var steps []step
	err := s.store.InTx(ctx, func(tx Tx) error {
		steps = steps[:0]
		orders, err := tx.LockCreatedBefore(ctx, s.now().Add(-s.cfg.CreatedTimeout), limit)
		if err != nil {
			return err
		}
		for i := range orders {
			st, err := s.move(ctx, tx, &orders[i], ActionTimeout, cause{reason: ReasonSagaTimeout,
				note: fmt.Sprintf("no answer from inventory within %s", s.cfg.CreatedTimeout)})
			if err != nil {
				return fmt.Errorf("order %s: %w", orders[i].ID, err)
			}
			steps = append(steps, st)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("cancel timed-out orders: %w", err)
	}
	for _, st := range steps {
		s.record(st)
	}
	return len(steps), nil
}
