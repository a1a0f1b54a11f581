package inventory

import (
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"
)

// Domain errors. The API maps each to a problem once (inventoryapi.Errors);
// messages of wrapped errors are meant for users.
var (
	ErrProductNotFound     = errors.New("product not found")
	ErrReservationNotFound = errors.New("reservation not found")
	// ErrInsufficientStock and ErrProductUnavailable are matched by a
	// *Rejection (errors.Is).
	ErrInsufficientStock  = errors.New("insufficient stock")
	ErrProductUnavailable = errors.New("product unavailable")
	// ErrReservationConflict: the order already has a reservation of other
	// lines, or its reservation was closed before it was made.
	ErrReservationConflict = errors.New("the order already has another reservation")
	// ErrReservationClosed: a staff confirm of a released or expired
	// reservation.
	ErrReservationClosed = errors.New("the reservation is no longer active")
	// ErrBelowReserved: a stock change would leave less on hand than is
	// reserved.
	ErrBelowReserved = errors.New("on hand cannot go below what is reserved")
	// ErrForbidden: the actor does not own the product.
	ErrForbidden = errors.New("only the product's seller or an admin may change its stock")
	// errInvariant means a bug: a movement that would break
	// 0 <= reserved <= on_hand on rows the code itself locked.
	errInvariant = errors.New("stock invariant violated")
)

// Rejection says why an order could not be reserved; nothing was reserved.
// It is an error so that the HTTP API can answer with it, and a value that
// the events carry.
type Rejection struct {
	OrderID uuid.UUID
	// Reason is OUT_OF_STOCK, PRODUCT_UNAVAILABLE or INVALID_ORDER.
	Reason string
	Lines  []ShortLine
}

func (r *Rejection) Error() string {
	parts := make([]string, 0, len(r.Lines))
	for _, l := range r.Lines {
		if l.Unavailable {
			parts = append(parts, fmt.Sprintf("product %s is not available for sale", l.ProductID))
			continue
		}
		parts = append(parts, fmt.Sprintf("product %s: requested %d, available %d", l.ProductID, l.Requested, l.Available))
	}
	return fmt.Sprintf("order %s cannot be reserved: %s", r.OrderID, strings.Join(parts, "; "))
}

// Is matches ErrProductUnavailable when a product cannot be sold at all,
// else ErrInsufficientStock.
func (r *Rejection) Is(target error) bool {
	switch target {
	case ErrProductUnavailable:
		return r.Reason == ReasonUnavailable
	case ErrInsufficientStock:
		return r.Reason == ReasonOutOfStock
	}
	return false
}
