package payment

import (
	"errors"
	"testing"
)

// checkCancelled: an ORDER_CANCELLED must describe the order payment knows
// (owner, total) and its payment; one that would refund captured money must
// state the total.
func TestCheckCancelled(t *testing.T) {
	const owner, other = "01900000-0000-7000-8000-0000000000a1", "01900000-0000-7000-8000-0000000000a2"
	eur := func(n int64) *Money { return &Money{AmountMinor: n, Currency: "EUR"} }
	known := Order{ID: "o", UserID: owner, Total: *eur(3000)}
	captured := Payment{ID: "p", OrderID: "o", UserID: owner, Amount: *eur(3000), Status: StatusSucceeded}
	pending := captured
	pending.Status = StatusPending
	for name, tc := range map[string]struct {
		in         OrderCancelled
		o          Order
		p          Payment
		hasPayment bool
		refused    bool
	}{
		"the order's owner and total":         {OrderCancelled{UserID: owner, Total: eur(3000)}, known, captured, true, false},
		"no payment, nothing stated":          {OrderCancelled{}, Order{ID: "o"}, Payment{}, false, false},
		"a pending payment, nothing stated":   {OrderCancelled{}, known, pending, true, false},
		"a captured payment, no total":        {OrderCancelled{UserID: owner}, known, captured, true, true},
		"another total":                       {OrderCancelled{UserID: owner, Total: eur(1)}, known, captured, true, true},
		"another currency":                    {OrderCancelled{UserID: owner, Total: &Money{3000, "USD"}}, known, captured, true, true},
		"another owner":                       {OrderCancelled{UserID: other, Total: eur(3000)}, known, captured, true, true},
		"another owner than the payment's":    {OrderCancelled{UserID: other}, Order{ID: "o"}, pending, true, true},
		"another total than the order's":      {OrderCancelled{Total: eur(5)}, known, Payment{}, false, true},
		"another owner than the order's only": {OrderCancelled{UserID: other}, known, Payment{}, false, true},
	} {
		t.Run(name, func(t *testing.T) {
			err := checkCancelled(tc.in, tc.o, tc.p, tc.hasPayment)
			if tc.refused != errors.Is(err, ErrEventMismatch) || (!tc.refused && err != nil) {
				t.Fatalf("checkCancelled: %v, refused want %v", err, tc.refused)
			}
		})
	}
}
