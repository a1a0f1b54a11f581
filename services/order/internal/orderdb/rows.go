package orderdb

import (
	"encoding/json"
	"time"

	"github.com/shop-oss/shop/services/order/internal/order"
)

type orderRow struct {
	ID              string `gorm:"primaryKey"`
	UserID          string
	Status          string
	Currency        string
	TotalMinor      int64
	SellerID        *string
	IdempotencyKey  string
	CancelReason    *string
	ItemCount       int
	CreatedAt       time.Time `gorm:"autoCreateTime:false"`
	UpdatedAt       time.Time `gorm:"autoUpdateTime:false"`
	StatusChangedAt time.Time
	PaidAt          *time.Time
}

func (orderRow) TableName() string { return "orders" }

func (r orderRow) toDomain() order.Order {
	o := order.Order{
		ID: r.ID, UserID: r.UserID, Status: order.Status(r.Status), Currency: r.Currency,
		TotalMinor: r.TotalMinor, IdempotencyKey: r.IdempotencyKey, ItemCount: r.ItemCount,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(), StatusChangedAt: r.StatusChangedAt.UTC(),
	}
	if r.SellerID != nil {
		o.SellerID = *r.SellerID
	}
	if r.CancelReason != nil {
		o.CancelReason = *r.CancelReason
	}
	if r.PaidAt != nil {
		t := r.PaidAt.UTC()
		o.PaidAt = &t
	}
	return o
}

func orderToRow(o order.Order) orderRow {
	return orderRow{
		ID: o.ID, UserID: o.UserID, Status: string(o.Status), Currency: o.Currency, TotalMinor: o.TotalMinor,
		SellerID: nullString(o.SellerID), IdempotencyKey: o.IdempotencyKey, CancelReason: nullString(o.CancelReason),
		ItemCount: len(o.Items), CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt, StatusChangedAt: o.StatusChangedAt,
		PaidAt: o.PaidAt,
	}
}

// itemRow is also a line as CreateOrder hands it to PostgreSQL (JSON).
type itemRow struct {
	OrderID        string  `gorm:"primaryKey" json:"-"`
	LineNo         int     `gorm:"primaryKey" json:"line_no"`
	ProductID      string  `json:"product_id"`
	SKU            string  `gorm:"column:sku" json:"sku"`
	Name           string  `json:"name"`
	SellerID       *string `json:"seller_id"`
	Quantity       int     `json:"quantity"`
	UnitPriceMinor int64   `json:"unit_price_minor"`
}

func (itemRow) TableName() string { return "order_items" }

func (r itemRow) toDomain() order.Item {
	it := order.Item{ProductID: r.ProductID, SKU: r.SKU, Name: r.Name, Quantity: r.Quantity, UnitPriceMinor: r.UnitPriceMinor}
	if r.SellerID != nil {
		it.SellerID = *r.SellerID
	}
	return it
}

func itemToRow(orderID string, line int, it order.Item) itemRow {
	return itemRow{
		OrderID: orderID, LineNo: line, ProductID: it.ProductID, SKU: it.SKU, Name: it.Name,
		SellerID: nullString(it.SellerID), Quantity: it.Quantity, UnitPriceMinor: it.UnitPriceMinor,
	}
}

type historyRow struct {
	ID               int64 `gorm:"primaryKey;->"`
	OrderID          string
	At               time.Time
	Kind             string
	FromStatus       *string
	ToStatus         string
	ActorID          *string
	ActorRole        *string
	Reason           string
	Note             string
	EventID          *string
	EventType        *string
	EmittedEventID   *string
	EmittedEventType *string
	Detail           []byte `gorm:"type:jsonb"`
}

func (historyRow) TableName() string { return "order_history" }

func (r historyRow) toDomain() order.HistoryEntry {
	h := order.HistoryEntry{
		OrderID: r.OrderID, At: r.At.UTC(), Kind: order.HistoryKind(r.Kind), To: order.Status(r.ToStatus),
		Reason: r.Reason, Note: r.Note,
	}
	if r.FromStatus != nil {
		h.From = order.Status(*r.FromStatus)
	}
	if r.ActorID != nil {
		h.Actor = &order.Actor{ID: *r.ActorID}
		if r.ActorRole != nil {
			h.Actor.Role = order.Role(*r.ActorRole)
		}
	}
	if r.EventID != nil && r.EventType != nil {
		h.Cause = &order.EventRef{ID: *r.EventID, Type: *r.EventType}
	}
	if r.EmittedEventID != nil && r.EmittedEventType != nil {
		h.Emitted = &order.EventRef{ID: *r.EmittedEventID, Type: *r.EmittedEventType}
	}
	if len(r.Detail) > 0 {
		// The column is written only by historyToRow, from a map.
		_ = json.Unmarshal(r.Detail, &h.Detail)
		if len(h.Detail) == 0 {
			h.Detail = nil
		}
	}
	return h
}

func historyToRow(h order.HistoryEntry) (historyRow, error) {
	detail, err := jsonDetail(h.Detail)
	if err != nil {
		return historyRow{}, err
	}
	r := historyRow{
		OrderID: h.OrderID, At: h.At, Kind: string(h.Kind), FromStatus: nullString(string(h.From)),
		ToStatus: string(h.To), Reason: h.Reason, Note: h.Note, Detail: detail,
	}
	if h.Actor != nil {
		r.ActorID, r.ActorRole = nullString(h.Actor.ID), nullString(string(h.Actor.Role))
	}
	if h.Cause != nil {
		r.EventID, r.EventType = &h.Cause.ID, &h.Cause.Type
	}
	if h.Emitted != nil {
		r.EmittedEventID, r.EmittedEventType = &h.Emitted.ID, &h.Emitted.Type
	}
	return r, nil
}

type productRow struct {
	ID         string `gorm:"primaryKey"`
	SKU        string `gorm:"column:sku"`
	Name       string
	SellerID   *string
	Status     string
	PriceMinor *int64
	Currency   *string
	Version    int64
}

func (productRow) TableName() string { return "products" }

func (r productRow) toDomain() order.Product {
	p := order.Product{ID: r.ID, SKU: r.SKU, Name: r.Name, Status: order.ProductStatus(r.Status), Version: r.Version}
	if r.SellerID != nil {
		p.SellerID = *r.SellerID
	}
	if r.PriceMinor != nil && r.Currency != nil {
		p.Price = &order.Money{AmountMinor: *r.PriceMinor, Currency: *r.Currency}
	}
	return p
}

func productToRow(p order.Product) productRow {
	r := productRow{ID: p.ID, SKU: p.SKU, Name: p.Name, SellerID: nullString(p.SellerID), Status: string(p.Status), Version: p.Version}
	if p.Price != nil {
		amount, currency := p.Price.AmountMinor, p.Price.Currency
		r.PriceMinor, r.Currency = &amount, &currency
	}
	return r
}
