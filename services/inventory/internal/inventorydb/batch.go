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
// It returns what it locked.
func LockBatch(ctx context.Context, tx *gorm.DB, orders, products []uuid.UUID) (Locked, error) {
	all := products
	locked := map[uuid.UUID]inventory.Reservation{}
	if len(orders) > 0 {
		err := tx.WithContext(ctx).Exec(database.LockKeysSQL, orderLockClass, database.UUIDArray(orders)).Error
		if err != nil {
			return Locked{}, fmt.Errorf("lock the batch's orders: %w", err)
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
			return Locked{}, fmt.Errorf("lock the batch's reservations: %w", err)
		}
		for _, row := range rows {
			r, err := row.toDomain()
			if err != nil {
				return Locked{}, err
			}
			locked[r.OrderID] = r
			for _, l := range r.Lines {
				all = append(all, l.ProductID)
			}
		}
	}
	if len(all) == 0 {
		return Locked{reservations: locked}, nil
	}
	err := tx.WithContext(ctx).Exec(`SELECT 1 FROM stock WHERE product_id = ANY(?::uuid[])
		ORDER BY product_id FOR NO KEY UPDATE`, database.UUIDArray(all)).Error
	if err != nil {
		return Locked{}, fmt.Errorf("lock the batch's stock: %w", err)
	}
	return Locked{reservations: locked, Products: all}, nil
}

// Locked is what LockBatch holds until the batch commits.
type Locked struct {
	reservations map[uuid.UUID]inventory.Reservation // by order ID
	// Products are those whose stock rows it holds (a product may
	// repeat): every product the batch can change.
	Products []uuid.UUID
}

// Reservation returns the order's reservation, as LockBatch locked it.
func (l Locked) Reservation(orderID uuid.UUID) (inventory.Reservation, bool) {
	r, ok := l.reservations[orderID]
	return r, ok
}

// Planned is an operation a consumer batch applies at once (Apply): a new
// reservation or a sale, as a use case offered it to the store.
type Planned struct {
	reserve *inventory.PlainReservation
	confirm *inventory.PlainConfirmation
}

// Plan runs use, a use case (an event's), as a dry run on the batch's
// locked state, and returns the plain operation it offers the store: a
// new reservation (Transactions.Reserve) or the sale of a reservation the
// batch locked, ACTIVE with lines (Tx.ConfirmPlain). Nothing is written;
// ok is false when use offers neither.
func (l Locked) Plan(use func(inventory.Transactions)) (p Planned, ok bool) {
	dry := &planner{locked: l}
	dry.run(use)
	return dry.planned, dry.planned.reserve != nil || dry.planned.confirm != nil
}

// errPlanned ends a use case in Plan's dry run once it has offered its
// plain operation, or when it needs anything else.
var errPlanned = errors.New("inventorydb: planned for the batch's pipeline")

// planner is Plan's Transactions and Tx: it notes the plain operation the
// use case offers and lends it the reservations LockBatch locked, when they
// are ACTIVE with lines (the only ones a plain sale can sell). Any other
// call fails with errPlanned; a call of a method it does not define (the
// nil Tx) panics, which run takes as "not plain": the dry run never
// writes.
type planner struct {
	inventory.Tx
	locked  Locked
	planned Planned
}

func (p *planner) run(use func(inventory.Transactions)) {
	defer func() {
		if recover() != nil {
			p.planned = Planned{}
		}
	}()
	use(p)
}

func (p *planner) Update(_ context.Context, fn func(tx inventory.Tx) error) error { return fn(p) }

func (p *planner) Reserve(_ context.Context, r inventory.PlainReservation, _ func(tx inventory.Tx) error) (inventory.Reservation, bool, error) {
	p.planned = Planned{reserve: &r}
	return inventory.Reservation{}, false, errPlanned
}

func (p *planner) LockReservation(_ context.Context, orderID uuid.UUID) (inventory.Reservation, error) {
	r, ok := p.locked.Reservation(orderID)
	if !ok || r.Status != inventory.StatusActive || r.Placeholder || len(r.Lines) == 0 {
		return inventory.Reservation{}, errPlanned
	}
	return r, nil
}

func (p *planner) ConfirmPlain(_ context.Context, c inventory.PlainConfirmation) (inventory.Reservation, bool, error) {
	p.planned = Planned{confirm: &c}
	return inventory.Reservation{}, false, errPlanned
}

// Applied is what Apply did with a Planned operation; the zero Applied is
// none (see Bind).
type Applied struct {
	Planned
	done bool // the store applied it; otherwise the rules decide
}

// Apply sends planned, in order, as one pipeline in tx, which holds the
// stock rows of every line (LockBatch): the statements read them without
// locking them again, and each judges its operation on the figures the
// ones before it left, exactly as one by one. (A sale leaves available
// stock as it was, and a reservation only adds to what a sale needs
// reserved, so their order changes no judgement.) out[i] is what became
// of planned[i]; ok is false, and nothing ran, when tx cannot pipeline (it
// is not a database.TxStartingWith transaction).
func Apply(ctx context.Context, tx *gorm.DB, planned []Planned) (out []Applied, ok bool, err error) {
	p := database.NewPipeline(tx)
	counts := make([]int64, len(planned))
	for i, pl := range planned {
		sql, args, err := pl.statement(ctx)
		if err != nil {
			return nil, false, err
		}
		p.Queue(sql, args...).QueryRow(func(row pgx.Row) error { return row.Scan(&counts[i]) })
	}
	switch ok, err := p.Send(ctx); {
	case err != nil:
		return nil, true, fmt.Errorf("%d plain operations: %w", len(planned), err)
	case !ok:
		return nil, false, nil
	}
	out = make([]Applied, len(planned))
	for i, n := range counts {
		out[i] = Applied{Planned: planned[i], done: n == 1}
	}
	return out, true, nil
}

// statement is p's plain statement for a transaction that holds its rows.
func (p Planned) statement(ctx context.Context) (string, []any, error) {
	if p.reserve != nil {
		args, err := reservePlainArgs(ctx, *p.reserve)
		return heldReserveSQL, args, err
	}
	args, err := confirmPlainArgs(ctx, *p.confirm)
	return heldConfirmSQL, args, err
}

// Bind returns the inventory.Transactions of tx, a transaction its caller
// owns (the consumer's inbox transaction): the use cases change state in tx
// and the caller commits. a is what the batch's Apply did for the event
// being handled (the zero Applied: nothing), which the use case then
// finishes from, the rules taking over where the store declined it.
func Bind(tx *gorm.DB, a Applied) inventory.Transactions {
	return bound{tx: tx, a: a}
}

type bound struct {
	tx *gorm.DB
	a  Applied
}

func (b bound) Update(_ context.Context, fn func(tx inventory.Tx) error) error {
	if b.a.confirm != nil {
		return fn(appliedSale{txStore: &txStore{db: b.tx}, a: b.a})
	}
	return fn(&txStore{db: b.tx})
}

// Reserve runs the plain statement in the caller's transaction, locking
// the stock rows itself, unless the batch applied it; when it was not
// plain, the rules decide, on the rows the batch holds.
func (b bound) Reserve(ctx context.Context, p inventory.PlainReservation, byRules func(tx inventory.Tx) error) (inventory.Reservation, bool, error) {
	switch {
	case b.a.reserve == nil:
		done, err := reservePlain(ctx, b.tx, reservePlainSQL, p)
		if err != nil || done {
			return p.Reservation, done, err
		}
	case b.a.done:
		return b.a.reserve.Reservation, true, nil
	}
	return inventory.Reservation{}, false, byRules(&txStore{db: b.tx})
}

// appliedSale answers, for the order whose sale the batch's pipeline ran,
// with the reservation LockBatch locked (nothing else in the batch touches
// the order) and the pipeline's outcome.
type appliedSale struct {
	*txStore
	a Applied
}

func (t appliedSale) LockReservation(ctx context.Context, orderID uuid.UUID) (inventory.Reservation, error) {
	if orderID == t.a.confirm.Reservation.OrderID {
		return t.a.confirm.Reservation, nil
	}
	return t.txStore.LockReservation(ctx, orderID)
}

func (t appliedSale) ConfirmPlain(ctx context.Context, c inventory.PlainConfirmation) (inventory.Reservation, bool, error) {
	if c.Reservation.ID == t.a.confirm.Reservation.ID {
		return asConfirmed(*t.a.confirm), t.a.done, nil
	}
	return t.txStore.ConfirmPlain(ctx, c)
}
