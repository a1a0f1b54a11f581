package paymentdb

import (
	"context"
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/shop-oss/shop/pkg/event"
	"github.com/shop-oss/shop/pkg/logging"
	"github.com/shop-oss/shop/proto-events/eventsv1"
	"github.com/shop-oss/shop/services/payment/internal/payment"
)

// The one adapter from the domain's events to the contract: each becomes
// its proto-events message, keyed by the order, as an outbox row written
// by the statement of the change it announces.

// toMessage is e as the contract's message.
func toMessage(e payment.Event) proto.Message {
	switch e := e.(type) {
	case payment.PaymentInitiated:
		return &eventsv1.PaymentInitiated{OrderId: e.Payment.OrderID, PaymentId: e.Payment.ID, Amount: money(e.Payment, 0)}
	case payment.PaymentSucceeded:
		return &eventsv1.PaymentSucceeded{OrderId: e.Payment.OrderID, PaymentId: e.Payment.ID, Amount: money(e.Payment, 0)}
	case payment.PaymentFailed:
		p := e.Payment
		return &eventsv1.PaymentFailed{OrderId: p.OrderID, PaymentId: p.ID, ReasonCode: p.FailureReason, Amount: money(p, 0)}
	case payment.PaymentVoided:
		p := e.Payment
		return &eventsv1.PaymentVoided{OrderId: p.OrderID, PaymentId: p.ID, Amount: money(p, 0), Reason: p.VoidReason}
	case payment.PaymentRefunded:
		p, r := e.Payment, e.Refund
		return &eventsv1.PaymentRefunded{OrderId: p.OrderID, PaymentId: p.ID, Amount: money(p, r.AmountMinor), RefundId: r.ID, Reason: r.Reason}
	}
	panic(fmt.Sprintf("paymentdb: no message for event %T", e)) // the domain's events are a closed set
}

// money is amount (0: the payment's whole amount) in p's currency.
func money(p payment.Payment, amount int64) *eventsv1.Money {
	if amount == 0 {
		amount = p.Amount.AmountMinor
	}
	return &eventsv1.Money{AmountMinor: amount, Currency: p.Amount.Currency}
}

// newEvents makes the envelopes of the order's events. Their correlation
// ID is the order ID: the saga's thread, whatever request or event caused
// them (the causation ID still names the event being handled).
func newEvents(ctx context.Context, orderID string, evs []payment.Event) ([]event.Event, error) {
	ctx = logging.WithCorrelationID(ctx, orderID)
	out := make([]event.Event, 0, len(evs))
	for _, e := range evs {
		m, err := event.New(ctx, orderID, toMessage(e))
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}
