package inventorydb

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/shop-oss/shop/services/inventory/internal/inventory"
)

// stockRow is a row of stock.
type stockRow struct {
	ProductID         uuid.UUID
	SellerID          *uuid.UUID
	SKU               string `gorm:"column:sku"`
	Status            string
	CatalogVersion    *int64
	OnHand            int64
	Reserved          int64
	LowStockThreshold *int64
	UpdatedAt         time.Time
}

const stockColumns = `product_id, seller_id, sku, status, catalog_version, on_hand, reserved, low_stock_threshold, updated_at`

func (r stockRow) toDomain() inventory.Stock {
	s := inventory.Stock{
		ProductID: r.ProductID, SKU: r.SKU, Status: inventory.ProductStatus(r.Status),
		CatalogVersion: r.CatalogVersion, OnHand: r.OnHand, Reserved: r.Reserved,
		LowStockThreshold: r.LowStockThreshold, UpdatedAt: r.UpdatedAt,
	}
	if r.SellerID != nil {
		s.SellerID = *r.SellerID
	}
	return s
}

// reservationRow is a row of reservations with its lines as JSON.
type reservationRow struct {
	ID          uuid.UUID
	OrderID     uuid.UUID
	Status      string
	Placeholder bool
	ExpiresAt   time.Time
	Reason      string
	Restocked   bool
	CreatedAt   time.Time
	UpdatedAt   time.Time
	// Lines is a JSON array of {"p": product ID, "q": quantity} in
	// product-ID order.
	Lines []byte
}

// reservationSelect selects reservationRow columns of reservations r.
const reservationSelect = `SELECT r.id, r.order_id, r.status, r.placeholder, r.expires_at, r.reason, r.restocked,
	r.created_at, r.updated_at,
	(SELECT COALESCE(json_agg(json_build_object('p', l.product_id, 'q', l.quantity) ORDER BY l.product_id), '[]')
	   FROM reservation_lines l WHERE l.reservation_id = r.id) AS lines
	FROM reservations r`

type lineJSON struct {
	P uuid.UUID `json:"p"`
	Q int64     `json:"q"`
}

func (r reservationRow) toDomain() (inventory.Reservation, error) {
	var lines []lineJSON
	if err := json.Unmarshal(r.Lines, &lines); err != nil {
		return inventory.Reservation{}, fmt.Errorf("reservation %s lines: %w", r.ID, err)
	}
	out := inventory.Reservation{
		ID: r.ID, OrderID: r.OrderID, Status: inventory.Status(r.Status), Placeholder: r.Placeholder,
		ExpiresAt: r.ExpiresAt.UTC(), Reason: r.Reason, Restocked: r.Restocked,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
		Lines: make([]inventory.Line, len(lines)),
	}
	for i, l := range lines {
		out.Lines[i] = inventory.Line{ProductID: l.P, Quantity: l.Q}
	}
	return out, nil
}

// movementRow is a row of stock_movements.
type movementRow struct {
	ID            int64
	ProductID     uuid.UUID
	Kind          string
	OnHandDelta   int64
	ReservedDelta int64
	OnHandAfter   int64
	ReservedAfter int64
	ReservationID *uuid.UUID
	OrderID       *uuid.UUID
	Reason        string
	ActorID       *uuid.UUID
	CreatedAt     time.Time
}

func (r movementRow) toDomain() inventory.Movement {
	deref := func(p *uuid.UUID) uuid.UUID {
		if p == nil {
			return uuid.Nil
		}
		return *p
	}
	return inventory.Movement{
		ID: r.ID, ProductID: r.ProductID, Kind: inventory.MovementKind(r.Kind),
		OnHandDelta: r.OnHandDelta, ReservedDelta: r.ReservedDelta,
		OnHandAfter: r.OnHandAfter, ReservedAfter: r.ReservedAfter,
		ReservationID: deref(r.ReservationID), OrderID: deref(r.OrderID), Reason: r.Reason,
		ActorID: deref(r.ActorID), CreatedAt: r.CreatedAt.UTC(),
	}
}
