package history_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/shop-oss/shop/scripts/internal/history"
)

var (
	demoAdmin     = uuid.MustParse("00000000-0000-7000-8000-000000000001")
	demoCustomers = []uuid.UUID{
		uuid.MustParse("00000000-0000-7000-8000-000000000003"),
		uuid.MustParse("00000000-0000-7000-8000-000000000011"),
		uuid.MustParse("00000000-0000-7000-8000-000000000012"),
	}
)

// demoOptions reads the repository's demo catalog, with the customers the
// identity database would give.
func demoOptions(t *testing.T, now time.Time) history.DemoOptions {
	t.Helper()
	path := filepath.Join("..", "..", "..", "deploy", "demo", "catalog.json")
	// The catalog part of LoadDemo, without an identity database.
	o, err := history.LoadDemoCatalog(path)
	if err != nil {
		t.Fatal(err)
	}
	o.Customers, o.Admin, o.Now = demoCustomers, demoAdmin, now
	return o
}

// The plan has every state the issue asks for, all in the last 30 days,
// and its stock ledger runs through every change to the catalog's stock.
func TestDemoPlanHasEveryStateAndAConsistentLedger(t *testing.T) {
	now := time.Now()
	o := demoOptions(t, now)
	plan, err := history.PlanDemo(o)
	if err != nil {
		t.Fatal(err)
	}
	statuses, reasons, fates := map[string]int{}, map[string]int{}, map[history.Fate]int{}
	refunded := 0
	for _, ord := range plan.Orders {
		statuses[ord.Status]++
		fates[ord.Fate]++
		if ord.CancelReason != "" {
			reasons[ord.CancelReason]++
		}
		if ord.Payment != nil && ord.Payment.RefundedMinor > 0 {
			refunded++
		}
		if ord.CreatedAt.Before(now.Add(-history.Span)) || ord.CreatedAt.After(now) {
			t.Errorf("order %d placed at %s, outside the last 30 days", ord.N, ord.CreatedAt)
		}
		for i, s := range ord.Steps {
			if s.At.After(now) || (i > 0 && s.At.Before(ord.Steps[i-1].At)) {
				t.Errorf("order %d step %d (%s) at %s: in the future or out of order", ord.N, i, s.Reason, s.At)
			}
		}
		checkOrder(t, ord)
	}
	for _, st := range []string{"PAID", "SHIPPED", "DELIVERED", "CANCELLED", "PAYMENT_PENDING", "CREATED"} {
		if statuses[st] == 0 {
			t.Errorf("no order %s: %v", st, statuses)
		}
	}
	for _, r := range []string{"CUSTOMER_REQUEST", "ADMIN", "OUT_OF_STOCK", "PAYMENT_FAILED", "RESERVATION_EXPIRED", "SAGA_TIMEOUT"} {
		if reasons[r] == 0 {
			t.Errorf("no order cancelled for %s: %v", r, reasons)
		}
	}
	if fates[history.FateCustomerRefund]+fates[history.FateAdminRefund] == 0 || fates[history.FatePartialRefund] == 0 || refunded == 0 {
		t.Errorf("no refunds: %v", fates)
	}
	if n := len(plan.Orders); n < 300 || n > 400 {
		t.Errorf("%d orders, want a few hundred", n)
	}

	// The ledger: per product, running figures that never break the
	// stock's rule, and end at the stock rows.
	type fig struct{ onHand, reserved int64 }
	run := map[uuid.UUID]*fig{}
	var last time.Time
	for _, m := range plan.Movements {
		f := run[m.Product]
		if f == nil {
			f = &fig{}
			run[m.Product] = f
		}
		f.onHand += m.OnHandDelta
		f.reserved += m.ReservedDelta
		if f.onHand != m.OnHandAfter || f.reserved != m.ReservedAfter || f.reserved < 0 || f.reserved > f.onHand {
			t.Fatalf("movement %+v: running figures %+v", m, *f)
		}
		if m.At.Before(last) {
			t.Fatalf("movement %+v before the one written before it", m)
		}
		last = m.At
	}
	// Each movement is what its kind does to the figures (a sale takes
	// the units out of on hand and reserved, a restock puts them back on
	// hand), and each order's movements net out to where its reservation
	// stands: sold units gone, released ones back, active ones held.
	type net struct{ onHand, reserved int64 }
	byOrder := map[string]net{}
	for _, m := range plan.Movements {
		q := m.OnHandDelta
		ok := map[string]bool{
			"RECEIVED":  q > 0 && m.ReservedDelta == 0,
			"RESERVED":  q == 0 && m.ReservedDelta > 0,
			"SOLD":      q < 0 && m.ReservedDelta == q,
			"RELEASED":  q == 0 && m.ReservedDelta < 0,
			"RESTOCKED": q > 0 && m.ReservedDelta == 0,
		}[m.Kind]
		if !ok {
			t.Fatalf("a %s movement of %+d on hand, %+d reserved", m.Kind, q, m.ReservedDelta)
		}
		k := m.Order.String() + m.Product.String()
		n := byOrder[k]
		n.onHand += q
		n.reserved += m.ReservedDelta
		byOrder[k] = n
	}
	for _, ord := range plan.Orders {
		r := ord.Reservation
		if r == nil || r.Placeholder {
			continue
		}
		for _, l := range r.Lines {
			want := net{}
			switch {
			case r.Status == "CONFIRMED":
				want.onHand = -l.Quantity
			case r.Status == "ACTIVE":
				want.reserved = l.Quantity
			}
			if got := byOrder[ord.ID.String()+l.Product.ID.String()]; got != want {
				t.Errorf("order %d (%s), %s: movements net %+v, want %+v for a %s reservation", ord.N, ord.Fate, l.Product.SKU, got, want, r.Status)
			}
		}
	}

	active := map[uuid.UUID]int64{}
	for _, ord := range plan.Orders {
		if r := ord.Reservation; r != nil && r.Status == "ACTIVE" {
			for _, l := range r.Lines {
				active[l.Product.ID] += l.Quantity
			}
		}
	}
	for _, s := range plan.Stock {
		f := run[s.Product.ID]
		if f == nil {
			f = &fig{}
		}
		if f.onHand != s.OnHand || f.reserved != s.Reserved || s.Reserved != active[s.Product.ID] {
			t.Errorf("%s: stock %d/%d, ledger %d/%d, active reservations %d", s.Product.SKU, s.OnHand, s.Reserved, f.onHand, f.reserved, active[s.Product.ID])
		}
		if s.OnHand != s.Product.Stock {
			t.Errorf("%s ends at %d on hand, the demo catalog says %d", s.Product.SKU, s.OnHand, s.Product.Stock)
		}
	}

	// The same moment plans the same shop.
	again, _ := history.PlanDemo(o)
	if again.Orders[17].ID != plan.Orders[17].ID || again.Movements[99] != plan.Movements[99] {
		t.Error("two plans of the same options differ")
	}
}

// checkOrder holds one order's records to the rules of the services that
// keep them.
func checkOrder(t *testing.T, o history.DemoOrder) {
	t.Helper()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Errorf("order %d (%s, %s): %s", o.N, o.Fate, o.Status, fmt.Sprintf(format, args...))
	}
	var total int64
	for _, l := range o.Lines {
		total += l.Product.PriceMinor * l.Quantity
	}
	if total != o.Total || len(o.Steps) == 0 || o.Steps[0].To != "CREATED" {
		fail("total %d of lines %d; first step %+v", o.Total, total, o.Steps[0])
	}
	if last := o.Steps[len(o.Steps)-1]; o.Status != "CANCELLED" && o.CancelReason != "" {
		fail("cancel reason %q", o.CancelReason)
	} else if (o.Status == "CANCELLED") != (o.CancelReason != "") {
		fail("cancelled without a reason (last step %+v)", last)
	}
	status := ""
	for _, s := range o.Steps {
		if s.Kind == "TRANSITION" {
			if s.From != status {
				fail("transition %s -> %s from %s", s.From, s.To, status)
			}
			status = s.To
		} else if s.From != status || s.To != status {
			fail("event %s recorded at %s/%s, order %s", s.Reason, s.From, s.To, status)
		}
	}
	if status != o.Status {
		fail("timeline ends at %s", status)
	}
	p, r := o.Payment, o.Reservation
	switch o.Status {
	case "PAID", "SHIPPED", "DELIVERED":
		if p == nil || !p.Captured || r == nil || r.Status != "CONFIRMED" {
			fail("paid without a captured payment and a sold reservation")
		}
	case "PAYMENT_PENDING":
		if p == nil || p.Status != "PENDING" || r == nil || r.Status != "ACTIVE" {
			fail("awaiting payment without a pending payment and an active reservation")
		}
	case "CREATED":
		if p != nil || r != nil || o.Projection != nil {
			fail("inventory has not answered, yet there are records")
		}
	case "CANCELLED":
		if r == nil || (r.Status != "RELEASED" && r.Status != "EXPIRED") || o.Projection == nil || o.Projection.CancelReason != o.CancelReason {
			fail("cancelled with reservation %+v, projection %+v", r, o.Projection)
		}
		if p != nil && p.Status == "PENDING" {
			fail("cancelled with a pending payment")
		}
	}
	if p != nil {
		var refunds int64
		for _, rf := range p.Refunds {
			refunds += rf.Amount
		}
		if refunds != p.RefundedMinor || p.RefundedMinor > o.Total ||
			(p.Status == "REFUNDED") != (p.RefundedMinor == o.Total && o.Total > 0) {
			fail("payment %s refunded %d (refunds %d) of %d", p.Status, p.RefundedMinor, refunds, o.Total)
		}
		if r != nil && r.Restocked != (p.Status == "REFUNDED" && o.Status == "CANCELLED") {
			fail("restocked %v with payment %s", r.Restocked, p.Status)
		}
	}
}

// The history goes into databases migrated as the services migrate them,
// so every row passes each schema's rules (the payments' triggers
// included); the three databases agree on every order; the stock rows are
// the sums of their ledgers; a second run writes nothing; and a ledger
// that already has movements is left alone.
func TestDemoSeedWritesThreeDatabasesThatAgree(t *testing.T) {
	ctx := context.Background()
	dsns := migratedDatabases(t)
	now := time.Now()
	o := demoOptions(t, now)
	summary, err := history.DemoSeed(ctx, dsns, o)
	if err != nil {
		t.Fatal(err)
	}
	plan, _ := history.PlanDemo(o)
	t.Log(summary)
	if !strings.Contains(summary, fmt.Sprintf("%d orders", len(plan.Orders))) {
		t.Errorf("summary %q", summary)
	}
	db := map[string]*pgx.Conn{}
	for s, dsn := range dsns {
		c, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close(ctx) })
		db[s] = c
	}
	count := func(service, sql string, args ...any) (n int64) {
		t.Helper()
		if err := db[service].QueryRow(ctx, sql, args...).Scan(&n); err != nil {
			t.Fatalf("%s: %s: %v", service, sql, err)
		}
		return n
	}
	byStatus := map[string]int64{}
	var payments, projections, reservations int64
	for _, ord := range plan.Orders {
		byStatus[ord.Status]++
		if ord.Payment != nil {
			payments++
		}
		if ord.Projection != nil {
			projections++
		}
		if ord.Reservation != nil {
			reservations++
		}
	}
	for st, n := range byStatus {
		if got := count("order", "SELECT count(*) FROM orders WHERE status = $1", st); got != n {
			t.Errorf("%d orders %s, want %d", got, st, n)
		}
	}
	for _, c := range []struct {
		service, what, sql string
		want               int64
	}{
		{"payment", "payments", "SELECT count(*) FROM payments", payments},
		{"payment", "projections", "SELECT count(*) FROM order_projection", projections},
		{"inventory", "reservations", "SELECT count(*) FROM reservations", reservations},
		{"inventory", "stock rows off their ledger",
			`SELECT count(*) FROM stock s LEFT JOIN (SELECT product_id, sum(on_hand_delta) AS h, sum(reserved_delta) AS r
				FROM stock_movements GROUP BY product_id) m USING (product_id)
				WHERE s.on_hand <> coalesce(m.h, 0) OR s.reserved <> coalesce(m.r, 0)`, 0},
		{"inventory", "stock rows whose reserved is not their active reservations'",
			`SELECT count(*) FROM stock s WHERE s.reserved <> (SELECT coalesce(sum(l.quantity), 0) FROM reservation_lines l
				JOIN reservations r ON r.id = l.reservation_id WHERE r.status = 'ACTIVE' AND l.product_id = s.product_id)`, 0},
		{"order", "orders whose total is not their lines'",
			`SELECT count(*) FROM orders o WHERE total_minor <> (SELECT sum(quantity * unit_price_minor) FROM order_items i WHERE i.order_id = o.id)`, 0},
		{"order", "orders whose status is not their timeline's last transition",
			`SELECT count(*) FROM orders o WHERE status <> (SELECT to_status FROM order_history h WHERE h.order_id = o.id AND kind = 'TRANSITION' ORDER BY id DESC LIMIT 1)`, 0},
		{"payment", "payments whose refunds do not add up",
			`SELECT count(*) FROM payments p WHERE refunded_minor <> (SELECT coalesce(sum(amount_minor), 0) FROM refunds r WHERE r.payment_id = p.id)`, 0},
	} {
		if got := count(c.service, c.sql); got != c.want {
			t.Errorf("%s: %s: %d, want %d", c.service, c.what, got, c.want)
		}
	}
	// Across the databases: each order's payment and reservation are its
	// own, for the same amounts and products.
	type row struct {
		status string
		total  int64
	}
	orders := map[uuid.UUID]row{}
	rows, _ := db["order"].Query(ctx, "SELECT id, status, total_minor FROM orders")
	for rows.Next() {
		var id uuid.UUID
		var r row
		if err := rows.Scan(&id, &r.status, &r.total); err != nil {
			t.Fatal(err)
		}
		orders[id] = r
	}
	rows.Close()
	rows, _ = db["payment"].Query(ctx, "SELECT order_id, status, amount_minor FROM payments")
	for rows.Next() {
		var id uuid.UUID
		var status string
		var amount int64
		if err := rows.Scan(&id, &status, &amount); err != nil {
			t.Fatal(err)
		}
		o, ok := orders[id]
		captured := status == "SUCCEEDED" || status == "PARTIALLY_REFUNDED" || status == "REFUNDED"
		paid := o.status == "PAID" || o.status == "SHIPPED" || o.status == "DELIVERED"
		if !ok || o.total != amount || (paid && !captured) || (status == "PENDING" && o.status != "PAYMENT_PENDING") {
			t.Errorf("payment of order %s: %s %d, order %+v", id, status, amount, o)
		}
	}
	rows.Close()
	items := map[string]int64{}
	rows, _ = db["order"].Query(ctx, "SELECT order_id::text || product_id::text, quantity FROM order_items")
	for rows.Next() {
		var k string
		var q int64
		if err := rows.Scan(&k, &q); err != nil {
			t.Fatal(err)
		}
		items[k] = q
	}
	rows.Close()
	rows, _ = db["inventory"].Query(ctx, "SELECT r.order_id::text || l.product_id::text, l.quantity FROM reservation_lines l JOIN reservations r ON r.id = l.reservation_id")
	lines := 0
	for rows.Next() {
		var k string
		var q int64
		if err := rows.Scan(&k, &q); err != nil {
			t.Fatal(err)
		}
		lines++
		if items[k] != q {
			t.Errorf("reservation line %s: %d units, the order has %d", k, q, items[k])
		}
	}
	rows.Close()
	if lines == 0 {
		t.Error("no reservation lines")
	}

	// Again: nothing more.
	again, err := history.DemoSeed(ctx, dsns, o)
	if err != nil || !strings.Contains(again, "already there") {
		t.Errorf("second run: %q %v", again, err)
	}
	if n := count("order", "SELECT count(*) FROM orders"); n != int64(len(plan.Orders)) {
		t.Errorf("%d orders after the second run", n)
	}

	// Empty order and payment databases, but a ledger with movements: left
	// alone, with the reason.
	if _, err := db["order"].Exec(ctx, "TRUNCATE orders, order_items, order_history"); err != nil {
		t.Fatal(err)
	}
	if _, err := history.DemoSeed(ctx, dsns, o); !errors.Is(err, history.ErrDemoSkipped) {
		t.Errorf("over a ledger with movements: %v", err)
	}
	if n := count("order", "SELECT count(*) FROM orders"); n != 0 {
		t.Errorf("%d orders written over a ledger with movements", n)
	}
}
