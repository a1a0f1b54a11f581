package inventory

import (
	"context"

	"github.com/google/uuid"
)

// Product is what catalog tells inventory about a product.
type Product struct {
	ID       uuid.UUID
	SellerID uuid.UUID
	SKU      string
	Status   ProductStatus
	// Version is catalog's product version (0 from the seed).
	Version int64
}

// UpsertProduct applies catalog's PRODUCT_UPSERTED; it returns the
// products whose cached stock changed.
func (s *Service) UpsertProduct(ctx context.Context, p Product) ([]uuid.UUID, error) {
	var changed []uuid.UUID
	err := s.update(ctx, func(tx Tx) ([]uuid.UUID, error) {
		applied, err := tx.UpsertProduct(ctx, p)
		if applied {
			changed = []uuid.UUID{p.ID}
		}
		return changed, err
	})
	return changed, wrap("upsert product", p.ID, err)
}

// ArchiveProduct applies catalog's PRODUCT_ARCHIVED: the product can no
// longer be reserved; existing reservations stand.
func (s *Service) ArchiveProduct(ctx context.Context, productID uuid.UUID, version int64) ([]uuid.UUID, error) {
	var changed []uuid.UUID
	err := s.update(ctx, func(tx Tx) ([]uuid.UUID, error) {
		applied, err := tx.ArchiveProduct(ctx, productID, version)
		if applied {
			changed = []uuid.UUID{productID}
		}
		return changed, err
	})
	return changed, wrap("archive product", productID, err)
}
