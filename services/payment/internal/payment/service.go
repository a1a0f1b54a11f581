package payment

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"
)

// Observer counts committed outcomes (metrics). outcome is one of
// initiated, succeeded, failed, voided, refunded; reason is the Reason*
// code, empty for initiated and succeeded.
type Observer interface {
	Outcome(outcome, reason string)
}

// Options are the Service's dependencies; zero values take defaults where
// one exists.
type Options struct {
	Store   Store
	Gateway Gateway
	Retry   RetryPolicy
	// Observer receives outcomes (nil counts nothing).
	Observer Observer
	// Waiter lets ListWait wait (nil: it answers at once, like List);
	// WaitRecheck is how often a wait looks again without a wake-up
	// (default DefaultWaitRecheck).
	Waiter      Waiter
	WaitRecheck time.Duration
	Log         *slog.Logger
	// Now, NewID and Sleep are the clock, the ID source and the backoff
	// sleep (tests replace them).
	Now   func() time.Time
	NewID func() string
	Sleep func(ctx context.Context, d time.Duration) error
}

// Service applies the payment rules.
type Service struct {
	store   Store
	gateway Gateway
	retry   RetryPolicy
	obs     Observer
	waiter  Waiter
	// waitRecheck: see Options.WaitRecheck.
	waitRecheck time.Duration
	log         *slog.Logger
	now         func() time.Time
	newID       func() string
	sleep       func(context.Context, time.Duration) error
}

// New returns a Service.
func New(opts Options) (*Service, error) {
	if opts.Store == nil || opts.Gateway == nil {
		return nil, errors.New("payment: Store and Gateway are required")
	}
	if opts.Retry == (RetryPolicy{}) {
		opts.Retry = DefaultRetryPolicy
	}
	if err := opts.Retry.Validate(); err != nil {
		return nil, err
	}
	s := &Service{
		store: opts.Store, gateway: opts.Gateway, retry: opts.Retry, obs: opts.Observer, waiter: opts.Waiter, waitRecheck: opts.WaitRecheck,
		log: opts.Log, now: opts.Now, newID: opts.NewID, sleep: opts.Sleep,
	}
	if s.obs == nil {
		s.obs = noObserver{}
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.newID == nil {
		s.newID = func() string { return uuid.Must(uuid.NewV7()).String() }
	}
	if s.waitRecheck <= 0 {
		s.waitRecheck = DefaultWaitRecheck
	}
	if s.sleep == nil {
		s.sleep = sleepCtx
	}
	return s, nil
}

type noObserver struct{}

func (noObserver) Outcome(string, string) {}

// Get returns a payment to its owner or staff; to anyone else it does not
// exist.
func (s *Service) Get(ctx context.Context, who Actor, id string) (Payment, error) {
	p, err := s.store.Payment(ctx, id)
	if err != nil {
		return Payment{}, err
	}
	if !who.CanAccess(p.UserID) {
		return Payment{}, fmt.Errorf("payment %s: %w", id, ErrPaymentNotFound)
	}
	return p, nil
}

// MaxPageSize bounds list pages.
const MaxPageSize = 100

// List returns payments newest first: staff see all, others their own.
func (s *Service) List(ctx context.Context, who Actor, f ListFilter) (Page, error) {
	if !who.Admin {
		f.UserID = who.UserID
	}
	if f.Limit <= 0 || f.Limit > MaxPageSize {
		f.Limit = 20
	}
	return s.store.Payments(ctx, f)
}

// Initiate returns the order's payment (idempotent: any number of calls
// return the same payment, whatever its status). The saga creates the
// payment in the same transaction that completes what payment needs to know
// (ORDER_CREATED and INVENTORY_RESERVED seen), so an order that has none is
// either not reserved yet (ErrOrderNotReady: retry shortly) or closed
// before it was (ErrOrderClosed).
func (s *Service) Initiate(ctx context.Context, who Actor, orderID string) (Payment, error) {
	var p Payment
	err := s.store.InTx(ctx, func(tx Tx) error {
		o, err := tx.Order(ctx, orderID, false)
		if err != nil {
			return err
		}
		if !who.CanAccess(o.UserID) {
			return fmt.Errorf("order %s: %w", orderID, ErrOrderNotFound)
		}
		p, err = tx.PaymentByOrder(ctx, orderID)
		switch {
		case !errors.Is(err, ErrPaymentNotFound):
			return err // found (nil), or failed
		case o.Closed():
			return fmt.Errorf("order %s: %w", orderID, ErrOrderClosed)
		}
		return fmt.Errorf("order %s: %w", orderID, ErrOrderNotReady)
	})
	return p, err
}

// create inserts the order's pending payment and PAYMENT_INITIATED, unless
// it already has one (then it returns that one, created false).
func (s *Service) create(ctx context.Context, tx Tx, o Order) (Payment, bool, error) {
	plan := s.pending(o)
	ok, err := tx.CreatePayment(ctx, plan.Payment, plan.Initiated)
	if err != nil {
		return Payment{}, false, err
	}
	if !ok {
		p, err := tx.LockPaymentByOrder(ctx, o.ID)
		return p, false, err
	}
	return plan.Payment, true, nil
}

// PendingPayment is the payment the saga creates for an order, and the
// PAYMENT_INITIATED that announces it; Tx.CreatePayment writes both.
type PendingPayment struct {
	Payment   Payment
	Initiated proto.Message
}

func (s *Service) pending(o Order) PendingPayment {
	now := s.now().UTC()
	p := Payment{
		ID: s.newID(), OrderID: o.ID, UserID: o.UserID, ReservationID: o.ReservationID,
		Amount: o.Total, Status: StatusPending, Version: 1, CreatedAt: now, UpdatedAt: now,
	}
	return PendingPayment{Payment: p, Initiated: initiatedEvent(p)}
}

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
	card, err := ValidateCard(in.CardNumber)
	if err != nil {
		return Payment{}, err
	}
	// Once the gateway is called, its outcome must be recorded even if the
	// client goes away.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.retry.Budget()+10*time.Second)
	defer cancel()
	var p Payment
	// The reservation's expiry is read without the order's lock: a
	// concurrent expiry or cancel locks the order first and then waits for
	// this payment's lock, and finds the outcome.
	err = s.store.InChargeTx(ctx, in.PaymentID, func(tx Tx, cur Payment, expires time.Time) error {
		if !who.CanAccess(cur.UserID) {
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
			if Declined(reason) {
				p, err = cur.Decline(reason, cur.Attempts+out.attempts)
			} else {
				p, err = cur.Fail(reason, cur.Attempts+out.attempts)
			}
		}
		if err != nil {
			return err
		}
		if p.Status == StatusPending {
			return tx.UpdatePayment(ctx, &p, StatusPending) // declined: no event, the saga waits
		}
		if p.Status != StatusSucceeded {
			return tx.UpdatePayment(ctx, &p, StatusPending, failedEvent(p))
		}
		if in.Receipt == nil {
			return tx.UpdatePayment(ctx, &p, StatusPending, succeededEvent(p))
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
			return tx.UpdatePayment(ctx, &p, StatusPending, succeededEvent(p))
		}
		return tx.UpdatePaymentWith(ctx, &p, StatusPending, receipt, succeededEvent(p))
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

// RefundInput is staff's refund of a captured payment. AmountMinor 0
// refunds all that remains.
type RefundInput struct {
	PaymentID   string
	AmountMinor int64
	Reason      string
}

// Refund gives money back on a captured payment (staff only), in part or
// in full, never more than what remains: the payment row is locked, and the
// database refuses refunded > captured whatever the code does.
func (s *Service) Refund(ctx context.Context, who Actor, in RefundInput) (Payment, Refund, error) {
	if !who.Admin {
		return Payment{}, Refund{}, fmt.Errorf("refund: %w", ErrForbidden)
	}
	if in.Reason == "" {
		in.Reason = ReasonCustomerRequest
	}
	var (
		p Payment
		r Refund
	)
	err := s.store.InTx(ctx, func(tx Tx) error {
		cur, err := tx.LockPayment(ctx, in.PaymentID)
		if err != nil {
			return err
		}
		amount := in.AmountMinor
		if amount == 0 {
			amount = cur.Remaining()
		}
		p, r, err = s.refund(ctx, tx, cur, amount, in.Reason, who.UserID)
		return err
	})
	if err != nil {
		return Payment{}, Refund{}, err
	}
	s.obs.Outcome("refunded", r.Reason)
	return p, r, nil
}

// refund applies a refund of amount to cur (locked in tx): the gateway
// gives the money back, then the payment, the refund row and
// PAYMENT_REFUNDED are written.
func (s *Service) refund(ctx context.Context, tx Tx, cur Payment, amount int64, reason, by string) (Payment, Refund, error) {
	p, err := cur.ApplyRefund(amount)
	if err != nil {
		return Payment{}, Refund{}, err
	}
	r := Refund{
		ID: s.newID(), PaymentID: p.ID, AmountMinor: amount, Currency: p.Amount.Currency,
		Reason: reason, CreatedBy: by, CreatedAt: s.now().UTC(),
	}
	gctx, cancel := context.WithTimeout(ctx, s.retry.AttemptTimeout)
	err = s.gateway.Refund(gctx, RefundRequest{RefundID: r.ID, ChargeID: p.ChargeID, Amount: Money{amount, p.Amount.Currency}})
	cancel()
	if err != nil {
		return Payment{}, Refund{}, fmt.Errorf("refund payment %s: %w: %v", p.ID, ErrGatewayUnavailable, err)
	}
	if err := tx.UpdatePayment(ctx, &p, cur.Status, refundedEvent(p, r)); err != nil {
		return Payment{}, Refund{}, err
	}
	if err := tx.AddRefund(ctx, r); err != nil {
		return Payment{}, Refund{}, err
	}
	p.Refunds = append(p.Refunds, r)
	return p, r, nil
}
