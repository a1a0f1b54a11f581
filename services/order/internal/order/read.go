package order

import (
	"context"
	"fmt"
)

// Get returns an order the actor may see (owner, admin, seller of every
// line), or ErrNotFound.
func (s *Service) Get(ctx context.Context, actor Actor, id string) (Order, error) {
	if !isUUID(id) {
		return Order{}, fmt.Errorf("order %s: %w", id, ErrNotFound)
	}
	o, err := s.store.Order(ctx, id)
	if err != nil {
		return Order{}, fmt.Errorf("order %s: %w", id, err)
	}
	if !actor.canView(o) {
		return Order{}, fmt.Errorf("order %s: %w", id, ErrNotFound)
	}
	return o, nil
}

// Timeline returns the history of an order the actor may see.
func (s *Service) Timeline(ctx context.Context, actor Actor, id string) ([]HistoryEntry, error) {
	if _, err := s.Get(ctx, actor, id); err != nil {
		return nil, err
	}
	h, err := s.store.Timeline(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("timeline of %s: %w", id, err)
	}
	return h, nil
}
