package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/shop-oss/shop/proto-events/eventsv1"
	"github.com/shop-oss/shop/scripts/bench/internal/benchenv"
)

const plenty = 900_000_000 // on hand of the measured products: never runs out

// load is what the scenarios drive: the service through the bus and its
// API, over the seeded products.
type load struct {
	bus    *bus
	api    string
	hot    string
	spread []string
}

type scenario struct {
	name string
	op   benchenv.Op
	read bool // a read, which pgbench's write transactions do not compare to
}

func (l *load) scenarios(workers int) []scenario {
	spread := func(n int) func(*rand.Rand) []*eventsv1.OrderLine {
		return func(r *rand.Rand) []*eventsv1.OrderLine { return l.spreadLines(r, n) }
	}
	withHot := func(n int) func(*rand.Rand) []*eventsv1.OrderLine {
		return func(r *rand.Rand) []*eventsv1.OrderLine {
			return append(l.spreadLines(r, n-1), line(l.hot, 1))
		}
	}
	return []scenario{
		{"reserve: spread, 1 line", l.reserve(spread(1)), false},
		{"reserve: spread, 5 lines", l.reserve(spread(5)), false},
		{"reserve: hot product, 1 line", l.reserve(withHot(1)), false},
		{"reserve: hot product, 5 lines", l.reserve(withHot(5)), false},
		{"reserve and confirm, 1 line", l.reserveAndConfirm(spread(1)), false},
		{"GET /inventory/{id} (HTTP)", benchenv.Get(workers, func(r *rand.Rand) string {
			return l.api + "/api/v1/inventory/" + l.spread[r.IntN(len(l.spread))]
		}), true},
	}
}

func line(productID string, quantity int32) *eventsv1.OrderLine {
	return &eventsv1.OrderLine{ProductId: productID, Quantity: quantity, UnitPrice: &eventsv1.Money{AmountMinor: 1999, Currency: "EUR"}}
}

// spreadLines are n lines of distinct products picked at random.
func (l *load) spreadLines(r *rand.Rand, n int) []*eventsv1.OrderLine {
	lines := make([]*eventsv1.OrderLine, 0, n)
	for len(lines) < n {
		p := l.spread[r.IntN(len(l.spread))]
		if !slices.ContainsFunc(lines, func(x *eventsv1.OrderLine) bool { return x.ProductId == p }) {
			lines = append(lines, line(p, 1+int32(r.IntN(3))))
		}
	}
	return lines
}

// orderCreated is a new order of the lines, with its total, as order
// publishes it.
func orderCreated(lines []*eventsv1.OrderLine) *eventsv1.OrderCreated {
	var total int64
	for _, x := range lines {
		total += int64(x.Quantity) * x.UnitPrice.AmountMinor
	}
	return &eventsv1.OrderCreated{
		OrderId: uuid.Must(uuid.NewV7()).String(),
		UserId:  "0190f5a8-0000-7000-8000-000000000001",
		Lines:   lines,
		Total:   &eventsv1.Money{AmountMinor: total, Currency: "EUR"},
	}
}

// place publishes ORDER_CREATED and returns the answer's latency;
// INVENTORY_REJECTED is benchenv.ErrRejected.
func (l *load) place(ctx context.Context, o *eventsv1.OrderCreated) (time.Duration, error) {
	typ, took, err := l.bus.ask(ctx, o.OrderId, o)
	switch {
	case err != nil:
		return 0, err
	case typ == eventsv1.TypeInventoryRejected:
		return 0, benchenv.ErrRejected
	case typ != eventsv1.TypeInventoryReserved:
		return 0, fmt.Errorf("ORDER_CREATED answered with %s", typ)
	}
	return took, nil
}

func (l *load) reserve(lines func(*rand.Rand) []*eventsv1.OrderLine) benchenv.Op {
	return func(ctx context.Context, r *rand.Rand) (time.Duration, error) {
		return l.place(ctx, orderCreated(lines(r)))
	}
}

// reserveAndConfirm places an order, then pays it: the latency is the
// payment's, PAYMENT_SUCCESS published → INVENTORY_CONFIRMED read.
func (l *load) reserveAndConfirm(lines func(*rand.Rand) []*eventsv1.OrderLine) benchenv.Op {
	return func(ctx context.Context, r *rand.Rand) (time.Duration, error) {
		o := orderCreated(lines(r))
		if _, err := l.place(ctx, o); err != nil {
			return 0, err
		}
		typ, took, err := l.bus.ask(ctx, o.OrderId, &eventsv1.PaymentSucceeded{
			OrderId: o.OrderId, PaymentId: uuid.NewString(), Amount: o.Total})
		if err == nil && typ != eventsv1.TypeInventoryConfirmed {
			err = fmt.Errorf("PAYMENT_SUCCESS answered with %s", typ)
		}
		return took, err
	}
}

// warmUp places one order at a time until inventory answers: its consumer
// group and the bench's have joined.
func (l *load) warmUp(ctx context.Context) error {
	deadline := time.Now().Add(90 * time.Second)
	for {
		_, err := l.place(ctx, orderCreated([]*eventsv1.OrderLine{line(l.spread[0], 1)}))
		if err == nil || time.Now().After(deadline) || ctx.Err() != nil {
			return err
		}
	}
}

type sellOutResult struct {
	stock, attempts, reserved, rejected, available int64
	onHand, onHold                                 int64 // the database's figures after the run
	rate                                           float64
}

// ok: exactly the stock was reserved, and the API and the database agree.
func (s sellOutResult) ok() bool {
	return s.reserved == s.stock && s.available == 0 && s.onHand == s.stock && s.onHold == s.stock
}

// sellOut races workers for a product with stock units, one unit per
// order, until 1.5 times as many orders were placed.
func (l *load) sellOut(ctx context.Context, db *stockDB, workers int, stock int64) (sellOutResult, error) {
	ids, err := db.addProducts(ctx, "SELL-OUT-", 1, stock)
	if err != nil {
		return sellOutResult{}, err
	}
	id := ids[0]
	out := sellOutResult{stock: stock, attempts: stock * 3 / 2}
	var (
		next, reserved, rejected atomic.Int64
		firstErr                 error
		once                     sync.Once
		wg                       sync.WaitGroup
	)
	start := time.Now()
	for range workers {
		wg.Go(func() {
			for next.Add(1) <= out.attempts {
				_, err := l.place(ctx, orderCreated([]*eventsv1.OrderLine{line(id, 1)}))
				switch {
				case err == nil:
					reserved.Add(1)
				case err == benchenv.ErrRejected:
					rejected.Add(1)
				default:
					once.Do(func() { firstErr = err })
				}
			}
		})
	}
	wg.Wait()
	out.rate = float64(reserved.Load()) / time.Since(start).Seconds()
	out.reserved, out.rejected = reserved.Load(), rejected.Load()
	if firstErr != nil {
		return out, fmt.Errorf("sell-out: %w", firstErr)
	}
	if out.available, err = available(ctx, l.api, id); err != nil {
		return out, err
	}
	out.onHand, out.onHold, err = db.figures(ctx, id)
	return out, err
}
