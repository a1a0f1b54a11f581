package payment

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/shop-oss/shop/pkg/problem"
)

func TestTransitionTable(t *testing.T) {
	all := []Status{StatusPending, StatusSucceeded, StatusFailed, StatusVoided, StatusPartiallyRefunded, StatusRefunded}
	legal := map[[2]Status]bool{
		{StatusPending, StatusSucceeded}: true, {StatusPending, StatusFailed}: true, {StatusPending, StatusVoided}: true,
		{StatusSucceeded, StatusPartiallyRefunded}: true, {StatusSucceeded, StatusRefunded}: true,
		{StatusPartiallyRefunded, StatusPartiallyRefunded}: true, {StatusPartiallyRefunded, StatusRefunded}: true,
	}
	for _, from := range all {
		for _, to := range all {
			if got := canTransition(from, to); got != legal[[2]Status{from, to}] {
				t.Errorf("canTransition(%s, %s) = %v", from, to, got)
			}
		}
	}
}

func pending() Payment {
	return Payment{ID: "p1", OrderID: "o1", UserID: "u1", Amount: Money{1000, "EUR"}, Status: StatusPending}
}

func TestCaptureOnlyOnce(t *testing.T) {
	p, err := pending().Capture("ch_1", 1, time.Now())
	if err != nil || p.Status != StatusSucceeded || p.ChargeID != "ch_1" {
		t.Fatalf("capture: %+v %v", p, err)
	}
	if _, err := p.Capture("ch_2", 1, time.Now()); !errors.Is(err, ErrAlreadyCaptured) {
		t.Fatalf("second capture: %v, want ErrAlreadyCaptured", err)
	}
	if _, err := p.void(ReasonOrderCancelled); !errors.Is(err, ErrAlreadyCaptured) {
		t.Fatalf("void captured: %v", err)
	}
	voided, _ := pending().void(ReasonReservationExpired)
	if _, err := voided.Capture("ch", 1, time.Now()); !errors.Is(err, ErrPaymentVoided) {
		t.Fatalf("capture voided: %v", err)
	}
	failed, _ := pending().fail(ReasonCardDeclined, 1)
	if _, err := failed.Capture("ch", 1, time.Now()); !errors.Is(err, ErrPaymentFailed) {
		t.Fatalf("capture failed: %v", err)
	}
}

func TestApplyRefund(t *testing.T) {
	paid, _ := pending().Capture("ch", 1, time.Now())
	if _, err := pending().ApplyRefund(1); !errors.Is(err, ErrNotCaptured) {
		t.Fatalf("refund pending: %v", err)
	}
	p, err := paid.ApplyRefund(300)
	if err != nil || p.Status != StatusPartiallyRefunded || p.RefundedMinor != 300 || p.remaining() != 700 {
		t.Fatalf("partial: %+v %v", p, err)
	}
	if _, err := p.ApplyRefund(701); !errors.Is(err, ErrRefundExceedsPaid) {
		t.Fatalf("over-refund: %v", err)
	}
	if _, err := p.ApplyRefund(0); !errors.Is(err, ErrRefundExceedsPaid) {
		t.Fatalf("zero refund: %v", err)
	}
	p, err = p.ApplyRefund(700)
	if err != nil || p.Status != StatusRefunded || p.remaining() != 0 {
		t.Fatalf("rest: %+v %v", p, err)
	}
	if _, err := p.ApplyRefund(1); !errors.Is(err, ErrRefundExceedsPaid) {
		t.Fatalf("refund refunded: %v", err)
	}
}

func TestOrderReadiness(t *testing.T) {
	o := Order{ID: "o"}
	if o.ReadyToPay() {
		t.Fatal("empty order ready")
	}
	o.ReservationID = "r"
	if o.ReadyToPay() {
		t.Fatal("reserved but unknown order ready")
	}
	o.UserID, o.Total = "u", Money{1, "EUR"}
	if !o.ReadyToPay() {
		t.Fatal("known and reserved order not ready")
	}
	for _, closed := range []Order{{ID: "o", UserID: "u", ReservationID: "r", Expired: true}, {ID: "o", UserID: "u", ReservationID: "r", Cancelled: true}} {
		if closed.ReadyToPay() {
			t.Fatalf("closed order ready: %+v", closed)
		}
	}
}

func TestActorCanAccess(t *testing.T) {
	cases := []struct {
		a     Actor
		owner string
		want  bool
	}{
		{Actor{UserID: "u1"}, "u1", true},
		{Actor{UserID: "u2"}, "u1", false},
		{Actor{UserID: "a", Admin: true}, "u1", true},
		{Actor{UserID: "a", Admin: true}, "", true},
		{Actor{UserID: "u1"}, "", false},
		{Actor{}, "", false},
	}
	for _, c := range cases {
		if got := c.a.canAccess(c.owner); got != c.want {
			t.Errorf("%+v.canAccess(%q) = %v", c.a, c.owner, got)
		}
	}
}

func TestValidateCard(t *testing.T) {
	ok := map[string]string{
		"4242424242424242":    "4242424242424242",
		"4242 4242 4242 4242": "4242424242424242",
		"4000-0000-0000-0002": "4000000000000002",
	}
	for in, want := range ok {
		if got, err := validateCard(in); err != nil || got != want {
			t.Errorf("validateCard(%q) = %q, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "4242", "4242424242424241", "42424242424242x2", "12345678901234567890"} {
		_, err := validateCard(bad)
		var ve *problem.ValidationError
		if !errors.As(err, &ve) || ve.Fields[0].Field != "card_number" {
			t.Errorf("validateCard(%q) = %v, want a card_number validation error", bad, err)
		}
	}
}

func TestRetryPolicyDelays(t *testing.T) {
	p := RetryPolicy{MaxAttempts: 6, BaseDelay: 50 * time.Millisecond, MaxDelay: 300 * time.Millisecond, AttemptTimeout: time.Second}
	var got []time.Duration
	for n := 1; n < p.MaxAttempts; n++ {
		got = append(got, p.delay(n))
	}
	want := []time.Duration{50 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond, 300 * time.Millisecond}
	if !slices.Equal(got, want) {
		t.Fatalf("delays %v, want %v", got, want)
	}
	if b := p.budget(); b != 6*time.Second+950*time.Millisecond {
		t.Fatalf("budget %s", b)
	}
	if err := (RetryPolicy{MaxAttempts: 0, AttemptTimeout: time.Second}).Validate(); err == nil {
		t.Fatal("0 attempts accepted")
	}
}

// scripted answers each attempt from a list: an error, or a result.
type scripted struct {
	answers  []error
	attempts []int
}

func (s *scripted) Charge(_ context.Context, req ChargeRequest) (ChargeResult, error) {
	s.attempts = append(s.attempts, req.Attempt)
	if err := s.answers[min(req.Attempt, len(s.answers))-1]; err != nil {
		return ChargeResult{}, err
	}
	return ChargeResult{Approved: true, ChargeID: "ch"}, nil
}

func (s *scripted) Refund(context.Context, RefundRequest) error { return nil }

func TestChargeRetriesTimeoutsWithExponentialBackoff(t *testing.T) {
	policy := RetryPolicy{MaxAttempts: 4, BaseDelay: 10 * time.Millisecond, MaxDelay: time.Second, AttemptTimeout: time.Second}
	var slept []time.Duration
	sleep := func(_ context.Context, d time.Duration) error { slept = append(slept, d); return nil }
	timeout := fmt.Errorf("attempt: %w", ErrNoAnswer)

	// Two timeouts, then a decision.
	g := &scripted{answers: []error{timeout, timeout, nil}}
	out, err := chargeWithRetry(context.Background(), g, policy, sleep, ChargeRequest{PaymentID: "p"})
	if err != nil || !out.result.Approved || out.attempts != 3 || !slices.Equal(g.attempts, []int{1, 2, 3}) {
		t.Fatalf("timeout then success: %+v %v attempts %v", out, err, g.attempts)
	}
	if want := []time.Duration{10 * time.Millisecond, 20 * time.Millisecond}; !slices.Equal(slept, want) || !slices.Equal(out.waits, want) {
		t.Fatalf("slept %v, want %v", slept, want)
	}

	// Never an answer: bounded by MaxAttempts, reason GATEWAY_TIMEOUT.
	slept = nil
	g = &scripted{answers: []error{timeout}}
	out, err = chargeWithRetry(context.Background(), g, policy, sleep, ChargeRequest{PaymentID: "p"})
	if err != nil || out.result.Approved || out.attempts != 4 || out.reason != ReasonGatewayTimeout {
		t.Fatalf("always timeout: %+v %v", out, err)
	}
	if want := []time.Duration{10 * time.Millisecond, 20 * time.Millisecond, 40 * time.Millisecond}; !slices.Equal(slept, want) {
		t.Fatalf("slept %v, want %v", slept, want)
	}

	// Another kind of failure: GATEWAY_ERROR.
	g = &scripted{answers: []error{errors.New("connection reset")}}
	out, _ = chargeWithRetry(context.Background(), g, policy, sleep, ChargeRequest{PaymentID: "p"})
	if out.reason != ReasonGatewayError {
		t.Fatalf("reason %q, want GATEWAY_ERROR", out.reason)
	}

	// The caller's context ends: no outcome is invented.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := chargeWithRetry(ctx, &scripted{answers: []error{timeout}}, policy, sleep, ChargeRequest{PaymentID: "p"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}

func TestFailureErrors(t *testing.T) {
	cases := map[string]error{
		ReasonCardDeclined: ErrCardDeclined, ReasonInsufficientFunds: ErrInsufficientFunds,
		ReasonGatewayTimeout: ErrGatewayTimeout, ReasonGatewayError: ErrGatewayError,
	}
	for reason, want := range cases {
		if got := failureError(reason); !errors.Is(got, want) {
			t.Errorf("failureError(%s) = %v", reason, got)
		}
	}
}

func TestDeclineKeepsThePaymentOpen(t *testing.T) {
	p, err := pending().decline(ReasonInsufficientFunds, 2)
	if err != nil || p.Status != StatusPending || p.FailureReason != ReasonInsufficientFunds || p.Attempts != 2 {
		t.Fatalf("decline: %+v %v", p, err)
	}
	if paid, err := p.Capture("ch", 3, time.Now()); err != nil || paid.Status != StatusSucceeded {
		t.Fatalf("capture after a decline: %+v %v", paid, err)
	}
	voided, _ := pending().void(ReasonReservationExpired)
	if _, err := voided.decline(ReasonCardDeclined, 1); !errors.Is(err, ErrPaymentVoided) {
		t.Fatalf("decline voided: %v", err)
	}
	for reason, want := range map[string]bool{ReasonCardDeclined: true, ReasonInsufficientFunds: true, ReasonGatewayTimeout: false, ReasonGatewayError: false} {
		if declined(reason) != want {
			t.Errorf("declined(%s) = %v", reason, !want)
		}
	}
}
