package order

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Paging limits.
const (
	DefaultLimit = 20
	MaxLimit     = 100
)

// Filter narrows a list of orders. Zero fields do not filter.
type Filter struct {
	Status   Status
	UserID   string
	SellerID string
	// From and To bound the creation time: From <= created_at < To.
	From, To time.Time
	// Stuck keeps only orders that have been longer than their SLA in a
	// status that has one.
	Stuck bool
}

// Page asks for one page of a list.
type Page struct {
	Limit  int
	Cursor string
}

// OrderPage is one page of orders, newest first.
type OrderPage struct {
	Orders []Order
	// NextCursor fetches the next page; empty on the last one.
	NextCursor string
}

// Cursor is a keyset position: the last order of a page.
type Cursor struct {
	CreatedAt time.Time
	ID        string
}

type cursorJSON struct {
	T time.Time `json:"t"`
	I string    `json:"i"`
}

// Encode makes the opaque cursor string.
func (c Cursor) Encode() string {
	b, _ := json.Marshal(cursorJSON{T: c.CreatedAt.UTC(), I: c.ID})
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeCursor parses a cursor made by Encode.
func DecodeCursor(s string) (*Cursor, error) {
	if s == "" {
		return nil, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: not base64url", ErrInvalidCursor)
	}
	var c cursorJSON
	if err := json.Unmarshal(b, &c); err != nil || c.T.IsZero() {
		return nil, fmt.Errorf("%w: not a position", ErrInvalidCursor)
	}
	if _, err := uuid.Parse(c.I); err != nil {
		return nil, fmt.Errorf("%w: not a position", ErrInvalidCursor)
	}
	return &Cursor{CreatedAt: c.T, ID: c.I}, nil
}

// Stats is the dashboard's view of the orders.
type Stats struct {
	// Counts has every status, zero included.
	Counts map[Status]int64
	// Revenue is per currency, of orders paid and not cancelled (PAID,
	// SHIPPED, DELIVERED).
	Revenue []Revenue
	// Stuck counts, per status with an SLA, the orders past it (whatever
	// their creation time).
	Stuck map[Status]int64
}
