package history

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
)

// ledger turns the planned stock changes into the stock ledger: an opening
// receipt per product at the start of the span, sized so that the ledger
// ends at the product's demo stock and reserved never exceeds on hand on
// the way; then every reservation, sale, release and restock in time
// order. Out-of-stock orders are decided here, against the stock of their
// moment: the order asks for more than was available then.
func (p *planner) ledger() ([]DemoMovement, []DemoStock, error) {
	slices.SortStableFunc(p.changes, func(a, b stockChange) int { return a.at.Compare(b.at) })
	type figures struct{ onHand, reserved int64 }
	delta := func(kind string, q int64) (onHand, reserved int64) {
		switch kind {
		case "RESERVED":
			return 0, q
		case "SOLD":
			return -q, -q
		case "RELEASED":
			return 0, -q
		case "RESTOCKED":
			return q, 0
		}
		return 0, 0
	}
	// Pass 1: the figures from an opening of 0, and the least headroom.
	run := map[uuid.UUID]*figures{}
	least := map[uuid.UUID]int64{}
	for _, c := range p.changes {
		for _, l := range c.lines {
			f := run[l.Product.ID]
			if f == nil {
				f = &figures{}
				run[l.Product.ID] = f
			}
			dh, dr := delta(c.kind, l.Quantity)
			f.onHand += dh
			f.reserved += dr
			least[l.Product.ID] = min(least[l.Product.ID], f.onHand-f.reserved)
		}
	}
	opening := map[uuid.UUID]int64{}
	for _, pr := range p.o.Products {
		end := int64(0)
		if f := run[pr.ID]; f != nil {
			end = f.onHand
		}
		opening[pr.ID] = max(pr.Stock-end, -least[pr.ID])
	}

	// Pass 2: the ledger.
	orders := map[uuid.UUID]*DemoOrder{}
	for i := range p.orders {
		orders[p.orders[i].ID] = &p.orders[i]
	}
	stock := map[uuid.UUID]*DemoStock{}
	var moves []DemoMovement
	openAt := p.now.Add(-Span)
	for _, pr := range p.o.Products {
		stock[pr.ID] = &DemoStock{Product: pr, UpdatedAt: openAt}
		if q := opening[pr.ID]; q > 0 {
			stock[pr.ID].OnHand = q
			moves = append(moves, DemoMovement{At: openAt, Product: pr.ID, Kind: "RECEIVED", OnHandDelta: q,
				OnHandAfter: q, Reason: "opening stock", Actor: pr.SellerID})
		}
	}
	for _, c := range p.changes {
		if c.outOfStock {
			p.outOfStock(orders[c.orderID], stock)
			continue
		}
		for _, l := range c.lines {
			s := stock[l.Product.ID]
			dh, dr := delta(c.kind, l.Quantity)
			s.OnHand += dh
			s.Reserved += dr
			s.UpdatedAt = c.at
			if s.Reserved < 0 || s.Reserved > s.OnHand {
				return nil, nil, fmt.Errorf("demo history: %s would have %d on hand and %d reserved after %s of order %s",
					l.Product.SKU, s.OnHand, s.Reserved, c.kind, c.orderID)
			}
			moves = append(moves, DemoMovement{At: c.at, Product: l.Product.ID, Kind: c.kind, OnHandDelta: dh, ReservedDelta: dr,
				OnHandAfter: s.OnHand, ReservedAfter: s.Reserved, Order: c.orderID, Reservation: c.reservation, Reason: c.reason})
		}
	}
	out := make([]DemoStock, 0, len(p.o.Products))
	for _, pr := range p.o.Products {
		out = append(out, *stock[pr.ID])
	}
	return moves, out, nil
}

// outOfStock gives a rejected order its line: the product with the least
// available then, asked for a few more than that.
func (p *planner) outOfStock(o *DemoOrder, stock map[uuid.UUID]*DemoStock) {
	candidates := slices.Clone(p.o.Products)
	slices.SortStableFunc(candidates, func(a, b DemoProduct) int {
		sa, sb := stock[a.ID], stock[b.ID]
		return cmp.Compare(sa.OnHand-sa.Reserved, sb.OnHand-sb.Reserved)
	})
	pr := candidates[p.rng.IntN(min(3, len(candidates)))]
	available := stock[pr.ID].OnHand - stock[pr.ID].Reserved
	q := available + 1 + int64(p.rng.IntN(3))
	o.Lines = []DemoLine{{Product: pr, Quantity: q}}
	o.Total, o.Currency = pr.PriceMinor*q, pr.Currency
	for i := range o.Steps {
		if o.Steps[i].Reason == "OUT_OF_STOCK" {
			o.Steps[i].Detail["short:"+pr.ID.String()] = fmt.Sprintf("%d requested, %d available", q, available)
		}
	}
}

// demoTime is the time a row records: microseconds, as PostgreSQL keeps it.
func demoTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }
