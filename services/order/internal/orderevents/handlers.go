// Package orderevents decodes the events the order service consumes —
// catalog.events for its price replica, inventory.events and payment.events
// for the saga — and hands them to the domain, inside the consumer's
// transaction.
package orderevents

import (
	"context"
	"errors"
	"strconv"
	"time"

	"gorm.io/gorm"

	"github.com/shop-oss/shop/pkg/consumer"
	"github.com/shop-oss/shop/pkg/event"
	"github.com/shop-oss/shop/proto-events/eventsv1"
	"github.com/shop-oss/shop/services/order/internal/order"
	"github.com/shop-oss/shop/services/order/internal/orderdb"
)

// Store is what the handlers need of orderdb besides the domain: sending
// a batch's usual statements ahead (consumer.Batch's Apply).
type Store interface {
	SendAhead(ctx context.Context, tx *gorm.DB, lock []string, plans []orderdb.Usual) ([]orderdb.Outcome, bool, error)
}

// Handlers holds the event handlers.
type Handlers struct {
	svc             *order.Service
	batch           *consumer.Batch[order.SagaEvent, orderdb.Usual, orderdb.Outcome]
	productsChanged func()
	// sagaChanged, when set, is told the order ID once a transaction that
	// applied one of its saga events has committed.
	sagaChanged func(orderID string)
}

// OnSagaCommit sets fn to be told the order ID once a transaction that
// applied a saga event of the order has committed (it wakes the order's
// progress streams).
func (h *Handlers) OnSagaCommit(fn func(orderID string)) *Handlers {
	h.sagaChanged = fn
	return h
}

// committed tells sagaChanged about orderID after the commit.
func (h *Handlers) committed(ctx context.Context, orderID string, err error) error {
	if err == nil && h.sagaChanged != nil {
		consumer.AfterCommit(ctx, func() { h.sagaChanged(orderID) })
	}
	return err
}

// New returns the handlers over the domain service. productsChanged, when
// not nil, runs after each transaction that applied a catalog event has
// committed (it drops the product cache).
func New(svc *order.Service, store Store, productsChanged func()) *Handlers {
	h := &Handlers{svc: svc, productsChanged: productsChanged}
	h.batch = &consumer.Batch[order.SagaEvent, orderdb.Usual, orderdb.Outcome]{
		Key:   sagaKey,
		Plan:  h.plan,
		Apply: store.SendAhead,
	}
	return h
}

// Register adds every handler, and the batch case, to c.
func (h *Handlers) Register(c *consumer.Consumer) {
	for _, t := range []string{eventsv1.TypeProductUpserted, eventsv1.TypeProductPriceChanged, eventsv1.TypeProductArchived} {
		c.Handle(t, h.Catalog)
	}
	for _, t := range order.SagaEventTypes() {
		c.Handle(t, h.Saga)
	}
	c.PrepareBatches(h.Prepare)
}

// Prepare is the batch case (consumer.Batch): before a batch of several
// events is handled, the usual-case statement of each saga event of an
// order with no other event in the batch goes to PostgreSQL at once, after
// the locks of every order of the batch, in ID order (orderdb.SendAhead);
// each handler then finishes its event from the outcome.
func (h *Handlers) Prepare(ctx context.Context, tx *gorm.DB, batch []event.Event) (context.Context, error) {
	return h.batch.Prepare(ctx, tx, batch)
}

// sagaKey reads a saga event for the batch: its order, and the event
// decoded. Catalog events, and saga events their handler dead-letters, stay
// out of the batch.
func sagaKey(e event.Event) (string, order.SagaEvent, bool) {
	ev, err := sagaEvent(e)
	return ev.OrderID, ev, err == nil
}

// plan is the statement the use case sends first for ev, when the batch
// may send it ahead: the use case itself says (orderdb.PlanUsual).
func (h *Handlers) plan(ctx context.Context, ev order.SagaEvent) (orderdb.Usual, bool) {
	return orderdb.PlanUsual(ctx, func(ctx context.Context) error { return h.svc.ApplySaga(ctx, ev) })
}

// Catalog applies a catalog event to the replica.
func (h *Handlers) Catalog(ctx context.Context, tx *gorm.DB, e event.Event) error {
	ch, err := productChange(e)
	if err != nil {
		return consumer.Permanent(err)
	}
	if err := h.svc.ApplyProduct(orderdb.Bind(ctx, tx, nil), ch); err != nil {
		return permanentIfInvalid(err)
	}
	if h.productsChanged != nil {
		consumer.AfterCommit(ctx, h.productsChanged)
	}
	return nil
}

// Saga applies an inventory or payment event to its order.
func (h *Handlers) Saga(ctx context.Context, tx *gorm.DB, e event.Event) error {
	if p, ok := h.batch.Outcome(ctx, e); ok { // sent ahead by the batch
		return h.committed(ctx, p.Value.OrderID, permanentIfInvalid(h.svc.ApplySaga(orderdb.Bind(ctx, tx, &p.Out), p.Value)))
	}
	ev, err := sagaEvent(e)
	if err != nil {
		return consumer.Permanent(err)
	}
	return h.committed(ctx, ev.OrderID, permanentIfInvalid(h.svc.ApplySaga(orderdb.Bind(ctx, tx, nil), ev)))
}

// permanentIfInvalid dead-letters at once what retrying cannot fix: an
// event that breaks the contract, names an order this service never had,
// or whose numbers disagree with the order's (the error says which). Everything else (the database) is retried.
func permanentIfInvalid(err error) error {
	if errors.Is(err, order.ErrInvalidEvent) || errors.Is(err, order.ErrUnknownOrder) || errors.Is(err, order.ErrEventMismatch) {
		return consumer.Permanent(err)
	}
	return err
}

func productChange(e event.Event) (order.ProductChange, error) {
	msg, err := e.Decode()
	if err != nil {
		return order.ProductChange{}, err
	}
	switch m := msg.(type) {
	case *eventsv1.ProductUpserted:
		return order.ProductChange{
			Kind: order.ChangeUpserted, ProductID: m.GetProductId(), Version: m.GetVersion(),
			SKU: m.GetSku(), Name: m.GetName(), SellerID: m.GetSellerId(),
			Status: order.ProductStatus(m.GetStatus()), Price: money(m.GetPrice()),
		}, nil
	case *eventsv1.ProductPriceChanged:
		return order.ProductChange{
			Kind: order.ChangePriceChanged, ProductID: m.GetProductId(), Version: m.GetVersion(),
			Price: money(m.GetNewPrice()),
		}, nil
	case *eventsv1.ProductArchived:
		return order.ProductChange{Kind: order.ChangeArchived, ProductID: m.GetProductId(), Version: m.GetVersion()}, nil
	}
	return order.ProductChange{}, errors.New(e.Type + " is not a catalog event")
}

func money(m *eventsv1.Money) *order.Money {
	if m == nil {
		return nil
	}
	return &order.Money{AmountMinor: m.GetAmountMinor(), Currency: m.GetCurrency()}
}

// sagaEvent decodes an inventory or payment event: the order it concerns,
// and what the timeline shows of it.
func sagaEvent(e event.Event) (order.SagaEvent, error) {
	msg, err := e.Decode()
	if err != nil {
		return order.SagaEvent{}, err
	}
	ev := order.SagaEvent{ID: e.ID.String(), Type: e.Type, Detail: map[string]string{}}
	d := ev.Detail
	put := func(k, v string) {
		if v != "" {
			d[k] = v
		}
	}
	// The fields several events share, found by their getters.
	m, ok := msg.(interface{ GetOrderId() string })
	if !ok {
		return order.SagaEvent{}, errors.New(e.Type + " is not a saga event")
	}
	ev.OrderID = m.GetOrderId()
	if m, ok := msg.(interface{ GetReservationId() string }); ok {
		put("reservation_id", m.GetReservationId())
	}
	if m, ok := msg.(interface{ GetPaymentId() string }); ok {
		put("payment_id", m.GetPaymentId())
	}
	if m, ok := msg.(interface{ GetAmount() *eventsv1.Money }); ok && m.GetAmount() != nil {
		d["amount_minor"] = strconv.FormatInt(m.GetAmount().GetAmountMinor(), 10)
		put("amount_currency", m.GetAmount().GetCurrency())
		ev.Amount = &order.Money{AmountMinor: m.GetAmount().GetAmountMinor(), Currency: m.GetAmount().GetCurrency()}
	}
	switch m := msg.(type) {
	case *eventsv1.InventoryReserved:
		if m.GetExpiresAt() != nil {
			put("expires_at", m.GetExpiresAt().AsTime().UTC().Format(time.RFC3339))
		}
		put("lines", strconv.Itoa(len(m.GetLines())))
	case *eventsv1.InventoryRejected:
		put("inventory_reason", m.GetReason())
		for _, l := range m.GetShortLines() {
			d["short:"+l.GetProductId()] = strconv.Itoa(int(l.GetRequested())) + " requested, " +
				strconv.Itoa(int(l.GetAvailable())) + " available"
		}
	case *eventsv1.InventoryReleased:
		put("inventory_reason", m.GetReason())
	case *eventsv1.PaymentFailed:
		put("reason_code", m.GetReasonCode())
	case *eventsv1.PaymentRefunded:
		put("refund_id", m.GetRefundId())
		put("payment_reason", m.GetReason())
	case *eventsv1.PaymentVoided:
		put("payment_reason", m.GetReason())
	}
	return ev, nil
}
