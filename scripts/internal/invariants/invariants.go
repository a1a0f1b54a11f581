// Package invariants checks what Shop promises across its databases once
// the system is quiet: no unit of stock created or lost, nothing oversold,
// every paid order captured once with its reservation confirmed, no capture
// without a paid order or a refund, every cancelled paid order refunded
// once, no order left open past the reservation time, every outbox drained
// and nothing in a dead-letter topic but what a test put there on purpose.
//
// Load reads a Snapshot from the services' databases and the broker; Check
// is a pure function of a Snapshot, so that its own tests can feed it a
// broken state and see each check fail (a zero is only worth something if
// the check can say otherwise).
package invariants

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Snapshot is the state the checks read.
type Snapshot struct {
	// Now is when it was read (the open-order check measures ages from it).
	Now time.Time
	// Stock is inventory's stock rows with their ledger sums.
	Stock []Stock
	// ActiveReserved is, per product, the units of ACTIVE reservations.
	ActiveReserved map[string]int64
	// Reservations is each order's reservation status (inventory).
	Reservations map[string]string
	// Orders is the order service's orders with their lines.
	Orders []Order
	// Payments is the payment service's payments with their refunds.
	Payments []Payment
	// Outbox is the rows still in each service's outbox.
	Outbox map[string]int
	// DLQ is every message of every service's dead-letter topic.
	DLQ []DeadLetter
}

// Stock is one product's stock row and its ledger (stock_movements).
type Stock struct {
	ProductID        string
	OnHand, Reserved int64
	// Received is what was put on hand from outside an order (movements
	// without an order: received, adjusted).
	Received int64
	// LedgerOnHand and LedgerReserved are the sums of every movement's
	// deltas: the ledger balances when they equal the row.
	LedgerOnHand, LedgerReserved int64
}

// Order is an order and the units of each product it holds.
type Order struct {
	ID, Status, CancelReason string
	CreatedAt                time.Time
	Lines                    map[string]int64
}

// Payment is an order's payment.
type Payment struct {
	OrderID, Status       string
	AmountMinor, Refunded int64
	Refunds, AutoRefunds  int // refund rows; those made by the saga (no admin)
	CapturedAt            bool
}

// DeadLetter is one message of a service's DLQ.
type DeadLetter struct {
	Service, Key, OriginalTopic, Cause string
}

// Expect is what the run did on purpose.
type Expect struct {
	// PoisonKeys are the keys of the poison messages injected; every DLQ
	// message must carry one of them, and each must be in some DLQ.
	PoisonKeys []string
	// MaxOpen is how long an order may stay CREATED or PAYMENT_PENDING (the
	// reservation time and the saga's timeout, with a margin).
	MaxOpen time.Duration
}

// Violation is one broken promise.
type Violation struct {
	Check, Detail string
}

func (v Violation) String() string { return v.Check + ": " + v.Detail }

// The checks, by name.
const (
	CheckStock       = "stock conservation"
	CheckReserved    = "reserved = active reservations"
	CheckLedger      = "ledger balanced"
	CheckPaidCapture = "paid order captured once"
	CheckPaidReserve = "paid order's reservation confirmed"
	CheckCapture     = "capture without paid order or refund"
	CheckRefund      = "cancelled paid order refunded once"
	CheckOpen        = "order open past the reservation time"
	CheckOutbox      = "outbox drained"
	CheckDLQ         = "DLQ holds exactly the poison"
)

// Checks lists every check's name, in report order.
var Checks = []string{CheckStock, CheckReserved, CheckLedger, CheckPaidCapture, CheckPaidReserve,
	CheckCapture, CheckRefund, CheckOpen, CheckOutbox, CheckDLQ}

// Paid says whether an order status is one of a paid order's.
func Paid(status string) bool {
	return status == "PAID" || status == "SHIPPED" || status == "DELIVERED"
}

func captured(status string) bool {
	return status == "SUCCEEDED" || status == "PARTIALLY_REFUNDED" || status == "REFUNDED"
}

// Check returns every violation in s, sorted by check.
func Check(s Snapshot, want Expect) []Violation {
	var out []Violation
	add := func(check, format string, args ...any) {
		out = append(out, Violation{check, fmt.Sprintf(format, args...)})
	}
	sold := map[string]int64{}
	orders := map[string]Order{}
	for _, o := range s.Orders {
		orders[o.ID] = o
		if Paid(o.Status) {
			for p, n := range o.Lines {
				sold[p] += n
			}
		}
		if (o.Status == "CREATED" || o.Status == "PAYMENT_PENDING") && s.Now.Sub(o.CreatedAt) > want.MaxOpen {
			add(CheckOpen, "order %s is %s after %s", o.ID, o.Status, s.Now.Sub(o.CreatedAt).Round(time.Second))
		}
	}
	for _, st := range s.Stock {
		if st.OnHand < 0 || st.Reserved < 0 || st.Reserved > st.OnHand {
			add(CheckStock, "product %s: on hand %d, reserved %d", st.ProductID, st.OnHand, st.Reserved)
		}
		if st.Received != st.OnHand+sold[st.ProductID] {
			add(CheckStock, "product %s: received %d ≠ on hand %d + sold %d", st.ProductID, st.Received, st.OnHand, sold[st.ProductID])
		}
		if st.Reserved != s.ActiveReserved[st.ProductID] {
			add(CheckReserved, "product %s: reserved %d, active reservations hold %d", st.ProductID, st.Reserved, s.ActiveReserved[st.ProductID])
		}
		if st.LedgerOnHand != st.OnHand || st.LedgerReserved != st.Reserved {
			add(CheckLedger, "product %s: row %d on hand / %d reserved, ledger sums %d / %d",
				st.ProductID, st.OnHand, st.Reserved, st.LedgerOnHand, st.LedgerReserved)
		}
	}
	captures := map[string]int{}
	payments := map[string]Payment{}
	for _, p := range s.Payments {
		if captured(p.Status) {
			captures[p.OrderID]++
		}
		payments[p.OrderID] = p
	}
	for _, o := range s.Orders {
		if Paid(o.Status) {
			if n := captures[o.ID]; n != 1 || payments[o.ID].Status == "REFUNDED" {
				add(CheckPaidCapture, "order %s is %s with %d captures (payment %s)", o.ID, o.Status, n, payments[o.ID].Status)
			}
			if r := s.Reservations[o.ID]; r != "CONFIRMED" {
				add(CheckPaidReserve, "order %s is %s, its reservation %q", o.ID, o.Status, r)
			}
		}
	}
	for _, p := range s.Payments {
		o, known := orders[p.OrderID]
		if !captured(p.Status) {
			continue
		}
		if !known || (!Paid(o.Status) && p.Status != "REFUNDED") {
			add(CheckCapture, "payment of order %s is %s, the order %s", p.OrderID, p.Status, orDash(o.Status))
		}
		if known && o.Status == "CANCELLED" && (p.Status != "REFUNDED" || p.Refunded != p.AmountMinor || p.AutoRefunds != 1) {
			add(CheckRefund, "order %s cancelled (%s): payment %s, refunded %d of %d in %d automatic refunds",
				o.ID, o.CancelReason, p.Status, p.Refunded, p.AmountMinor, p.AutoRefunds)
		}
	}
	services := make([]string, 0, len(s.Outbox))
	for svc := range s.Outbox {
		services = append(services, svc)
	}
	sort.Strings(services)
	for _, svc := range services {
		if n := s.Outbox[svc]; n > 0 {
			add(CheckOutbox, "%s: %d events not published", svc, n)
		}
	}
	poison := map[string]bool{}
	for _, k := range want.PoisonKeys {
		poison[k] = false
	}
	for _, d := range s.DLQ {
		if _, ok := poison[d.Key]; !ok {
			add(CheckDLQ, "%s.dlq holds %s (key %q, cause %s), which nobody injected", d.Service, d.OriginalTopic, d.Key, d.Cause)
			continue
		}
		poison[d.Key] = true
	}
	for _, k := range want.PoisonKeys {
		if !poison[k] {
			add(CheckDLQ, "poison message %q is in no DLQ", k)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return rank(out[i].Check) < rank(out[j].Check) })
	return out
}

func rank(check string) int {
	for i, c := range Checks {
		if c == check {
			return i
		}
	}
	return len(Checks)
}

func orDash(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// Summary is "0" or the violations per check, for a table cell.
func Summary(vs []Violation) string {
	if len(vs) == 0 {
		return "0"
	}
	n := map[string]int{}
	for _, v := range vs {
		n[v.Check]++
	}
	var parts []string
	for _, c := range Checks {
		if n[c] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n[c], c))
		}
	}
	return fmt.Sprintf("%d (%s)", len(vs), strings.Join(parts, ", "))
}
