package orderdb

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"gorm.io/gorm"

	"github.com/shop-oss/shop/pkg/database"
	"github.com/shop-oss/shop/services/order/internal/order"
)

// How a consumer batch of saga events is made fast, behind order.Store
// (the plan and apply of a consumer.Batch): the usual-case statement of
// each event (a timeline entry, or a blind move: order.Service.ApplySaga),
// learnt from the use case itself (PlanUsual), goes to PostgreSQL before
// the handlers run, all of them as one pipeline in the batch's
// transaction, one round trip instead of one each (SendAhead). Each
// handler then runs the use case as usual in that transaction (Bind with
// its event's Outcome), and the Tx answers the statement the batch already
// sent from its outcome.

// boundKey is the context key of the order.Tx that Store.InTx runs in
// instead of a transaction of its own.
type boundKey struct{}

// Bind returns ctx carrying tx, a transaction the caller owns (the
// consumer's): the use cases run in it (Store.InTx) and its owner commits.
// sent, when not nil, is what SendAhead did in tx for the event being
// handled.
func Bind(ctx context.Context, tx *gorm.DB, sent *Outcome) context.Context {
	return context.WithValue(ctx, boundKey{}, order.Tx(&Tx{db: tx, sent: sent}))
}

// Usual is the statement that applies one saga event in the usual case, as
// its use case asks for it first: a timeline entry, or a blind move.
type Usual struct {
	eventID string
	record  *order.HistoryEntry
	advance *order.BlindMove
}

// PlanUsual runs use (a use case: order.Service.ApplySaga of one event)
// against a Tx that sends nothing and stops the use case at its first
// statement, and returns that statement when a batch may send it ahead (a
// timeline entry or a blind move, decided without reading the order). The
// rules stay in one place: the batch sends what the use case itself would.
func PlanUsual(ctx context.Context, use func(context.Context) error) (Usual, bool) {
	p := &planner{}
	_ = use(context.WithValue(ctx, boundKey{}, order.Tx(p))) // errPlanned, or the event's own error, which its handler meets again
	u := p.usual
	switch {
	case u.record != nil && u.record.Cause != nil:
		u.eventID = u.record.Cause.ID
	case u.advance != nil && u.advance.Entry.Cause != nil:
		u.eventID = u.advance.Entry.Cause.ID
	default:
		return Usual{}, false
	}
	return u, true
}

// Outcome is what SendAhead's statement for one event did: for a timeline
// entry, done is "the order was found"; for a blind move, "the order
// moved", and then createdAt is when it was created.
type Outcome struct {
	eventID   string
	advance   bool
	done      bool
	createdAt time.Time
}

// answers reports whether o is the outcome of the statement of entry's
// event (a blind move when advance, else a timeline entry), which the Tx
// then need not send.
func (o *Outcome) answers(entry order.HistoryEntry, advance bool) bool {
	return o != nil && entry.Cause != nil && entry.Cause.ID == o.eventID && o.advance == advance
}

// SendAhead runs the usual statements of a consumer batch's saga events in
// tx, in order, as one pipeline (consumer.Batch's Apply): out[i] is what
// plans[i] did, for Bind. applied is false, and nothing ran, when tx cannot
// pipeline (it is not a database.TxStartingWith transaction). The batch
// sends only the events of orders that have no other event in it, so that
// one order's events still apply one after the other.
//
// The pipeline first locks the orders in lock (as LockOrder does), in ID
// order: the caller names every order that the batch may lock, so that
// the batch takes all its order locks at once and in the one order every
// batch takes them. Otherwise the pipeline's moves would lock their orders
// before the rest of the batch locked its own (events that go the locking
// way, moves that did not apply), and two batches whose events share
// orders could each wait for the other until PostgreSQL's deadlock check
// (deadlock_timeout, 1 s) failed one of them: a second-long stall of every
// event behind them.
func (s *Store) SendAhead(ctx context.Context, tx *gorm.DB, lock []string, plans []Usual) (out []Outcome, applied bool, err error) {
	p := database.NewPipeline(tx)
	if len(lock) > 0 {
		p.Queue(lockOrdersSQL, database.ParseUUIDs(lock)) // Send reads its rows and drops them
	}
	out = make([]Outcome, len(plans))
	for i, plan := range plans {
		out[i].eventID = plan.eventID
		switch {
		case plan.record != nil:
			args, err := recordEventArgs(*plan.record)
			if err != nil {
				return nil, false, err
			}
			p.Queue(recordEventSQL, args...).QueryRow(func(row pgx.Row) error {
				var n int64
				err := row.Scan(&n)
				out[i].done = n == 1
				return err
			})
		case plan.advance != nil:
			args, err := advanceArgs(*plan.advance)
			if err != nil {
				return nil, false, err
			}
			out[i].advance = true
			p.Queue(advanceSQL, args...).Query(func(rows pgx.Rows) error {
				for rows.Next() {
					if err := rows.Scan(&out[i].createdAt); err != nil {
						return err
					}
					out[i].done = true
				}
				return rows.Err()
			})
		}
	}
	switch ok, err := p.Send(ctx); {
	case err != nil:
		return nil, true, fmt.Errorf("apply %d saga events: %w", p.Len(), err)
	case !ok:
		return nil, false, nil
	}
	return out, true, nil
}

// errPlanned stops a use case that PlanUsual runs at its first statement.
var errPlanned = errors.New("planned, not sent")

// planner is the order.Tx of PlanUsual: it keeps the first statement it is
// asked for, sends none, and fails every call so that the use case stops.
type planner struct {
	usual Usual
}

func (p *planner) RecordEvent(_ context.Context, e order.HistoryEntry) (bool, error) {
	p.usual.record = &e
	return false, errPlanned
}

func (p *planner) Advance(_ context.Context, m order.BlindMove) (time.Time, bool, error) {
	p.usual.advance = &m
	return time.Time{}, false, errPlanned
}

func (*planner) LockProduct(context.Context, string) (order.Product, bool, error) {
	return order.Product{}, false, errPlanned
}
func (*planner) SaveProduct(context.Context, order.Product) error { return errPlanned }
func (*planner) LockOrder(context.Context, string) (order.Order, error) {
	return order.Order{}, errPlanned
}
func (*planner) LockOrderForEvent(context.Context, string, string) (order.Order, bool, error) {
	return order.Order{}, false, errPlanned
}
func (*planner) LockCreatedBefore(context.Context, time.Time, int) ([]order.Order, error) {
	return nil, errPlanned
}
func (*planner) Items(context.Context, string) ([]order.Item, error) { return nil, errPlanned }
func (*planner) Move(context.Context, order.Order, order.Status, order.HistoryEntry, order.Event) (*order.EventRef, error) {
	return nil, errPlanned
}
func (*planner) AddHistory(context.Context, order.HistoryEntry) error { return errPlanned }
