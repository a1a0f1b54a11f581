// Package paymentevents is the payment service's event consumer: handlers
// for ORDER_CANCELLED (order.events) and INVENTORY_RESERVED and
// RESERVATION_EXPIRED (inventory.events) that decode
// the protobuf payload, check it against the contract, and call the payment
// Service inside the consumer's inbox transaction.
package paymentevents

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"
	"gorm.io/gorm"

	"github.com/shop-oss/shop/pkg/consumer"
	"github.com/shop-oss/shop/pkg/event"
	"github.com/shop-oss/shop/proto-events/eventsv1"
	"github.com/shop-oss/shop/services/payment/internal/payment"
	"github.com/shop-oss/shop/services/payment/internal/paymentdb"
)

// Handlers are the consumer.Handler functions of the service, and their
// batch case.
type Handlers struct {
	svc     *payment.Service
	changed func(orderID string)
	batch   *consumer.Batch[read, payment.Reserved, bool]
}

// New returns the handlers over svc. changed, when not nil, is told the
// order ID once a transaction that created the order's payment, or closed
// the order, has committed (it wakes the requests waiting in ListWait).
func New(svc *payment.Service, changed func(orderID string)) *Handlers {
	h := &Handlers{svc: svc, changed: changed}
	h.batch = &consumer.Batch[read, payment.Reserved, bool]{Key: h.key, Plan: plan, Apply: h.apply}
	return h
}

// Register adds every handler, and the batch case, to c.
func (h *Handlers) Register(c *consumer.Consumer) {
	c.Handle(eventsv1.TypeOrderCancelled, h.OrderCancelled)
	c.Handle(eventsv1.TypeInventoryReserved, h.InventoryReserved)
	c.Handle(eventsv1.TypeReservationExpired, h.ReservationExpired)
	c.PrepareBatches(h.Prepare)
}

// done tells changed about orderID once the transaction commits, when the
// handler succeeded and changed what a waiting request looks for (the
// payment was created, or the order closed).
func (h *Handlers) done(ctx context.Context, orderID string, changed bool, err error) error {
	if err == nil && changed && h.changed != nil {
		consumer.AfterCommit(ctx, func() { h.changed(orderID) })
	}
	return err
}

// Prepare is the batch case (consumer.Batch): before a batch of several
// events is handled, the INVENTORY_RESERVED events of orders with no
// other event in the batch are applied at once (the store writes them in
// two round trips for all, after locking every order of the batch); the
// handlers then only take note of each outcome.
func (h *Handlers) Prepare(ctx context.Context, tx *gorm.DB, batch []event.Event) (context.Context, error) {
	return h.batch.Prepare(ctx, tx, batch)
}

// read is what the batch reads of an event: its order and, for
// INVENTORY_RESERVED, what it records.
type read struct {
	order    string
	reserved *payment.Reserved
}

func (h *Handlers) key(e event.Event) (string, read, bool) {
	orderID, r, err := decode(e)
	return orderID, read{order: orderID, reserved: r}, err == nil // else its handler dead-letters it
}

func plan(_ context.Context, r read) (payment.Reserved, bool) {
	if r.reserved == nil {
		return payment.Reserved{}, false
	}
	return *r.reserved, true
}

// apply records the batch's reservations, after the locks of every order
// of the batch; out[i] says whether records[i] created its payment.
func (h *Handlers) apply(ctx context.Context, tx *gorm.DB, lock []string, records []payment.Reserved) ([]bool, bool, error) {
	created, err := h.svc.OnInventoryReserved(ctx, paymentdb.Bind(tx, lock...), records...)
	return created, true, err
}

// InventoryReserved records the reservation; creates the payment if the
// order is known.
func (h *Handlers) InventoryReserved(ctx context.Context, tx *gorm.DB, e event.Event) error {
	if p, ok := h.batch.Outcome(ctx, e); ok { // applied by the batch
		return h.done(ctx, p.Value.order, p.Out, nil)
	}
	r, err := inventoryReserved(e)
	if err != nil {
		return err
	}
	created, err := h.svc.OnInventoryReserved(ctx, paymentdb.Bind(tx), r)
	return h.done(ctx, r.OrderID, err == nil && created[0], permanentIfRefused(err))
}

// decode returns the order an event of the handlers is about and, for
// INVENTORY_RESERVED, what it records.
func decode(e event.Event) (string, *payment.Reserved, error) {
	if e.Type == eventsv1.TypeInventoryReserved {
		r, err := inventoryReserved(e)
		return r.OrderID, &r, err
	}
	m, err := e.Decode()
	if err != nil {
		return "", nil, err
	}
	o, ok := m.(interface{ GetOrderId() string })
	if !ok {
		return "", nil, invalid(e, "no order ID")
	}
	orderID, err := uuidField(e, "order_id", o.GetOrderId())
	return orderID, nil, err
}

func inventoryReserved(e event.Event) (payment.Reserved, error) {
	m, err := event.DecodeAs[*eventsv1.InventoryReserved](e)
	if err != nil {
		return payment.Reserved{}, err
	}
	r := payment.Reserved{}
	if r.OrderID, err = uuidField(e, "order_id", m.GetOrderId()); err != nil {
		return payment.Reserved{}, err
	}
	if r.ReservationID, err = uuidField(e, "reservation_id", m.GetReservationId()); err != nil {
		return payment.Reserved{}, err
	}
	// An absent expires_at means no expiry is known: confirm then relies
	// on RESERVATION_EXPIRED alone.
	if ts := m.GetExpiresAt(); ts != nil {
		r.ExpiresAt = ts.AsTime()
	}
	// The owner and total come together or not at all. An inventory older
	// than these fields, or a staff reservation that named neither, sends
	// neither: the payment is then created only if the projection knows the
	// order from an older payment service, which consumed ORDER_CREATED;
	// otherwise the reservation expires and the saga cancels the order.
	if m.GetUserId() == "" && m.GetTotal() == nil {
		return r, nil
	}
	if r.UserID, err = uuidField(e, "user_id", m.GetUserId()); err != nil {
		return payment.Reserved{}, err
	}
	total := m.GetTotal()
	if total.GetAmountMinor() <= 0 || !currency(total.GetCurrency()) {
		return payment.Reserved{}, invalid(e, "total %d %q", total.GetAmountMinor(), total.GetCurrency())
	}
	r.Total = payment.Money{AmountMinor: total.GetAmountMinor(), Currency: total.GetCurrency()}
	return r, nil
}

// ReservationExpired voids the order's pending payment.
func (h *Handlers) ReservationExpired(ctx context.Context, tx *gorm.DB, e event.Event) error {
	_, orderID, err := decodeOrder[*eventsv1.ReservationExpired](e)
	if err != nil {
		return err
	}
	return h.done(ctx, orderID, true, h.svc.OnReservationExpired(ctx, paymentdb.Bind(tx), orderID))
}

// OrderCancelled voids a pending payment or refunds a captured one.
func (h *Handlers) OrderCancelled(ctx context.Context, tx *gorm.DB, e event.Event) error {
	m, orderID, err := decodeOrder[*eventsv1.OrderCancelled](e)
	if err != nil {
		return err
	}
	in := payment.OrderCancelled{OrderID: orderID, Reason: m.GetReason(), Paid: m.GetPaid()}
	if m.GetUserId() != "" {
		if in.UserID, err = uuidField(e, "user_id", m.GetUserId()); err != nil {
			return err
		}
	}
	if t := m.GetTotal(); t != nil {
		in.Total = &payment.Money{AmountMinor: t.GetAmountMinor(), Currency: t.GetCurrency()}
	}
	return h.done(ctx, orderID, true, permanentIfRefused(h.svc.OnOrderCancelled(ctx, paymentdb.Bind(tx), in)))
}

// decodeOrder decodes e as an M and checks the order ID it names.
func decodeOrder[M interface {
	proto.Message
	GetOrderId() string
}](e event.Event) (M, string, error) {
	m, err := event.DecodeAs[M](e)
	if err != nil {
		return m, "", err
	}
	orderID, err := uuidField(e, "order_id", m.GetOrderId())
	return m, orderID, err
}

// permanentIfRefused dead-letters at once an event the domain refused for
// good (its content breaks the contract, or its numbers disagree with
// payment's records: the error says which); anything else is retried.
func permanentIfRefused(err error) error {
	if errors.Is(err, payment.ErrInvalidEvent) || errors.Is(err, payment.ErrEventMismatch) {
		return consumer.Permanent(err)
	}
	return err
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
