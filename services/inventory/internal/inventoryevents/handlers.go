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

// Handlers handles the events inventory consumes.
type Handlers struct {
	svc   *inventory.Service
	log   *slog.Logger
	batch *consumer.Batch[command, inventorydb.Planned, inventorydb.Applied]
}

// New returns the handlers.
func New(svc *inventory.Service, log *slog.Logger) *Handlers {
	h := &Handlers{svc: svc, log: log}
	h.batch = &consumer.Batch[command, inventorydb.Planned, inventorydb.Applied]{Key: h.key, Lock: h.lock, Apply: apply}
	return h
}

// Register registers Handle for every event type inventory consumes, and
// Prepare for batches, with the consumer.
func (h *Handlers) Register(c *consumer.Consumer) {
	c.PrepareBatches(h.Prepare)
	for _, typ := range []string{eventsv1.TypeOrderCreated, eventsv1.TypePaymentSuccess, eventsv1.TypePaymentFailed,
		eventsv1.TypeOrderCancelled, eventsv1.TypeProductUpserted, eventsv1.TypeProductArchived} {
		c.Handle(typ, h.Handle)
	}
}

// command is what an event asks of inventory: the use case it runs, and
// what a batch needs to know of it.
type command struct {
	order    uuid.UUID   // uuid.Nil: a product's event
	products []uuid.UUID // the products it names, for the batch's locks
	// plain: a new reservation or a sale, which a batch may apply at once
	// (the store learns how by a dry run of run).
	plain bool
	// run runs the use case and returns the products whose stock changed.
	run func(ctx context.Context, svc *inventory.Service) ([]uuid.UUID, error)
}

// Handle applies one event in the consumer's transaction tx: from what the
// batch's Prepare did for it, if anything, or from the start.
func (h *Handlers) Handle(ctx context.Context, tx *gorm.DB, e event.Event) error {
	prepared, ok := h.batch.Outcome(ctx, e) // decoded by Prepare, and applied
	cmd := prepared.Value
	if !ok {
		var err error
		if cmd, err = h.decode(e); err != nil {
			return err
		}
	}
	changed, err := cmd.run(ctx, h.svc.In(inventorydb.Bind(tx, prepared.Out)))
	if err != nil {
		return err
	}
	// A locked batch dropped from the cache every product it can change
	// already (see lock).
	if !h.batch.Locked(ctx) {
		h.svc.Invalidate(ctx, changed)
	}
	return nil
}

// Prepare readies a batch of several events, handled in one transaction
// (consumer.Batch): it takes every lock the batch will touch in one global
// order (inventorydb.LockBatch), so that batches on different workers
// never deadlock, and applies the batch's new reservations and sales of
// orders with no other event in the batch as one pipeline
// (inventorydb.Apply), which Handle then finishes. Events it cannot read
// are left to Handle.
func (h *Handlers) Prepare(ctx context.Context, tx *gorm.DB, batch []event.Event) (context.Context, error) {
	return h.batch.Prepare(ctx, tx, batch)
}

func (h *Handlers) key(e event.Event) (string, command, bool) {
	cmd, err := h.decode(e)
	if err != nil || cmd.order == uuid.Nil {
		return "", cmd, err == nil
	}
	return cmd.order.String(), cmd, true
}

// lock takes the batch's locks and drops every stock row it can change
// from the cache once (the cache's guard keeps readers from putting the
// old figures back until well after the commit), instead of one Redis
// round trip per event while the locks are held. Its plan is a dry run of
// each plain event's use case on what it locked.
func (h *Handlers) lock(ctx context.Context, tx *gorm.DB, _ []string, cmds []command) (func(context.Context, command) (inventorydb.Planned, bool), error) {
	var orders, products []uuid.UUID
	for _, c := range cmds {
		if c.order != uuid.Nil {
			orders = append(orders, c.order)
		}
		products = append(products, c.products...)
	}
	locked, err := inventorydb.LockBatch(ctx, tx, orders, products)
	if err != nil {
		return nil, err
	}
	h.svc.Invalidate(ctx, locked.Products)
	return func(ctx context.Context, c command) (inventorydb.Planned, bool) {
		if !c.plain {
			return inventorydb.Planned{}, false
		}
		return locked.Plan(func(t inventory.Transactions) { _, _ = c.run(ctx, h.svc.In(t)) })
	}, nil
}

func apply(ctx context.Context, tx *gorm.DB, _ []string, planned []inventorydb.Planned) ([]inventorydb.Applied, bool, error) {
	return inventorydb.Apply(ctx, tx, planned)
}

// decode reads e into its command. Only a message that cannot name its
// order or product (a malformed ID) is an error, and Permanent.
func (h *Handlers) decode(e event.Event) (command, error) {
	msg, err := e.Decode()
	if err != nil {
		return command{}, err
	}
	switch m := msg.(type) {
	case *eventsv1.OrderCreated:
		return h.orderCreated(m)
	case *eventsv1.PaymentSucceeded:
		// The reservation's units are sold.
		order, err := parseID("order_id", m.GetOrderId())
		return command{order: order, plain: true, run: func(ctx context.Context, svc *inventory.Service) ([]uuid.UUID, error) {
			out, err := svc.Confirm(ctx, order, inventory.FromEvent)
			return out.Changed, err
		}}, err
	case *eventsv1.PaymentFailed:
		return release(m.GetOrderId(), inventory.ReasonPaymentFailed)
	case *eventsv1.OrderCancelled:
		// Whether to restock follows the reservation's own state, not the
		// event's paid flag: only units this order actually bought can
		// come back.
		return release(m.GetOrderId(), inventory.ReasonOrderCancelled)
	case *eventsv1.ProductUpserted:
		return productUpserted(m)
	case *eventsv1.ProductArchived:
		// The product can no longer be reserved.
		id, err := parseID("product_id", m.GetProductId())
		return command{products: []uuid.UUID{id}, run: func(ctx context.Context, svc *inventory.Service) ([]uuid.UUID, error) {
			return svc.ArchiveProduct(ctx, id, m.GetVersion())
		}}, err
	}
	return command{}, consumer.Permanent(fmt.Errorf("%w: inventory does not handle %s", event.ErrMalformed, e.Type))
}

// orderCreated reserves the order's lines (INVENTORY_RESERVED), or rejects
// the order (INVENTORY_REJECTED) when a line is short, a product cannot be
// sold, or the lines are invalid.
func (h *Handlers) orderCreated(m *eventsv1.OrderCreated) (command, error) {
	orderID, err := parseID("order_id", m.GetOrderId())
	if err != nil {
		return command{}, err
	}
	req, bad := toReserveRequest(orderID, m)
	if bad == nil {
		bad = req.Validate()
	}
	cmd := command{order: orderID, plain: bad == nil}
	for _, l := range req.Lines {
		cmd.products = append(cmd.products, l.ProductID)
	}
	if bad != nil {
		cmd.run = func(ctx context.Context, svc *inventory.Service) ([]uuid.UUID, error) {
			h.log.WarnContext(ctx, "ORDER_CREATED with invalid lines; rejecting the order", "order_id", orderID, "error", bad.Error())
			return nil, svc.Reject(ctx, invalidOrder(orderID, m.GetLines()))
		}
		return cmd, nil
	}
	cmd.run = func(ctx context.Context, svc *inventory.Service) ([]uuid.UUID, error) {
		res, err := svc.Reserve(ctx, req)
		var rej *inventory.Rejection
		switch {
		case errors.As(err, &rej):
			// INVENTORY_REJECTED is written in this transaction: a result,
			// not a failure.
			return nil, nil
		case errors.Is(err, inventory.ErrReservationConflict):
			h.log.WarnContext(ctx, "ORDER_CREATED for an order that already has another reservation; ignored",
				"order_id", orderID, "error", err.Error())
			return nil, nil
		}
		return res.Changed, err
	}
	return cmd, nil
}

// release releases the order's reservation, or restocks it when it was
// sold.
func release(rawOrderID, reason string) (command, error) {
	order, err := parseID("order_id", rawOrderID)
	return command{order: order, run: func(ctx context.Context, svc *inventory.Service) ([]uuid.UUID, error) {
		out, err := svc.Release(ctx, order, reason, inventory.FromEvent)
		return out.Changed, err
	}}, err
}

// productUpserted keeps the product replica (seller, SKU, status) current.
func productUpserted(m *eventsv1.ProductUpserted) (command, error) {
	p := inventory.Product{SKU: m.GetSku(), Status: inventory.ParseProductStatus(m.GetStatus()), Version: m.GetVersion()}
	var err error
	if p.ID, err = parseID("product_id", m.GetProductId()); err != nil {
		return command{}, err
	}
	if m.GetSellerId() != "" {
		if p.SellerID, err = parseID("seller_id", m.GetSellerId()); err != nil {
			return command{}, err
		}
	}
	return command{products: []uuid.UUID{p.ID}, run: func(ctx context.Context, svc *inventory.Service) ([]uuid.UUID, error) {
		return svc.UpsertProduct(ctx, p)
	}}, nil
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
