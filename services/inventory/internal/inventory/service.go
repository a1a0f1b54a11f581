package inventory

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
)

// Config holds the rules' settings.
type Config struct {
	// ReservationTTL is how long a reservation holds stock unpaid.
	ReservationTTL time.Duration
	// LowStockThreshold is the default low-stock threshold.
	LowStockThreshold int64
	// SweepInterval is how often the sweeper looks for overdue
	// reservations; SweepBatch bounds how many one transaction expires.
	SweepInterval time.Duration
	SweepBatch    int
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Expired, when set, is told how many reservations a sweep expired,
	// after their transaction committed (the metrics' hook).
	Expired func(n int)
}

// Origin says who asks for an operation: the saga's events, which must
// never fail on an unexpected order of arrival, or staff through the API,
// who should be told when an operation does not apply.
type Origin int

// Origins.
const (
	FromEvent Origin = iota
	FromStaff
)

// Service applies the stock rules through a Store.
type Service struct {
	store Store
	cache Cache
	cfg   Config
	log   *slog.Logger
}

// NewService returns a Service. cache may be NoCache{}.
func NewService(store Store, cache Cache, cfg Config, log *slog.Logger) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.ReservationTTL <= 0 {
		cfg.ReservationTTL = 15 * time.Minute
	}
	if cfg.SweepInterval <= 0 {
		cfg.SweepInterval = 5 * time.Second
	}
	if cfg.SweepBatch <= 0 {
		cfg.SweepBatch = 100
	}
	return &Service{store: store, cache: cache, cfg: cfg, log: log}
}

// LowStockThreshold is the default threshold.
func (s *Service) LowStockThreshold() int64 { return s.cfg.LowStockThreshold }

// now is the service's clock at PostgreSQL's precision, so that what a
// response shows is what was stored.
func (s *Service) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Microsecond) }

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

// Outcome is the result of confirm and release.
type Outcome struct {
	Reservation Reservation
	// Noop: the operation did not apply (repeated, or out of order); nothing
	// changed and nothing was published.
	Noop    bool
	Changed []uuid.UUID
}

// Reserve reserves all lines of an order in a transaction of its own (the
// staff API). A rejection is committed (INVENTORY_REJECTED is published) and
// then returned as the error.
func (s *Service) Reserve(ctx context.Context, req ReserveRequest) (ReserveResult, error) {
	// The plain case first, as one statement that is its own transaction:
	// one round trip, and a hot product's row locked only while it runs.
	plain, done, err := s.tryPlain(ctx, req, s.store.ReservePlain)
	if err != nil {
		return ReserveResult{}, err
	}
	if done {
		res := plainResult(plain)
		s.Invalidate(ctx, res.Changed)
		return res, nil
	}
	var res ReserveResult
	err = s.inTx(ctx, func(tx Tx) ([]uuid.UUID, error) {
		var err error
		res, err = s.reserveGeneral(ctx, tx, plain)
		return res.Changed, err
	})
	if err == nil && res.Rejection != nil {
		return res, res.Rejection
	}
	return res, err
}

// Confirm turns an order's reservation into a sale (the staff API).
func (s *Service) Confirm(ctx context.Context, orderID uuid.UUID) (Outcome, error) {
	var out Outcome
	err := s.inTx(ctx, func(tx Tx) ([]uuid.UUID, error) {
		var err error
		out, err = s.ConfirmIn(ctx, tx, orderID, FromStaff)
		return out.Changed, err
	})
	return out, err
}

// Release releases an order's reservation, or restocks it when it was sold
// (the staff API).
func (s *Service) Release(ctx context.Context, orderID uuid.UUID, reason string) (Outcome, error) {
	var out Outcome
	err := s.inTx(ctx, func(tx Tx) ([]uuid.UUID, error) {
		var err error
		out, err = s.ReleaseIn(ctx, tx, orderID, reason, FromStaff)
		return out.Changed, err
	})
	return out, err
}

// inTx runs fn in a transaction and, after the commit, invalidates the
// cached stock of the products fn reports changed.
func (s *Service) inTx(ctx context.Context, fn func(tx Tx) ([]uuid.UUID, error)) error {
	var changed []uuid.UUID
	err := s.store.InTx(ctx, func(tx Tx) error {
		var err error
		changed, err = fn(tx)
		return err
	})
	if err == nil {
		s.Invalidate(ctx, changed)
	}
	return err
}

// Invalidate drops cached stock of products. Event handlers call it inside
// the consumer's transaction, before the commit (see Cache).
func (s *Service) Invalidate(ctx context.Context, ids []uuid.UUID) {
	if len(ids) > 0 {
		s.cache.Invalidate(ctx, ids...)
	}
}

// ReserveIn reserves all lines of an order in tx, all or nothing. See the
// package documentation for what happens when the order already has a
// reservation. Short or unavailable lines give a Rejection (and an
// INVENTORY_REJECTED event), not an error; invalid requests give a
// *problem.ValidationError.
func (s *Service) ReserveIn(ctx context.Context, tx Tx, req ReserveRequest, origin Origin) (ReserveResult, error) {
	plain, done, err := s.tryPlain(ctx, req, tx.ReservePlain)
	if err != nil {
		return ReserveResult{}, err
	}
	return s.ReserveAfterPlain(ctx, tx, plain, done)
}

// PlanReserve validates req and returns the reservation the plain case
// would store, for a caller that offers several to the store at once
// (inventorydb.ApplyPlainAll) and then finishes each with
// ReserveAfterPlain, in tx, in the same order.
func (s *Service) PlanReserve(req ReserveRequest) (PlainReservation, error) {
	if err := req.Validate(); err != nil {
		return PlainReservation{}, err
	}
	return s.plain(req), nil
}

// ReserveAfterPlain finishes a reservation that was offered as plain: done
// says the store applied it; otherwise the rules decide, as ReserveIn does.
func (s *Service) ReserveAfterPlain(ctx context.Context, tx Tx, p PlainReservation, done bool) (ReserveResult, error) {
	if done {
		return plainResult(p), nil
	}
	return s.reserveGeneral(ctx, tx, p)
}

// tryPlain validates req and offers it to reserve (the store's or a
// transaction's ReservePlain) as a plain reservation; done reports whether
// that applied it.
func (s *Service) tryPlain(ctx context.Context, req ReserveRequest,
	reserve func(context.Context, PlainReservation) (bool, error)) (plain PlainReservation, done bool, err error) {
	if err := req.Validate(); err != nil {
		return PlainReservation{}, false, err
	}
	plain = s.plain(req)
	if done, err = reserve(ctx, plain); err != nil {
		return PlainReservation{}, false, fmt.Errorf("reserve order %s: %w", req.OrderID, err)
	}
	return plain, done, nil
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

func plainResult(p PlainReservation) ReserveResult {
	return ReserveResult{Reservation: p.Reservation, Created: true, Changed: productIDs(p.Reservation.Lines)}
}

// reserveGeneral reserves p's reservation (a new ACTIVE one, lines sorted)
// by the rules: whatever the plain case did not cover (an order that
// already has a reservation, unavailable or short lines, a low-stock
// signal).
func (s *Service) reserveGeneral(ctx context.Context, tx Tx, p PlainReservation) (ReserveResult, error) {
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

// RejectIn publishes INVENTORY_REJECTED for an order that cannot be
// reserved because the order itself is invalid (an event that breaks the
// contract): the saga then cancels it instead of waiting forever.
func (s *Service) RejectIn(ctx context.Context, tx Tx, rej Rejection) error {
	return tx.Publish(ctx, Rejected{rej})
}

// lockOrPlaceholder locks the order's reservation; when there is none, it
// stores a placeholder of the given status instead (placed reports that).
// A placeholder inserted concurrently by someone else is locked instead.
func (s *Service) lockOrPlaceholder(ctx context.Context, tx Tx, orderID uuid.UUID, status Status, reason string) (r Reservation, placed bool, err error) {
	for range 2 {
		r, err = tx.LockReservation(ctx, orderID)
		if !errors.Is(err, ErrReservationNotFound) {
			return r, false, err
		}
		now := s.now()
		r = Reservation{ID: newID(), OrderID: orderID, Status: status, Placeholder: true,
			ExpiresAt: now, Reason: reason, CreatedAt: now, UpdatedAt: now}
		created, err := tx.InsertReservation(ctx, r)
		if err != nil || created {
			return r, created, err
		}
	}
	return Reservation{}, false, fmt.Errorf("order %s: reservation vanished twice while being locked", orderID)
}

// lockFor locks the order's reservation. For staff a missing one is
// ErrReservationNotFound; for events it is replaced by a placeholder of the
// given status (placed reports that).
func (s *Service) lockFor(ctx context.Context, tx Tx, orderID uuid.UUID, origin Origin, status Status, reason string) (Reservation, bool, error) {
	if origin == FromStaff {
		r, err := tx.LockReservation(ctx, orderID)
		return r, false, err
	}
	return s.lockOrPlaceholder(ctx, tx, orderID, status, reason)
}

// ConfirmIn turns the order's ACTIVE reservation into a sale: its units
// leave on_hand and reserved. Staff are told when there is nothing to
// confirm; events record a placeholder (payment before reservation) or do
// nothing (payment after expiry or release: the saga cancels the order).
func (s *Service) ConfirmIn(ctx context.Context, tx Tx, orderID uuid.UUID, origin Origin) (Outcome, error) {
	r, placed, err := s.lockFor(ctx, tx, orderID, origin, StatusConfirmed, "")
	if err != nil || placed {
		return Outcome{Reservation: r}, wrap("confirm order", orderID, err)
	}
	switch r.Status {
	case StatusConfirmed:
		return Outcome{Reservation: r, Noop: true}, nil
	case StatusReleased, StatusExpired:
		if origin == FromStaff {
			return Outcome{Reservation: r}, fmt.Errorf("confirm order %s: the reservation is %s: %w", orderID, r.Status, ErrReservationClosed)
		}
		s.log.WarnContext(ctx, "payment succeeded for a reservation that is no longer active; nothing to confirm",
			"order_id", orderID, "reservation_id", r.ID, "status", r.Status)
		return Outcome{Reservation: r, Noop: true}, nil
	}
	c, plain := s.PlanConfirm(r)
	if !plain {
		return s.confirmByRules(ctx, tx, r, c.At)
	}
	done, err := tx.ConfirmPlain(ctx, c)
	if err != nil {
		return Outcome{}, wrap("confirm order", orderID, err)
	}
	return s.ConfirmAfterPlain(ctx, tx, c, done)
}

// PlanConfirm returns the plain confirmation of r, an ACTIVE reservation
// its caller holds locked; false (with only At set) when r is not plain: a
// placeholder, or without lines. A caller that offers several to the store
// at once (inventorydb.ApplyPlainAll) finishes each with ConfirmAfterPlain.
func (s *Service) PlanConfirm(r Reservation) (PlainConfirmation, bool) {
	c := PlainConfirmation{At: s.now()}
	if r.Status != StatusActive || r.Placeholder || len(r.Lines) == 0 {
		return c, false
	}
	c.Reservation, c.Announce = r, Confirmed{OrderID: r.OrderID, ReservationID: r.ID}
	return c, true
}

// ConfirmAfterPlain finishes a confirmation that was offered as plain:
// done says the store applied it; otherwise the rules move the lines.
func (s *Service) ConfirmAfterPlain(ctx context.Context, tx Tx, c PlainConfirmation, done bool) (Outcome, error) {
	r := c.Reservation
	if !done {
		return s.confirmByRules(ctx, tx, r, c.At)
	}
	r.Status, r.UpdatedAt = StatusConfirmed, c.At
	return Outcome{Reservation: r, Changed: productIDs(r.Lines)}, nil
}

func (s *Service) confirmByRules(ctx context.Context, tx Tx, r Reservation, now time.Time) (Outcome, error) {
	l, err := s.moveLines(ctx, tx, r, MoveSold, "")
	if err != nil {
		return Outcome{}, wrap("confirm order", r.OrderID, err)
	}
	r.Status, r.UpdatedAt = StatusConfirmed, now
	if err := tx.UpdateReservation(ctx, r, false); err != nil {
		return Outcome{}, wrap("confirm order", r.OrderID, err)
	}
	if err := s.apply(ctx, tx, l, Confirmed{OrderID: r.OrderID, ReservationID: r.ID}); err != nil {
		return Outcome{}, wrap("confirm order", r.OrderID, err)
	}
	return Outcome{Reservation: r, Changed: stockIDs(l.changed())}, nil
}

// ReleaseIn returns an order's stock: an ACTIVE reservation is released; a
// CONFIRMED one (a paid order cancelled) is restocked, except after a failed
// payment, which cannot undo a sale. Staff are told when the order has no
// reservation; events record a placeholder so that a late reservation holds
// nothing.
func (s *Service) ReleaseIn(ctx context.Context, tx Tx, orderID uuid.UUID, reason string, origin Origin) (Outcome, error) {
	r, placed, err := s.lockFor(ctx, tx, orderID, origin, StatusReleased, reason)
	if err != nil || placed {
		return Outcome{Reservation: r}, wrap("release order", orderID, err)
	}
	kind := MoveReleased
	switch {
	case r.Status == StatusActive:
	case r.Status == StatusConfirmed && reason == ReasonPaymentFailed:
		s.log.WarnContext(ctx, "payment failed for an order already paid; the sale stands",
			"order_id", orderID, "reservation_id", r.ID)
		return Outcome{Reservation: r, Noop: true}, nil
	case r.Status == StatusConfirmed:
		kind = MoveRestocked
	default:
		return Outcome{Reservation: r, Noop: true}, nil
	}
	l, err := s.moveLines(ctx, tx, r, kind, reason)
	if err != nil {
		return Outcome{}, wrap("release order", orderID, err)
	}
	r.Status, r.Reason, r.Restocked, r.UpdatedAt = StatusReleased, reason, kind == MoveRestocked && !r.Placeholder, s.now()
	if err := tx.UpdateReservation(ctx, r, false); err != nil {
		return Outcome{}, wrap("release order", orderID, err)
	}
	if r.Placeholder {
		// A confirm placeholder held nothing: nothing to return or announce.
		return Outcome{Reservation: r}, nil
	}
	if err := s.apply(ctx, tx, l, Released{OrderID: orderID, ReservationID: r.ID, Reason: reason}); err != nil {
		return Outcome{}, wrap("release order", orderID, err)
	}
	return Outcome{Reservation: r, Changed: stockIDs(l.changed())}, nil
}

// moveLines locks the reservation's stock rows and applies one movement of
// kind per line.
func (s *Service) moveLines(ctx context.Context, tx Tx, r Reservation, kind MovementKind, reason string) (*ledger, error) {
	stock, err := tx.LockStock(ctx, productIDs(r.Lines))
	if err != nil {
		return nil, err
	}
	l := newLedger(stock)
	for _, ln := range r.Lines {
		if err := l.move(kind, ln.ProductID, ln.Quantity, ref{ReservationID: r.ID, OrderID: r.OrderID, Reason: reason}); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// apply writes the ledger's movements and publishes events, plus STOCK_LOW
// for each product that became low.
func (s *Service) apply(ctx context.Context, tx Tx, l *ledger, events ...Event) error {
	if len(l.moves) > 0 {
		if err := tx.ApplyMovements(ctx, l.moves, l.changed()); err != nil {
			return err
		}
	}
	return tx.Publish(ctx, append(events, l.lowStock(s.cfg.LowStockThreshold)...)...)
}

// UpsertProductIn applies catalog's PRODUCT_UPSERTED; it returns the
// products whose cached stock changed.
func (s *Service) UpsertProductIn(ctx context.Context, tx Tx, p Product) ([]uuid.UUID, error) {
	applied, err := tx.UpsertProduct(ctx, p)
	if err != nil || !applied {
		return nil, wrap("upsert product", p.ID, err)
	}
	return []uuid.UUID{p.ID}, nil
}

// ArchiveProductIn applies catalog's PRODUCT_ARCHIVED: the product can no
// longer be reserved; existing reservations stand.
func (s *Service) ArchiveProductIn(ctx context.Context, tx Tx, productID uuid.UUID, version int64) ([]uuid.UUID, error) {
	applied, err := tx.ArchiveProduct(ctx, productID, version)
	if err != nil || !applied {
		return nil, wrap("archive product", productID, err)
	}
	return []uuid.UUID{productID}, nil
}

func wrap(what string, id uuid.UUID, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s %s: %w", what, id, err)
}

func stockIDs(rows []Stock) []uuid.UUID {
	ids := make([]uuid.UUID, len(rows))
	for i, s := range rows {
		ids[i] = s.ProductID
	}
	return ids
}

func newID() uuid.UUID { return uuid.Must(uuid.NewV7()) }
