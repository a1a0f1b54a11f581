package order

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Config tunes the Service.
type Config struct {
	// SLAs is how long an order may stay in a status before it counts as
	// stuck. Statuses without an entry are never stuck (PAID waits for the
	// seller, a business matter, not the saga).
	SLAs map[Status]time.Duration
	// CreatedTimeout is the saga's own timeout for inventory's answer to
	// ORDER_CREATED: an order still CREATED after it is cancelled
	// (SAGA_TIMEOUT), so that it never hangs when that answer is lost (an
	// event dead-lettered, inventory down for longer). 0 never cancels.
	CreatedTimeout time.Duration
	// MaxOpenOrders and MaxOpenUnits bound what one customer may hold
	// unpaid (CREATED or PAYMENT_PENDING): orders, and units over their
	// lines, the new order's included. 0 leaves that side unbounded.
	MaxOpenOrders, MaxOpenUnits int
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Service applies the order rules. It is safe for concurrent use.
type Service struct {
	store Store
	cfg   Config
	m     Metrics
}

// NewService returns a Service over store; m may be nil.
func NewService(store Store, cfg Config, m Metrics) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if m == nil {
		m = noMetrics{}
	}
	return &Service{store: store, cfg: cfg, m: m}
}

// now is the clock at the database's precision (microseconds), so that
// what is returned equals what a later read gives.
func (s *Service) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Microsecond) }

// Every use case that changes an order has its own file (place.go, cancel.go,
// fulfil.go, saga.go, product.go); the steps they share are here.

// act applies a requested action to one order under its row lock, so that
// concurrent requests and events on the order are serialised and each sees
// the state the previous one left.
func (s *Service) act(ctx context.Context, actor Actor, id string, action Action,
	allowed func(Actor, Order) bool, why func(Order) cause) (Order, error) {
	if !isUUID(id) {
		return Order{}, fmt.Errorf("order %s: %w", id, ErrNotFound)
	}
	var (
		o    Order
		step step
	)
	err := s.store.InTx(ctx, func(tx Tx) error {
		var err error
		if o, err = tx.LockOrder(ctx, id); err != nil {
			return err
		}
		if !actor.canView(o) {
			return ErrNotFound
		}
		if !allowed(actor, o) {
			return fmt.Errorf("%s: %w", action, ErrForbidden)
		}
		if step, err = s.move(ctx, tx, &o, action, why(o)); err != nil {
			return err
		}
		o.Items, err = tx.Items(ctx, id)
		o.ItemCount = len(o.Items)
		return err
	})
	if err != nil {
		return Order{}, fmt.Errorf("order %s: %w", id, err)
	}
	s.record(step)
	return o, nil
}

// cause is why a transition happens: who asked, or which event.
type cause struct {
	actor        *Actor
	reason, note string
	event        *EventRef
	detail       map[string]string
}

// step is a transition done, for the metrics.
type step struct {
	from, to Status
	// reason is the cancel reason when to is CANCELLED.
	reason string
	// sinceCreated is the time from the order's creation to this step
	// (0 when the creation time is unknown).
	sinceCreated float64
}

// move applies action to o through the transition table: it writes the new
// status, publishes the event the new status calls for and appends the
// timeline entry, all in tx. An illegal action is a *TransitionError and
// changes nothing.
func (s *Service) move(ctx context.Context, tx Tx, o *Order, action Action, c cause) (step, error) {
	from := o.Status
	to, err := nextStatus(from, action)
	if err != nil {
		return step{}, err
	}
	now := s.now()
	o.enter(to, now, c.reason)
	_, err = tx.Move(ctx, *o, from, HistoryEntry{
		OrderID: o.ID, At: now, Kind: KindTransition, From: from, To: to,
		Actor: c.actor, Reason: c.reason, Note: c.note, Cause: c.event, Detail: c.detail,
	}, statusEvent(*o, from, c, now))
	if err != nil {
		return step{}, err
	}
	return newStep(*o, from, now), nil
}

// enter puts o in status to at now, with the fields that status sets.
func (o *Order) enter(to Status, now time.Time, reason string) {
	o.Status, o.StatusChangedAt, o.UpdatedAt = to, now, now
	switch to {
	case StatusPaid:
		o.PaidAt = &now
	case StatusCancelled:
		o.CancelReason = reason
	}
}

// newStep is the step o just took from from, for the metrics.
func newStep(o Order, from Status, now time.Time) step {
	st := step{from: from, to: o.Status}
	if o.Status == StatusCancelled {
		st.reason = o.CancelReason
	}
	if !o.CreatedAt.IsZero() {
		st.sinceCreated = max(now.Sub(o.CreatedAt).Seconds(), 0)
	}
	return st
}

func (s *Service) record(st step) {
	if st.to != "" {
		s.m.Transition(st.from, st.to, st.reason, st.sinceCreated)
	}
}

func isUUID(s string) bool {
	id, err := uuid.Parse(s)
	return err == nil && id.String() == s
}

func validCurrency(c string) bool {
	if len(c) != 3 {
		return false
	}
	for i := range 3 {
		if c[i] < 'A' || c[i] > 'Z' {
			return false
		}
	}
	return true
}
