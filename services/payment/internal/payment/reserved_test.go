package payment

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"
)

// reservingTx is a Tx whose SaveReservations records each reservation as
// the order rows given, asks pay about each, and creates what pay announces
// unless the order had a payment already.
type reservingTx struct {
	Tx
	rows    map[string]Order
	paid    map[string]bool
	created []PaymentInitiated
	calls   int
}

func (t *reservingTx) SaveReservations(_ context.Context, ins []Reserved, pay func(Order) *PaymentInitiated) ([]bool, error) {
	t.calls++
	out := make([]bool, len(ins))
	for i, in := range ins {
		o := t.rows[in.OrderID]
		o.ID, o.ReservationID = in.OrderID, in.ReservationID
		if e := pay(o); e != nil && !t.paid[o.ID] {
			t.created = append(t.created, *e)
			out[i] = true
		}
	}
	return out, nil
}

type countingObserver struct{ outcomes []string }

func (c *countingObserver) Outcome(outcome, _ string) { c.outcomes = append(c.outcomes, outcome) }

// OnInventoryReserved creates a payment, announced by PAYMENT_INITIATED, for
// each reserved order that is known and open, of the order's total, and
// counts each creation; a closed or unknown order, or one paid already,
// gets none. An event with an owner but no positive total is refused before
// anything is written.
func TestOnInventoryReservedPaysReadyOrders(t *testing.T) {
	obs := &countingObserver{}
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	s, err := New(Options{Store: nilStore{}, Gateway: nilGateway{}, Observer: obs, Now: func() time.Time { return now }, NewID: func() string { return "pay-1" }})
	if err != nil {
		t.Fatal(err)
	}
	total := Money{AmountMinor: 1500, Currency: "EUR"}
	tx := &reservingTx{
		rows: map[string]Order{
			"ready":     {UserID: "u", Total: total},
			"cancelled": {UserID: "u", Total: total, Cancelled: true},
			"paid":      {UserID: "u", Total: total},
			"unknown":   {},
		},
		paid: map[string]bool{"paid": true},
	}
	var ins []Reserved
	for _, id := range []string{"ready", "cancelled", "paid", "unknown"} {
		ins = append(ins, Reserved{OrderID: id, ReservationID: "r-" + id})
	}
	created, err := s.OnInventoryReserved(context.Background(), tx, ins...)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(created, []bool{true, false, false, false}) {
		t.Errorf("created %v; want only the ready order's", created)
	}
	want := Payment{ID: "pay-1", OrderID: "ready", UserID: "u", ReservationID: "r-ready", Amount: total,
		Status: StatusPending, Version: 1, CreatedAt: now, UpdatedAt: now}
	if len(tx.created) != 1 || !reflect.DeepEqual(tx.created[0].Payment, want) {
		t.Errorf("announced %+v; want one PAYMENT_INITIATED of %+v", tx.created, want)
	}
	if !slices.Equal(obs.outcomes, []string{"initiated"}) {
		t.Errorf("outcomes %v; want one initiated", obs.outcomes)
	}

	bad := &reservingTx{}
	_, err = s.OnInventoryReserved(context.Background(), bad, Reserved{OrderID: "o", UserID: "u"})
	if !errors.Is(err, ErrInvalidEvent) || bad.calls != 0 {
		t.Errorf("owner without a total: %v, %d writes; want ErrInvalidEvent and none", err, bad.calls)
	}
}

type nilStore struct{ Store }

type nilGateway struct{ Gateway }
