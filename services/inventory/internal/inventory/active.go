package inventory

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// ActiveFilter selects a page of ACTIVE reservations (placeholders hold no
// stock and are never ACTIVE), soonest expiry first.
type ActiveFilter struct {
	// ProductID keeps the reservations with a line of this product.
	ProductID uuid.UUID
	// SellerID keeps the reservations with a line of this seller's
	// products, and of each only those lines (another seller's products
	// are not this seller's business).
	SellerID uuid.UUID
	// After is the position of the previous page's last reservation.
	After *ActiveCursor
	Limit int
}

// ActiveCursor is a position in the list: expiry, then reservation ID.
type ActiveCursor struct {
	ExpiresAt time.Time
	ID        uuid.UUID
}

// ActiveReservations returns a page of the reservations that hold stock
// now, soonest expiry first: every one for an admin, those with the
// seller's products for a seller.
func (s *Service) ActiveReservations(ctx context.Context, actor Actor, f ActiveFilter) ([]Reservation, error) {
	if !actor.Admin {
		if actor.UserID == uuid.Nil {
			return nil, fmt.Errorf("active reservations: %w", ErrForbidden)
		}
		f.SellerID = actor.UserID
	}
	rs, err := s.store.ActiveReservations(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("active reservations: %w", err)
	}
	return rs, nil
}
