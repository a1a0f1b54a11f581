package order

import (
	"context"
	"fmt"
)

// ProductStatus is a product's lifecycle status in the catalog.
type ProductStatus string

// Catalog statuses. Only ACTIVE products can be ordered. A replica row made
// from a price change or an archive event that arrived before the product's
// first PRODUCT_UPSERTED has no status until the full state arrives.
const (
	ProductDraft    ProductStatus = "DRAFT"
	ProductActive   ProductStatus = "ACTIVE"
	ProductArchived ProductStatus = "ARCHIVED"
	ProductUnknown  ProductStatus = ""
)

// Product is this service's replica of a catalog product: what an order
// needs to price a line, and nothing else.
type Product struct {
	ID       string
	SKU      string
	Name     string
	SellerID string
	Status   ProductStatus
	// Price is nil while the replica knows no price.
	Price *Money
	// Version is the catalog version of the state held here.
	Version int64
}

// ChangeKind is the kind of a catalog event.
type ChangeKind int

// The catalog events the replica follows.
const (
	// ChangeUpserted (PRODUCT_UPSERTED) carries the full state.
	ChangeUpserted ChangeKind = iota + 1
	// ChangePriceChanged (PRODUCT_PRICE_CHANGED) carries the new price.
	ChangePriceChanged
	// ChangeArchived (PRODUCT_ARCHIVED) archives the product.
	ChangeArchived
)

// ProductChange is one catalog event, decoded.
type ProductChange struct {
	Kind      ChangeKind
	ProductID string
	Version   int64
	// Upserted: the full state.
	SKU, Name, SellerID string
	Status              ProductStatus
	// Upserted and price changed: the (new) price.
	Price *Money
}

// applyChange returns the replica row after ch, and whether ch changes it.
// cur is the row held so far (found false when there is none).
//
// The version rule keeps the replica from going back in time when events
// arrive out of order (a replay from the dead-letter topic, a rebuilt
// topic): a change applies only when its version is newer than the row's.
// The one exception is PRODUCT_UPSERTED with the row's own version: the
// catalog emits it beside a PRODUCT_PRICE_CHANGED or PRODUCT_ARCHIVED of the
// same version, with the full state of that version, so applying it again is
// harmless and fills what a partial event could not (name, SKU, seller).
func applyChange(cur Product, found bool, ch ProductChange) (Product, bool) {
	if found {
		switch {
		case ch.Version > cur.Version:
		case ch.Version == cur.Version && ch.Kind == ChangeUpserted:
		default:
			return cur, false
		}
	}
	next := cur
	next.ID = ch.ProductID
	next.Version = ch.Version
	switch ch.Kind {
	case ChangeUpserted:
		next.SKU, next.Name, next.SellerID, next.Status = ch.SKU, ch.Name, ch.SellerID, ch.Status
		next.Price = ch.Price
	case ChangePriceChanged:
		next.Price = ch.Price
	case ChangeArchived:
		next.Status = ProductArchived
	}
	return next, true
}

// ApplyProduct applies a catalog event to the replica, following the
// version rule of applyChange, in Store.InTx's transaction (the consumer's).
func (s *Service) ApplyProduct(ctx context.Context, ch ProductChange) error {
	if err := validateChange(ch); err != nil {
		return err
	}
	return s.store.InTx(ctx, func(tx Tx) error {
		cur, found, err := tx.LockProduct(ctx, ch.ProductID)
		if err != nil {
			return err
		}
		next, changed := applyChange(cur, found, ch)
		if !changed {
			return nil
		}
		return tx.SaveProduct(ctx, next)
	})
}

func validateChange(ch ProductChange) error {
	switch {
	case !isUUID(ch.ProductID):
		return fmt.Errorf("%w: product ID %q", ErrInvalidEvent, ch.ProductID)
	case ch.Version <= 0:
		return fmt.Errorf("%w: product %s has version %d", ErrInvalidEvent, ch.ProductID, ch.Version)
	case ch.Kind == ChangePriceChanged && ch.Price == nil:
		return fmt.Errorf("%w: price change of %s without a price", ErrInvalidEvent, ch.ProductID)
	case ch.Price != nil && (ch.Price.AmountMinor < 0 || !validCurrency(ch.Price.Currency)):
		return fmt.Errorf("%w: product %s has price %d %q", ErrInvalidEvent, ch.ProductID, ch.Price.AmountMinor, ch.Price.Currency)
	case ch.SellerID != "" && !isUUID(ch.SellerID):
		return fmt.Errorf("%w: product %s has seller ID %q", ErrInvalidEvent, ch.ProductID, ch.SellerID)
	}
	return nil
}
