// Package paymentevents is the payment service's event consumer: handlers
// for ORDER_CREATED and ORDER_CANCELLED (order.events) and
// INVENTORY_RESERVED and RESERVATION_EXPIRED (inventory.events) that decode
// the protobuf payload, check it against the contract, and call the payment
// Service inside the consumer's inbox transaction.
package paymentevents

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/shop-oss/shop/pkg/consumer"
	"github.com/shop-oss/shop/pkg/event"
	"github.com/shop-oss/shop/proto-events/eventsv1"
	"github.com/shop-oss/shop/services/payment/internal/payment"
	"github.com/shop-oss/shop/services/payment/internal/paymentdb"
)

// Register adds the handlers to c. changed, when not nil, is told the
// order ID once a transaction that created the order's payment, or closed
// the order, has committed (it wakes the requests waiting in ListWait).
func Register(c *consumer.Consumer, svc *payment.Service, changed func(orderID string)) {
	h := Handlers{svc: svc, changed: changed}
	c.Handle(eventsv1.TypeOrderCreated, h.OrderCreated)
	c.Handle(eventsv1.TypeOrderCancelled, h.OrderCancelled)
	c.Handle(eventsv1.TypeInventoryReserved, h.InventoryReserved)
	c.Handle(eventsv1.TypeReservationExpired, h.ReservationExpired)
}

// Handlers are the consumer.Handler functions of the service.
type Handlers struct {
	svc     *payment.Service
	changed func(orderID string)
}

// done tells changed about orderID once the transaction commits, when the
// handler succeeded and changed what a waiting request looks for (the
// payment was created, or the order closed).
func (h Handlers) done(ctx context.Context, orderID string, changed bool, err error) error {
	if err == nil && changed && h.changed != nil {
		consumer.AfterCommit(ctx, func() { h.changed(orderID) })
	}
	return err
}

// NewHandlers returns the handlers over svc (Register uses them; tests call
// them directly).
func NewHandlers(svc *payment.Service) Handlers { return Handlers{svc: svc} }

// OrderCreated records the order's owner and total; creates the payment if
// the order is already reserved.
func (h Handlers) OrderCreated(ctx context.Context, tx *gorm.DB, e event.Event) error {
	m, err := event.DecodeAs[*eventsv1.OrderCreated](e)
	if err != nil {
		return err
	}
	orderID, err := uuidField(e, "order_id", m.GetOrderId())
	if err != nil {
		return err
	}
	userID, err := uuidField(e, "user_id", m.GetUserId())
	if err != nil {
		return err
	}
	total := m.GetTotal()
	if total.GetAmountMinor() <= 0 || !currency(total.GetCurrency()) {
		return invalid(e, "total %d %q", total.GetAmountMinor(), total.GetCurrency())
	}
	in := payment.OrderCreated{
		OrderID: orderID, UserID: userID,
		Total: payment.Money{AmountMinor: total.GetAmountMinor(), Currency: total.GetCurrency()},
	}
	created, err := h.svc.HandleOrderCreated(ctx, paymentdb.Bind(tx), in)
	return h.done(ctx, orderID, created, err)
}

// InventoryReserved records the reservation; creates the payment if the
// order is known.
func (h Handlers) InventoryReserved(ctx context.Context, tx *gorm.DB, e event.Event) error {
	m, err := event.DecodeAs[*eventsv1.InventoryReserved](e)
	if err != nil {
		return err
	}
	orderID, err := uuidField(e, "order_id", m.GetOrderId())
	if err != nil {
		return err
	}
	reservationID, err := uuidField(e, "reservation_id", m.GetReservationId())
	if err != nil {
		return err
	}
	// An absent expires_at means no expiry is known: confirm then relies
	// on RESERVATION_EXPIRED alone.
	var expires time.Time
	if ts := m.GetExpiresAt(); ts != nil {
		expires = ts.AsTime()
	}
	created, err := h.svc.HandleInventoryReserved(ctx, paymentdb.Bind(tx), orderID, reservationID, expires)
	return h.done(ctx, orderID, created, err)
}

// ReservationExpired voids the order's pending payment.
func (h Handlers) ReservationExpired(ctx context.Context, tx *gorm.DB, e event.Event) error {
	m, err := event.DecodeAs[*eventsv1.ReservationExpired](e)
	if err != nil {
		return err
	}
	orderID, err := uuidField(e, "order_id", m.GetOrderId())
	if err != nil {
		return err
	}
	return h.done(ctx, orderID, true, h.svc.HandleReservationExpired(ctx, paymentdb.Bind(tx), orderID))
}

// OrderCancelled voids a pending payment or refunds a captured one.
func (h Handlers) OrderCancelled(ctx context.Context, tx *gorm.DB, e event.Event) error {
	m, err := event.DecodeAs[*eventsv1.OrderCancelled](e)
	if err != nil {
		return err
	}
	orderID, err := uuidField(e, "order_id", m.GetOrderId())
	if err != nil {
		return err
	}
	return h.done(ctx, orderID, true, h.svc.HandleOrderCancelled(ctx, paymentdb.Bind(tx), payment.OrderCancelled{
		OrderID: orderID, Reason: m.GetReason(), Paid: m.GetPaid(),
	}))
}

// uuidField checks that a field holds a UUID and returns its canonical form.
// An event breaking the contract can never be applied: it is dead-lettered
// at once.
func uuidField(e event.Event, name, v string) (string, error) {
	id, err := uuid.Parse(v)
	if err != nil {
		return "", invalid(e, "%s %q is not a UUID", name, v)
	}
	return id.String(), nil
}

func invalid(e event.Event, format string, args ...any) error {
	return consumer.Permanent(fmt.Errorf("%s %s: %w: %s", e.Type, e.ID, payment.ErrInvalidEvent, fmt.Sprintf(format, args...)))
}

func currency(c string) bool {
	if len(c) != 3 {
		return false
	}
	for i := range 3 {
		if c[i] < 'A' || c[i] > 'Z' {
			return false
		}
	}
	return true
}
