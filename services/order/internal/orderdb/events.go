package orderdb

import (
	"context"
	"fmt"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/shop-oss/shop/pkg/event"
	"github.com/shop-oss/shop/pkg/logging"
	"github.com/shop-oss/shop/proto-events/eventsv1"
	"github.com/shop-oss/shop/services/order/internal/order"
)

// newEvent is the outbox event of a domain event for the order key: its
// protobuf contract (message) in the envelope; its correlation ID is the
// order ID, as the saga's events carry.
func newEvent(ctx context.Context, key string, ev order.Event) (event.Event, error) {
	msg, err := message(ev)
	if err != nil {
		return event.Event{}, err
	}
	e, err := event.New(logging.WithCorrelationID(ctx, key), key, msg)
	if err != nil {
		return event.Event{}, fmt.Errorf("event for %s: %w", key, err)
	}
	return e, nil
}

// message is the protobuf contract (proto-events) of a domain event: the
// one place the order's events get their wire form.
func message(ev order.Event) (proto.Message, error) {
	switch e := ev.(type) {
	case order.Created:
		o := e.Order
		lines := make([]*eventsv1.OrderLine, len(o.Items))
		for i, it := range o.Items {
			lines[i] = &eventsv1.OrderLine{
				ProductId: it.ProductID, Quantity: int32(it.Quantity),
				UnitPrice: &eventsv1.Money{AmountMinor: it.UnitPriceMinor, Currency: o.Currency},
			}
		}
		return &eventsv1.OrderCreated{
			OrderId: o.ID, UserId: o.UserID, Lines: lines,
			Total: &eventsv1.Money{AmountMinor: o.TotalMinor, Currency: o.Currency},
		}, nil
	case order.Cancelled:
		return &eventsv1.OrderCancelled{
			OrderId: e.OrderID, UserId: e.UserID, Reason: e.Reason, PreviousStatus: string(e.PreviousStatus),
			Paid:  e.Paid,
			Total: &eventsv1.Money{AmountMinor: e.Total.AmountMinor, Currency: e.Total.Currency}, CancelledBy: e.CancelledBy,
		}, nil
	case order.Shipped:
		return &eventsv1.OrderShipped{OrderId: e.OrderID, At: timestamppb.New(e.At)}, nil
	case order.Delivered:
		return &eventsv1.OrderDelivered{OrderId: e.OrderID, At: timestamppb.New(e.At)}, nil
	}
	return nil, fmt.Errorf("order event %T has no wire form", ev)
}
