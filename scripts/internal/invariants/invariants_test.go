package invariants

import (
	"testing"
	"time"
)

var now = time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)

// healthy is a quiet shop after a few sagas: product A received 10 units,
// sold 3 (order o1 paid 2, o2 paid then cancelled and restocked, o3 paid
// 1), 1 is reserved by the open order o4; product B received 5 and sold
// none (o5 ran out of time). One poison message sits in order's DLQ.
func healthy() (Snapshot, Expect) {
	s := Snapshot{
		Now: now,
		Stock: []Stock{
			{ProductID: "A", OnHand: 7, Reserved: 1, Received: 10, LedgerOnHand: 7, LedgerReserved: 1},
			{ProductID: "B", OnHand: 5, Reserved: 0, Received: 5, LedgerOnHand: 5, LedgerReserved: 0},
		},
		ActiveReserved: map[string]int64{"A": 1},
		Reservations:   map[string]string{"o1": "CONFIRMED", "o2": "RELEASED", "o3": "CONFIRMED", "o4": "ACTIVE", "o5": "EXPIRED"},
		Orders: []Order{
			{ID: "o1", Status: "PAID", CreatedAt: now.Add(-time.Hour), Lines: map[string]int64{"A": 2}},
			{ID: "o2", Status: "CANCELLED", CancelReason: "CUSTOMER", CreatedAt: now.Add(-time.Hour), Lines: map[string]int64{"A": 4}},
			{ID: "o3", Status: "SHIPPED", CreatedAt: now.Add(-time.Hour), Lines: map[string]int64{"A": 1}},
			{ID: "o4", Status: "PAYMENT_PENDING", CreatedAt: now.Add(-time.Second), Lines: map[string]int64{"A": 1}},
			{ID: "o5", Status: "CANCELLED", CancelReason: "RESERVATION_EXPIRED", CreatedAt: now.Add(-time.Hour), Lines: map[string]int64{"B": 1}},
		},
		Payments: []Payment{
			{OrderID: "o1", Status: "SUCCEEDED", AmountMinor: 100, CapturedAt: true},
			{OrderID: "o2", Status: "REFUNDED", AmountMinor: 400, Refunded: 400, Refunds: 1, AutoRefunds: 1, CapturedAt: true},
			{OrderID: "o3", Status: "SUCCEEDED", AmountMinor: 50, CapturedAt: true},
			{OrderID: "o4", Status: "PENDING", AmountMinor: 50},
			{OrderID: "o5", Status: "VOIDED", AmountMinor: 70},
		},
		Outbox: map[string]int{"inventory": 0, "order": 0, "payment": 0},
		DLQ:    []DeadLetter{{Service: "order", Key: "poison-1", OriginalTopic: "payment.events", Cause: "malformed"}},
	}
	return s, Expect{PoisonKeys: []string{"poison-1"}, MaxOpen: time.Minute}
}

func TestHealthyStateHasNoViolation(t *testing.T) {
	s, want := healthy()
	if vs := Check(s, want); len(vs) != 0 {
		t.Fatalf("violations in a healthy state: %v", vs)
	}
}

// Each broken state must be reported by its own check: the zero of a run is
// only meaningful because these fail.
func TestBrokenStatesAreReported(t *testing.T) {
	cases := map[string]struct {
		check string
		brk   func(*Snapshot, *Expect)
	}{
		"oversold: more paid than left on hand": {CheckStock, func(s *Snapshot, _ *Expect) {
			s.Orders[1].Status = "PAID" // o2 paid as well: 7 + 6 sold ≠ 10 received
		}},
		"negative stock": {CheckStock, func(s *Snapshot, _ *Expect) {
			s.Stock[1].OnHand, s.Stock[1].Received, s.Stock[1].LedgerOnHand = -1, -1, -1
		}},
		"reserved beyond on hand": {CheckStock, func(s *Snapshot, _ *Expect) {
			s.Stock[1].Reserved, s.Stock[1].LedgerReserved, s.ActiveReserved["B"] = 6, 6, 6
		}},
		"lost unit": {CheckStock, func(s *Snapshot, _ *Expect) {
			s.Stock[0].OnHand, s.Stock[0].LedgerOnHand = 6, 6
		}},
		"reserved without a reservation": {CheckReserved, func(s *Snapshot, _ *Expect) {
			delete(s.ActiveReserved, "A")
		}},
		"ledger off": {CheckLedger, func(s *Snapshot, _ *Expect) {
			s.Stock[0].LedgerReserved = 0
		}},
		"paid without capture": {CheckPaidCapture, func(s *Snapshot, _ *Expect) {
			s.Payments[0].Status = "PENDING"
		}},
		"paid twice": {CheckPaidCapture, func(s *Snapshot, _ *Expect) {
			s.Payments = append(s.Payments, Payment{OrderID: "o1", Status: "SUCCEEDED", AmountMinor: 100, CapturedAt: true})
		}},
		"paid with its reservation released": {CheckPaidReserve, func(s *Snapshot, _ *Expect) {
			s.Reservations["o3"] = "RELEASED"
		}},
		"capture of an unpaid order": {CheckCapture, func(s *Snapshot, _ *Expect) {
			s.Payments[4].Status, s.Payments[4].CapturedAt = "SUCCEEDED", true
		}},
		"capture of an unknown order": {CheckCapture, func(s *Snapshot, _ *Expect) {
			s.Payments = append(s.Payments, Payment{OrderID: "ghost", Status: "SUCCEEDED", AmountMinor: 10, CapturedAt: true})
		}},
		"cancelled paid order refunded twice": {CheckRefund, func(s *Snapshot, _ *Expect) {
			s.Payments[1].AutoRefunds, s.Payments[1].Refunds = 2, 2
		}},
		"cancelled paid order not refunded": {CheckRefund, func(s *Snapshot, _ *Expect) {
			s.Payments[1].Status, s.Payments[1].Refunded, s.Payments[1].Refunds, s.Payments[1].AutoRefunds = "SUCCEEDED", 0, 0, 0
		}},
		"order stranded": {CheckOpen, func(s *Snapshot, _ *Expect) {
			s.Orders[3].CreatedAt = now.Add(-2 * time.Minute)
		}},
		"outbox not drained": {CheckOutbox, func(s *Snapshot, _ *Expect) {
			s.Outbox["payment"] = 3
		}},
		"unexpected dead letter": {CheckDLQ, func(s *Snapshot, _ *Expect) {
			s.DLQ = append(s.DLQ, DeadLetter{Service: "inventory", Key: "o1", OriginalTopic: "order.events", Cause: "handler"})
		}},
		"poison lost": {CheckDLQ, func(_ *Snapshot, e *Expect) {
			e.PoisonKeys = append(e.PoisonKeys, "poison-2")
		}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			s, want := healthy()
			c.brk(&s, &want)
			vs := Check(s, want)
			found := false
			for _, v := range vs {
				found = found || v.Check == c.check
			}
			if !found {
				t.Fatalf("want a %q violation, got %v", c.check, vs)
			}
			if Summary(vs) == "0" {
				t.Fatalf("summary of %v is 0", vs)
			}
		})
	}
}
