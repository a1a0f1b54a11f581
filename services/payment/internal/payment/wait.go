package payment

import (
	"context"
	"errors"
	"time"
)

// Waiter lets a request wait for an order's payment state to change (long
// polling). Until calls check until it reports done, fails, or d passes,
// looking again whenever the consumer reports a change of the order (its
// wake-ups, see paymentevents.Register) and at least every recheck; it
// reports whether it was done.
type Waiter interface {
	Until(ctx context.Context, orderID string, d, recheck time.Duration, check func(context.Context) (bool, error)) (bool, error)
}

// MaxWait bounds how long ListWait waits.
const MaxWait = 10 * time.Second

// DefaultWaitRecheck is how often a waiting request reads again without a
// wake-up: what a lost wake-up costs at most. (A waiting request reads the
// primary, so a lagging read replica costs nothing.)
const DefaultWaitRecheck = time.Second

// ListWait is List for one order (f.OrderID set) that, while the answer
// would be empty, waits up to d for the order's payment to appear: the
// storefront's way to learn the payment that the saga creates after the
// order is placed, in one request. It answers early, still empty, when
// waiting cannot help: the order is closed (cancelled, out of stock,
// expired), or it is not the caller's.
func (s *Service) ListWait(ctx context.Context, who Actor, f ListFilter, d time.Duration) (Page, error) {
	if s.waiter == nil || f.OrderID == "" || d <= 0 {
		return s.List(ctx, who, f)
	}
	f.Primary = true
	var (
		page   Page
		looked bool
	)
	_, err := s.waiter.Until(ctx, f.OrderID, min(d, MaxWait), s.waitRecheck, func(ctx context.Context) (bool, error) {
		// The first look reads whether there is anything to list, and lists
		// only then. A later look most likely follows the wake-up of the
		// payment's commit: it lists first. So the usual long poll reads
		// twice.
		if looked {
			var err error
			if page, err = s.List(ctx, who, f); err != nil || len(page.Items) > 0 {
				return true, err
			}
		}
		looked = true
		o, hasPayment, err := s.store.OrderState(ctx, f.OrderID)
		switch {
		case errors.Is(err, ErrOrderNotFound):
			return false, nil // ORDER_CREATED not seen yet
		case err != nil:
			return true, err
		case !hasPayment:
			return o.closed() || (o.Known() && !who.canAccess(o.UserID)), nil
		}
		page, err = s.List(ctx, who, f)
		return true, err
	})
	return page, err
}
