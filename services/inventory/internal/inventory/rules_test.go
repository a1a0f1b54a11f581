package inventory

import (
	"errors"
	"testing"

	"github.com/google/uuid"

	"github.com/shop-oss/shop/pkg/problem"
)

func TestValidateNamesEveryBadField(t *testing.T) {
	p := uuid.New()
	err := ReserveRequest{Lines: []Line{{ProductID: p, Quantity: 0}, {ProductID: p, Quantity: MaxQuantity + 1}, {Quantity: 1}}}.Validate()
	var ve *problem.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v", err)
	}
	want := map[string]bool{"order_id": true, "lines[0].quantity": true, "lines[1].product_id": true, "lines[1].quantity": true, "lines[2].product_id": true}
	for _, f := range ve.Fields {
		delete(want, f.Field)
	}
	if len(want) > 0 {
		t.Errorf("missing field errors %v in %v", want, ve.Fields)
	}
	if err := (ReserveRequest{OrderID: uuid.New(), Lines: []Line{{ProductID: p, Quantity: 1}}}).Validate(); err != nil {
		t.Errorf("valid request: %v", err)
	}
}

func TestCheckAvailability(t *testing.T) {
	a, b, c := uuid.New(), uuid.New(), uuid.New()
	stock := map[uuid.UUID]Stock{
		a: {ProductID: a, Status: ProductActive, OnHand: 10, Reserved: 7},
		b: {ProductID: b, Status: ProductArchived, OnHand: 10},
	}
	order := uuid.New()
	if rej := checkAvailability(order, []Line{{a, 3}}, stock); rej != nil {
		t.Errorf("3 of 3 available: %v", rej)
	}
	rej := checkAvailability(order, []Line{{a, 4}}, stock)
	if rej == nil || rej.Reason != ReasonOutOfStock || rej.Lines[0].Available != 3 || !errors.Is(rej, ErrInsufficientStock) {
		t.Errorf("4 of 3: %+v", rej)
	}
	rej = checkAvailability(order, []Line{{a, 4}, {b, 1}, {c, 1}}, stock)
	if rej == nil || rej.Reason != ReasonUnavailable || len(rej.Lines) != 3 || !errors.Is(rej, ErrProductUnavailable) || errors.Is(rej, ErrInsufficientStock) {
		t.Errorf("archived and unknown: %+v", rej)
	}
}

func TestLedgerMovementsAndInvariant(t *testing.T) {
	p := uuid.New()
	l := newLedger(map[uuid.UUID]Stock{p: {ProductID: p, Status: ProductActive, OnHand: 10, Reserved: 2}})
	steps := []struct {
		kind             MovementKind
		q                int64
		onHand, reserved int64
	}{
		{MoveReserved, 5, 10, 7},
		{MoveSold, 3, 7, 4},
		{MoveReleased, 4, 7, 0},
		{MoveRestocked, 3, 10, 0},
		{MoveAdjusted, -4, 6, 0},
		{MoveReceived, 4, 10, 0},
	}
	for _, s := range steps {
		if err := l.move(s.kind, p, s.q, ref{}); err != nil {
			t.Fatalf("%s %d: %v", s.kind, s.q, err)
		}
		if got := l.stock[p]; got.OnHand != s.onHand || got.Reserved != s.reserved {
			t.Fatalf("%s %d: %d/%d, want %d/%d", s.kind, s.q, got.OnHand, got.Reserved, s.onHand, s.reserved)
		}
	}
	var onHand, reserved int64 = 10, 2
	for _, m := range l.moves {
		onHand += m.OnHandDelta
		reserved += m.ReservedDelta
		if m.OnHandAfter != onHand || m.ReservedAfter != reserved {
			t.Errorf("movement %+v: after figures do not follow the deltas", m)
		}
	}
	if err := l.move(MoveReserved, p, 11, ref{}); !errors.Is(err, errInvariant) {
		t.Errorf("over-reserving: %v", err)
	}
	if err := l.move(MoveReserved, p, 6, ref{}); err != nil {
		t.Fatal(err)
	}
	if err := l.move(MoveAdjusted, p, -5, ref{}); !errors.Is(err, ErrBelowReserved) {
		t.Errorf("adjusting below reserved: %v", err)
	}
	if err := l.move(MoveReleased, uuid.New(), 1, ref{}); !errors.Is(err, errInvariant) {
		t.Errorf("unlocked product: %v", err)
	}
}

func TestStockLowSignalsOnlyWhenCrossing(t *testing.T) {
	p := uuid.New()
	l := newLedger(map[uuid.UUID]Stock{p: {ProductID: p, OnHand: 10}})
	_ = l.move(MoveReserved, p, 4, ref{}) // 6 available: not low
	if ev := l.lowStock(5); len(ev) != 0 {
		t.Errorf("6 > 5: %v", ev)
	}
	_ = l.move(MoveReserved, p, 1, ref{}) // 5: low
	ev := l.lowStock(5)
	if len(ev) != 1 || ev[0].(StockLow).Available != 5 || ev[0].(StockLow).Threshold != 5 {
		t.Fatalf("crossing to 5: %v", ev)
	}
	low := newLedger(map[uuid.UUID]Stock{p: {ProductID: p, OnHand: 3}})
	_ = low.move(MoveReserved, p, 1, ref{})
	if ev := low.lowStock(5); len(ev) != 0 {
		t.Errorf("already low: %v", ev)
	}
	own := int64(1)
	custom := newLedger(map[uuid.UUID]Stock{p: {ProductID: p, OnHand: 3, LowStockThreshold: &own}})
	_ = custom.move(MoveReserved, p, 2, ref{})
	if ev := custom.lowStock(5); len(ev) != 1 || ev[0].(StockLow).Threshold != 1 {
		t.Errorf("own threshold 1: %v", ev)
	}
}

func TestSortLinesOrdersByProductID(t *testing.T) {
	a := uuid.MustParse("00000000-0000-0000-0000-000000000001")
	b := uuid.MustParse("00000000-0000-0000-0000-000000000002")
	c := uuid.MustParse("f0000000-0000-0000-0000-000000000000")
	got := sortLines([]Line{{c, 1}, {a, 2}, {b, 3}})
	if got[0].ProductID != a || got[1].ProductID != b || got[2].ProductID != c {
		t.Errorf("%v", got)
	}
}
