package order

import "context"

// Ship marks a paid order shipped (admin, or the seller of every line) and
// publishes ORDER_SHIPPED.
func (s *Service) Ship(ctx context.Context, actor Actor, id string) (Order, error) {
	return s.act(ctx, actor, id, ActionShip, Actor.canFulfil, func(Order) cause {
		return cause{actor: &actor, reason: "SHIPPED"}
	})
}

// Deliver marks a shipped order delivered (admin, or the seller of every
// line) and publishes ORDER_DELIVERED.
func (s *Service) Deliver(ctx context.Context, actor Actor, id string) (Order, error) {
	return s.act(ctx, actor, id, ActionDeliver, Actor.canFulfil, func(Order) cause {
		return cause{actor: &actor, reason: "DELIVERED"}
	})
}
