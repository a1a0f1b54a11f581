package inventory

import (
	"slices"
	"time"

	"github.com/google/uuid"
)

// Limits on input, so that absurd requests fail validation instead of
// overflowing anything.
const (
	// MaxLines is the most lines one reservation may have.
	MaxLines = 100
	// MaxQuantity is the most units of one product one order may reserve.
	MaxQuantity = 1_000_000
	// MaxOnHand is the most units of one product the shop may hold.
	MaxOnHand = 1_000_000_000
)

// ProductStatus is a product's lifecycle status, as catalog publishes it.
// Only ACTIVE products can be reserved.
type ProductStatus string

// Product statuses.
const (
	ProductDraft    ProductStatus = "DRAFT"
	ProductActive   ProductStatus = "ACTIVE"
	ProductArchived ProductStatus = "ARCHIVED"
)

// ParseProductStatus maps catalog's status; anything unknown is DRAFT (not
// orderable), so a newer catalog status never makes a product sellable here
// by accident.
func ParseProductStatus(s string) ProductStatus {
	switch ProductStatus(s) {
	case ProductActive, ProductArchived:
		return ProductStatus(s)
	}
	return ProductDraft
}

// Stock is one product as inventory knows it: the catalog replica and its
// stock figures.
type Stock struct {
	ProductID uuid.UUID
	// SellerID owns the product (uuid.Nil when not known yet).
	SellerID uuid.UUID
	SKU      string
	Status   ProductStatus
	// CatalogVersion is the last product version applied; nil when catalog
	// has not published the product yet.
	CatalogVersion *int64
	OnHand         int64
	Reserved       int64
	// LowStockThreshold is the product's own threshold; nil means the
	// service default.
	LowStockThreshold *int64
	UpdatedAt         time.Time
}

// Available is what can still be reserved.
func (s Stock) Available() int64 { return s.OnHand - s.Reserved }

// Threshold is the product's low-stock threshold, or def.
func (s Stock) Threshold(def int64) int64 {
	if s.LowStockThreshold != nil {
		return *s.LowStockThreshold
	}
	return def
}

// Low reports whether available stock is at or below the threshold.
func (s Stock) Low(def int64) bool { return s.Available() <= s.Threshold(def) }

// Line is a quantity of one product.
type Line struct {
	ProductID uuid.UUID
	Quantity  int64
}

// Status is a reservation's status.
type Status string

// Reservation statuses.
const (
	StatusActive    Status = "ACTIVE"
	StatusConfirmed Status = "CONFIRMED"
	StatusReleased  Status = "RELEASED"
	StatusExpired   Status = "EXPIRED"
)

// Reasons carried by releases, rejections and movements.
const (
	ReasonPaymentFailed      = "PAYMENT_FAILED"
	ReasonOrderCancelled     = "ORDER_CANCELLED"
	ReasonReservationExpired = "RESERVATION_EXPIRED"
	ReasonStaff              = "STAFF"
	ReasonOutOfStock         = "OUT_OF_STOCK"
	ReasonUnavailable        = "PRODUCT_UNAVAILABLE"
	ReasonInvalidOrder       = "INVALID_ORDER"
)

// Reservation holds stock for all lines of one order.
type Reservation struct {
	ID      uuid.UUID
	OrderID uuid.UUID
	Status  Status
	// Placeholder: an outcome (confirm or release) recorded before the
	// reservation itself arrived; it holds no stock and has no lines.
	Placeholder bool
	// Lines, sorted by product ID.
	Lines     []Line
	ExpiresAt time.Time
	// Reason why it was released or expired.
	Reason string
	// Restocked: the release returned sold units to on_hand.
	Restocked bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// sameLines reports whether a and b, both sorted, are the same lines.
func sameLines(a, b []Line) bool { return slices.Equal(a, b) }

// MovementKind is the kind of a ledger entry.
type MovementKind string

// Movement kinds.
const (
	MoveReceived  MovementKind = "RECEIVED"
	MoveAdjusted  MovementKind = "ADJUSTED"
	MoveReserved  MovementKind = "RESERVED"
	MoveReleased  MovementKind = "RELEASED"
	MoveSold      MovementKind = "SOLD"
	MoveRestocked MovementKind = "RESTOCKED"
)

// Movement is one ledger entry.
type Movement struct {
	ID            int64
	ProductID     uuid.UUID
	Kind          MovementKind
	OnHandDelta   int64
	ReservedDelta int64
	OnHandAfter   int64
	ReservedAfter int64
	// ReservationID and OrderID are uuid.Nil for stock adjustments.
	ReservationID uuid.UUID
	OrderID       uuid.UUID
	Reason        string
	// ActorID is the user who made a manual change (uuid.Nil otherwise).
	ActorID   uuid.UUID
	CreatedAt time.Time
}

// ShortLine is a line that could not be reserved.
type ShortLine struct {
	ProductID uuid.UUID
	Requested int64
	// Available units when the reservation was attempted; 0 for an
	// unknown or unorderable product.
	Available int64
	// Unavailable: the product is unknown, a draft or archived.
	Unavailable bool
}

// Actor is the user behind a manual change.
type Actor struct {
	UserID uuid.UUID
	Admin  bool
}

// canManage is the ownership rule: admins manage every product's stock,
// sellers only their own.
func (a Actor) canManage(s Stock) bool {
	return a.Admin || (a.UserID != uuid.Nil && a.UserID == s.SellerID)
}
