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

// Service holds the stock rules. Each use case is one method, in a file of
// its own (reserve.go, confirm.go, release.go, stock.go, products.go,
// sweeper.go): it decides what changes and makes the change through
// Transactions, which owns the transaction and decides how the change
// reaches the database.
type Service struct {
	store Store        // reads, and transactions of the service's own
	tx    Transactions // where the use cases change state (store, unless In)
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
	return &Service{store: store, tx: store, cache: cache, cfg: cfg, log: log}
}

// In returns the service making its changes through t, a transaction its
// caller owns (an event handler's: inventorydb.Bind). The caller commits,
// and so it also drops what changed from the cache (see Cache): the use
// cases report it.
func (s *Service) In(t Transactions) *Service {
	in := *s
	in.tx, in.cache = t, NoCache{}
	return &in
}

// LowStockThreshold is the default threshold.
func (s *Service) LowStockThreshold() int64 { return s.cfg.LowStockThreshold }

// now is the service's clock at PostgreSQL's precision, so that what a
// response shows is what was stored.
func (s *Service) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Microsecond) }

// update runs fn in a transaction of s.tx and, once it is done, drops from
// the cache the products fn reports changed.
func (s *Service) update(ctx context.Context, fn func(tx Tx) ([]uuid.UUID, error)) error {
	var changed []uuid.UUID
	err := s.tx.Update(ctx, func(tx Tx) error {
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

// Outcome is the result of confirm and release.
type Outcome struct {
	Reservation Reservation
	// Noop: the operation did not apply (repeated, or out of order); nothing
	// changed and nothing was published.
	Noop    bool
	Changed []uuid.UUID
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
