package inventorydb

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"gorm.io/gorm"

	"github.com/shop-oss/shop/pkg/database"
	"github.com/shop-oss/shop/services/inventory/internal/inventory"
)

// orderLockClass is the first key of the advisory locks that LockBatch
// takes on order IDs (the second is a hash of the ID).
const orderLockClass = 0x1a7e

// LockBatch takes, in a consumer batch transaction, the locks its events
// will need, in one global order, so that batches on different workers never
// deadlock: a batch otherwise holds each event's locks until it commits,
// taken event by event, and two batches whose orders share products in
// opposite order would wait for each other.
//
//  1. An advisory lock per order, in hash order. One order's events arrive
//     on several topics, so on several workers at once; its reservation may
//     not exist yet, or be created by another batch after we look. Holding
//     the order itself makes what we read next final for this batch.
//  2. The orders' reservations, in order-ID order (single operations, the
//     staff API and the sweeper, lock a reservation before its stock).
//  3. The stock rows of products and of those reservations' lines, in
//     product-ID order.
//
// It returns the reservations it locked, by order ID.
func LockBatch(ctx context.Context, tx *gorm.DB, orders, products []uuid.UUID) (map[uuid.UUID]inventory.Reservation, error) {
	all := products
	locked := map[uuid.UUID]inventory.Reservation{}
	if len(orders) > 0 {
		err := tx.WithContext(ctx).Exec(database.LockKeysSQL, orderLockClass, database.UUIDArray(orders)).Error
		if err != nil {
			return nil, fmt.Errorf("lock the batch's orders: %w", err)
		}
		// The lines are read by a subquery per reservation, which can only
		// be an index lookup. As a join, before the tables have statistics
		// (a new database, or autovacuum off) the planner hashed the whole
		// of reservation_lines for every batch: 2.7 ms against 0.2 ms at
		// 16,000 lines, growing with the table.
		var rows []reservationRow
		err = tx.WithContext(ctx).Raw(reservationSelect+` WHERE r.order_id = ANY(?::uuid[])
			ORDER BY r.order_id FOR UPDATE OF r`, database.UUIDArray(orders)).Scan(&rows).Error
		if err != nil {
			return nil, fmt.Errorf("lock the batch's reservations: %w", err)
		}
		for _, row := range rows {
			r, err := row.toDomain()
			if err != nil {
				return nil, err
			}
			locked[r.OrderID] = r
			for _, l := range r.Lines {
				all = append(all, l.ProductID)
			}
		}
	}
	if len(all) == 0 {
		return locked, nil
	}
	err := tx.WithContext(ctx).Exec(`SELECT 1 FROM stock WHERE product_id = ANY(?::uuid[])
		ORDER BY product_id FOR NO KEY UPDATE`, database.UUIDArray(all)).Error
	if err != nil {
		return nil, fmt.Errorf("lock the batch's stock: %w", err)
	}
	return locked, nil
}

// Bind returns the inventory.Transactions of tx, a transaction its caller
// owns (the consumer's inbox transaction): the use cases change state in tx
// and the caller commits. In a batch that PrepareBatch prepared on tx (ctx
// carries it), an operation the batch's pipeline already applied is
// finished from its outcome.
func Bind(ctx context.Context, tx *gorm.DB) inventory.Transactions {
	if b, ok := ctx.Value(batchKey{}).(*batch); ok && b.tx == tx {
		return b
	}
	return bound{tx}
}

// bound is a transaction its caller owns.
type bound struct{ tx *gorm.DB }

func (b bound) Update(_ context.Context, fn func(tx inventory.Tx) error) error {
	return fn(&txStore{db: b.tx})
}

// Reserve runs the plain statement in the caller's transaction, locking
// the stock rows itself, then, when it did not apply, the rules.
func (b bound) Reserve(ctx context.Context, p inventory.PlainReservation, byRules func(tx inventory.Tx) error) (inventory.Reservation, bool, error) {
	done, err := reservePlain(ctx, b.tx, reservePlainSQL, p)
	if err != nil || done {
		return p.Reservation, done, err
	}
	return inventory.Reservation{}, false, byRules(&txStore{db: b.tx})
}

// Batch is what PrepareBatch needs to know of a consumer batch.
type Batch struct {
	// Orders and Products are the IDs the batch's events name (an order
	// may repeat).
	Orders, Products []uuid.UUID
	// Plan runs, on its Transactions, the use cases of the events that
	// may be plain: the new orders' reservations and the paid orders'
	// confirmations, for orders with no other event in the batch (so that
	// each order's events still apply in their order). It is a dry run:
	// the store notes the plain operations they offer and fails the rest;
	// what they return is of no use.
	Plan func(t inventory.Transactions)
}

// PrepareBatch prepares a consumer batch in its transaction tx, before its
// handlers run:
//
//  1. It takes every lock the batch will need, in one global order
//     (LockBatch), so that batches on different workers never deadlock.
//  2. It offers the batch's plain operations (b.Plan) to the database as
//     one pipeline, one round trip for all of them instead of one or two
//     each, each judged on what the ones before it left, exactly as one by
//     one. The batch holds the stock rows of every product it touches until
//     it commits, so inventory's workers take turns, and those round trips
//     were most of a turn.
//
// The handlers then run the same use cases through Bind(ctx, tx), which
// finishes each pipelined operation from its outcome (the rules take over
// where the store declined it). It returns the products whose stock rows
// it locked, which are all the batch can change.
func PrepareBatch(ctx context.Context, tx *gorm.DB, b Batch) (context.Context, []uuid.UUID, error) {
	locked, err := LockBatch(ctx, tx, b.Orders, b.Products)
	if err != nil {
		return ctx, nil, err
	}
	touched := b.Products
	for _, r := range locked {
		for _, l := range r.Lines {
			touched = append(touched, l.ProductID)
		}
	}
	p := &planner{locked: locked}
	if b.Plan != nil {
		p.run(b.Plan)
	}
	if len(p.reserve)+len(p.confirm) == 0 {
		return ctx, touched, nil
	}
	reserved, confirmed, ok, err := applyPlainAll(ctx, tx, p.reserve, p.confirm)
	if err != nil || !ok {
		return ctx, touched, err // not ok: each handler does its own
	}
	bt := &batch{bound: bound{tx}, locked: locked,
		reserved: map[uuid.UUID]outcome{}, confirmed: map[uuid.UUID]outcome{}}
	for i, r := range p.reserve {
		bt.reserved[r.Reservation.OrderID] = outcome{r.Reservation, reserved[i]}
	}
	for i, c := range p.confirm {
		bt.confirmed[c.Reservation.OrderID] = outcome{asConfirmed(c), confirmed[i]}
	}
	return context.WithValue(ctx, batchKey{}, bt), touched, nil
}

type batchKey struct{}

// outcome is a pipelined operation's reservation and whether the store
// applied it.
type outcome struct {
	r    inventory.Reservation
	done bool
}

// batch is a prepared batch's transaction: an order's operation that its
// pipeline applied is finished from the outcome, once; everything else
// runs as in bound.
type batch struct {
	bound
	locked              map[uuid.UUID]inventory.Reservation
	reserved, confirmed map[uuid.UUID]outcome
}

func (b *batch) Update(_ context.Context, fn func(tx inventory.Tx) error) error {
	return fn(batchTx{txStore: &txStore{db: b.tx}, b: b})
}

func (b *batch) Reserve(ctx context.Context, p inventory.PlainReservation, byRules func(tx inventory.Tx) error) (inventory.Reservation, bool, error) {
	o, ok := b.reserved[p.Reservation.OrderID]
	if !ok {
		return b.bound.Reserve(ctx, p, byRules)
	}
	delete(b.reserved, p.Reservation.OrderID)
	if o.done {
		return o.r, true, nil
	}
	// The pipeline judged the reservation not plain: the rules decide, on
	// the rows the batch holds.
	return inventory.Reservation{}, false, byRules(batchTx{txStore: &txStore{db: b.tx}, b: b})
}

// batchTx answers, for an order whose confirmation the pipeline ran, with
// the reservation LockBatch locked (nothing else in the batch touches the
// order) and the pipeline's outcome.
type batchTx struct {
	*txStore
	b *batch
}

func (t batchTx) LockReservation(ctx context.Context, orderID uuid.UUID) (inventory.Reservation, error) {
	if _, ok := t.b.confirmed[orderID]; ok {
		return t.b.locked[orderID], nil
	}
	return t.txStore.LockReservation(ctx, orderID)
}

func (t batchTx) ConfirmPlain(ctx context.Context, c inventory.PlainConfirmation) (inventory.Reservation, bool, error) {
	o, ok := t.b.confirmed[c.Reservation.OrderID]
	if !ok {
		return t.txStore.ConfirmPlain(ctx, c)
	}
	delete(t.b.confirmed, c.Reservation.OrderID)
	return o.r, o.done, nil
}

// errPlanned ends a use case in PrepareBatch's dry run once it has offered
// its plain operation, or when it needs anything else.
var errPlanned = errors.New("inventorydb: planned for the batch's pipeline")

// planner is the dry run's Transactions and Tx: it notes the plain
// operations the use cases offer and lends them the reservations LockBatch
// locked, when they are ACTIVE with lines (the only ones a plain
// confirmation can sell). Any other call fails with errPlanned; a call of
// a method it does not define (the nil Tx) panics, which run takes as "not
// plain": the dry run never writes.
type planner struct {
	inventory.Tx
	locked  map[uuid.UUID]inventory.Reservation
	reserve []inventory.PlainReservation
	confirm []inventory.PlainConfirmation
}

func (p *planner) run(plan func(inventory.Transactions)) {
	defer func() { _ = recover() }()
	plan(p)
}

func (p *planner) Update(_ context.Context, fn func(tx inventory.Tx) error) error { return fn(p) }

func (p *planner) Reserve(_ context.Context, r inventory.PlainReservation, _ func(tx inventory.Tx) error) (inventory.Reservation, bool, error) {
	p.reserve = append(p.reserve, r)
	return inventory.Reservation{}, false, errPlanned
}

func (p *planner) LockReservation(_ context.Context, orderID uuid.UUID) (inventory.Reservation, error) {
	r, ok := p.locked[orderID]
	if !ok || r.Status != inventory.StatusActive || r.Placeholder || len(r.Lines) == 0 {
		return inventory.Reservation{}, errPlanned
	}
	return r, nil
}

func (p *planner) ConfirmPlain(_ context.Context, c inventory.PlainConfirmation) (inventory.Reservation, bool, error) {
	p.confirm = append(p.confirm, c)
	return inventory.Reservation{}, false, errPlanned
}

// applyPlainAll sends plain reservations, in order, then confirmations, as
// one pipeline in tx, which holds the stock rows of every line (LockBatch):
// the statements read them without locking them again. (Confirmations leave
// available stock as it was, so running them after the reservations
// changes no judgement.) It says, index for index, which applied; ok is
// false, and nothing ran, when tx cannot pipeline (it is not a
// database.TxStartingWith transaction).
func applyPlainAll(ctx context.Context, tx *gorm.DB, reserve []inventory.PlainReservation, confirm []inventory.PlainConfirmation) (reserved, confirmed []bool, ok bool, err error) {
	p := database.NewPipeline(tx)
	counts := make([]int64, len(reserve)+len(confirm))
	count := func(i int) func(pgx.Row) error { return func(row pgx.Row) error { return row.Scan(&counts[i]) } }
	for i, r := range reserve {
		args, err := reservePlainArgs(ctx, r)
		if err != nil {
			return nil, nil, false, err
		}
		p.Queue(heldReserveSQL, args...).QueryRow(count(i))
	}
	for i, c := range confirm {
		args, err := confirmPlainArgs(ctx, c)
		if err != nil {
			return nil, nil, false, err
		}
		p.Queue(heldConfirmSQL, args...).QueryRow(count(len(reserve) + i))
	}
	switch ok, err := p.Send(ctx); {
	case err != nil:
		return nil, nil, true, fmt.Errorf("%d plain reservations and %d confirmations: %w", len(reserve), len(confirm), err)
	case !ok:
		return nil, nil, false, nil
	}
	applied := make([]bool, len(counts))
	for i, n := range counts {
		applied[i] = n == 1
	}
	return applied[:len(reserve)], applied[len(reserve):], true, nil
}
