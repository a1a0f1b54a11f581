// Package gateway is the simulated card gateway of the payment service: a
// fixed table of test card numbers decides each charge, deterministically,
// so that every saga path can be driven by hand, in tests and in the load
// generator. Instrument wraps any gateway with a latency histogram.
package gateway

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/shop-oss/shop/services/payment/internal/payment"
)

// The test cards.
const (
	CardSuccess           = "4242424242424242"
	CardDeclined          = "4000000000000002"
	CardInsufficientFunds = "4000000000009995"
	// CardTimeoutThenSuccess times out on the first TimeoutFailures attempts
	// of a charge, then succeeds: retried with backoff, it is captured.
	CardTimeoutThenSuccess = "4000000000000119"
	// CardAlwaysTimeout never answers: the payment fails with
	// GATEWAY_TIMEOUT once the retries run out.
	CardAlwaysTimeout = "4000000000000408"
)

// TestCard documents one test card.
type TestCard struct {
	Number  string
	Outcome string
}

// TestCards is the table, for documentation and the seed's demo lines.
// Any other (valid) number is declined with CARD_DECLINED, as a test-mode
// gateway declines real cards.
func TestCards(timeoutFailures int) []TestCard {
	return []TestCard{
		{CardSuccess, "succeeds"},
		{CardDeclined, "declined: CARD_DECLINED"},
		{CardInsufficientFunds, "declined: INSUFFICIENT_FUNDS"},
		{CardTimeoutThenSuccess, fmt.Sprintf("times out %d times, then succeeds (retried with backoff)", timeoutFailures)},
		{CardAlwaysTimeout, "always times out: fails with GATEWAY_TIMEOUT after the retries"},
	}
}

// Simulated is the test-card gateway. It keeps no state: the outcome of a
// charge depends only on the card and the attempt number, and an approved
// charge's ID derives from the payment ID (as a real gateway returns the
// same charge for the same idempotency key).
type Simulated struct {
	// TimeoutFailures is how many attempts of a CardTimeoutThenSuccess
	// charge time out before one succeeds.
	TimeoutFailures int
	// Latency is added to every call, to make the gateway feel remote.
	Latency time.Duration
}

// Charge decides a charge by the card number.
func (g Simulated) Charge(ctx context.Context, req payment.ChargeRequest) (payment.ChargeResult, error) {
	if err := g.wait(ctx); err != nil {
		return payment.ChargeResult{}, err
	}
	approve := payment.ChargeResult{Approved: true, ChargeID: "ch_" + strings.ReplaceAll(req.PaymentID, "-", "")}
	switch req.CardNumber {
	case CardSuccess:
		return approve, nil
	case CardInsufficientFunds:
		return payment.ChargeResult{DeclineCode: payment.ReasonInsufficientFunds}, nil
	case CardTimeoutThenSuccess:
		if req.Attempt <= g.TimeoutFailures {
			return payment.ChargeResult{}, fmt.Errorf("simulated timeout on attempt %d: %w", req.Attempt, payment.ErrNoAnswer)
		}
		return approve, nil
	case CardAlwaysTimeout:
		return payment.ChargeResult{}, fmt.Errorf("simulated timeout on attempt %d: %w", req.Attempt, payment.ErrNoAnswer)
	}
	return payment.ChargeResult{DeclineCode: payment.ReasonCardDeclined}, nil
}

// Refund always succeeds.
func (g Simulated) Refund(ctx context.Context, _ payment.RefundRequest) error {
	return g.wait(ctx)
}

func (g Simulated) wait(ctx context.Context) error {
	if g.Latency <= 0 {
		return nil
	}
	t := time.NewTimer(g.Latency)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return fmt.Errorf("simulated gateway: %w", ctx.Err())
	case <-t.C:
		return nil
	}
}

// instrumented measures each call of the gateway it wraps.
type instrumented struct {
	next    payment.Gateway
	latency *prometheus.HistogramVec
}

// Instrument wraps g so that every call is observed in
// payment_gateway_request_duration_seconds{operation, result}, registered
// on reg.
func Instrument(g payment.Gateway, reg prometheus.Registerer) payment.Gateway {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "payment_gateway_request_duration_seconds",
		Help:    "Latency of calls to the payment gateway, by operation (charge, refund) and result (approved, declined, no_answer, ok, error).",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
	}, []string{"operation", "result"})
	reg.MustRegister(h)
	return instrumented{next: g, latency: h}
}

func (i instrumented) Charge(ctx context.Context, req payment.ChargeRequest) (payment.ChargeResult, error) {
	start := time.Now()
	res, err := i.next.Charge(ctx, req)
	result := "approved"
	switch {
	case err != nil:
		result = "no_answer"
	case !res.Approved:
		result = "declined"
	}
	i.latency.WithLabelValues("charge", result).Observe(time.Since(start).Seconds())
	return res, err
}

func (i instrumented) Refund(ctx context.Context, req payment.RefundRequest) error {
	start := time.Now()
	err := i.next.Refund(ctx, req)
	result := "ok"
	if err != nil {
		result = "error"
	}
	i.latency.WithLabelValues("refund", result).Observe(time.Since(start).Seconds())
	return err
}
