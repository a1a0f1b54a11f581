package order

import "time"

// Event is what a change of an order tells the other services (the topic
// order.events, keyed by order ID). The rules say which change publishes
// which event; the store gives each its wire form (orderdb turns them into
// the protobuf contract and outbox rows), so the rules never see it.
type Event interface {
	// orderID is the order the event is about: its key on the topic.
	orderID() string
}

// Created is ORDER_CREATED: a new order, its lines and total, for inventory
// to reserve and payment to charge.
type Created struct {
	Order Order
}

// Cancelled is ORDER_CANCELLED, published by every cancellation whatever
// caused it, so that inventory and payment always learn of it: inventory
// releases (a no-op when nothing is reserved), payment voids or, when it
// captured a payment (Paid), refunds.
type Cancelled struct {
	OrderID, UserID string
	Reason          string
	PreviousStatus  Status
	Paid            bool
	Total           Money
	// CancelledBy is the user who asked; empty when an event or the saga
	// timeout cancelled the order.
	CancelledBy string
}

// Shipped is ORDER_SHIPPED.
type Shipped struct {
	OrderID string
	At      time.Time
}

// Delivered is ORDER_DELIVERED.
type Delivered struct {
	OrderID string
	At      time.Time
}

func (e Created) orderID() string   { return e.Order.ID }
func (e Cancelled) orderID() string { return e.OrderID }
func (e Shipped) orderID() string   { return e.OrderID }
func (e Delivered) orderID() string { return e.OrderID }

// statusEvent is the event that entering o's (new) status publishes, or nil.
func statusEvent(o Order, from Status, c cause, now time.Time) Event {
	switch o.Status {
	case StatusCancelled:
		by := ""
		if c.actor != nil {
			by = c.actor.ID
		}
		return Cancelled{
			OrderID: o.ID, UserID: o.UserID, Reason: c.reason, PreviousStatus: from,
			Paid: from == StatusPaid, Total: o.Total(), CancelledBy: by,
		}
	case StatusShipped:
		return Shipped{OrderID: o.ID, At: now}
	case StatusDelivered:
		return Delivered{OrderID: o.ID, At: now}
	}
	return nil
}
