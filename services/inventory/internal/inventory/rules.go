package inventory

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/shop-oss/shop/pkg/problem"
)

// ReserveRequest asks to reserve all lines of an order.
type ReserveRequest struct {
	OrderID uuid.UUID
	Lines   []Line
	// Payable is passed through to INVENTORY_RESERVED; nil when unknown.
	Payable *Payable
}

// Validate checks a reservation request: an order ID, 1..MaxLines lines,
// each with a product ID and a quantity of 1..MaxQuantity, one line per
// product. It returns a *problem.ValidationError naming every bad field.
func (r ReserveRequest) Validate() error {
	var fields []problem.FieldError
	if r.OrderID == uuid.Nil {
		fields = append(fields, problem.Field("order_id", "is required"))
	}
	switch {
	case len(r.Lines) == 0:
		fields = append(fields, problem.Field("lines", "must have at least 1 line"))
	case len(r.Lines) > MaxLines:
		fields = append(fields, problem.Field("lines", "must have at most %d lines", MaxLines))
	}
	seen := make(map[uuid.UUID]int, len(r.Lines))
	for i, l := range r.Lines {
		if l.ProductID == uuid.Nil {
			fields = append(fields, problem.Field(fmt.Sprintf("lines[%d].product_id", i), "is required"))
		} else if j, dup := seen[l.ProductID]; dup {
			fields = append(fields, problem.Field(fmt.Sprintf("lines[%d].product_id", i),
				"repeats lines[%d]: one line per product (add the quantities up)", j))
		} else {
			seen[l.ProductID] = i
		}
		if l.Quantity < 1 || l.Quantity > MaxQuantity {
			fields = append(fields, problem.Field(fmt.Sprintf("lines[%d].quantity", i), "must be 1..%d, got %d", MaxQuantity, l.Quantity))
		}
	}
	if len(fields) > 0 {
		return problem.Validation(fields...)
	}
	return nil
}

// sortLines returns a copy of lines in product-ID order: the order in which
// stock rows are locked, and the order lines are stored and published in.
func sortLines(lines []Line) []Line {
	out := slices.Clone(lines)
	slices.SortFunc(out, func(a, b Line) int { return bytes.Compare(a.ProductID[:], b.ProductID[:]) })
	return out
}

func productIDs(lines []Line) []uuid.UUID {
	ids := make([]uuid.UUID, len(lines))
	for i, l := range lines {
		ids[i] = l.ProductID
	}
	return ids
}

// checkAvailability decides whether every line can be reserved from the
// given (locked) stock; it returns nil when all can, else the rejection,
// naming every short line. Unknown, draft and archived products are
// unavailable; that reason wins over mere shortage.
func checkAvailability(orderID uuid.UUID, lines []Line, stock map[uuid.UUID]Stock) *Rejection {
	var short []ShortLine
	unavailable := false
	for _, l := range lines {
		s, ok := stock[l.ProductID]
		switch {
		case !ok || s.Status != ProductActive:
			unavailable = true
			short = append(short, ShortLine{ProductID: l.ProductID, Requested: l.Quantity, Unavailable: true})
		case s.Available() < l.Quantity:
			short = append(short, ShortLine{ProductID: l.ProductID, Requested: l.Quantity, Available: max(s.Available(), 0)})
		}
	}
	if len(short) == 0 {
		return nil
	}
	reason := ReasonOutOfStock
	if unavailable {
		reason = ReasonUnavailable
	}
	return &Rejection{OrderID: orderID, Reason: reason, Lines: short}
}

// ledger applies movements to locked stock rows in memory, one after the
// other, and checks 0 <= reserved <= on_hand <= MaxOnHand after each: the
// store then writes the movements and the final figures.
type ledger struct {
	stock  map[uuid.UUID]Stock
	before map[uuid.UUID]Stock
	moves  []Movement
}

func newLedger(stock map[uuid.UUID]Stock) *ledger {
	l := &ledger{stock: make(map[uuid.UUID]Stock, len(stock)), before: stock}
	for id, s := range stock {
		l.stock[id] = s
	}
	return l
}

// ref says what a movement belongs to.
type ref struct {
	ReservationID, OrderID uuid.UUID
	Reason                 string
	ActorID                uuid.UUID
}

// move applies one movement of q units (q may be negative only for
// ADJUSTED). It returns ErrBelowReserved when on_hand would drop below
// reserved (or below zero, or above MaxOnHand), and errInvariant for any
// other breach.
func (l *ledger) move(kind MovementKind, productID uuid.UUID, q int64, r ref) error {
	s, ok := l.stock[productID]
	if !ok {
		return fmt.Errorf("%w: product %s is not locked", errInvariant, productID)
	}
	var dOnHand, dReserved int64
	switch kind {
	case MoveReceived, MoveAdjusted, MoveRestocked:
		dOnHand = q
	case MoveReserved:
		dReserved = q
	case MoveReleased:
		dReserved = -q
	case MoveSold:
		dOnHand, dReserved = -q, -q
	default:
		return fmt.Errorf("%w: unknown movement kind %q", errInvariant, kind)
	}
	onHand, reserved := s.OnHand+dOnHand, s.Reserved+dReserved
	switch {
	case (kind == MoveAdjusted || kind == MoveReceived) && (onHand < reserved || onHand > MaxOnHand):
		return fmt.Errorf("%w: product %s has %d on hand and %d reserved; a change of %+d would leave %d on hand (allowed: %d..%d)",
			ErrBelowReserved, productID, s.OnHand, s.Reserved, q, onHand, s.Reserved, MaxOnHand)
	case reserved < 0 || reserved > onHand || onHand > MaxOnHand:
		return fmt.Errorf("%w: %s of %d on product %s (on hand %d, reserved %d)", errInvariant, kind, q, productID, s.OnHand, s.Reserved)
	}
	s.OnHand, s.Reserved = onHand, reserved
	l.stock[productID] = s
	l.moves = append(l.moves, Movement{
		ProductID: productID, Kind: kind, OnHandDelta: dOnHand, ReservedDelta: dReserved,
		OnHandAfter: onHand, ReservedAfter: reserved,
		ReservationID: r.ReservationID, OrderID: r.OrderID, Reason: r.Reason, ActorID: r.ActorID,
	})
	return nil
}

// changed returns the final rows of the products that moved, in product-ID
// order.
func (l *ledger) changed() []Stock {
	var out []Stock
	seen := map[uuid.UUID]bool{}
	for _, m := range l.moves {
		if !seen[m.ProductID] {
			seen[m.ProductID] = true
			out = append(out, l.stock[m.ProductID])
		}
	}
	slices.SortFunc(out, func(a, b Stock) int { return bytes.Compare(a.ProductID[:], b.ProductID[:]) })
	return out
}

// lowStock returns a StockLow event for each product whose available stock
// fell to or below its threshold with these movements (crossing it, so a
// product already low does not signal again on every sale).
func (l *ledger) lowStock(def int64) []Event {
	var out []Event
	for _, s := range l.changed() {
		b := l.before[s.ProductID]
		if !b.Low(def) && s.Low(def) {
			out = append(out, StockLow{ProductID: s.ProductID, Available: s.Available(), Threshold: s.Threshold(def)})
		}
	}
	return out
}
