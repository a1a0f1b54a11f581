package inventory

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
)

// memory is Transactions and Tx in memory, enough for the saga's use
// cases: the rules run on it without a database. An Update that fails
// leaves nothing behind, as a rollback would; it takes no plain shortcut,
// so every change goes through the rules.
type memory struct {
	Store // the reads: not used here
	Tx    // the other methods: not used here

	stock        map[uuid.UUID]Stock
	reservations map[uuid.UUID]Reservation // by order
	published    []Event
}

func newMemory(stock ...Stock) *memory {
	m := &memory{stock: map[uuid.UUID]Stock{}, reservations: map[uuid.UUID]Reservation{}}
	for _, s := range stock {
		m.stock[s.ProductID] = s
	}
	return m
}

func (m *memory) Update(_ context.Context, fn func(tx Tx) error) error {
	stock, reservations, published := maps.Clone(m.stock), maps.Clone(m.reservations), len(m.published)
	if err := fn(m); err != nil {
		m.stock, m.reservations, m.published = stock, reservations, m.published[:published]
		return err
	}
	return nil
}

func (m *memory) Reserve(ctx context.Context, _ PlainReservation, byRules func(tx Tx) error) (Reservation, bool, error) {
	return Reservation{}, false, m.Update(ctx, byRules)
}

func (m *memory) InsertReservation(_ context.Context, r Reservation) (bool, error) {
	if _, ok := m.reservations[r.OrderID]; ok {
		return false, nil
	}
	m.reservations[r.OrderID] = r
	return true, nil
}

func (m *memory) LockReservation(_ context.Context, orderID uuid.UUID) (Reservation, error) {
	r, ok := m.reservations[orderID]
	if !ok {
		return Reservation{}, ErrReservationNotFound
	}
	return r, nil
}

func (m *memory) UpdateReservation(_ context.Context, r Reservation, _ bool) error {
	m.reservations[r.OrderID] = r
	return nil
}

func (m *memory) DeleteReservation(_ context.Context, id uuid.UUID) error {
	for order, r := range m.reservations {
		if r.ID == id {
			delete(m.reservations, order)
		}
	}
	return nil
}

func (m *memory) ConfirmPlain(context.Context, PlainConfirmation) (Reservation, bool, error) {
	return Reservation{}, false, nil
}

func (m *memory) LockStock(_ context.Context, ids []uuid.UUID) (map[uuid.UUID]Stock, error) {
	out := map[uuid.UUID]Stock{}
	for _, id := range ids {
		if s, ok := m.stock[id]; ok {
			out[id] = s
		}
	}
	return out, nil
}

func (m *memory) ApplyMovements(_ context.Context, _ []Movement, final []Stock) error {
	for _, s := range final {
		m.stock[s.ProductID] = s
	}
	return nil
}

func (m *memory) Publish(_ context.Context, events ...Event) error {
	m.published = append(m.published, events...)
	return nil
}

func (m *memory) Announce(ctx context.Context, events ...Event) (Announced, error) {
	a := Announced{int64(len(m.published))}
	return a, m.Publish(ctx, events...)
}

func (m *memory) Withdraw(_ context.Context, a Announced) error {
	m.published = slices.Delete(m.published, int(a[0]), int(a[0])+1)
	return nil
}

// figures is each product's on hand/reserved, in the given order.
func (m *memory) figures(ids ...uuid.UUID) string {
	var out []string
	for _, id := range ids {
		out = append(out, fmt.Sprintf("%d/%d", m.stock[id].OnHand, m.stock[id].Reserved))
	}
	return fmt.Sprint(out)
}

func (m *memory) kinds() string {
	var out []string
	for _, e := range m.published {
		out = append(out, fmt.Sprintf("%T", e))
	}
	return fmt.Sprint(out)
}

func newTestService(m *memory) *Service {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	return NewService(m, NoCache{}, Config{LowStockThreshold: 2, Now: func() time.Time { return now }}, slog.New(slog.DiscardHandler))
}

func active(id uuid.UUID, onHand int64) Stock {
	return Stock{ProductID: id, Status: ProductActive, OnHand: onHand}
}

// The saga's use cases, by the rules alone: all or nothing, idempotent, and
// a release only returns what an active or sold reservation holds.
func TestUseCasesWithoutADatabase(t *testing.T) {
	ctx := context.Background()
	a, b := uuid.New(), uuid.New()

	t.Run("reserve all lines or none", func(t *testing.T) {
		m := newMemory(active(a, 10), active(b, 1))
		svc := newTestService(m)
		_, err := svc.Reserve(ctx, ReserveRequest{OrderID: uuid.New(), Lines: []Line{{a, 3}, {b, 2}}})
		if !errors.Is(err, ErrInsufficientStock) {
			t.Fatalf("err = %v, want insufficient stock", err)
		}
		if got := m.figures(a, b); got != "[10/0 1/0]" {
			t.Errorf("stock %s after a rejection; want untouched", got)
		}
		if got := m.kinds(); got != "[inventory.Rejected]" {
			t.Errorf("published %s; want only the rejection", got)
		}
	})

	t.Run("reserve twice reserves once", func(t *testing.T) {
		m := newMemory(active(a, 10))
		svc := newTestService(m)
		req := ReserveRequest{OrderID: uuid.New(), Lines: []Line{{a, 3}}}
		first, err := svc.Reserve(ctx, req)
		if err != nil || !first.Created {
			t.Fatalf("first: %+v, %v", first, err)
		}
		again, err := svc.Reserve(ctx, req)
		if err != nil || again.Created || again.Reservation.ID != first.Reservation.ID {
			t.Fatalf("again: %+v, %v; want the same reservation, not created", again, err)
		}
		if _, err := svc.Reserve(ctx, ReserveRequest{OrderID: req.OrderID, Lines: []Line{{a, 4}}}); !errors.Is(err, ErrReservationConflict) {
			t.Errorf("other lines for the same order: %v, want a conflict", err)
		}
		if got := m.figures(a); got != "[10/3]" {
			t.Errorf("stock %s; want 3 reserved once", got)
		}
	})

	t.Run("confirm sells once, release restocks once", func(t *testing.T) {
		m, order := newMemory(active(a, 10)), uuid.New()
		svc := newTestService(m)
		if _, err := svc.Reserve(ctx, ReserveRequest{OrderID: order, Lines: []Line{{a, 3}}}); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if _, err := svc.Confirm(ctx, order, FromEvent); err != nil {
				t.Fatal(err)
			}
		}
		if got := m.figures(a); got != "[7/0]" {
			t.Errorf("after confirming twice: %s; want 7/0", got)
		}
		if out, err := svc.Release(ctx, order, ReasonPaymentFailed, FromEvent); err != nil || !out.Noop {
			t.Errorf("a failed payment after the sale: %+v, %v; want a no-op", out, err)
		}
		for range 2 {
			if _, err := svc.Release(ctx, order, ReasonOrderCancelled, FromEvent); err != nil {
				t.Fatal(err)
			}
		}
		if got := m.figures(a); got != "[10/0]" {
			t.Errorf("after cancelling twice: %s; want 10/0", got)
		}
	})

	t.Run("release only an active or sold reservation", func(t *testing.T) {
		m := newMemory(active(a, 10))
		svc := newTestService(m)
		if _, err := svc.Release(ctx, uuid.New(), ReasonStaff, FromStaff); !errors.Is(err, ErrReservationNotFound) {
			t.Errorf("staff release of no reservation: %v, want not found", err)
		}
		// Cancelled before it was reserved: the placeholder makes the late
		// reservation hold nothing.
		order := uuid.New()
		if _, err := svc.Release(ctx, order, ReasonOrderCancelled, FromEvent); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Reserve(ctx, ReserveRequest{OrderID: order, Lines: []Line{{a, 3}}}); !errors.Is(err, ErrReservationConflict) {
			t.Errorf("reserve after cancel: %v, want a conflict", err)
		}
		if got := m.figures(a); got != "[10/0]" {
			t.Errorf("stock %s; want nothing held", got)
		}
	})

	t.Run("paid before reserved: reserved and sold at once", func(t *testing.T) {
		m, order := newMemory(active(a, 10)), uuid.New()
		if _, err := newTestService(m).Confirm(ctx, order, FromEvent); err != nil {
			t.Fatal(err)
		}
		if _, err := newTestService(m).Reserve(ctx, ReserveRequest{OrderID: order, Lines: []Line{{a, 3}}}); err != nil {
			t.Fatal(err)
		}
		if got := m.figures(a); got != "[7/0]" {
			t.Errorf("stock %s; want 3 sold", got)
		}
		if got := m.reservations[order].Status; got != StatusConfirmed {
			t.Errorf("reservation %s, want CONFIRMED", got)
		}
	})
}
