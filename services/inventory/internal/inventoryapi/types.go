package inventoryapi

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/shop-oss/shop/pkg/problem"
	"github.com/shop-oss/shop/services/inventory/internal/inventory"
)

type lineJSON struct {
	ProductID string `json:"product_id" validate:"required,uuid"`
	Quantity  int64  `json:"quantity" validate:"gte=1,lte=1000000"`
}

type reserveRequest struct {
	OrderID string     `json:"order_id" validate:"required,uuid"`
	Lines   []lineJSON `json:"lines" validate:"required,min=1,max=100,dive"`
	// UserID and Total, both or neither, are passed on in
	// INVENTORY_RESERVED: payment creates the payment from them.
	UserID string     `json:"user_id" validate:"required_with=Total,omitempty,uuid"`
	Total  *totalJSON `json:"total" validate:"required_with=UserID"`
}

type totalJSON struct {
	AmountMinor int64  `json:"amount_minor" validate:"gte=1"`
	Currency    string `json:"currency" validate:"iso4217"`
}

// toDomain converts a validated request; uniqueness of products is the
// domain's rule (ReserveRequest.Validate).
func (r reserveRequest) toDomain() inventory.ReserveRequest {
	out := inventory.ReserveRequest{OrderID: uuid.MustParse(r.OrderID), Lines: make([]inventory.Line, len(r.Lines))}
	if r.Total != nil {
		out.Payable = &inventory.Payable{UserID: uuid.MustParse(r.UserID), AmountMinor: r.Total.AmountMinor, Currency: r.Total.Currency}
	}
	for i, l := range r.Lines {
		out.Lines[i] = inventory.Line{ProductID: uuid.MustParse(l.ProductID), Quantity: l.Quantity}
	}
	return out
}

type orderRequest struct {
	OrderID string `json:"order_id" validate:"required,uuid"`
}

type releaseRequest struct {
	OrderID string `json:"order_id" validate:"required,uuid"`
	// Reason is recorded on the reservation and in INVENTORY_RELEASED.
	Reason string `json:"reason" validate:"omitempty,max=64"`
}

type setStockRequest struct {
	OnHand            *int64 `json:"on_hand" validate:"required,gte=0,lte=1000000000"`
	LowStockThreshold *int64 `json:"low_stock_threshold" validate:"omitempty,gte=0,lte=1000000000"`
}

type adjustRequest struct {
	Delta  int64  `json:"delta" validate:"required,gte=-1000000000,lte=1000000000"`
	Reason string `json:"reason" validate:"required,max=500"`
	Kind   string `json:"kind" validate:"omitempty,oneof=ADJUSTED RECEIVED"`
}

type reservationJSON struct {
	ID          string     `json:"id"`
	OrderID     string     `json:"order_id"`
	Status      string     `json:"status"`
	Placeholder bool       `json:"placeholder"`
	Lines       []lineJSON `json:"lines"`
	ExpiresAt   time.Time  `json:"expires_at"`
	Reason      string     `json:"reason,omitempty"`
	Restocked   bool       `json:"restocked"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
}

func toReservationJSON(r inventory.Reservation) reservationJSON {
	out := reservationJSON{
		ID: r.ID.String(), OrderID: r.OrderID.String(), Status: string(r.Status), Placeholder: r.Placeholder,
		Lines: make([]lineJSON, len(r.Lines)), ExpiresAt: r.ExpiresAt, Reason: r.Reason, Restocked: r.Restocked,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
	for i, l := range r.Lines {
		out.Lines[i] = lineJSON{ProductID: l.ProductID.String(), Quantity: l.Quantity}
	}
	return out
}

// stockJSON is a product's availability. The figures behind it (on hand,
// reserved, threshold) are the seller's business: only the product's seller
// and admins see them.
type stockJSON struct {
	ProductID         string    `json:"product_id"`
	SKU               string    `json:"sku"`
	SellerID          *string   `json:"seller_id"`
	Status            string    `json:"status"`
	Available         int64     `json:"available"`
	InStock           bool      `json:"in_stock"`
	LowStock          bool      `json:"low_stock"`
	OnHand            *int64    `json:"on_hand,omitempty"`
	Reserved          *int64    `json:"reserved,omitempty"`
	LowStockThreshold *int64    `json:"low_stock_threshold,omitempty"`
	UpdatedAt         time.Time `json:"updated_at"`
}

func toStockJSON(s inventory.Stock, defThreshold int64, full bool) stockJSON {
	out := stockJSON{
		ProductID: s.ProductID.String(), SKU: s.SKU, Status: string(s.Status),
		Available: max(s.Available(), 0), InStock: s.Status == inventory.ProductActive && s.Available() > 0,
		LowStock: s.Low(defThreshold), UpdatedAt: s.UpdatedAt.UTC(),
	}
	if s.SellerID != uuid.Nil {
		id := s.SellerID.String()
		out.SellerID = &id
	}
	if full {
		onHand, reserved, threshold := s.OnHand, s.Reserved, s.Threshold(defThreshold)
		out.OnHand, out.Reserved, out.LowStockThreshold = &onHand, &reserved, &threshold
	}
	return out
}

type movementJSON struct {
	ID            int64     `json:"id"`
	Kind          string    `json:"kind"`
	OnHandDelta   int64     `json:"on_hand_delta"`
	ReservedDelta int64     `json:"reserved_delta"`
	OnHandAfter   int64     `json:"on_hand_after"`
	ReservedAfter int64     `json:"reserved_after"`
	ReservationID *string   `json:"reservation_id"`
	OrderID       *string   `json:"order_id"`
	ActorID       *string   `json:"actor_id"`
	Reason        string    `json:"reason"`
	CreatedAt     time.Time `json:"created_at"`
}

func toMovementJSON(m inventory.Movement) movementJSON {
	opt := func(id uuid.UUID) *string {
		if id == uuid.Nil {
			return nil
		}
		s := id.String()
		return &s
	}
	return movementJSON{
		ID: m.ID, Kind: string(m.Kind), OnHandDelta: m.OnHandDelta, ReservedDelta: m.ReservedDelta,
		OnHandAfter: m.OnHandAfter, ReservedAfter: m.ReservedAfter,
		ReservationID: opt(m.ReservationID), OrderID: opt(m.OrderID), ActorID: opt(m.ActorID),
		Reason: m.Reason, CreatedAt: m.CreatedAt,
	}
}

type pageQuery struct {
	Limit  int    `form:"limit" validate:"omitempty,min=1,max=100"`
	Cursor string `form:"cursor" validate:"omitempty,max=200"`
}

type listQuery struct {
	pageQuery
	LowStock bool   `form:"low_stock"`
	SellerID string `form:"seller_id" validate:"omitempty,uuid"`
}

func (q pageQuery) limit() int {
	if q.Limit == 0 {
		return 20
	}
	return q.Limit
}

// Cursors are opaque to clients: base64url of "<kind>:<position>".
func encodeCursor(kind, pos string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(kind + ":" + pos))
}

func errBadCursor() error {
	return problem.Errorf(http.StatusBadRequest, "invalid-cursor", "Invalid cursor", "the cursor is not one this list returned")
}

func decodeCursor(cursor, kind string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return "", errBadCursor()
	}
	k, pos, ok := strings.Cut(string(b), ":")
	if !ok || k != kind {
		return "", errBadCursor()
	}
	return pos, nil
}

func productCursor(cursor string) (uuid.UUID, error) {
	if cursor == "" {
		return uuid.Nil, nil
	}
	pos, err := decodeCursor(cursor, "p")
	if err != nil {
		return uuid.Nil, err
	}
	id, err := uuid.Parse(pos)
	if err != nil {
		return uuid.Nil, errBadCursor()
	}
	return id, nil
}

func movementCursor(cursor string) (int64, error) {
	if cursor == "" {
		return 0, nil
	}
	pos, err := decodeCursor(cursor, "m")
	if err != nil {
		return 0, err
	}
	id, err := strconv.ParseInt(pos, 10, 64)
	if err != nil || id <= 0 {
		return 0, errBadCursor()
	}
	return id, nil
}
