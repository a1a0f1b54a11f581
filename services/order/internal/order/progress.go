package order

import (
	"context"
	"fmt"
	"time"
)

// Progress is what someone watching one order sees: the order, its
// timeline, and until when its stock is held for payment.
type Progress struct {
	Order    Order
	Timeline []HistoryEntry
	// ReservationExpiresAt is when inventory releases the order's stock
	// unless it is paid (from INVENTORY_RESERVED); nil before the
	// reservation, and once the order no longer waits for payment.
	ReservationExpiresAt *time.Time
	// Version grows with every change of the order: each change adds a
	// timeline entry, and entries are never removed, so their count is a
	// version that a watcher can resume from.
	Version int
}

// Final reports whether the order can change no more (DELIVERED or
// CANCELLED): nothing is left to watch.
func (p Progress) Final() bool {
	return p.Order.Status == StatusDelivered || p.Order.Status == StatusCancelled
}

// Progress returns the progress of an order the actor may see (ErrNotFound
// otherwise). It reads the primary: a watcher that was woken by a commit
// must see it.
//
// The timeline is read before the order, in a statement of its own: a
// change that commits between the two reads then shows in the order but
// not yet in the version, so the watcher, woken by that commit, reads
// again and sends it. (The other way round, the version would count a
// change that the order read missed, and the watcher would take the stale
// order for current.)
func (s *Service) Progress(ctx context.Context, actor Actor, id string) (Progress, error) {
	if !isUUID(id) {
		return Progress{}, fmt.Errorf("order %s: %w", id, ErrNotFound)
	}
	h, err := s.store.Timeline(ctx, id)
	if err != nil {
		return Progress{}, fmt.Errorf("timeline of %s: %w", id, err)
	}
	o, err := s.Get(ctx, actor, id)
	if err != nil {
		return Progress{}, err
	}
	p := Progress{Order: o, Timeline: h, Version: len(h)}
	if o.Status == StatusCreated || o.Status == StatusPaymentPending {
		p.ReservationExpiresAt = reservationExpiry(h)
	}
	return p, nil
}

// reservationExpiry is the expires_at that INVENTORY_RESERVED carried, as
// the timeline recorded it (orderevents puts it in the entry's detail).
func reservationExpiry(h []HistoryEntry) *time.Time {
	for i := len(h) - 1; i >= 0; i-- {
		e := h[i]
		if e.Cause == nil || e.Cause.Type != InventoryReserved {
			continue
		}
		if t, err := time.Parse(time.RFC3339, e.Detail["expires_at"]); err == nil {
			return &t
		}
	}
	return nil
}
