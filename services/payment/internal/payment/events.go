package payment

import (
	"github.com/shop-oss/shop/proto-events/eventsv1"
)

// The events payment publishes on payment.events, keyed by order ID.

func money(p Payment, amount int64) *eventsv1.Money {
	return &eventsv1.Money{AmountMinor: amount, Currency: p.Amount.Currency}
}

func initiatedEvent(p Payment) *eventsv1.PaymentInitiated {
	return &eventsv1.PaymentInitiated{OrderId: p.OrderID, PaymentId: p.ID, Amount: money(p, p.Amount.AmountMinor)}
}

func succeededEvent(p Payment) *eventsv1.PaymentSucceeded {
	return &eventsv1.PaymentSucceeded{OrderId: p.OrderID, PaymentId: p.ID, Amount: money(p, p.Amount.AmountMinor)}
}

func failedEvent(p Payment) *eventsv1.PaymentFailed {
	return &eventsv1.PaymentFailed{OrderId: p.OrderID, PaymentId: p.ID, ReasonCode: p.FailureReason, Amount: money(p, p.Amount.AmountMinor)}
}

func voidedEvent(p Payment) *eventsv1.PaymentVoided {
	return &eventsv1.PaymentVoided{OrderId: p.OrderID, PaymentId: p.ID, Amount: money(p, p.Amount.AmountMinor), Reason: p.VoidReason}
}

func refundedEvent(p Payment, r Refund) *eventsv1.PaymentRefunded {
	return &eventsv1.PaymentRefunded{OrderId: p.OrderID, PaymentId: p.ID, Amount: money(p, r.AmountMinor), RefundId: r.ID, Reason: r.Reason}
}
