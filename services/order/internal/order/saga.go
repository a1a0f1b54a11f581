package order

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// The saga events of inventory (inventory.events) and payment
// (payment.events) that concern an order, by their type on the wire: the
// timeline records them under these names.
const (
	InventoryReserved  = "INVENTORY_RESERVED"
	InventoryRejected  = "INVENTORY_REJECTED"
	InventoryConfirmed = "INVENTORY_CONFIRMED"
	InventoryReleased  = "INVENTORY_RELEASED"
	ReservationExpired = "RESERVATION_EXPIRED"
	PaymentInitiated   = "PAYMENT_INITIATED"
	PaymentSuccess     = "PAYMENT_SUCCESS"
	PaymentFailed      = "PAYMENT_FAILED"
	PaymentRefunded    = "PAYMENT_REFUNDED"
	PaymentVoided      = "PAYMENT_VOIDED"
)

// SagaEvent is an event of inventory or payment about one order, decoded.
type SagaEvent struct {
	// ID and Type are the envelope's event ID and type.
	ID, Type string
	OrderID  string
	// Detail is what the event says, for the timeline (payment ID, amount,
	// reservation ID, reason code, ...).
	Detail map[string]string
	// Amount is the money a payment event says it moved (nil when the
	// event carries none).
	Amount *Money
}

// Cancellation reasons carried by ORDER_CANCELLED and shown on the order.
const (
	ReasonCustomerRequest    = "CUSTOMER_REQUEST"
	ReasonAdmin              = "ADMIN"
	ReasonOutOfStock         = "OUT_OF_STOCK"
	ReasonPaymentFailed      = "PAYMENT_FAILED"
	ReasonReservationExpired = "RESERVATION_EXPIRED"
	// ReasonSagaTimeout: inventory never answered ORDER_CREATED in time.
	ReasonSagaTimeout = "SAGA_TIMEOUT"
)

// sagaRule is how the order reacts to one saga event type: the action it
// asks for (none for events that only go into the timeline), the reason a
// cancellation it causes carries, the status the event usually finds the
// order in on the saga's happy path (see blindMove), and whether its amount
// must be the order's total (a payment of the order, captured or
// attempted: anything else is not this order's payment).
type sagaRule struct {
	action    Action
	reason    string
	usually   Status
	paysTotal bool
}

// sagaRules covers every event of inventory.events and payment.events that
// concerns an order. Events that move the order name an action, which the
// transition table then allows or not; the others are timeline entries.
var sagaRules = map[string]sagaRule{
	InventoryReserved:  {action: ActionReserve, usually: StatusCreated},
	InventoryRejected:  {action: ActionReject, reason: ReasonOutOfStock},
	ReservationExpired: {action: ActionExpire, reason: ReasonReservationExpired},
	PaymentSuccess:     {action: ActionPay, usually: StatusPaymentPending, paysTotal: true},
	PaymentFailed:      {action: ActionFailPayment, reason: ReasonPaymentFailed, paysTotal: true},

	InventoryConfirmed: {},
	InventoryReleased:  {},
	PaymentInitiated:   {},
	PaymentRefunded:    {},
	PaymentVoided:      {},
}

// blindMove is the transition r makes from the status its event usually
// finds the order in, when the table allows it there and it emits no event:
// then ApplySaga needs nothing of the order but its status, and tries the
// move without reading the order first. (statusEvent is the one place that
// says which transitions emit; an order with only its status is enough to
// ask it.)
func blindMove(r sagaRule) (from, to Status, ok bool) {
	if r.usually == "" {
		return "", "", false
	}
	to, err := nextStatus(r.usually, r.action)
	if err != nil {
		return "", "", false
	}
	if statusEvent(Order{Status: to}, r.usually, cause{}, time.Time{}) != nil {
		return "", "", false
	}
	return r.usually, to, true
}

// SagaEventTypes lists the event types ApplySaga understands.
func SagaEventTypes() []string {
	out := make([]string, 0, len(sagaRules))
	for t := range sagaRules {
		out = append(out, t)
	}
	return out
}

// ignoredReason explains, for the timeline, why an event's transition was
// not applied.
func ignoredReason(eventType string, err *TransitionError) string {
	if eventType == PaymentSuccess && err.From == StatusCancelled {
		// No money is kept for a cancelled order: an ORDER_CANCELLED was
		// published when it was cancelled, and payment refunds a captured
		// payment of a cancelled order.
		return "LATE_PAYMENT_AFTER_CANCELLATION: payment refunds it (ORDER_CANCELLED was published at cancellation)"
	}
	return fmt.Sprintf("LATE_OR_DUPLICATE_EVENT: %s", err.Error())
}

// checkTotal refuses (ErrEventMismatch) an event whose rule says it pays
// the order's total when its amount is not o's total: a payment of another
// order, or a forged one, must not move this order.
func checkTotal(r sagaRule, ev SagaEvent, o Order) error {
	if !r.paysTotal || (ev.Amount.AmountMinor == o.TotalMinor && ev.Amount.Currency == o.Currency) {
		return nil
	}
	return fmt.Errorf("%w: %s %s of %d %s for order %s, whose total is %d %s", ErrEventMismatch,
		ev.Type, ev.ID, ev.Amount.AmountMinor, ev.Amount.Currency, o.ID, o.TotalMinor, o.Currency)
}

// ApplySaga applies an inventory or payment event to its order, in
// Store.InTx's transaction (the consumer's, which also records the event as
// processed). An event whose transition the table does not allow (late, or
// a second one of its kind) is recorded in the timeline as ignored and
// absorbed: retrying could never make it legal. An event already in the
// timeline is skipped, so applying one twice leaves the same state.
//
// Most events apply as one statement that does not read the order first
// (sagaPlan): a timeline entry, or a blind move on the saga's usual path.
// Only when that statement does not apply does the order get locked and
// asked (the locking way). How a batch of events sends those statements at
// once is the store's business (orderdb): it answers Tx.RecordEvent and
// Tx.Advance from what the batch did.
func (s *Service) ApplySaga(ctx context.Context, ev SagaEvent) error {
	plan, err := s.planSaga(ev)
	if err != nil {
		return err
	}
	return s.store.InTx(ctx, func(tx Tx) error { return s.applySaga(ctx, tx, ev, plan) })
}

// sagaPlan is the one statement that applies a saga event in the usual
// case, decided without reading the order: a timeline entry to record, or
// a blind move to try; neither for an event that must read the order first.
type sagaPlan struct {
	record  *HistoryEntry
	advance *BlindMove
	rule    sagaRule
}

// BlindMove is a status change tried without reading the order (see
// Tx.Advance): the order as it will be, the status it must be in, its
// timeline entry and, when not nil, the total it must have.
type BlindMove struct {
	Order Order
	From  Status
	Entry HistoryEntry
	Total *Money
}

// planSaga validates ev and returns its usual-case statement.
func (s *Service) planSaga(ev SagaEvent) (sagaPlan, error) {
	rule, ok := sagaRules[ev.Type]
	if !ok {
		return sagaPlan{}, fmt.Errorf("%w: %s is not a saga event of the order", ErrInvalidEvent, ev.Type)
	}
	if !isUUID(ev.OrderID) {
		return sagaPlan{}, fmt.Errorf("%w: %s has order ID %q", ErrInvalidEvent, ev.Type, ev.OrderID)
	}
	if rule.paysTotal && ev.Amount == nil {
		return sagaPlan{}, fmt.Errorf("%w: %s %s for order %s has no amount", ErrInvalidEvent, ev.Type, ev.ID, ev.OrderID)
	}
	ref := &EventRef{ID: ev.ID, Type: ev.Type}
	plan := sagaPlan{rule: rule}
	if rule.action == "" {
		// Only the timeline changes, in one statement that still locks
		// the order: the entry's from/to are the status under the lock,
		// so it never shows a status the order already left (a
		// cancellation committing meanwhile).
		plan.record = &HistoryEntry{
			OrderID: ev.OrderID, At: s.now(), Kind: KindEvent, Reason: ev.Type, Cause: ref, Detail: ev.Detail,
		}
		return plan, nil
	}
	if from, to, ok := blindMove(rule); ok {
		// The usual case needs no read: move if the order is where the
		// event normally finds it. Anything else (a duplicate, an order
		// elsewhere, an unknown order) goes the locking way, which tells
		// them apart.
		now := s.now()
		o := Order{ID: ev.OrderID, Status: from}
		o.enter(to, now, rule.reason)
		plan.advance = &BlindMove{Order: o, From: from, Entry: HistoryEntry{
			OrderID: o.ID, At: now, Kind: KindTransition, From: from, To: to, Reason: rule.reason, Cause: ref, Detail: ev.Detail,
		}}
		if rule.paysTotal {
			// Only if the amount is the order's total; any other goes
			// the locking way, which refuses it.
			plan.advance.Total = ev.Amount
		}
	}
	return plan, nil
}

// applySaga applies ev in tx: its plan's statement, then, unless that
// settled it, the locking way.
func (s *Service) applySaga(ctx context.Context, tx Tx, ev SagaEvent, plan sagaPlan) error {
	unknown := func() error {
		return fmt.Errorf("%s %s: order %s: %w", ev.Type, ev.ID, ev.OrderID, ErrUnknownOrder)
	}
	switch {
	case plan.record != nil:
		found, err := tx.RecordEvent(ctx, *plan.record)
		if err == nil && !found {
			err = unknown()
		}
		return err
	case plan.advance != nil:
		createdAt, moved, err := tx.Advance(ctx, *plan.advance)
		if err != nil {
			return err
		}
		if moved {
			o := plan.advance.Order
			o.CreatedAt = createdAt
			s.record(newStep(o, plan.advance.From, plan.advance.Entry.At))
			return nil
		}
	}
	rule, ref := plan.rule, &EventRef{ID: ev.ID, Type: ev.Type}
	o, seen, err := tx.LockOrderForEvent(ctx, ev.OrderID, ev.ID)
	if errors.Is(err, ErrNotFound) {
		return unknown()
	}
	if err != nil || seen {
		return err
	}
	if err := checkTotal(rule, ev, o); err != nil {
		return err
	}
	entry := HistoryEntry{
		OrderID: o.ID, At: s.now(), From: o.Status, To: o.Status, Cause: ref, Detail: ev.Detail,
	}
	st, err := s.move(ctx, tx, &o, rule.action, cause{reason: rule.reason, event: ref, detail: ev.Detail})
	var illegal *TransitionError
	if errors.As(err, &illegal) {
		entry.Kind, entry.Reason = KindIgnored, ignoredReason(ev.Type, illegal)
		return tx.AddHistory(ctx, entry)
	}
	if err != nil {
		return err
	}
	// Counted before the consumer commits: should its transaction roll back
	// and run again, the step counts twice. Metrics tolerate that.
	s.record(st)
	return nil
}
