// Package payment holds the rules of the payment service: the payment state
// machine, charging through a gateway with bounded retries, refunds that
// never exceed what was captured, and the payment side of the order saga
// (create on reservation, void on expiry or cancel, refund a cancelled paid
// order). It imports no gin, gorm or kafka: storage and the gateway are
// interfaces declared here.
//
// The state machine of a payment:
//
//	PENDING ──> SUCCEEDED ──> PARTIALLY_REFUNDED ──> REFUNDED
//	   │            └────────────────────────────────────^
//	   ├──> FAILED   (declined, insufficient funds, gateway timeout)
//	   └──> VOIDED   (reservation expired, order cancelled before payment)
//
// FAILED, VOIDED and REFUNDED are final. The database enforces the same
// table (a trigger), so no code path can move a payment off it.
package payment

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// Status is where a payment is in its state machine.
type Status string

// The statuses of a payment.
const (
	StatusPending           Status = "PENDING"
	StatusSucceeded         Status = "SUCCEEDED"
	StatusFailed            Status = "FAILED"
	StatusVoided            Status = "VOIDED"
	StatusPartiallyRefunded Status = "PARTIALLY_REFUNDED"
	StatusRefunded          Status = "REFUNDED"
)

// transitions is the one table of legal status changes (mirrored by the
// payments_guard trigger).
var transitions = map[Status][]Status{
	StatusPending:           {StatusSucceeded, StatusFailed, StatusVoided},
	StatusSucceeded:         {StatusPartiallyRefunded, StatusRefunded},
	StatusPartiallyRefunded: {StatusPartiallyRefunded, StatusRefunded},
}

// canTransition reports whether a payment may move from one status to
// another.
func canTransition(from, to Status) bool {
	return slices.Contains(transitions[from], to)
}

// captured reports whether money was taken: the payment succeeded, and may
// since have been refunded in part or in full.
func (s Status) captured() bool {
	return s == StatusSucceeded || s == StatusPartiallyRefunded || s == StatusRefunded
}

// Reason codes carried by PAYMENT_FAILED, PAYMENT_VOIDED and PAYMENT_REFUNDED.
const (
	ReasonCardDeclined       = "CARD_DECLINED"
	ReasonInsufficientFunds  = "INSUFFICIENT_FUNDS"
	ReasonGatewayTimeout     = "GATEWAY_TIMEOUT"
	ReasonGatewayError       = "GATEWAY_ERROR"
	ReasonReservationExpired = "RESERVATION_EXPIRED"
	ReasonOrderCancelled     = "ORDER_CANCELLED"
	ReasonCustomerRequest    = "CUSTOMER_REQUEST"
)

// Domain errors, mapped to HTTP problems once, in the app's error table.
var (
	ErrPaymentNotFound = errors.New("payment not found")
	ErrOrderNotFound   = errors.New("order not found")
	// ErrOrderNotReady: the order is known but inventory has not reserved it
	// yet (or ORDER_CREATED has not arrived); the payment appears when both
	// have.
	ErrOrderNotReady = errors.New("the order is not reserved yet; retry shortly")
	// ErrOrderClosed: the order was cancelled or its reservation expired.
	ErrOrderClosed = errors.New("the order was cancelled or its reservation expired")
	// ErrReservationExpired: the reservation's expiry passed; paying now
	// would charge for stock that is being released.
	ErrReservationExpired = errors.New("the order's reservation has expired")
	ErrPaymentBusy        = errors.New("the payment is being processed by another request; retry shortly")
	ErrPaymentVoided      = errors.New("the payment was voided")
	ErrPaymentFailed      = errors.New("the payment has already failed")
	ErrAlreadyCaptured    = errors.New("the payment has already been captured")
	ErrNotCaptured        = errors.New("the payment has not been captured; nothing to refund")
	ErrRefundExceedsPaid  = errors.New("the refund exceeds what remains of the captured amount")
	// ErrStateChanged: a conditional update found the payment changed since
	// it was read (the database refused the transition).
	ErrStateChanged = errors.New("the payment changed concurrently")
	ErrForbidden    = errors.New("not allowed")

	// Outcomes of a confirm that failed the payment (it is FAILED now).
	ErrCardDeclined      = errors.New("the card was declined")
	ErrInsufficientFunds = errors.New("insufficient funds")
	ErrGatewayTimeout    = errors.New("the payment gateway did not answer in time")
	ErrGatewayError      = errors.New("the payment gateway failed to process the charge")

	// ErrGatewayUnavailable: a refund could not be made at the gateway;
	// nothing changed and the call may be retried.
	ErrGatewayUnavailable = errors.New("the payment gateway is unavailable")
)

// Money is an amount in minor units of an ISO 4217 currency.
type Money struct {
	AmountMinor int64
	Currency    string
}

// Payment is one order's payment.
type Payment struct {
	ID            string
	OrderID       string
	UserID        string
	ReservationID string
	Amount        Money
	Status        Status
	RefundedMinor int64
	// FailureReason is set when FAILED (a Reason* code); VoidReason when VOIDED.
	FailureReason string
	VoidReason    string
	CardLast4     string
	// Attempts counts gateway charge attempts (retries included).
	Attempts   int
	ChargeID   string
	CapturedAt time.Time
	Version    int
	CreatedAt  time.Time
	UpdatedAt  time.Time
	Refunds    []Refund
}

// Refund is money given back on a captured payment.
type Refund struct {
	ID          string
	PaymentID   string
	AmountMinor int64
	Currency    string
	Reason      string
	// CreatedBy is the admin's user ID; empty for an automatic refund.
	CreatedBy string
	CreatedAt time.Time
}

// remaining is what can still be refunded.
func (p Payment) remaining() int64 {
	if !p.Status.captured() {
		return 0
	}
	return p.Amount.AmountMinor - p.RefundedMinor
}

// to returns p moved to status, or an error when the table forbids it.
func (p Payment) to(status Status) (Payment, error) {
	if !canTransition(p.Status, status) {
		return p, fmt.Errorf("payment %s: %s -> %s: %w", p.ID, p.Status, status, stateError(p.Status))
	}
	p.Status = status
	return p, nil
}

// stateError is the error for acting on a payment in status s as if it
// were pending.
func stateError(s Status) error {
	switch {
	case s == StatusVoided:
		return ErrPaymentVoided
	case s == StatusFailed:
		return ErrPaymentFailed
	case s.captured():
		return ErrAlreadyCaptured
	}
	return ErrStateChanged
}

// Capture records a successful charge.
func (p Payment) Capture(chargeID string, attempts int, at time.Time) (Payment, error) {
	p, err := p.to(StatusSucceeded)
	if err != nil {
		return p, err
	}
	p.ChargeID, p.Attempts, p.CapturedAt = chargeID, attempts, at
	return p, nil
}

// fail records a charge that did not go through.
func (p Payment) fail(reason string, attempts int) (Payment, error) {
	p, err := p.to(StatusFailed)
	if err != nil {
		return p, err
	}
	p.FailureReason, p.Attempts = reason, attempts
	return p, nil
}

// declined reports whether a charge that did not go through was refused by
// the card (CARD_DECLINED, INSUFFICIENT_FUNDS), as opposed to a failure of
// the gateway.
func declined(reason string) bool {
	return reason == ReasonCardDeclined || reason == ReasonInsufficientFunds
}

// decline records a charge the card refused: the payment stays PENDING, so
// that the customer can try another card while the order's reservation
// holds (its expiry voids the payment and cancels the order); FailureReason
// keeps the last refusal. A failure of the gateway itself (timeouts,
// errors) fails the payment instead (Fail), and the order with it.
func (p Payment) decline(reason string, attempts int) (Payment, error) {
	if p.Status != StatusPending {
		return p, fmt.Errorf("payment %s: decline while %s: %w", p.ID, p.Status, stateError(p.Status))
	}
	p.FailureReason, p.Attempts = reason, attempts
	return p, nil
}

// void cancels a pending payment: nothing was or will be charged.
func (p Payment) void(reason string) (Payment, error) {
	p, err := p.to(StatusVoided)
	if err != nil {
		return p, err
	}
	p.VoidReason = reason
	return p, nil
}

// ApplyRefund adds a refund of amount (> 0) to a captured payment. It never
// lets the refunds exceed the captured amount.
func (p Payment) ApplyRefund(amount int64) (Payment, error) {
	if !p.Status.captured() {
		return p, fmt.Errorf("payment %s is %s: %w", p.ID, p.Status, ErrNotCaptured)
	}
	if amount <= 0 || amount > p.remaining() {
		return p, fmt.Errorf("refund %d of payment %s with %d left: %w", amount, p.ID, p.remaining(), ErrRefundExceedsPaid)
	}
	next := StatusPartiallyRefunded
	if p.RefundedMinor+amount == p.Amount.AmountMinor {
		next = StatusRefunded
	}
	p, err := p.to(next)
	if err != nil {
		return p, err
	}
	p.RefundedMinor += amount
	return p, nil
}

// Actor is who calls: a user and whether they are staff (ADMIN).
type Actor struct {
	UserID string
	Admin  bool
}

// canAccess is the ownership rule: the owner or staff.
func (a Actor) canAccess(ownerID string) bool {
	return a.UserID != "" && (a.Admin || (ownerID != "" && a.UserID == ownerID))
}

// Order is payment's projection of an order: what ORDER_CREATED,
// INVENTORY_RESERVED, RESERVATION_EXPIRED and ORDER_CANCELLED said of it.
type Order struct {
	ID string
	// UserID and Total are known once ORDER_CREATED has been seen.
	UserID string
	Total  Money
	// ReservationID and ReservationExpiresAt once INVENTORY_RESERVED has.
	ReservationID        string
	ReservationExpiresAt time.Time
	Expired              bool
	Cancelled            bool
	CancelReason         string
}

// Known reports whether ORDER_CREATED has been seen.
func (o Order) Known() bool { return o.UserID != "" }

// Reserved reports whether INVENTORY_RESERVED has been seen.
func (o Order) Reserved() bool { return o.ReservationID != "" }

// closed reports whether the order can no longer be paid.
func (o Order) closed() bool { return o.Expired || o.Cancelled }

// ReadyToPay reports whether a payment should exist for the order.
func (o Order) ReadyToPay() bool { return o.Known() && o.Reserved() && !o.closed() }
