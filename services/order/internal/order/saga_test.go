package order

import (
	"errors"
	"testing"
)

// A payment event moves an order only for the order's total, in its
// currency (issue 24 item 7): anything else is dead-lettered as
// ErrEventMismatch, and one without an amount as ErrInvalidEvent.
func TestPaymentEventsMustPayTheOrdersTotal(t *testing.T) {
	const id = "01900000-0000-7000-8000-000000000001"
	o := Order{ID: id, Status: StatusPaymentPending, TotalMinor: 1999, Currency: "EUR"}
	for name, tc := range map[string]struct {
		typ    string
		amount *Money
		want   error
	}{
		"success of the total":      {PaymentSuccess, &Money{1999, "EUR"}, nil},
		"success of another amount": {PaymentSuccess, &Money{1, "EUR"}, ErrEventMismatch},
		"success in another money":  {PaymentSuccess, &Money{1999, "USD"}, ErrEventMismatch},
		"failure of another amount": {PaymentFailed, &Money{5, "EUR"}, ErrEventMismatch},
		"failure of the total":      {PaymentFailed, &Money{1999, "EUR"}, nil},
		"refund of any amount":      {PaymentRefunded, &Money{5, "EUR"}, nil}, // partial refunds are the norm
	} {
		t.Run(name, func(t *testing.T) {
			ev := SagaEvent{ID: "e", Type: tc.typ, OrderID: id, Amount: tc.amount}
			if err := checkTotal(sagaRules[tc.typ], ev, o); !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("checkTotal: %v, want %v", err, tc.want)
			}
		})
	}

	s := NewService(nil, Config{}, nil)
	for _, typ := range []string{PaymentSuccess, PaymentFailed} {
		if _, err := s.planSaga(SagaEvent{ID: "e", Type: typ, OrderID: id}); !errors.Is(err, ErrInvalidEvent) {
			t.Errorf("%s without an amount: %v, want ErrInvalidEvent", typ, err)
		}
	}
	// The blind move of a success carries the total the order must have,
	// so that it misses an order of another total (which the locking way
	// then refuses).
	plan, err := s.planSaga(SagaEvent{ID: "e", Type: PaymentSuccess, OrderID: id, Amount: &Money{1999, "EUR"}})
	if err != nil || plan.advance == nil || plan.advance.Total == nil || *plan.advance.Total != (Money{1999, "EUR"}) {
		t.Fatalf("plan of a success: %+v, %v", plan.advance, err)
	}
}
