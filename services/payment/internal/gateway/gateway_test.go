package gateway

import (
	"context"
	"errors"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/shop-oss/shop/services/payment/internal/payment"
)

func TestTestCards(t *testing.T) {
	g := Simulated{TimeoutFailures: 2}
	cases := []struct {
		card     string
		attempt  int
		approved bool
		decline  string
		timeout  bool
	}{
		{CardSuccess, 1, true, "", false},
		{CardDeclined, 1, false, payment.ReasonCardDeclined, false},
		{CardInsufficientFunds, 1, false, payment.ReasonInsufficientFunds, false},
		{CardTimeoutThenSuccess, 1, false, "", true},
		{CardTimeoutThenSuccess, 2, false, "", true},
		{CardTimeoutThenSuccess, 3, true, "", false},
		{CardAlwaysTimeout, 1, false, "", true},
		{CardAlwaysTimeout, 10, false, "", true},
		{"4012888888881881", 1, false, payment.ReasonCardDeclined, false}, // not a test card
	}
	for _, c := range cases {
		res, err := g.Charge(context.Background(), payment.ChargeRequest{PaymentID: "0190-aa", CardNumber: c.card, Attempt: c.attempt})
		if c.timeout {
			if !errors.Is(err, payment.ErrNoAnswer) {
				t.Errorf("%s attempt %d: %v, want a timeout", c.card, c.attempt, err)
			}
			continue
		}
		if err != nil || res.Approved != c.approved || res.DeclineCode != c.decline {
			t.Errorf("%s attempt %d: %+v %v", c.card, c.attempt, res, err)
		}
		if c.approved && res.ChargeID != "ch_0190aa" {
			t.Errorf("charge ID %q is not derived from the payment ID", res.ChargeID)
		}
	}
	if len(TestCards(2)) != 5 {
		t.Fatal("the documented table lost a card")
	}
}

func TestInstrumentObservesLatency(t *testing.T) {
	reg := prometheus.NewRegistry()
	g := Instrument(Simulated{}, reg)
	_, _ = g.Charge(context.Background(), payment.ChargeRequest{CardNumber: CardSuccess, Attempt: 1})
	_, _ = g.Charge(context.Background(), payment.ChargeRequest{CardNumber: CardDeclined, Attempt: 1})
	_, _ = g.Charge(context.Background(), payment.ChargeRequest{CardNumber: CardAlwaysTimeout, Attempt: 1})
	_ = g.Refund(context.Background(), payment.RefundRequest{})
	if n := testutil.CollectAndCount(reg, "payment_gateway_request_duration_seconds"); n != 4 {
		t.Fatalf("%d series, want approved, declined, no_answer and refund ok", n)
	}
}
