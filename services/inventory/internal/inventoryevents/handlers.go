// Package inventoryevents handles the events inventory consumes: the order
// saga (ORDER_CREATED, PAYMENT_SUCCESS, PAYMENT_FAILED, ORDER_CANCELLED) and
// catalog's products (PRODUCT_UPSERTED, PRODUCT_ARCHIVED). Each handler runs
// in the consumer's inbox transaction (one event is applied once), decodes
// the message and calls the domain in that transaction, so the change, the
// events it publishes and the inbox record commit together.
//
// Handlers never fail on the order events arrive in (the domain's state
// machine absorbs it) and never dead-letter a valid event: an order that
// breaks the contract (bad lines) is rejected with INVENTORY_REJECTED so the
// saga ends. Only messages that cannot name their order or product (a
// malformed ID) are Permanent.
package inventoryevents

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/shop-oss/shop/pkg/consumer"
	"github.com/shop-oss/shop/pkg/event"
	"github.com/shop-oss/shop/proto-events/eventsv1"
	"github.com/shop-oss/shop/services/inventory/internal/inventory"
	"github.com/shop-oss/shop/services/inventory/internal/inventorydb"
)

// Handlers holds the event handlers.
type Handlers struct {
	svc *inventory.Service
	log *slog.Logger
}

// New returns the handlers.
func New(svc *inventory.Service, log *slog.Logger) *Handlers {
	return &Handlers{svc: svc, log: log}
}

// Register registers every handler, and Prepare for batches, with the
// consumer.
func (h *Handlers) Register(c *consumer.Consumer) {
	c.PrepareBatches(h.Prepare)
	c.Handle(eventsv1.TypeOrderCreated, h.OrderCreated)
	c.Handle(eventsv1.TypePaymentSuccess, h.PaymentSucceeded)
	c.Handle(eventsv1.TypePaymentFailed, h.PaymentFailed)
	c.Handle(eventsv1.TypeOrderCancelled, h.OrderCancelled)
	c.Handle(eventsv1.TypeProductUpserted, h.ProductUpserted)
	c.Handle(eventsv1.TypeProductArchived, h.ProductArchived)
}

// Prepare readies a batch of several events, handled in one transaction,
// through the store (inventorydb.PrepareBatch): it takes every lock the
// batch will touch in one global order, so that batches on different
// workers never deadlock, and sends the batch's plain operations (the new
// orders' reservations and the paid orders' confirmations, of orders with
// no other event in the batch) as one pipeline, which the handlers then
// finish. Events it cannot read are left to their handler.
func (h *Handlers) Prepare(ctx context.Context, gtx *gorm.DB, batch []event.Event) (context.Context, error) {
	if len(batch) < 2 {
		return ctx, nil // one event locks its rows in order by itself
	}
	var b inventorydb.Batch
	addID := func(to *[]uuid.UUID, s string) {
		if id, err := uuid.Parse(s); err == nil {
			*to = append(*to, id)
		}
	}
	type candidate struct {
		order   uuid.UUID
		created *eventsv1.OrderCreated // nil: a PAYMENT_SUCCESS
	}
	var candidates []candidate
	events := map[uuid.UUID]int{} // by order
	for _, e := range batch {
		msg, err := e.Decode()
		if err != nil {
			continue
		}
		var (
			order    string
			hasPlain bool // an event with a plain case: reserve or confirm
			created  *eventsv1.OrderCreated
		)
		switch m := msg.(type) {
		case *eventsv1.OrderCreated:
			order, hasPlain, created = m.GetOrderId(), true, m
			for _, l := range m.GetLines() {
				addID(&b.Products, l.GetProductId())
			}
		case *eventsv1.PaymentSucceeded:
			order, hasPlain = m.GetOrderId(), true
		case *eventsv1.PaymentFailed:
			order = m.GetOrderId()
		case *eventsv1.OrderCancelled:
			order = m.GetOrderId()
		case *eventsv1.ProductUpserted:
			addID(&b.Products, m.GetProductId())
		case *eventsv1.ProductArchived:
			addID(&b.Products, m.GetProductId())
		}
		if id, err := uuid.Parse(order); err == nil {
			b.Orders = append(b.Orders, id)
			events[id]++
			if hasPlain {
				candidates = append(candidates, candidate{order: id, created: created})
			}
		}
	}
	b.Plan = func(t inventory.Transactions) {
		svc := h.svc.In(t)
		for _, c := range candidates {
			switch {
			case events[c.order] != 1:
			case c.created != nil:
				if req, err := toReserveRequest(c.order, c.created); err == nil {
					_, _ = svc.Reserve(ctx, req)
				}
			default:
				_, _ = svc.Confirm(ctx, c.order, inventory.FromEvent)
			}
		}
	}
	ctx, touched, err := inventorydb.PrepareBatch(ctx, gtx, b)
	if err != nil {
		return ctx, err
	}
	// Every stock row the batch can change is one it just locked: drop
	// them from the cache once (the cache's guard keeps readers from
	// putting the old figures back until well after the commit), instead
	// of one Redis round trip per event while the locks are held.
	h.svc.Invalidate(ctx, touched)
	return context.WithValue(ctx, invalidatedKey{}, true), nil
}

// invalidatedKey marks a batch whose Prepare dropped from the cache every
// product the batch can change.
type invalidatedKey struct{}

// invalidate drops changed products from the cache, unless the batch's
// Prepare dropped all it could change already.
func (h *Handlers) invalidate(ctx context.Context, changed []uuid.UUID) {
	if done, _ := ctx.Value(invalidatedKey{}).(bool); !done {
		h.svc.Invalidate(ctx, changed)
	}
}

// in is the service working in the consumer's transaction gtx.
func (h *Handlers) in(ctx context.Context, gtx *gorm.DB) *inventory.Service {
	return h.svc.In(inventorydb.Bind(ctx, gtx))
}

// OrderCreated reserves the order's lines (INVENTORY_RESERVED), or rejects
// the order (INVENTORY_REJECTED) when a line is short, a product cannot be
// sold, or the lines are invalid.
func (h *Handlers) OrderCreated(ctx context.Context, gtx *gorm.DB, e event.Event) error {
	msg, err := event.DecodeAs[*eventsv1.OrderCreated](e)
	if err != nil {
		return err
	}
	orderID, err := parseID("order_id", msg.GetOrderId())
	if err != nil {
		return err
	}
	req, bad := toReserveRequest(orderID, msg)
	if bad == nil {
		if verr := req.Validate(); verr != nil {
			bad = verr
		}
	}
	svc := h.in(ctx, gtx)
	if bad != nil {
		h.log.WarnContext(ctx, "ORDER_CREATED with invalid lines; rejecting the order", "order_id", orderID, "error", bad.Error())
		return svc.Reject(ctx, invalidOrder(orderID, msg.GetLines()))
	}
	res, err := svc.Reserve(ctx, req)
	var rej *inventory.Rejection
	switch {
	case errors.As(err, &rej):
		// INVENTORY_REJECTED is written in this transaction: a result, not
		// a failure.
		return nil
	case errors.Is(err, inventory.ErrReservationConflict):
		h.log.WarnContext(ctx, "ORDER_CREATED for an order that already has another reservation; ignored",
			"order_id", orderID, "error", err.Error())
		return nil
	case err != nil:
		return err
	}
	h.invalidate(ctx, res.Changed)
	return nil
}

// PaymentSucceeded confirms the reservation: reserved units are sold.
func (h *Handlers) PaymentSucceeded(ctx context.Context, gtx *gorm.DB, e event.Event) error {
	msg, err := event.DecodeAs[*eventsv1.PaymentSucceeded](e)
	if err != nil {
		return err
	}
	orderID, err := parseID("order_id", msg.GetOrderId())
	if err != nil {
		return err
	}
	out, err := h.in(ctx, gtx).Confirm(ctx, orderID, inventory.FromEvent)
	if err != nil {
		return err
	}
	h.invalidate(ctx, out.Changed)
	return nil
}

// PaymentFailed releases the reservation.
func (h *Handlers) PaymentFailed(ctx context.Context, gtx *gorm.DB, e event.Event) error {
	msg, err := event.DecodeAs[*eventsv1.PaymentFailed](e)
	if err != nil {
		return err
	}
	return h.release(ctx, gtx, msg.GetOrderId(), inventory.ReasonPaymentFailed)
}

// OrderCancelled releases the reservation, or restocks it when it was sold.
// Whether to restock follows the reservation's own state, not the event's
// paid flag: only units this order actually bought can come back.
func (h *Handlers) OrderCancelled(ctx context.Context, gtx *gorm.DB, e event.Event) error {
	msg, err := event.DecodeAs[*eventsv1.OrderCancelled](e)
	if err != nil {
		return err
	}
	return h.release(ctx, gtx, msg.GetOrderId(), inventory.ReasonOrderCancelled)
}

func (h *Handlers) release(ctx context.Context, gtx *gorm.DB, rawOrderID, reason string) error {
	orderID, err := parseID("order_id", rawOrderID)
	if err != nil {
		return err
	}
	out, err := h.in(ctx, gtx).Release(ctx, orderID, reason, inventory.FromEvent)
	if err != nil {
		return err
	}
	h.invalidate(ctx, out.Changed)
	return nil
}

// ProductUpserted keeps the product replica (seller, SKU, status) current.
func (h *Handlers) ProductUpserted(ctx context.Context, gtx *gorm.DB, e event.Event) error {
	msg, err := event.DecodeAs[*eventsv1.ProductUpserted](e)
	if err != nil {
		return err
	}
	id, err := parseID("product_id", msg.GetProductId())
	if err != nil {
		return err
	}
	var seller uuid.UUID
	if msg.GetSellerId() != "" {
		if seller, err = parseID("seller_id", msg.GetSellerId()); err != nil {
			return err
		}
	}
	changed, err := h.in(ctx, gtx).UpsertProduct(ctx, inventory.Product{
		ID: id, SellerID: seller, SKU: msg.GetSku(),
		Status: inventory.ParseProductStatus(msg.GetStatus()), Version: msg.GetVersion(),
	})
	if err != nil {
		return err
	}
	h.invalidate(ctx, changed)
	return nil
}

// ProductArchived stops a product from being reserved.
func (h *Handlers) ProductArchived(ctx context.Context, gtx *gorm.DB, e event.Event) error {
	msg, err := event.DecodeAs[*eventsv1.ProductArchived](e)
	if err != nil {
		return err
	}
	id, err := parseID("product_id", msg.GetProductId())
	if err != nil {
		return err
	}
	changed, err := h.in(ctx, gtx).ArchiveProduct(ctx, id, msg.GetVersion())
	if err != nil {
		return err
	}
	h.invalidate(ctx, changed)
	return nil
}

// parseID parses a UUID field; a bad one makes the event unusable for good.
func parseID(field, s string) (uuid.UUID, error) {
	id, err := uuid.Parse(s)
	if err != nil {
		return uuid.Nil, consumer.Permanent(fmt.Errorf("%w: %s %q is not a UUID", event.ErrMalformed, field, s))
	}
	return id, nil
}

// toReserveRequest converts the order's lines; a line whose product ID is
// not a UUID makes the order invalid. The owner and total are passed on
// when they are well formed; checking them is payment's business.
func toReserveRequest(orderID uuid.UUID, m *eventsv1.OrderCreated) (inventory.ReserveRequest, error) {
	lines := m.GetLines()
	req := inventory.ReserveRequest{OrderID: orderID, Lines: make([]inventory.Line, 0, len(lines))}
	if user, err := uuid.Parse(m.GetUserId()); err == nil && m.GetTotal() != nil {
		req.Payable = &inventory.Payable{UserID: user, AmountMinor: m.GetTotal().GetAmountMinor(), Currency: m.GetTotal().GetCurrency()}
	}
	for i, l := range lines {
		id, err := uuid.Parse(l.GetProductId())
		if err != nil {
			return req, fmt.Errorf("lines[%d].product_id %q is not a UUID", i, l.GetProductId())
		}
		req.Lines = append(req.Lines, inventory.Line{ProductID: id, Quantity: int64(l.GetQuantity())})
	}
	return req, nil
}

// invalidOrder is the rejection of an order whose lines break the contract;
// it names every line (unparseable product IDs as uuid.Nil).
func invalidOrder(orderID uuid.UUID, lines []*eventsv1.OrderLine) inventory.Rejection {
	rej := inventory.Rejection{OrderID: orderID, Reason: inventory.ReasonInvalidOrder}
	for _, l := range lines {
		id, _ := uuid.Parse(l.GetProductId())
		rej.Lines = append(rej.Lines, inventory.ShortLine{ProductID: id, Requested: int64(l.GetQuantity()), Unavailable: true})
	}
	return rej
}
