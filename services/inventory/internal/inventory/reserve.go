package inventory

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// ReserveResult is the outcome of a reservation request.
type ReserveResult struct {
	Reservation Reservation
	// Created is false when the order already had this reservation.
	Created bool
	// Rejection is set when nothing was reserved.
	Rejection *Rejection
	// Changed lists the products whose stock changed.
	Changed []uuid.UUID
}

// Reserve reserves all lines of an order, all or nothing. See the package
// documentation for what happens when the order already has a reservation.
// Invalid requests give a *problem.ValidationError. Short or unavailable
// lines give a Rejection, committed (INVENTORY_REJECTED is published) and
// then returned as the error, with ReserveResult.Rejection set.
//
// The new reservation is offered to the store as a PlainReservation: when
// the rules have nothing to decide, the store applies it in its fastest way
// (see Transactions.Reserve); otherwise the rules below decide.
func (s *Service) Reserve(ctx context.Context, req ReserveRequest) (ReserveResult, error) {
	if err := req.Validate(); err != nil {
		return ReserveResult{}, err
	}
	p := s.plain(req)
	var res ReserveResult
	stored, plain, err := s.tx.Reserve(ctx, p, func(tx Tx) error {
		var err error
		res, err = s.reserveByRules(ctx, tx, p)
		return err
	})
	if err != nil {
		return ReserveResult{}, err
	}
	if plain {
		res = ReserveResult{Reservation: stored, Created: true, Changed: productIDs(stored.Lines)}
	}
	s.Invalidate(ctx, res.Changed)
	if res.Rejection != nil {
		return res, res.Rejection
	}
	return res, nil
}

// plain is the reservation req asks for, as the plain case would store and
// announce it.
func (s *Service) plain(req ReserveRequest) PlainReservation {
	lines := sortLines(req.Lines)
	now := s.now()
	r := Reservation{
		ID: newID(), OrderID: req.OrderID, Status: StatusActive, Lines: lines,
		ExpiresAt: now.Add(s.cfg.ReservationTTL), CreatedAt: now, UpdatedAt: now,
	}
	return PlainReservation{
		Reservation:     r,
		Announce:        Reserved{OrderID: r.OrderID, ReservationID: r.ID, ExpiresAt: r.ExpiresAt, Lines: lines, Payable: req.Payable},
		LowStockDefault: s.cfg.LowStockThreshold,
	}
}

// reserveByRules reserves p's reservation (a new ACTIVE one, lines sorted)
// by the rules: whatever the plain case did not cover (an order that
// already has a reservation, unavailable or short lines, a low-stock
// signal).
func (s *Service) reserveByRules(ctx context.Context, tx Tx, p PlainReservation) (ReserveResult, error) {
	r := p.Reservation
	lines, now := r.Lines, r.CreatedAt
	// The reservation row goes in first: it claims the order (a second
	// reservation of the same order waits here, then sees this one), and
	// keeps the stock locks below as short as possible.
	created, err := tx.InsertReservation(ctx, r)
	if err != nil {
		return ReserveResult{}, fmt.Errorf("reserve order %s: %w", r.OrderID, err)
	}
	if !created {
		return s.reserveExisting(ctx, tx, r.OrderID, lines, p.Announce.Payable, now)
	}
	// INVENTORY_RESERVED is written before the stock rows are locked, and
	// withdrawn if the order is rejected: a hot product's row lock is then
	// held for two round trips (update, commit) instead of three.
	announced, err := tx.Announce(ctx, p.Announce)
	if err != nil {
		return ReserveResult{}, fmt.Errorf("reserve order %s: %w", r.OrderID, err)
	}
	stock, err := tx.LockStock(ctx, productIDs(lines))
	if err != nil {
		return ReserveResult{}, fmt.Errorf("reserve order %s: %w", r.OrderID, err)
	}
	if rej := checkAvailability(r.OrderID, lines, stock); rej != nil {
		if err := tx.DeleteReservation(ctx, r.ID); err != nil {
			return ReserveResult{}, fmt.Errorf("reserve order %s: undo: %w", r.OrderID, err)
		}
		if err := tx.Withdraw(ctx, announced); err != nil {
			return ReserveResult{}, fmt.Errorf("reserve order %s: undo: %w", r.OrderID, err)
		}
		if err := tx.Publish(ctx, Rejected{*rej}); err != nil {
			return ReserveResult{}, fmt.Errorf("reserve order %s: %w", r.OrderID, err)
		}
		return ReserveResult{Rejection: rej}, nil
	}
	l := newLedger(stock)
	for _, ln := range lines {
		if err := l.move(MoveReserved, ln.ProductID, ln.Quantity, ref{ReservationID: r.ID, OrderID: r.OrderID}); err != nil {
			return ReserveResult{}, fmt.Errorf("reserve order %s: %w", r.OrderID, err)
		}
	}
	if err := s.apply(ctx, tx, l); err != nil {
		return ReserveResult{}, fmt.Errorf("reserve order %s: %w", r.OrderID, err)
	}
	return ReserveResult{Reservation: r, Created: true, Changed: stockIDs(l.changed())}, nil
}

// reserveExisting handles a reservation request for an order that already
// has a reservation (or a placeholder).
func (s *Service) reserveExisting(ctx context.Context, tx Tx, orderID uuid.UUID, lines []Line, payable *Payable, now time.Time) (ReserveResult, error) {
	existing, err := tx.LockReservation(ctx, orderID)
	if err != nil {
		// Not found: it was deleted between our insert and the lock (a
		// concurrent rejection). Retrying sees a consistent state.
		return ReserveResult{}, fmt.Errorf("reserve order %s: %w", orderID, err)
	}
	switch {
	case existing.Placeholder && existing.Status == StatusConfirmed:
		return s.reserveAndSell(ctx, tx, existing, lines, payable, now)
	case existing.Placeholder || !sameLines(existing.Lines, lines):
		return ReserveResult{Reservation: existing}, fmt.Errorf("order %s already has a %s reservation %s of other lines: %w",
			orderID, existing.Status, existing.ID, ErrReservationConflict)
	}
	return ReserveResult{Reservation: existing}, nil
}

// reserveAndSell serves an order whose payment arrived before the
// reservation: the lines are reserved and sold at once, or rejected.
func (s *Service) reserveAndSell(ctx context.Context, tx Tx, r Reservation, lines []Line, payable *Payable, now time.Time) (ReserveResult, error) {
	stock, err := tx.LockStock(ctx, productIDs(lines))
	if err != nil {
		return ReserveResult{}, fmt.Errorf("reserve paid order %s: %w", r.OrderID, err)
	}
	if rej := checkAvailability(r.OrderID, lines, stock); rej != nil {
		if err := tx.Publish(ctx, Rejected{*rej}); err != nil {
			return ReserveResult{}, fmt.Errorf("reserve paid order %s: %w", r.OrderID, err)
		}
		return ReserveResult{Reservation: r, Rejection: rej}, nil
	}
	l := newLedger(stock)
	rf := ref{ReservationID: r.ID, OrderID: r.OrderID}
	for _, ln := range lines {
		if err := l.move(MoveReserved, ln.ProductID, ln.Quantity, rf); err != nil {
			return ReserveResult{}, fmt.Errorf("reserve paid order %s: %w", r.OrderID, err)
		}
		if err := l.move(MoveSold, ln.ProductID, ln.Quantity, rf); err != nil {
			return ReserveResult{}, fmt.Errorf("reserve paid order %s: %w", r.OrderID, err)
		}
	}
	r.Placeholder, r.Lines, r.ExpiresAt, r.UpdatedAt = false, lines, now, now
	if err := tx.UpdateReservation(ctx, r, true); err != nil {
		return ReserveResult{}, fmt.Errorf("reserve paid order %s: %w", r.OrderID, err)
	}
	err = s.apply(ctx, tx, l,
		Reserved{OrderID: r.OrderID, ReservationID: r.ID, ExpiresAt: r.ExpiresAt, Lines: lines, Payable: payable},
		Confirmed{OrderID: r.OrderID, ReservationID: r.ID})
	if err != nil {
		return ReserveResult{}, fmt.Errorf("reserve paid order %s: %w", r.OrderID, err)
	}
	return ReserveResult{Reservation: r, Created: true, Changed: stockIDs(l.changed())}, nil
}

// Reject publishes INVENTORY_REJECTED for an order that cannot be
// reserved because the order itself is invalid (an event that breaks the
// contract): the saga then cancels it instead of waiting forever.
func (s *Service) Reject(ctx context.Context, rej Rejection) error {
	return s.update(ctx, func(tx Tx) ([]uuid.UUID, error) {
		return nil, tx.Publish(ctx, Rejected{rej})
	})
}
