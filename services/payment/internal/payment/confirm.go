package payment

import (
	"context"
	"fmt"
	"time"
)

// ConfirmInput is a customer's payment of a pending payment with a card.
type ConfirmInput struct {
	PaymentID  string
	CardNumber string
	// Receipt, when set, is asked for the receipt of the answer to a
	// successful charge, given the payment as it is about to be written
	// (its new version and update time included); the receipt is written
	// with the capture, in its statement. When it fails, the capture is
	// written without it.
	Receipt func(Payment) (Receipt, error)
}

// Confirm charges a pending payment, at most once: the payment row is
// locked (without waiting: a concurrent confirm gets ErrPaymentBusy at once) for the
// whole charge, and the outcome is written by a conditional update that the
// database refuses unless the payment is still PENDING. Timeouts are retried
// with backoff within the RetryPolicy. A decline by the card leaves the
// payment PENDING (another card may be tried; see Payment.Decline); a
// failure of the gateway makes it FAILED; both are committed, and the error
// says why (ErrCardDeclined, ErrInsufficientFunds, ErrGatewayTimeout,
// ErrGatewayError), returned with the payment as committed: a payment is
// returned with an error only then.
//
// The charge holds the row lock and a connection for at most the retry
// budget; that keeps the at-most-once rule in one place. A real gateway
// with long timeouts would rather claim the payment, charge outside the
// transaction with the payment ID as idempotency key, and reconcile.
func (s *Service) Confirm(ctx context.Context, who Actor, in ConfirmInput) (Payment, error) {
	card, err := validateCard(in.CardNumber)
	if err != nil {
		return Payment{}, err
	}
	// Once the gateway is called, its outcome must be recorded even if the
	// client goes away.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.retry.budget()+10*time.Second)
	defer cancel()
	var p Payment
	// The reservation's expiry is read without the order's lock: a
	// concurrent expiry or cancel locks the order first and then waits for
	// this payment's lock, and finds the outcome.
	err = s.store.InChargeTx(ctx, in.PaymentID, func(tx Tx, cur Payment, expires time.Time) error {
		if !who.canAccess(cur.UserID) {
			return fmt.Errorf("payment %s: %w", in.PaymentID, ErrPaymentNotFound)
		}
		if cur.Status != StatusPending {
			return fmt.Errorf("confirm payment %s (%s): %w", cur.ID, cur.Status, stateError(cur.Status))
		}
		if !expires.IsZero() && !s.now().Before(expires) {
			return fmt.Errorf("confirm payment %s: expired at %s: %w", cur.ID, expires.Format(time.RFC3339), ErrReservationExpired)
		}
		out, err := chargeWithRetry(ctx, s.gateway, s.retry, s.sleep, ChargeRequest{PaymentID: cur.ID, Amount: cur.Amount, CardNumber: card})
		if err != nil {
			return err
		}
		cur.CardLast4 = card[len(card)-4:]
		// At the database's precision, so that the answer shows what a
		// later read gives.
		now := s.now().UTC().Truncate(time.Microsecond)
		if out.result.Approved {
			p, err = cur.Capture(out.result.ChargeID, cur.Attempts+out.attempts, now)
		} else {
			reason := out.reason
			if reason == "" {
				reason = out.result.DeclineCode
			}
			if declined(reason) {
				p, err = cur.decline(reason, cur.Attempts+out.attempts)
			} else {
				p, err = cur.fail(reason, cur.Attempts+out.attempts)
			}
		}
		if err != nil {
			return err
		}
		if p.Status == StatusPending {
			return tx.UpdatePayment(ctx, &p, StatusPending) // declined: no event, the saga waits
		}
		if p.Status != StatusSucceeded {
			return tx.UpdatePayment(ctx, &p, StatusPending, PaymentFailed{p})
		}
		if in.Receipt == nil {
			return tx.UpdatePayment(ctx, &p, StatusPending, PaymentSucceeded{p})
		}
		// The answer is rendered before the write: decide here what the
		// write will say (the version the conditional update moves to, and
		// the update time).
		p.UpdatedAt = now
		written := p
		written.Version++
		receipt, err := in.Receipt(written)
		if err != nil {
			// The card is charged: the capture is written whatever
			// becomes of the receipt (the key's record is then completed
			// after the handler, as for any answer).
			s.log.WarnContext(ctx, "confirm: no receipt for the capture", "payment_id", p.ID, "error", err.Error())
			return tx.UpdatePayment(ctx, &p, StatusPending, PaymentSucceeded{p})
		}
		return tx.UpdatePaymentWith(ctx, &p, StatusPending, receipt, PaymentSucceeded{p})
	})
	if err != nil {
		return Payment{}, err
	}
	if p.Status == StatusPending {
		s.obs.Outcome("declined", p.FailureReason)
		return p, fmt.Errorf("payment %s declined (%s): %w", p.ID, p.FailureReason, failureError(p.FailureReason))
	}
	if p.Status == StatusFailed {
		s.obs.Outcome("failed", p.FailureReason)
		return p, fmt.Errorf("payment %s failed (%s): %w", p.ID, p.FailureReason, failureError(p.FailureReason))
	}
	s.obs.Outcome("succeeded", "")
	return p, nil
}
