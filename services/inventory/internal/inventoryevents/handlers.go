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

// Prepare locks, before a batch of several events is handled in one
// transaction, every reservation and stock row the batch will touch, in one
// global order (see inventorydb.LockBatch), so that batches on different
// workers never deadlock. Events it cannot read are left to their handler.
//
// Then it offers the batch's plain operations to the store all at once
// (inventorydb.ApplyPlainAll): the new orders' reservations and the paid
// orders' confirmations, in one round trip instead of one or two per
// event. The batch holds the stock rows of every product it touches until
// it commits, so inventory's workers take turns, and those round trips
// were most of a turn. Only orders with no other event in the batch take
// part, so that each order's events still apply in their order; the
// handlers finish each from its outcome (see plainOutcomes).
func (h *Handlers) Prepare(ctx context.Context, gtx *gorm.DB, batch []event.Event) (context.Context, error) {
	if len(batch) < 2 {
		return ctx, nil // one event locks its rows in order by itself
	}
	var orders, products []uuid.UUID
	addID := func(to *[]uuid.UUID, s string) {
		if id, err := uuid.Parse(s); err == nil {
			*to = append(*to, id)
		}
	}
	type candidate struct {
		event   uuid.UUID
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
				addID(&products, l.GetProductId())
			}
		case *eventsv1.PaymentSucceeded:
			order, hasPlain = m.GetOrderId(), true
		case *eventsv1.PaymentFailed:
			order = m.GetOrderId()
		case *eventsv1.OrderCancelled:
			order = m.GetOrderId()
		case *eventsv1.ProductUpserted:
			addID(&products, m.GetProductId())
		case *eventsv1.ProductArchived:
			addID(&products, m.GetProductId())
		}
		if id, err := uuid.Parse(order); err == nil {
			orders = append(orders, id)
			events[id]++
			if hasPlain {
				candidates = append(candidates, candidate{event: e.ID, order: id, created: created})
			}
		}
	}
	locked, err := inventorydb.LockBatch(ctx, gtx, orders, products)
	if err != nil {
		return ctx, err
	}
	// Every stock row the batch can change is one it just locked: drop
	// them from the cache once (the cache's guard keeps readers from
	// putting the old figures back until well after the commit), instead
	// of one Redis round trip per event while the locks are held.
	touched := products
	for _, r := range locked {
		for _, l := range r.Lines {
			touched = append(touched, l.ProductID)
		}
	}
	h.svc.Invalidate(ctx, touched)
	out := plainOutcomes{}
	ctx = context.WithValue(ctx, plainOutcomesKey{}, out)

	var plain inventorydb.PlainBatch
	var reserveEvents, confirmEvents []uuid.UUID
	for _, c := range candidates {
		if events[c.order] != 1 {
			continue
		}
		if c.created != nil {
			if p, ok := h.plan(c.order, c.created); ok {
				plain.Reserve = append(plain.Reserve, p)
				reserveEvents = append(reserveEvents, c.event)
			}
			continue
		}
		if r, ok := locked[c.order]; ok {
			if p, ok := h.svc.PlanConfirm(r); ok {
				plain.Confirm = append(plain.Confirm, p)
				confirmEvents = append(confirmEvents, c.event)
			}
		}
	}
	if len(plain.Reserve)+len(plain.Confirm) == 0 {
		return ctx, nil
	}
	res, ok, err := inventorydb.ApplyPlainAll(ctx, gtx, plain)
	if err != nil || !ok {
		return ctx, err // not ok: each handler does its own
	}
	for i, id := range reserveEvents {
		out[id] = plainOutcome{reserve: plain.Reserve[i], done: res.Reserved[i]}
	}
	for i, id := range confirmEvents {
		out[id] = plainOutcome{confirm: plain.Confirm[i], done: res.Confirmed[i]}
	}
	return ctx, nil
}

// plan is the plain reservation an ORDER_CREATED asks for; false when the
// event is not a valid order (its handler rejects it).
func (h *Handlers) plan(orderID uuid.UUID, m *eventsv1.OrderCreated) (inventory.PlainReservation, bool) {
	req, err := toReserveRequest(orderID, m)
	if err != nil {
		return inventory.PlainReservation{}, false
	}
	p, err := h.svc.PlanReserve(req)
	return p, err == nil
}

// plainOutcomes are what Prepare's plain operations did, by the ID of the
// event that asked for each. They live in the batch's context, so a batch
// that fails (and is then handled event by event) leaves none behind; their
// presence also says Prepare dropped the batch's products from the cache.
type plainOutcomes map[uuid.UUID]plainOutcome

// plainOutcome is one operation (a reservation or a confirmation) and
// whether the store applied it.
type plainOutcome struct {
	reserve inventory.PlainReservation
	confirm inventory.PlainConfirmation
	done    bool
}

type plainOutcomesKey struct{}

// invalidate drops changed products from the cache, unless the batch's
// Prepare dropped all it could change already.
func (h *Handlers) invalidate(ctx context.Context, changed []uuid.UUID) {
	if _, prepared := ctx.Value(plainOutcomesKey{}).(plainOutcomes); !prepared {
		h.svc.Invalidate(ctx, changed)
	}
}

// prepared is the outcome of Prepare's plain operation for event id.
func prepared(ctx context.Context, id uuid.UUID) (plainOutcome, bool) {
	out, _ := ctx.Value(plainOutcomesKey{}).(plainOutcomes)
	o, ok := out[id]
	return o, ok
}

// OrderCreated reserves the order's lines (INVENTORY_RESERVED), or rejects
// the order (INVENTORY_REJECTED) when a line is short, a product cannot be
// sold, or the lines are invalid.
func (h *Handlers) OrderCreated(ctx context.Context, gtx *gorm.DB, e event.Event) error {
	tx := inventorydb.Wrap(gtx)
	if pre, ok := prepared(ctx, e.ID); ok { // decoded and checked by Prepare
		res, err := h.svc.ReserveAfterPlain(ctx, tx, pre.reserve, pre.done)
		return h.reserved(ctx, pre.reserve.Reservation.OrderID, res, err)
	}
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
	if bad != nil {
		h.log.WarnContext(ctx, "ORDER_CREATED with invalid lines; rejecting the order", "order_id", orderID, "error", bad.Error())
		return h.svc.RejectIn(ctx, tx, invalidOrder(orderID, msg.GetLines()))
	}
	res, err := h.svc.ReserveIn(ctx, tx, req, inventory.FromEvent)
	return h.reserved(ctx, orderID, res, err)
}

// reserved finishes an ORDER_CREATED after its reservation: a conflict
// with another reservation of the order is ignored, and the cache forgets
// what changed.
func (h *Handlers) reserved(ctx context.Context, orderID uuid.UUID, res inventory.ReserveResult, err error) error {
	if errors.Is(err, inventory.ErrReservationConflict) {
		h.log.WarnContext(ctx, "ORDER_CREATED for an order that already has another reservation; ignored",
			"order_id", orderID, "error", err.Error())
		return nil
	}
	if err != nil {
		return err
	}
	h.invalidate(ctx, res.Changed)
	return nil
}

// PaymentSucceeded confirms the reservation: reserved units are sold.
func (h *Handlers) PaymentSucceeded(ctx context.Context, gtx *gorm.DB, e event.Event) error {
	out, err := h.confirm(ctx, inventorydb.Wrap(gtx), e)
	if err != nil {
		return err
	}
	h.invalidate(ctx, out.Changed)
	return nil
}

// confirm confirms the order of PAYMENT_SUCCESS e: from what Prepare did
// (it decoded e already), or by ConfirmIn.
func (h *Handlers) confirm(ctx context.Context, tx inventory.Tx, e event.Event) (inventory.Outcome, error) {
	if pre, ok := prepared(ctx, e.ID); ok {
		return h.svc.ConfirmAfterPlain(ctx, tx, pre.confirm, pre.done)
	}
	msg, err := event.DecodeAs[*eventsv1.PaymentSucceeded](e)
	if err != nil {
		return inventory.Outcome{}, err
	}
	orderID, err := parseID("order_id", msg.GetOrderId())
	if err != nil {
		return inventory.Outcome{}, err
	}
	return h.svc.ConfirmIn(ctx, tx, orderID, inventory.FromEvent)
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
	out, err := h.svc.ReleaseIn(ctx, inventorydb.Wrap(gtx), orderID, reason, inventory.FromEvent)
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
	changed, err := h.svc.UpsertProductIn(ctx, inventorydb.Wrap(gtx), inventory.Product{
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
	changed, err := h.svc.ArchiveProductIn(ctx, inventorydb.Wrap(gtx), id, msg.GetVersion())
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
