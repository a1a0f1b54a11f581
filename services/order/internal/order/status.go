package order

import (
	"errors"
	"fmt"
	"slices"
)

// Status is where an order stands in its saga.
type Status string

// The order states. DELIVERED and CANCELLED are final.
const (
	StatusCreated        Status = "CREATED"
	StatusPaymentPending Status = "PAYMENT_PENDING"
	StatusPaid           Status = "PAID"
	StatusShipped        Status = "SHIPPED"
	StatusDelivered      Status = "DELIVERED"
	StatusCancelled      Status = "CANCELLED"
)

// Statuses lists every state, in saga order.
var Statuses = []Status{StatusCreated, StatusPaymentPending, StatusPaid, StatusShipped, StatusDelivered, StatusCancelled}

// Valid reports whether s is a known state.
func (s Status) Valid() bool { return slices.Contains(Statuses, s) }

// Final reports whether no action can move an order out of s.
func (s Status) Final() bool { return s == StatusDelivered || s == StatusCancelled }

// Action is something that asks an order to change state: a staff or
// customer request, or a saga event of another service.
type Action string

// The actions. Each saga event that moves an order has its own action, so
// the table can say, say, that a failed payment cannot cancel a paid order
// while a customer can.
const (
	// ActionReserve: inventory reserved every line (INVENTORY_RESERVED).
	ActionReserve Action = "reserve"
	// ActionPay: the payment was captured (PAYMENT_SUCCESS).
	ActionPay Action = "pay"
	// ActionShip: staff shipped the order (POST .../ship).
	ActionShip Action = "ship"
	// ActionDeliver: staff marked it delivered (POST .../deliver).
	ActionDeliver Action = "deliver"
	// ActionCancel: the owner or an admin cancelled it (POST .../cancel).
	ActionCancel Action = "cancel"
	// ActionReject: inventory could not reserve it (INVENTORY_REJECTED).
	ActionReject Action = "reject"
	// ActionFailPayment: the payment failed for good (PAYMENT_FAILED).
	ActionFailPayment Action = "fail_payment"
	// ActionExpire: the reservation expired unpaid (RESERVATION_EXPIRED).
	ActionExpire Action = "expire"
	// ActionTimeout: inventory never answered ORDER_CREATED within the
	// order service's own saga timeout (Config.CreatedTimeout).
	ActionTimeout Action = "timeout"
)

// Actions lists every action.
var Actions = []Action{ActionReserve, ActionPay, ActionShip, ActionDeliver, ActionCancel, ActionReject, ActionFailPayment, ActionExpire, ActionTimeout}

// transitions is the one table that decides every state change: for each
// state, the actions it allows and where each leads. A pair that is not here
// is illegal.
//
// Two edges go beyond the straight line CREATED → PAYMENT_PENDING → PAID →
// SHIPPED → DELIVERED, on purpose:
//
//   - CREATED → PAID on PAYMENT_SUCCESS. INVENTORY_RESERVED and
//     PAYMENT_SUCCESS travel on different topics, so this service may see the
//     payment first. A payment exists only after a reservation (payment
//     creates it on INVENTORY_RESERVED), so a success proves the reservation;
//     the late INVENTORY_RESERVED is then recorded, not applied.
//   - PAID → CANCELLED on RESERVATION_EXPIRED. Inventory emits it only for a
//     reservation it released without a confirmation; a paid order whose
//     stock is gone cannot ship, so it is cancelled with paid=true and
//     payment refunds.
var transitions = map[Status]map[Action]Status{
	StatusCreated: {
		ActionReserve:     StatusPaymentPending,
		ActionPay:         StatusPaid,
		ActionCancel:      StatusCancelled,
		ActionReject:      StatusCancelled,
		ActionFailPayment: StatusCancelled,
		ActionExpire:      StatusCancelled,
		ActionTimeout:     StatusCancelled,
	},
	StatusPaymentPending: {
		ActionPay:         StatusPaid,
		ActionCancel:      StatusCancelled,
		ActionFailPayment: StatusCancelled,
		ActionExpire:      StatusCancelled,
	},
	StatusPaid: {
		ActionShip:   StatusShipped,
		ActionCancel: StatusCancelled,
		ActionExpire: StatusCancelled,
	},
	StatusShipped: {
		ActionDeliver: StatusDelivered,
	},
	StatusDelivered: {},
	StatusCancelled: {},
}

// ErrIllegalTransition is wrapped by every *TransitionError.
var ErrIllegalTransition = errors.New("illegal order transition")

// TransitionError says which action the order's state does not allow.
type TransitionError struct {
	From   Status
	Action Action
}

func (e *TransitionError) Error() string {
	allowed := allowedFrom(e.Action)
	if len(allowed) == 0 {
		return fmt.Sprintf("cannot %s an order that is %s", e.Action, e.From)
	}
	return fmt.Sprintf("cannot %s an order that is %s (allowed only when %s)", e.Action, e.From, joinStatuses(allowed))
}

func (e *TransitionError) Unwrap() error { return ErrIllegalTransition }

// nextStatus returns the state that action leads to from from, or a
// *TransitionError when the table does not allow it.
func nextStatus(from Status, action Action) (Status, error) {
	if to, ok := transitions[from][action]; ok {
		return to, nil
	}
	return "", &TransitionError{From: from, Action: action}
}

// allowedFrom lists the states from which action is allowed, in saga order.
func allowedFrom(action Action) []Status {
	var out []Status
	for _, s := range Statuses {
		if _, ok := transitions[s][action]; ok {
			out = append(out, s)
		}
	}
	return out
}

func joinStatuses(ss []Status) string {
	out := ""
	for i, s := range ss {
		switch {
		case i == 0:
		case i == len(ss)-1:
			out += " or "
		default:
			out += ", "
		}
		out += string(s)
	}
	return out
}
