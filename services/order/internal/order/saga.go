package order

import (
	"fmt"
	"time"

	"github.com/shop-oss/shop/proto-events/eventsv1"
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
	eventsv1.TypeInventoryReserved:  {action: ActionReserve, usually: StatusCreated},
	eventsv1.TypeInventoryRejected:  {action: ActionReject, reason: ReasonOutOfStock},
	eventsv1.TypeReservationExpired: {action: ActionExpire, reason: ReasonReservationExpired},
	eventsv1.TypePaymentSuccess:     {action: ActionPay, usually: StatusPaymentPending, paysTotal: true},
	eventsv1.TypePaymentFailed:      {action: ActionFailPayment, reason: ReasonPaymentFailed, paysTotal: true},

	eventsv1.TypeInventoryConfirmed: {},
	eventsv1.TypeInventoryReleased:  {},
	eventsv1.TypePaymentInitiated:   {},
	eventsv1.TypePaymentRefunded:    {},
	eventsv1.TypePaymentVoided:      {},
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
	to, err := Next(r.usually, r.action)
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
	if eventType == eventsv1.TypePaymentSuccess && err.From == StatusCancelled {
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
