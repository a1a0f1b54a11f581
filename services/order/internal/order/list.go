package order

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/shop-oss/shop/pkg/problem"
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

// decodeCursor parses a cursor made by Encode.
func decodeCursor(s string) (*Cursor, error) {
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

// ListForUser lists a user's orders, for that user or an admin.
func (s *Service) ListForUser(ctx context.Context, actor Actor, userID string, status Status, page Page) (OrderPage, error) {
	if !actor.IsAdmin() && (actor.ID == "" || actor.ID != userID) {
		return OrderPage{}, fmt.Errorf("orders of user %s: %w", userID, ErrForbidden)
	}
	return s.list(ctx, Filter{UserID: userID, Status: status}, page)
}

// List lists orders for staff: an admin sees all, a seller only the orders
// whose every line is theirs.
func (s *Service) List(ctx context.Context, actor Actor, f Filter, page Page) (OrderPage, error) {
	switch {
	case actor.IsAdmin():
	case actor.Role == RoleSeller && actor.ID != "":
		f.SellerID = actor.ID
	default:
		return OrderPage{}, fmt.Errorf("list orders: %w", ErrForbidden)
	}
	return s.list(ctx, f, page)
}

func (s *Service) list(ctx context.Context, f Filter, page Page) (OrderPage, error) {
	if err := validateFilter(f); err != nil {
		return OrderPage{}, err
	}
	limit := page.Limit
	switch {
	case limit <= 0:
		limit = DefaultLimit
	case limit > MaxLimit:
		limit = MaxLimit
	}
	after, err := decodeCursor(page.Cursor)
	if err != nil {
		return OrderPage{}, err
	}
	q := ListQuery{Filter: f, After: after, Limit: limit + 1}
	if f.Stuck {
		q.StuckCutoffs = s.stuckCutoffs()
	}
	orders, err := s.store.List(ctx, q)
	if err != nil {
		return OrderPage{}, fmt.Errorf("list orders: %w", err)
	}
	out := OrderPage{Orders: orders}
	if len(orders) > limit {
		out.Orders = orders[:limit]
		last := out.Orders[limit-1]
		out.NextCursor = Cursor{CreatedAt: last.CreatedAt, ID: last.ID}.Encode()
	}
	return out, nil
}

func validateFilter(f Filter) error {
	var fields []problem.FieldError
	if f.Status != "" && !f.Status.Valid() {
		fields = append(fields, problem.Field("status", "must be one of %v", Statuses))
	}
	if f.UserID != "" && !isUUID(f.UserID) {
		fields = append(fields, problem.Field("user_id", "must be a UUID"))
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.To.After(f.From) {
		fields = append(fields, problem.Field("to", "must be after from"))
	}
	if len(fields) > 0 {
		return problem.Validation(fields...)
	}
	return nil
}
