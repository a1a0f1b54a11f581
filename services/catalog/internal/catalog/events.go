package catalog

import (
	"time"

	"github.com/google/uuid"
)

// Event is a fact about a product that the store publishes through the
// outbox, in the transaction of the change. Its key is the product ID.
type Event interface {
	// Key is the ID of the product the event is about.
	Key() uuid.UUID
}

// ProductUpserted carries a product's full state after a change.
type ProductUpserted struct {
	Product Product
}

// ProductPriceChanged records a price change; the store also keeps it in
// the price history.
type ProductPriceChanged struct {
	ProductID uuid.UUID
	Old, New  Money
	Version   int64
	By        uuid.UUID
	At        time.Time
}

// ProductArchived says the product can no longer be ordered.
type ProductArchived struct {
	ProductID uuid.UUID
	Version   int64
}

// Key implements Event.
func (e ProductUpserted) Key() uuid.UUID { return e.Product.ID }

// Key implements Event.
func (e ProductPriceChanged) Key() uuid.UUID { return e.ProductID }

// Key implements Event.
func (e ProductArchived) Key() uuid.UUID { return e.ProductID }
