// Package order holds the rules of the order service: placing an order
// priced from the catalog replica, the transition table every state change
// goes through, who may see and change an order, the reactions to the saga
// events of inventory and payment, and the version rule of the catalog
// replica. It imports no web framework, ORM or Kafka client: stores and
// handlers adapt to it through the Store and Tx interfaces.
package order

import (
	"errors"
	"time"
)

// Sentinel errors, mapped to problems once, in the service wiring.
var (
	// ErrNotFound: no such order, or one the caller may not see (the two
	// are not told apart, so IDs cannot be probed).
	ErrNotFound = errors.New("order not found")
	// ErrForbidden: the caller sees the order (or names a user) but may not
	// do this.
	ErrForbidden = errors.New("not allowed")
	// ErrDuplicateKey: the user already placed an order with this
	// idempotency key (returned by Tx.CreateOrder).
	ErrDuplicateKey = errors.New("order with this idempotency key exists")
	// ErrReceiptRefused: the receipt of a placement was not written (its
	// key has a record already), so neither was the order.
	ErrReceiptRefused = errors.New("the placement's receipt was refused")
	// ErrInvalidCursor: a paging cursor that this service did not make.
	ErrInvalidCursor = errors.New("invalid cursor")
	// ErrUnknownOrder: a saga event names an order this service never had.
	ErrUnknownOrder = errors.New("event for an unknown order")
	// ErrInvalidEvent: a saga or catalog event lacks what it must carry.
	ErrInvalidEvent = errors.New("invalid event")
	// ErrEventMismatch: a saga event's numbers disagree with the order's
	// own (a payment of another amount or currency than the order's
	// total). Applying it would trust the event over the order's records:
	// it is dead-lettered with the reason.
	ErrEventMismatch = errors.New("event disagrees with the order")
	// ErrTooManyOpenOrders and ErrTooManyOpenUnits: placing the order
	// would leave the customer more unpaid orders (CREATED or
	// PAYMENT_PENDING), or more units in them, than Config allows. Each
	// unpaid order holds stock until it is paid or its reservation
	// expires, so one customer must not be able to hold it all.
	ErrTooManyOpenOrders = errors.New("too many unpaid orders")
	ErrTooManyOpenUnits  = errors.New("too many units in unpaid orders")
)

// Role is a caller's role, as the access token says.
type Role string

// The roles.
const (
	RoleCustomer Role = "CUSTOMER"
	RoleSeller   Role = "SELLER"
	RoleAdmin    Role = "ADMIN"
)

// Actor is the authenticated caller of a request.
type Actor struct {
	ID   string
	Role Role
}

// IsAdmin reports whether a is an administrator.
func (a Actor) IsAdmin() bool { return a.Role == RoleAdmin }

// Money is an amount in minor units of an ISO 4217 currency.
type Money struct {
	AmountMinor int64
	Currency    string
}

// Order is an order with its items (Items is empty where a read leaves them
// out, e.g. in lists).
type Order struct {
	ID       string
	UserID   string
	Status   Status
	Currency string
	// TotalMinor is the sum of quantity × unit price over the items.
	TotalMinor int64
	// SellerID is the seller of every line when one seller has them all,
	// else empty: that seller may see, ship and deliver the order.
	SellerID       string
	IdempotencyKey string
	// CancelReason is set once the order is CANCELLED.
	CancelReason string
	ItemCount    int
	Items        []Item
	CreatedAt    time.Time
	UpdatedAt    time.Time
	// StatusChangedAt is when the order entered its current status; the
	// stuck-saga SLAs are measured from it.
	StatusChangedAt time.Time
	PaidAt          *time.Time
}

// Total is the order total as Money.
func (o Order) Total() Money { return Money{AmountMinor: o.TotalMinor, Currency: o.Currency} }

// Item is one line of an order, priced from the replica when it was placed.
type Item struct {
	ProductID      string
	SKU            string
	Name           string
	SellerID       string
	Quantity       int
	UnitPriceMinor int64
}

// LineTotalMinor is quantity × unit price.
func (i Item) LineTotalMinor() int64 { return int64(i.Quantity) * i.UnitPriceMinor }

// canView: the owner, an admin, or the seller of every line.
func (a Actor) canView(o Order) bool {
	return a.IsAdmin() || (a.ID != "" && a.ID == o.UserID) || a.isSoleSeller(o)
}

// canCancel: the owner (the table then allows it only before SHIPPED) or an
// admin.
func (a Actor) canCancel(o Order) bool {
	return a.IsAdmin() || (a.ID != "" && a.ID == o.UserID)
}

// canFulfil (ship, deliver): an admin or the seller of every line.
func (a Actor) canFulfil(o Order) bool { return a.IsAdmin() || a.isSoleSeller(o) }

func (a Actor) isSoleSeller(o Order) bool {
	return a.Role == RoleSeller && a.ID != "" && a.ID == o.SellerID
}

// HistoryKind says what a timeline entry records.
type HistoryKind string

// The kinds of timeline entries.
const (
	// KindTransition: the status changed.
	KindTransition HistoryKind = "TRANSITION"
	// KindEvent: a saga event that changes no status (PAYMENT_INITIATED,
	// INVENTORY_CONFIRMED, ...) was recorded.
	KindEvent HistoryKind = "EVENT"
	// KindIgnored: an event asked for a transition that the table does not
	// allow from the current status (late or duplicate); it was recorded
	// and absorbed, never retried.
	KindIgnored HistoryKind = "IGNORED"
)

// EventRef names an event.
type EventRef struct {
	ID   string
	Type string
}

// HistoryEntry is one step of an order's timeline.
type HistoryEntry struct {
	OrderID string
	At      time.Time
	Kind    HistoryKind
	// From is empty for the entry that created the order.
	From, To Status
	// Actor is the user who asked (nil when the system reacted to an event).
	Actor *Actor
	// Reason is a machine-readable reason (CUSTOMER_REQUEST, OUT_OF_STOCK,
	// ...) or, for ignored events, why it was ignored.
	Reason string
	// Note is free text from the actor.
	Note string
	// Cause is the event that caused the step (nil for requests).
	Cause *EventRef
	// Emitted is the event this step published, if any.
	Emitted *EventRef
	// Detail carries what the causing event said (payment ID, amount,
	// reservation ID, ...).
	Detail map[string]string
}
