package payment

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/shop-oss/shop/pkg/problem"
)

// Gateway is the card processor. Contract:
//   - Charge captures req.Amount on the card. A decision (approved or
//     declined) is returned as a ChargeResult with a nil error; an error means
//     no decision was obtained (timeout, network) and the attempt may be
//     retried. req.PaymentID is the idempotency key a real gateway needs so
//     that retries never charge twice.
//   - Refund gives amount back on a captured charge; an error means it did
//     not happen and may be retried with the same refund ID.
type Gateway interface {
	Charge(ctx context.Context, req ChargeRequest) (ChargeResult, error)
	Refund(ctx context.Context, req RefundRequest) error
}

// ChargeRequest asks the gateway to capture a payment.
type ChargeRequest struct {
	PaymentID  string
	Amount     Money
	CardNumber string
	// Attempt is 1 for the first try of this charge, 2 for the first retry...
	Attempt int
}

// ChargeResult is the gateway's decision.
type ChargeResult struct {
	Approved bool
	// ChargeID identifies an approved charge at the gateway.
	ChargeID string
	// DeclineCode is a Reason* code when not approved.
	DeclineCode string
}

// RefundRequest asks the gateway to give money back on a charge.
type RefundRequest struct {
	RefundID string
	ChargeID string
	Amount   Money
}

// ErrNoAnswer marks a gateway attempt that got no decision (a timeout):
// it is retried, and when retries run out the payment fails with
// GATEWAY_TIMEOUT.
var ErrNoAnswer = errors.New("gateway: no answer")

// RetryPolicy bounds charge retries: exponential backoff without jitter (the
// waits are deterministic and documented), BaseDelay after the first
// attempt, doubling, at most MaxDelay, and MaxAttempts tries in all.
type RetryPolicy struct {
	MaxAttempts    int
	BaseDelay      time.Duration
	MaxDelay       time.Duration
	AttemptTimeout time.Duration
}

// DefaultRetryPolicy: 4 attempts, waits of 50, 100 and 200 ms, 2 s per
// attempt.
var DefaultRetryPolicy = RetryPolicy{MaxAttempts: 4, BaseDelay: 50 * time.Millisecond, MaxDelay: time.Second, AttemptTimeout: 2 * time.Second}

// delay is the wait after failed attempt n (1-based).
func (p RetryPolicy) delay(n int) time.Duration {
	d := p.BaseDelay
	for i := 1; i < n && d < p.MaxDelay; i++ {
		d *= 2
	}
	return min(d, p.MaxDelay)
}

// budget is the longest a charge can take with this policy.
func (p RetryPolicy) budget() time.Duration {
	total := time.Duration(p.MaxAttempts) * p.AttemptTimeout
	for n := 1; n < p.MaxAttempts; n++ {
		total += p.delay(n)
	}
	return total
}

// Validate checks the policy's bounds.
func (p RetryPolicy) Validate() error {
	if p.MaxAttempts < 1 || p.MaxAttempts > 10 || p.BaseDelay < 0 || p.MaxDelay < p.BaseDelay || p.AttemptTimeout <= 0 {
		return fmt.Errorf("retry policy %+v: want 1-10 attempts, 0 <= base delay <= max delay, a positive attempt timeout", p)
	}
	return nil
}

// chargeOutcome is what charging with retries came to.
type chargeOutcome struct {
	result   ChargeResult
	attempts int
	// reason is set when no decision was obtained (GATEWAY_TIMEOUT or
	// GATEWAY_ERROR).
	reason string
	// waits are the backoff delays slept between attempts.
	waits []time.Duration
}

// chargeWithRetry calls the gateway until it decides, retrying attempts that
// got no answer with exponential backoff, at most MaxAttempts times.
func chargeWithRetry(ctx context.Context, g Gateway, p RetryPolicy, sleep func(context.Context, time.Duration) error, req ChargeRequest) (chargeOutcome, error) {
	var out chargeOutcome
	for attempt := 1; ; attempt++ {
		req.Attempt = attempt
		actx, cancel := context.WithTimeout(ctx, p.AttemptTimeout)
		res, err := g.Charge(actx, req)
		cancel()
		out.attempts = attempt
		if err == nil {
			out.result = res
			return out, nil
		}
		if ctx.Err() != nil {
			return out, fmt.Errorf("charge %s: %w", req.PaymentID, ctx.Err())
		}
		if attempt >= p.MaxAttempts {
			out.reason = ReasonGatewayError
			if errors.Is(err, ErrNoAnswer) || errors.Is(err, context.DeadlineExceeded) {
				out.reason = ReasonGatewayTimeout
			}
			return out, nil
		}
		wait := p.delay(attempt)
		out.waits = append(out.waits, wait)
		if err := sleep(ctx, wait); err != nil {
			return out, fmt.Errorf("charge %s: %w", req.PaymentID, err)
		}
	}
}

// failureError is the error a confirm returns for a payment that failed
// with reason.
func failureError(reason string) error {
	switch reason {
	case ReasonInsufficientFunds:
		return ErrInsufficientFunds
	case ReasonGatewayTimeout:
		return ErrGatewayTimeout
	case ReasonGatewayError:
		return ErrGatewayError
	}
	return ErrCardDeclined
}

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// validateCard checks a card number's shape: 12 to 19 digits (spaces and
// dashes allowed between them) passing the Luhn check. It returns the
// digits.
func validateCard(number string) (string, error) {
	digits := strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, number)
	if len(digits) < 12 || len(digits) > 19 {
		return "", problem.Validation(problem.Field("card_number", "must have 12 to 19 digits"))
	}
	sum := 0
	for i := range len(digits) {
		c := digits[len(digits)-1-i]
		if c < '0' || c > '9' {
			return "", problem.Validation(problem.Field("card_number", "must contain only digits"))
		}
		d := int(c - '0')
		if i%2 == 1 {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	if sum%10 != 0 {
		return "", problem.Validation(problem.Field("card_number", "is not a valid card number (Luhn check failed)"))
	}
	return digits, nil
}
