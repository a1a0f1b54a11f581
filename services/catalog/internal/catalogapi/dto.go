package catalogapi

import (
	"time"

	"github.com/google/uuid"

	"github.com/shop-oss/shop/services/catalog/internal/catalog"
)

// productResponse is a product on the wire.
type productResponse struct {
	ID          string         `json:"id"`
	SKU         string         `json:"sku"`
	Name        string         `json:"name"`
	Description string         `json:"description"`
	PriceMinor  int64          `json:"price_minor"`
	Currency    string         `json:"currency"`
	SellerID    string         `json:"seller_id"`
	CategoryID  *string        `json:"category_id"`
	Status      string         `json:"status"`
	Images      []string       `json:"images"`
	Attributes  map[string]any `json:"attributes"`
	Version     int64          `json:"version"`
	CreatedAt   time.Time      `json:"created_at"`
	UpdatedAt   time.Time      `json:"updated_at"`
}

func toProductResponse(p catalog.Product) productResponse {
	return productResponse{
		ID: p.ID.String(), SKU: p.SKU, Name: p.Name, Description: p.Description,
		PriceMinor: p.Price.Minor, Currency: p.Price.Currency, SellerID: p.SellerID.String(),
		CategoryID: optionalID(p.CategoryID), Status: string(p.Status),
		Images: p.Images, Attributes: p.Attributes, Version: p.Version,
		CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt,
	}
}

func optionalID(id uuid.UUID) *string {
	if id == uuid.Nil {
		return nil
	}
	s := id.String()
	return &s
}

type productPage struct {
	Items      []productResponse `json:"items"`
	NextCursor string            `json:"next_cursor,omitempty"`
}

func toProductPage(p catalog.Page) productPage {
	out := productPage{Items: make([]productResponse, len(p.Items)), NextCursor: p.Next}
	for i, item := range p.Items {
		out.Items[i] = toProductResponse(item)
	}
	return out
}

// productBody is the body of POST and PUT /products: the full editable
// state. seller_id lets an admin create a product for a seller.
type productBody struct {
	SKU         string         `json:"sku" validate:"required"`
	Name        string         `json:"name" validate:"required"`
	Description string         `json:"description"`
	PriceMinor  *int64         `json:"price_minor" validate:"required"`
	Currency    string         `json:"currency" validate:"required"`
	CategoryID  *string        `json:"category_id" validate:"omitempty,uuid"`
	Status      string         `json:"status"`
	Images      []string       `json:"images"`
	Attributes  map[string]any `json:"attributes"`
	SellerID    *string        `json:"seller_id" validate:"omitempty,uuid"`
}

func (b productBody) fields() catalog.Fields {
	return catalog.Fields{
		SKU: b.SKU, Name: b.Name, Description: b.Description,
		Price:      catalog.Money{Minor: *b.PriceMinor, Currency: b.Currency},
		CategoryID: parseOptionalID(b.CategoryID),
		Status:     catalog.Status(b.Status),
		Images:     b.Images, Attributes: b.Attributes,
	}
}

// parseOptionalID parses an ID that validation already checked.
func parseOptionalID(s *string) uuid.UUID {
	if s == nil {
		return uuid.Nil
	}
	return uuid.MustParse(*s)
}

type priceBody struct {
	PriceMinor *int64 `json:"price_minor" validate:"required"`
	Currency   string `json:"currency"`
}

type priceRecordResponse struct {
	OldPriceMinor *int64    `json:"old_price_minor"`
	OldCurrency   *string   `json:"old_currency"`
	PriceMinor    int64     `json:"price_minor"`
	Currency      string    `json:"currency"`
	Version       int64     `json:"version"`
	ChangedBy     string    `json:"changed_by"`
	ChangedAt     time.Time `json:"changed_at"`
}

type priceHistoryPage struct {
	Items      []priceRecordResponse `json:"items"`
	NextCursor string                `json:"next_cursor,omitempty"`
}

func toPriceHistoryPage(p catalog.PriceHistoryPage) priceHistoryPage {
	out := priceHistoryPage{Items: make([]priceRecordResponse, len(p.Items)), NextCursor: p.Next}
	for i, r := range p.Items {
		out.Items[i] = priceRecordResponse{
			PriceMinor: r.New.Minor, Currency: r.New.Currency, Version: r.Version,
			ChangedBy: r.By.String(), ChangedAt: r.At,
		}
		if r.Old != nil {
			out.Items[i].OldPriceMinor = &r.Old.Minor
			out.Items[i].OldCurrency = &r.Old.Currency
		}
	}
	return out
}

type categoryBody struct {
	Name     string  `json:"name" validate:"required"`
	Slug     string  `json:"slug" validate:"required"`
	ParentID *string `json:"parent_id" validate:"omitempty,uuid"`
}

func (b categoryBody) input() catalog.CategoryInput {
	return catalog.CategoryInput{Name: b.Name, Slug: b.Slug, ParentID: parseOptionalID(b.ParentID)}
}

// categoryResponse is a category; in the tree it has its children.
type categoryResponse struct {
	ID       string             `json:"id"`
	ParentID *string            `json:"parent_id"`
	Name     string             `json:"name"`
	Slug     string             `json:"slug"`
	Path     string             `json:"path"`
	Children []categoryResponse `json:"children,omitempty"`
}

func toCategoryResponse(t catalog.Tree, c catalog.Category, withChildren bool) categoryResponse {
	out := categoryResponse{
		ID: c.ID.String(), ParentID: optionalID(c.ParentID), Name: c.Name, Slug: c.Slug, Path: t.Path(c.ID),
	}
	if withChildren {
		out.Children = make([]categoryResponse, 0)
		for _, child := range t.Children(c.ID) {
			out.Children = append(out.Children, toCategoryResponse(t, child, true))
		}
	}
	return out
}

type categoryTree struct {
	Items []categoryResponse `json:"items"`
}
