package order

import (
	"context"
	"time"
)

// Store is the persistence the Service needs. Reads outside a transaction
// may come from a read replica.
type Store interface {
	// InTx runs fn in one transaction, committed when fn returns nil. A
	// transaction the caller owns may be bound to ctx (the consumer's, for
	// an event: orderdb.Bind); fn then runs in it, and its owner commits.
	// Every change of an order or of the replica goes through it.
	InTx(ctx context.Context, fn func(Tx) error) error
	// Products returns the replica rows of the given products that exist.
	Products(ctx context.Context, ids []string) (map[string]Product, error)
	// CreateOrder inserts an order with its items, its first timeline
	// entry (whose Emitted it sets) and the event created, atomically;
	// ErrDuplicateKey when the user already has an order with its
	// idempotency key. A receipt (nil: none) is written with them, and
	// the order only with it: ErrReceiptRefused when it was not.
	CreateOrder(ctx context.Context, o Order, first HistoryEntry, created Event, receipt Receipt) error
	// OpenOrders counts the user's unpaid orders (CREATED or
	// PAYMENT_PENDING) and the units over their lines, on the primary.
	OpenOrders(ctx context.Context, userID string) (orders, units int, err error)
	// Order returns an order with its items, or ErrNotFound.
	Order(ctx context.Context, id string) (Order, error)
	// OrderByKey returns the user's order placed with an idempotency key,
	// or ErrNotFound.
	OrderByKey(ctx context.Context, userID, key string) (Order, error)
	// Timeline returns an order's history, oldest first.
	Timeline(ctx context.Context, orderID string) ([]HistoryEntry, error)
	// List returns up to q.Limit orders (without items, with ItemCount)
	// newest first (created_at, then ID, descending), after q.After.
	List(ctx context.Context, q ListQuery) ([]Order, error)
	// Counts returns the number of orders per status and the revenue of
	// orders that are paid and not cancelled, per currency, created in
	// [from, to) (zero times leave that side open).
	Counts(ctx context.Context, from, to time.Time) (map[Status]int64, []Revenue, error)
	// CountStuck counts the orders per status whose status is older than
	// the cutoff of that status.
	CountStuck(ctx context.Context, cutoffs map[Status]time.Time) (map[Status]int64, error)
	// DailyGroups counts the orders created in [q.From, q.To) per day (in
	// q.Location), status, currency and whether they were paid.
	DailyGroups(ctx context.Context, q DailyQuery) ([]DayGroup, error)
}

// Tx is the work the Service does inside one transaction (Store.InTx).
type Tx interface {
	// LockProduct returns a replica row locked for update.
	LockProduct(ctx context.Context, id string) (p Product, found bool, err error)
	// SaveProduct inserts or replaces a replica row (never with an older
	// version).
	SaveProduct(ctx context.Context, p Product) error
	// LockOrder returns an order without items, its row locked for update
	// (SELECT ... FOR NO KEY UPDATE), or ErrNotFound.
	LockOrder(ctx context.Context, id string) (Order, error)
	// LockOrderForEvent is LockOrder for applying an event: it also reports
	// whether the order's timeline already records the event as a cause
	// (in the same round trip).
	LockOrderForEvent(ctx context.Context, id, eventID string) (o Order, seen bool, err error)
	// LockCreatedBefore returns up to limit orders (without items) that have
	// been CREATED since before the given time, oldest first, their rows
	// locked for update; rows another transaction holds are skipped.
	LockCreatedBefore(ctx context.Context, before time.Time, limit int) ([]Order, error)
	// Items returns an order's items.
	Items(ctx context.Context, orderID string) ([]Item, error)
	// Move writes o's status fields (the row must still be in from),
	// appends entry to the timeline and, when ev is not nil, publishes it
	// (the outbox) with entry.Emitted naming it: one change, written at
	// once. It returns the emitted event's reference (nil without ev).
	Move(ctx context.Context, o Order, from Status, entry HistoryEntry, ev Event) (*EventRef, error)
	// Advance is Move for a saga event that emits nothing, by a caller that
	// has not read the order: m.Order carries only the ID and the fields
	// the transition sets (status and its timestamps; PaidAt or
	// CancelReason when set, else the row keeps its own). It changes
	// nothing and reports false when the order is unknown, not in m.From,
	// has m.Entry's cause in its timeline, or (m.Total not nil) has another
	// total; else it reports when the order was created.
	Advance(ctx context.Context, m BlindMove) (createdAt time.Time, moved bool, err error)
	// RecordEvent appends an entry for an event that changes no status,
	// with From and To the order's status as it is, unless the timeline
	// already has the event (then it changes nothing). It reads the status
	// under the order's row lock (as LockOrder), which it keeps, so that
	// the entry shows the order's state when it is written, in order with
	// the transitions; it reports false when there is no such order.
	RecordEvent(ctx context.Context, entry HistoryEntry) (found bool, err error)
	// AddHistory appends a timeline entry.
	AddHistory(ctx context.Context, h HistoryEntry) error
}

// ListQuery selects orders for a list.
type ListQuery struct {
	Filter Filter
	// StuckCutoffs, when set, keeps only orders whose status is one of its
	// keys and older than its cutoff.
	StuckCutoffs map[Status]time.Time
	After        *Cursor
	Limit        int
}

// Revenue is the value of paid orders in one currency.
type Revenue struct {
	Currency    string
	AmountMinor int64
	Orders      int64
}

// Metrics receives what the Service counts. Implementations must be safe
// for concurrent use.
type Metrics interface {
	// OrderCreated counts a placed order.
	OrderCreated()
	// Transition counts a status change; reason is the cancel reason when
	// to is CANCELLED, sinceCreated the time from the order's creation to
	// the change in seconds (0 when unknown).
	Transition(from, to Status, reason string, sinceCreated float64)
}

type noMetrics struct{}

func (noMetrics) OrderCreated()                               {}
func (noMetrics) Transition(_, _ Status, _ string, _ float64) {}

// Receipt is written with a new order, and the order only with it: the
// idempotency record of the request that places the order (PlaceInput), which
// the API makes and the store writes (orderdb takes an idempotency.Record).
// The rules only pass it on.
type Receipt any
