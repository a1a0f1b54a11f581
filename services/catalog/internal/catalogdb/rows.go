package catalogdb

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/shop-oss/shop/services/catalog/internal/catalog"
)

// productRow is a row of products (the generated search column is never
// read).
type productRow struct {
	ID          uuid.UUID
	SKU         string `gorm:"column:sku"`
	Name        string
	Description string
	PriceMinor  int64
	Currency    string
	SellerID    uuid.UUID
	CategoryID  uuid.NullUUID
	Status      string
	Images      []byte
	Attributes  []byte
	Version     int64
	CreatedAt   time.Time
	UpdatedAt   time.Time
	// Rank is not a column: listings select it (the search rank, or 0).
	Rank float32
}

// productColumns lists productRow's columns, for hand-written SQL.
const productColumns = `id, sku, name, description, price_minor, currency, seller_id, category_id, status, images, attributes, version, created_at, updated_at`

func toProduct(r productRow) (catalog.Product, error) {
	p := catalog.Product{
		ID:       r.ID,
		SellerID: r.SellerID,
		Fields: catalog.Fields{
			SKU: r.SKU, Name: r.Name, Description: r.Description,
			Price:      catalog.Money{Minor: r.PriceMinor, Currency: r.Currency},
			CategoryID: r.CategoryID.UUID, // uuid.Nil when NULL
			Status:     catalog.Status(r.Status),
		},
		Version:   r.Version,
		CreatedAt: r.CreatedAt.UTC(),
		UpdatedAt: r.UpdatedAt.UTC(),
	}
	if err := json.Unmarshal(r.Images, &p.Images); err != nil {
		return p, fmt.Errorf("product %s images: %w", r.ID, err)
	}
	if err := json.Unmarshal(r.Attributes, &p.Attributes); err != nil {
		return p, fmt.Errorf("product %s attributes: %w", r.ID, err)
	}
	if p.Images == nil {
		p.Images = []string{}
	}
	if p.Attributes == nil {
		p.Attributes = map[string]any{}
	}
	return p, nil
}

// productArgs are the values of a product in productColumns order, jsonb
// as text.
func productArgs(p catalog.Product) ([]any, error) {
	images, err := json.Marshal(p.Images)
	if err != nil {
		return nil, fmt.Errorf("product %s images: %w", p.ID, err)
	}
	attrs, err := json.Marshal(p.Attributes)
	if err != nil {
		return nil, fmt.Errorf("product %s attributes: %w", p.ID, err)
	}
	return []any{
		p.ID, p.SKU, p.Name, p.Description, p.Price.Minor, p.Price.Currency, p.SellerID,
		nullUUID(p.CategoryID), string(p.Status), string(images), string(attrs), p.Version,
		p.CreatedAt, p.UpdatedAt,
	}, nil
}

func nullUUID(id uuid.UUID) uuid.NullUUID { return uuid.NullUUID{UUID: id, Valid: id != uuid.Nil} }

// categoryRow is a row of categories.
type categoryRow struct {
	ID        uuid.UUID
	ParentID  uuid.NullUUID
	Name      string
	Slug      string
	CreatedAt time.Time
	UpdatedAt time.Time
}

func toCategory(r categoryRow) catalog.Category {
	return catalog.Category{
		ID: r.ID, ParentID: r.ParentID.UUID, Name: r.Name, Slug: r.Slug,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
}

// priceRow is a row of price_history.
type priceRow struct {
	ID            int64
	ProductID     uuid.UUID
	OldPriceMinor *int64
	OldCurrency   *string
	PriceMinor    int64
	Currency      string
	Version       int64
	ChangedBy     uuid.UUID
	ChangedAt     time.Time
}

func toPriceRecord(r priceRow) catalog.PriceRecord {
	rec := catalog.PriceRecord{
		ID: r.ID, ProductID: r.ProductID,
		New:     catalog.Money{Minor: r.PriceMinor, Currency: r.Currency},
		Version: r.Version, By: r.ChangedBy, At: r.ChangedAt.UTC(),
	}
	if r.OldPriceMinor != nil && r.OldCurrency != nil {
		rec.Old = &catalog.Money{Minor: *r.OldPriceMinor, Currency: *r.OldCurrency}
	}
	return rec
}
