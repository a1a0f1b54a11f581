package payment

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/google/uuid"
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
