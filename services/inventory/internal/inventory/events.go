package inventory

import (
	"time"

	"github.com/google/uuid"
)

// Event is an event the domain publishes; the store writes it to the outbox
// in the same transaction as the change. Saga events are keyed by order
// ID, StockLow by product ID.
type Event interface{ isEvent() }

// Reserved (INVENTORY_RESERVED): all lines of an order are held.
type Reserved struct {
	OrderID, ReservationID uuid.UUID
	ExpiresAt              time.Time
	Lines                  []Line
	// Payable, when known, lets payment create the order's payment from
	// this event alone.
	Payable *Payable
}

// Payable is who pays for an order and how much: inventory keeps none of
// it, it only passes it from ORDER_CREATED on to INVENTORY_RESERVED.
type Payable struct {
	UserID      uuid.UUID
	AmountMinor int64
	Currency    string
}

// Rejected (INVENTORY_REJECTED): nothing was reserved.
type Rejected struct{ Rejection Rejection }

// Confirmed (INVENTORY_CONFIRMED): the reserved units were sold.
type Confirmed struct{ OrderID, ReservationID uuid.UUID }

// Released (INVENTORY_RELEASED): reserved units were released, or sold ones
// restocked.
type Released struct {
	OrderID, ReservationID uuid.UUID
	Reason                 string
}

// Expired (RESERVATION_EXPIRED): the reservation passed its expiry unpaid;
// its units were released.
type Expired struct{ OrderID, ReservationID uuid.UUID }

// StockLow (STOCK_LOW): available stock fell to or below the threshold.
type StockLow struct {
	ProductID            uuid.UUID
	Available, Threshold int64
}

func (Reserved) isEvent()  {}
func (Rejected) isEvent()  {}
func (Confirmed) isEvent() {}
func (Released) isEvent()  {}
func (Expired) isEvent()   {}
func (StockLow) isEvent()  {}
