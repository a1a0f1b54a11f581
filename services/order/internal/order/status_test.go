package order

import (
	"errors"
	"strings"
	"testing"
)

// TestTransitionTable checks every (state, action) pair against the legal
// moves written out here independently of the table.
func TestTransitionTable(t *testing.T) {
	type pair struct {
		from   Status
		action Action
	}
	C, PP, P, S, D, X := StatusCreated, StatusPaymentPending, StatusPaid,
		StatusShipped, StatusDelivered, StatusCancelled
	legal := map[pair]Status{
		{C, ActionReserve}: PP,
		{C, ActionPay}:     P, // payment seen before the reservation (another topic)
		{PP, ActionPay}:    P,
		{P, ActionShip}:    S,
		{S, ActionDeliver}: D,

		{C, ActionCancel}:  X,
		{PP, ActionCancel}: X,
		{P, ActionCancel}:  X,

		{C, ActionReject}: X,

		{C, ActionFailPayment}:  X,
		{PP, ActionFailPayment}: X,

		{C, ActionExpire}:  X,
		{PP, ActionExpire}: X,
		{P, ActionExpire}:  X, // stock released before the payment was seen: refund

		{C, ActionTimeout}: X, // inventory never answered; later states have their own timeouts
	}
	pairs := 0
	for _, from := range Statuses {
		for _, action := range Actions {
			pairs++
			got, err := nextStatus(from, action)
			want, ok := legal[pair{from, action}]
			if ok {
				if err != nil || got != want {
					t.Errorf("%s --%s--> got (%q, %v), want %s", from, action, got, err, want)
				}
				continue
			}
			var te *TransitionError
			if !errors.As(err, &te) || !errors.Is(err, ErrIllegalTransition) || got != "" {
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
	for _, s := range []Status{D, X} {
		if !s.Final() {
			t.Errorf("%s is not final", s)
		}
	}
	// Nothing ever leads back to CREATED.
	for _, from := range Statuses {
		for _, a := range Actions {
			if to, err := nextStatus(from, a); err == nil && to == C {
				t.Errorf("%s --%s--> CREATED", from, a)
			}
		}
	}
}

func TestTransitionErrorMessageSaysWhatIsAllowed(t *testing.T) {
	_, err := nextStatus(StatusCreated, ActionShip)
	if err == nil || err.Error() != "cannot ship an order that is CREATED (allowed only when PAID)" {
		t.Fatalf("message: %v", err)
	}
	_, err = nextStatus(StatusShipped, ActionCancel)
	if !strings.Contains(err.Error(), "allowed only when CREATED, PAYMENT_PENDING or PAID") {
		t.Fatalf("message: %v", err)
	}
}
