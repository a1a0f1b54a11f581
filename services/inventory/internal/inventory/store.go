package inventory

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// Transactions is the port through which the use cases change state: it
// owns the transaction. The store's own (Store) begins and commits one per
// call; one bound to a transaction its caller owns (inventorydb.Bind, an
// event handler's) runs in that one and leaves the commit to the caller.
// How a change reaches the database is the port's business, not the
// rules': a consumer batch takes its locks up front and sends its plain
// operations as one pipeline, and each event's binding finishes from what
// the pipeline did.
type Transactions interface {
	// Update runs fn in one transaction, committed when fn returns nil.
	Update(ctx context.Context, fn func(tx Tx) error) error
	// Reserve applies p, a new reservation, when the rules have nothing to
	// decide (see PlainReservation), and returns the reservation as stored
	// and true. Otherwise it changes nothing for p and runs byRules in a
	// transaction, as Update does, and returns false.
	Reserve(ctx context.Context, p PlainReservation, byRules func(tx Tx) error) (Reservation, bool, error)
}

// Store is where the domain keeps its state (inventorydb implements it on
// PostgreSQL): its transactions and its reads.
type Store interface {
	Transactions

	// Stock returns a product's stock, or ErrProductNotFound.
	Stock(ctx context.Context, productID uuid.UUID) (Stock, error)
	// ListStock returns a page of stock rows in product-ID order.
	ListStock(ctx context.Context, f StockFilter) ([]Stock, error)
	// Movements returns a page of a product's ledger, newest first.
	Movements(ctx context.Context, productID uuid.UUID, beforeID int64, limit int) ([]Movement, error)
	// Reservation returns an order's reservation, or ErrReservationNotFound.
	Reservation(ctx context.Context, orderID uuid.UUID) (Reservation, error)
	// ActiveReservations returns a page of ACTIVE reservations, soonest
	// expiry first (see ActiveFilter).
	ActiveReservations(ctx context.Context, f ActiveFilter) ([]Reservation, error)
}

// StockFilter selects a page of stock rows.
type StockFilter struct {
	// SellerID limits the list to one seller's products (uuid.Nil: all).
	SellerID uuid.UUID
	// LowOnly keeps products whose available stock is at or below their
	// threshold (DefaultThreshold when they have none).
	LowOnly          bool
	DefaultThreshold int64
	// After is the last product ID of the previous page (uuid.Nil: first).
	After uuid.UUID
	Limit int
}

// Tx is one transaction of the store. Lock methods hold row locks until the
// transaction ends; callers lock reservations before stock, and the store
// locks stock rows in product-ID order, so transactions never deadlock on
// each other's rows. A consumer batch that runs several operations in one
// transaction first takes all their locks in that order
// (inventorydb.LockBatch).
type Tx interface {
	// InsertReservation stores r with its lines unless the order already
	// has a reservation; it reports whether it stored it.
	InsertReservation(ctx context.Context, r Reservation) (bool, error)
	// LockReservation locks and returns the order's reservation with its
	// lines, or ErrReservationNotFound.
	LockReservation(ctx context.Context, orderID uuid.UUID) (Reservation, error)
	// UpdateReservation saves r's status, placeholder flag, expiry, reason
	// and restocked flag; with lines it also stores r.Lines (a placeholder
	// that became a real reservation).
	UpdateReservation(ctx context.Context, r Reservation, lines bool) error
	// DeleteReservation removes a reservation and its lines.
	DeleteReservation(ctx context.Context, id uuid.UUID) error
	// LockDueReservations locks up to limit ACTIVE reservations that
	// expire at or before now, skipping those other transactions hold.
	LockDueReservations(ctx context.Context, now time.Time, limit int) ([]Reservation, error)
	// ExpireReservations marks reservations EXPIRED.
	ExpireReservations(ctx context.Context, ids []uuid.UUID, at time.Time) error

	// ConfirmPlain applies a confirmation at once when no rule has anything
	// to decide (see PlainConfirmation) and returns the reservation as
	// stored and true; when it did not, it changed nothing.
	ConfirmPlain(ctx context.Context, c PlainConfirmation) (Reservation, bool, error)

	// LockStock locks the stock rows of ids in product-ID order and
	// returns those that exist.
	LockStock(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]Stock, error)
	// ApplyMovements writes moves to the ledger and updates the stock rows
	// (locked by LockStock) by their deltas; final are the rows as the
	// domain computed them, which the store checks against the database.
	ApplyMovements(ctx context.Context, moves []Movement, final []Stock) error
	// SetThreshold sets a product's own low-stock threshold (nil: default).
	SetThreshold(ctx context.Context, productID uuid.UUID, threshold *int64) error
	// HasMovements reports whether a product has any ledger entry.
	HasMovements(ctx context.Context, productID uuid.UUID) (bool, error)

	// UpsertProduct applies catalog's view of a product unless the stored
	// row already has this or a newer version; it reports whether it did.
	UpsertProduct(ctx context.Context, p Product) (bool, error)
	// ArchiveProduct marks a product ARCHIVED unless the stored row already
	// has this or a newer version (creating the row when it is unknown).
	ArchiveProduct(ctx context.Context, productID uuid.UUID, version int64) (bool, error)
	// EnsureProduct creates the product's row when it does not exist (the
	// seed, which may run before catalog's events arrive).
	EnsureProduct(ctx context.Context, p Product) error

	// Publish writes events to the outbox, published after commit.
	Publish(ctx context.Context, events ...Event) error
	// Announce publishes events so that Withdraw can take them back before
	// the commit: for an announcement written early, before locks are
	// taken, that may turn out wrong.
	Announce(ctx context.Context, events ...Event) (Announced, error)
	// Withdraw removes events this transaction announced; they are never
	// sent.
	Withdraw(ctx context.Context, a Announced) error
}

// Announced identifies what Tx.Announce wrote (the store's outbox rows);
// only the store reads it.
type Announced []int64

// PlainReservation is a new reservation the store may apply by itself, in
// one statement, because under the stock rows' locks it can see that the
// rules have nothing to decide. It applies it only when the order has no
// reservation yet and every line's product is ACTIVE, has the quantity
// available, and does not cross its low-stock threshold (the product's own,
// else LowStockDefault) with it. It then stores Reservation with its lines,
// moves each line's quantity into reserved with a RESERVED ledger entry
// (reservation and order set, no reason, no actor), and publishes
// Announce. In any other case it changes nothing, and the general path
// (Reserve's rules in Go) decides. So the shortcut is exactly the plain
// case of those rules, done in one round trip, with the hot stock row
// locked only while that statement runs; the tests hold the two paths to
// the same result.
type PlainReservation struct {
	Reservation     Reservation // ACTIVE, not a placeholder, lines in product-ID order
	Announce        Reserved
	LowStockDefault int64
}

// PlainConfirmation is the sale of an order's ACTIVE reservation, which this
// transaction holds locked, that the store may apply by itself in one
// statement. A sale takes each line's quantity out of on_hand and reserved
// together, so the available figure, and with it the low-stock signal,
// does not move: the rules have nothing to decide unless the stock rows
// disagree with the reservation (a line's product missing, or holding fewer
// reserved units than the line), which is theirs to report. Otherwise the
// store marks the reservation CONFIRMED at At, writes a SOLD ledger entry
// per line (reservation and order set, no reason, no actor) and publishes
// Announce; in any other case it changes nothing, and Confirm's rules in
// Go decide. The tests hold the two paths to the same result.
type PlainConfirmation struct {
	Reservation Reservation // ACTIVE, not a placeholder, with its lines
	At          time.Time
	Announce    Confirmed
}

// Cache holds products' stock for fast availability reads. Invalidate may be
// called before the change commits (event handlers run inside the consumer's
// transaction): an implementation must then keep readers from caching the
// old figures until the change is visible.
type Cache interface {
	Get(ctx context.Context, productID uuid.UUID) (Stock, bool)
	Put(ctx context.Context, s Stock)
	Invalidate(ctx context.Context, productIDs ...uuid.UUID)
}

// NoCache caches nothing (benchmarks, tools).
type NoCache struct{}

// Get always misses.
func (NoCache) Get(context.Context, uuid.UUID) (Stock, bool) { return Stock{}, false }

// Put does nothing.
func (NoCache) Put(context.Context, Stock) {}

// Invalidate does nothing.
func (NoCache) Invalidate(context.Context, ...uuid.UUID) {}
