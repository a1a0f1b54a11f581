package payment

// Event is what payment announces on payment.events about a payment (keyed
// by its order): one of the types below, plain values that the store turns
// into the contract's messages and outbox rows with the change they
// announce, and only with it.
type Event interface{ about() Payment }

// PaymentInitiated announces a new pending payment.
type PaymentInitiated struct{ Payment Payment }

// PaymentSucceeded announces a capture.
type PaymentSucceeded struct{ Payment Payment }

// PaymentFailed announces a payment failed by the gateway (FailureReason
// says why).
type PaymentFailed struct{ Payment Payment }

// PaymentVoided announces a pending payment voided (VoidReason says why).
type PaymentVoided struct{ Payment Payment }

// PaymentRefunded announces Refund, given back on Payment.
type PaymentRefunded struct {
	Payment Payment
	Refund  Refund
}

func (e PaymentInitiated) about() Payment { return e.Payment }
func (e PaymentSucceeded) about() Payment { return e.Payment }
func (e PaymentFailed) about() Payment    { return e.Payment }
func (e PaymentVoided) about() Payment    { return e.Payment }
func (e PaymentRefunded) about() Payment  { return e.Payment }
