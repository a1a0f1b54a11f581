package orderapi

import (
	"time"

	"github.com/shop-oss/shop/services/order/internal/order"
)

// moneyJSON is an amount in minor units and its ISO 4217 currency.
type moneyJSON struct {
	AmountMinor int64  `json:"amount_minor"`
	Currency    string `json:"currency"`
}

type itemJSON struct {
	ProductID string    `json:"product_id"`
	SKU       string    `json:"sku"`
	Name      string    `json:"name"`
	SellerID  string    `json:"seller_id,omitempty"`
	Quantity  int       `json:"quantity"`
	UnitPrice moneyJSON `json:"unit_price"`
	LineTotal moneyJSON `json:"line_total"`
}

type orderJSON struct {
	ID              string     `json:"id"`
	UserID          string     `json:"user_id"`
	Status          string     `json:"status"`
	Total           moneyJSON  `json:"total"`
	ItemCount       int        `json:"item_count"`
	Items           []itemJSON `json:"items,omitempty"`
	SellerID        string     `json:"seller_id,omitempty"`
	CancelReason    string     `json:"cancel_reason,omitempty"`
	CreatedAt       time.Time  `json:"created_at"`
	UpdatedAt       time.Time  `json:"updated_at"`
	StatusChangedAt time.Time  `json:"status_changed_at"`
	PaidAt          *time.Time `json:"paid_at,omitempty"`
}

func toOrder(o order.Order) orderJSON {
	out := orderJSON{
		ID: o.ID, UserID: o.UserID, Status: string(o.Status),
		Total:     moneyJSON{AmountMinor: o.TotalMinor, Currency: o.Currency},
		ItemCount: o.ItemCount, SellerID: o.SellerID, CancelReason: o.CancelReason,
		CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt, StatusChangedAt: o.StatusChangedAt, PaidAt: o.PaidAt,
	}
	for _, it := range o.Items {
		out.Items = append(out.Items, itemJSON{
			ProductID: it.ProductID, SKU: it.SKU, Name: it.Name, SellerID: it.SellerID, Quantity: it.Quantity,
			UnitPrice: moneyJSON{AmountMinor: it.UnitPriceMinor, Currency: o.Currency},
			LineTotal: moneyJSON{AmountMinor: it.LineTotalMinor(), Currency: o.Currency},
		})
	}
	return out
}

type pageJSON struct {
	Orders     []orderJSON `json:"orders"`
	NextCursor string      `json:"next_cursor,omitempty"`
}

func toPage(p order.OrderPage) pageJSON {
	out := pageJSON{Orders: make([]orderJSON, len(p.Orders)), NextCursor: p.NextCursor}
	for i, o := range p.Orders {
		out.Orders[i] = toOrder(o)
	}
	return out
}

type eventJSON struct {
	ID   string `json:"id"`
	Type string `json:"type"`
}

type actorJSON struct {
	ID   string `json:"id"`
	Role string `json:"role,omitempty"`
}

type entryJSON struct {
	At      time.Time         `json:"at"`
	Kind    string            `json:"kind"`
	From    string            `json:"from,omitempty"`
	To      string            `json:"to"`
	Actor   *actorJSON        `json:"actor,omitempty"`
	Reason  string            `json:"reason,omitempty"`
	Note    string            `json:"note,omitempty"`
	Event   *eventJSON        `json:"event,omitempty"`
	Emitted *eventJSON        `json:"emitted,omitempty"`
	Detail  map[string]string `json:"detail,omitempty"`
}

type timelineJSON struct {
	OrderID string      `json:"order_id"`
	Entries []entryJSON `json:"entries"`
}

func toTimeline(orderID string, entries []order.HistoryEntry) timelineJSON {
	out := timelineJSON{OrderID: orderID, Entries: make([]entryJSON, len(entries))}
	for i, h := range entries {
		e := entryJSON{
			At: h.At, Kind: string(h.Kind), From: string(h.From), To: string(h.To),
			Reason: h.Reason, Note: h.Note, Detail: h.Detail,
			Event: eventRef(h.Cause), Emitted: eventRef(h.Emitted),
		}
		if h.Actor != nil {
			e.Actor = &actorJSON{ID: h.Actor.ID, Role: string(h.Actor.Role)}
		}
		out.Entries[i] = e
	}
	return out
}

func eventRef(r *order.EventRef) *eventJSON {
	if r == nil {
		return nil
	}
	return &eventJSON{ID: r.ID, Type: r.Type}
}

type revenueJSON struct {
	Currency    string `json:"currency"`
	AmountMinor int64  `json:"amount_minor"`
	Orders      int64  `json:"orders"`
}

type statsJSON struct {
	Counts  map[string]int64 `json:"counts"`
	Total   int64            `json:"total"`
	Revenue []revenueJSON    `json:"revenue"`
	Stuck   map[string]int64 `json:"stuck"`
}

func toStats(s order.Stats) statsJSON {
	out := statsJSON{
		Counts:  make(map[string]int64, len(s.Counts)),
		Revenue: make([]revenueJSON, len(s.Revenue)),
		Stuck:   make(map[string]int64, len(s.Stuck)),
	}
	for st, n := range s.Counts {
		out.Counts[string(st)] = n
		out.Total += n
	}
	for i, r := range s.Revenue {
		out.Revenue[i] = revenueJSON{Currency: r.Currency, AmountMinor: r.AmountMinor, Orders: r.Orders}
	}
	for st, n := range s.Stuck {
		out.Stuck[string(st)] = n
	}
	return out
}
