package order_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/shop-oss/shop/services/order/internal/order"
)

// TestTransitionTable checks every (state, action) pair against the legal
// moves written out here independently of the table.
func TestTransitionTable(t *testing.T) {
	type pair struct {
		from   order.Status
		action order.Action
	}
	C, PP, P, S, D, X := order.StatusCreated, order.StatusPaymentPending, order.StatusPaid,
		order.StatusShipped, order.StatusDelivered, order.StatusCancelled
	legal := map[pair]order.Status{
		{C, order.ActionReserve}: PP,
		{C, order.ActionPay}:     P, // payment seen before the reservation (another topic)
		{PP, order.ActionPay}:    P,
		{P, order.ActionShip}:    S,
		{S, order.ActionDeliver}: D,

		{C, order.ActionCancel}:  X,
		{PP, order.ActionCancel}: X,
		{P, order.ActionCancel}:  X,

		{C, order.ActionReject}: X,

		{C, order.ActionFailPayment}:  X,
		{PP, order.ActionFailPayment}: X,

		{C, order.ActionExpire}:  X,
		{PP, order.ActionExpire}: X,
		{P, order.ActionExpire}:  X, // stock released before the payment was seen: refund

		{C, order.ActionTimeout}: X, // inventory never answered; later states have their own timeouts
	}
	pairs := 0
	for _, from := range order.Statuses {
		for _, action := range order.Actions {
			pairs++
			got, err := order.Next(from, action)
			want, ok := legal[pair{from, action}]
			if ok {
				if err != nil || got != want {
					t.Errorf("%s --%s--> got (%q, %v), want %s", from, action, got, err, want)
				}
				continue
			}
			var te *order.TransitionError
			if !errors.As(err, &te) || !errors.Is(err, order.ErrIllegalTransition) || got != "" {
				t.Errorf("%s --%s--> got (%q, %v), want an illegal-transition error", from, action, got, err)
				continue
			}
			if te.From != from || te.Action != action {
				t.Errorf("%s --%s-->: error names %s/%s", from, action, te.From, te.Action)
			}
		}
	}
	if pairs != 6*9 {
		t.Fatalf("checked %d pairs; a state or action is missing from the lists", pairs)
	}
	for _, s := range []order.Status{D, X} {
		if !s.Final() {
			t.Errorf("%s is not final", s)
		}
	}
	// Nothing ever leads back to CREATED.
	for _, from := range order.Statuses {
		for _, a := range order.Actions {
			if to, err := order.Next(from, a); err == nil && to == C {
				t.Errorf("%s --%s--> CREATED", from, a)
			}
		}
	}
}

func TestTransitionErrorMessageSaysWhatIsAllowed(t *testing.T) {
	_, err := order.Next(order.StatusCreated, order.ActionShip)
	if err == nil || err.Error() != "cannot ship an order that is CREATED (allowed only when PAID)" {
		t.Fatalf("message: %v", err)
	}
	_, err = order.Next(order.StatusShipped, order.ActionCancel)
	if !strings.Contains(err.Error(), "allowed only when CREATED, PAYMENT_PENDING or PAID") {
		t.Fatalf("message: %v", err)
	}
}
