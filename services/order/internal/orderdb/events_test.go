package orderdb

import (
	"testing"
	"time"

	"github.com/shop-oss/shop/proto-events/eventsv1"
	"github.com/shop-oss/shop/services/order/internal/order"
)

// The order's events get their wire form here: what ORDER_CANCELLED says,
// and each event's message type.
func TestEventsInTheirWireForm(t *testing.T) {
	msg, err := message(order.Cancelled{
		OrderID: "o1", UserID: "u1", Reason: order.ReasonAdmin, PreviousStatus: order.StatusPaid, Paid: true,
		Total: order.Money{AmountMinor: 1234, Currency: "EUR"}, CancelledBy: "a1",
	})
	c, ok := msg.(*eventsv1.OrderCancelled)
	if err != nil || !ok || c.GetOrderId() != "o1" || c.GetUserId() != "u1" || c.GetReason() != order.ReasonAdmin ||
		c.GetPreviousStatus() != "PAID" || !c.GetPaid() || c.GetCancelledBy() != "a1" ||
		c.GetTotal().GetAmountMinor() != 1234 || c.GetTotal().GetCurrency() != "EUR" {
		t.Fatalf("ORDER_CANCELLED: %v, %v", msg, err)
	}
	now := time.Now()
	o := order.Order{ID: "o2", UserID: "u2", Currency: "EUR", TotalMinor: 300,
		Items: []order.Item{{ProductID: "p1", Quantity: 3, UnitPriceMinor: 100}}}
	msg, err = message(order.Created{Order: o})
	created, ok := msg.(*eventsv1.OrderCreated)
	if err != nil || !ok || created.GetOrderId() != "o2" || created.GetUserId() != "u2" || len(created.GetLines()) != 1 ||
		created.GetLines()[0].GetQuantity() != 3 || created.GetLines()[0].GetUnitPrice().GetAmountMinor() != 100 ||
		created.GetTotal().GetAmountMinor() != 300 {
		t.Fatalf("ORDER_CREATED: %v, %v", msg, err)
	}
	if msg, err := message(order.Shipped{OrderID: "o3", At: now}); err != nil ||
		msg.(*eventsv1.OrderShipped).GetAt().AsTime().UnixMicro() != now.UnixMicro() {
		t.Fatalf("ORDER_SHIPPED: %v, %v", msg, err)
	}
	if msg, err := message(order.Delivered{OrderID: "o4", At: now}); err != nil || msg.(*eventsv1.OrderDelivered).GetOrderId() != "o4" {
		t.Fatalf("ORDER_DELIVERED: %v, %v", msg, err)
	}
}
