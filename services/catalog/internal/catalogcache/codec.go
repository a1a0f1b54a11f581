package catalogcache

import (
	"encoding/json"
	"time"

	"github.com/google/uuid"

	"github.com/shop-oss/shop/services/catalog/internal/catalog"
)

// cachedProduct is a product as cached (JSON). Changing it means changing
// Config.Prefix's version.
type cachedProduct struct {
	ID          uuid.UUID      `json:"id"`
	SellerID    uuid.UUID      `json:"sl"`
	SKU         string         `json:"sk"`
	Name        string         `json:"n"`
	Description string         `json:"d,omitempty"`
	PriceMinor  int64          `json:"pm"`
	Currency    string         `json:"c"`
	CategoryID  uuid.UUID      `json:"ct"`
	Status      string         `json:"st"`
	Images      []string       `json:"im"`
	Attributes  map[string]any `json:"at"`
	Version     int64          `json:"v"`
	CreatedAt   time.Time      `json:"ca"`
	UpdatedAt   time.Time      `json:"ua"`
}

type cachedPage struct {
	Items []cachedProduct `json:"i"`
	Next  string          `json:"n,omitempty"`
}

func toCached(p catalog.Product) cachedProduct {
	return cachedProduct{
		ID: p.ID, SellerID: p.SellerID, SKU: p.SKU, Name: p.Name, Description: p.Description,
		PriceMinor: p.Price.Minor, Currency: p.Price.Currency, CategoryID: p.CategoryID,
		Status: string(p.Status), Images: p.Images, Attributes: p.Attributes,
		Version: p.Version, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt,
	}
}

func fromCached(c cachedProduct) catalog.Product {
	p := catalog.Product{
		ID: c.ID, SellerID: c.SellerID,
		Fields: catalog.Fields{
			SKU: c.SKU, Name: c.Name, Description: c.Description,
			Price:      catalog.Money{Minor: c.PriceMinor, Currency: c.Currency},
			CategoryID: c.CategoryID, Status: catalog.Status(c.Status),
			Images: c.Images, Attributes: c.Attributes,
		},
		Version: c.Version, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
	}
	if p.Images == nil {
		p.Images = []string{}
	}
	if p.Attributes == nil {
		p.Attributes = map[string]any{}
	}
	return p
}

func encodeProduct(p catalog.Product) ([]byte, error) { return json.Marshal(toCached(p)) }

func decodeProduct(data []byte) (catalog.Product, error) {
	var c cachedProduct
	if err := json.Unmarshal(data, &c); err != nil {
		return catalog.Product{}, err
	}
	return fromCached(c), nil
}

func encodePage(page catalog.Page) ([]byte, error) {
	c := cachedPage{Items: make([]cachedProduct, len(page.Items)), Next: page.Next}
	for i, p := range page.Items {
		c.Items[i] = toCached(p)
	}
	return json.Marshal(c)
}

func decodePage(data []byte) (catalog.Page, error) {
	var c cachedPage
	if err := json.Unmarshal(data, &c); err != nil {
		return catalog.Page{}, err
	}
	page := catalog.Page{Items: make([]catalog.Product, len(c.Items)), Next: c.Next}
	for i, p := range c.Items {
		page.Items[i] = fromCached(p)
	}
	return page, nil
}
