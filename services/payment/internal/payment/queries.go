package payment

import (
	"context"
	"fmt"
)

// Get returns a payment to its owner or staff; to anyone else it does not
// exist.
func (s *Service) Get(ctx context.Context, who Actor, id string) (Payment, error) {
	p, err := s.store.Payment(ctx, id)
	if err != nil {
		return Payment{}, err
	}
	if !who.canAccess(p.UserID) {
		return Payment{}, fmt.Errorf("payment %s: %w", id, ErrPaymentNotFound)
	}
	return p, nil
}

// MaxPageSize bounds list pages.
const MaxPageSize = 100

// List returns payments newest first: staff see all, others their own.
func (s *Service) List(ctx context.Context, who Actor, f ListFilter) (Page, error) {
	if !who.Admin {
		f.UserID = who.UserID
	}
	if f.Limit <= 0 || f.Limit > MaxPageSize {
		f.Limit = 20
	}
	return s.store.Payments(ctx, f)
}
