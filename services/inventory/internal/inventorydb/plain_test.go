package inventorydb_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"

	"github.com/shop-oss/shop/pkg/testkit"
	"github.com/shop-oss/shop/proto-events/eventsv1"
	"github.com/shop-oss/shop/services/inventory/internal/inventory"
)

// generalOnly is the store with the plain shortcut switched off: every
// reservation goes through the rules in Go.
type generalOnly struct{ inventory.Store }

func (g generalOnly) Reserve(ctx context.Context, _ inventory.PlainReservation, byRules func(tx inventory.Tx) error) (inventory.Reservation, bool, error) {
	return inventory.Reservation{}, false, g.Update(ctx, byRules)
}

func (g generalOnly) Update(ctx context.Context, fn func(tx inventory.Tx) error) error {
	return g.Store.Update(ctx, func(tx inventory.Tx) error { return fn(generalOnlyTx{tx}) })
}

type generalOnlyTx struct{ inventory.Tx }

func (generalOnlyTx) ConfirmPlain(context.Context, inventory.PlainConfirmation) (inventory.Reservation, bool, error) {
	return inventory.Reservation{}, false, nil
}

// situation is a product's state before an order of want units of it.
type situation struct {
	name      string
	onHand    int64
	reserved  int64  // held by another order first
	threshold *int64 // nil: the default (5)
	status    string // "" = ACTIVE
	unknown   bool   // the order names a product inventory does not know
	want      int64
	plain     bool // the shortcut may apply it
}

func ptr(n int64) *int64 { return &n }

var situations = []situation{
	{name: "plenty", onHand: 100, want: 3, plain: true},
	{name: "exactly down to above the threshold", onHand: 20, reserved: 5, want: 9, plain: true},
	{name: "already low stays low", onHand: 10, reserved: 6, want: 2, plain: true},
	{name: "already low, own threshold", onHand: 50, reserved: 10, threshold: ptr(40), want: 1, plain: true},
	{name: "crosses the threshold", onHand: 10, want: 5},
	{name: "crosses its own threshold", onHand: 100, threshold: ptr(90), want: 20},
	{name: "takes the last units", onHand: 8, reserved: 1, want: 7},
	{name: "takes the last units, already low", onHand: 4, reserved: 1, want: 3, plain: true},
	{name: "short", onHand: 10, reserved: 8, want: 3},
	{name: "draft product", onHand: 10, status: "DRAFT", want: 1},
	{name: "archived product", onHand: 10, status: "ARCHIVED", want: 1},
	{name: "unknown product", unknown: true, want: 1},
}

// TestPlainReservationIsThePlainCaseOfTheRules holds the one-statement
// shortcut to the rules: for each situation (alone, and as one line of a
// two-line order beside a plain line), the shortcut applies exactly when it
// should, changes nothing when it does not, and the service ends in the
// same state, ledger and events whether the shortcut is on or off.
func TestPlainReservationIsThePlainCaseOfTheRules(t *testing.T) {
	e := newEnv(t)
	general := inventory.NewService(generalOnly{e.store}, inventory.NoCache{}, inventory.Config{
		ReservationTTL: ttl, LowStockThreshold: 5, Now: e.clock.Now,
	}, testkit.Logger(t))

	for _, s := range situations {
		for _, withPlainLine := range []bool{false, true} {
			name := s.name
			if withPlainLine {
				name += ", beside a plain line"
			}
			t.Run(name, func(t *testing.T) {
				e := e.with(t)
				var outcomes [2]string
				for i, svc := range []*inventory.Service{e.svc, general} {
					lines := []inventory.Line{line(e.situation(s), s.want)}
					if withPlainLine {
						lines = append(lines, line(e.product(1000), 2))
					}
					order := uuid.New()
					if i == 0 {
						e.checkShortcut(order, lines, s.plain)
					}
					_, err := svc.Reserve(e.ctx, reserveReq(order, lines...))
					outcomes[i] = e.outcome(order, lines, err)
				}
				if outcomes[0] != outcomes[1] {
					t.Errorf("with the shortcut:\n%s\nby the rules alone:\n%s", outcomes[0], outcomes[1])
				}
			})
		}
	}
	e.checkInvariants()
}

// TestPlainConfirmationIsThePlainCaseOfTheRules holds the one-statement
// confirmation to the rules: for reserved orders of one and of two lines,
// confirming with the shortcut and by the rules alone ends in the same
// state, ledger and events; a stock row that disagrees with the
// reservation is left to the rules, and the refused shortcut changes
// nothing.
func TestPlainConfirmationIsThePlainCaseOfTheRules(t *testing.T) {
	e := newEnv(t)
	general := inventory.NewService(generalOnly{e.store}, inventory.NoCache{}, inventory.Config{
		ReservationTTL: ttl, LowStockThreshold: 5, Now: e.clock.Now,
	}, testkit.Logger(t))

	for _, c := range []struct {
		name    string
		onHand  []int64
		corrupt bool // the first line's row holds fewer reserved units than the line
		plain   bool
	}{
		{name: "one line", onHand: []int64{100}, plain: true},
		{name: "two lines", onHand: []int64{100, 40}, plain: true},
		{name: "down to low stock", onHand: []int64{6}, plain: true},
		{name: "stock disagrees with the reservation", onHand: []int64{100, 40}, corrupt: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := e.with(t)
			var outcomes [2]string
			for i, svc := range []*inventory.Service{e.svc, general} {
				var lines []inventory.Line
				for j, n := range c.onHand {
					lines = append(lines, line(e.product(n), int64(j+2)))
				}
				order := uuid.New()
				if _, err := e.svc.Reserve(e.ctx, reserveReq(order, lines...)); err != nil {
					t.Fatal(err)
				}
				if c.corrupt {
					if err := e.db.Exec(`UPDATE stock SET reserved = reserved - 1 WHERE product_id = ?`, lines[0].ProductID).Error; err != nil {
						t.Fatal(err)
					}
				}
				if i == 0 {
					e.checkConfirmShortcut(order, lines, c.plain)
				}
				_, err := svc.Confirm(e.ctx, order, inventory.FromStaff)
				outcomes[i] = e.outcome(order, lines, err)
				if c.corrupt {
					if err == nil {
						t.Fatal("a sale of more units than the row holds reserved went through")
					}
					if err := e.db.Exec(`UPDATE stock SET reserved = reserved + 1 WHERE product_id = ?`, lines[0].ProductID).Error; err != nil {
						t.Fatal(err)
					}
				}
			}
			if outcomes[0] != outcomes[1] {
				t.Errorf("with the shortcut:\n%s\nby the rules alone:\n%s", outcomes[0], outcomes[1])
			}
		})
	}
	e.checkInvariants()
}

// errRolledBack ends a transaction that was only looked into.
var errRolledBack = errors.New("rolled back on purpose")

// checkConfirmShortcut asks the store, in a transaction holding the order's
// reservation, whether it takes the confirmation as plain, then rolls that
// back; a refusal must change nothing.
func (e *env) checkConfirmShortcut(order uuid.UUID, lines []inventory.Line, want bool) {
	e.t.Helper()
	before := e.snapshot(lines)
	var done bool
	err := e.store.Update(e.ctx, func(tx inventory.Tx) error {
		r, err := tx.LockReservation(e.ctx, order)
		if err != nil {
			return err
		}
		_, done, err = tx.ConfirmPlain(e.ctx, inventory.PlainConfirmation{Reservation: r, At: e.clock.Now(),
			Announce: inventory.Confirmed{OrderID: order, ReservationID: r.ID}})
		if err != nil {
			return err
		}
		if done {
			return errRolledBack
		}
		return nil // a refusal is committed: it must have written nothing
	})
	if err != nil && !errors.Is(err, errRolledBack) {
		e.t.Fatal(err)
	}
	if done != want {
		e.t.Fatalf("the shortcut took the confirmation: %v, want %v", done, want)
	}
	if after := e.snapshot(lines); after != before {
		e.t.Fatalf("the shortcut changed the database:\nbefore %s\nafter  %s", before, after)
	}
}

// with is e reporting to t (a subtest).
func (e *env) with(t testing.TB) *env {
	c := *e
	c.t = t
	return &c
}

// situation makes a fresh product in s's state and returns its ID.
func (e *env) situation(s situation) uuid.UUID {
	e.t.Helper()
	if s.unknown {
		return uuid.New()
	}
	id := e.product(s.onHand)
	if s.reserved > 0 {
		if _, err := e.svc.Reserve(e.ctx, reserveReq(uuid.New(), line(id, s.reserved))); err != nil {
			e.t.Fatal(err)
		}
	}
	if s.threshold != nil || s.status != "" {
		status := s.status
		if status == "" {
			status = "ACTIVE"
		}
		if err := e.db.Exec(`UPDATE stock SET low_stock_threshold = ?, status = ? WHERE product_id = ?`,
			s.threshold, status, id).Error; err != nil {
			e.t.Fatal(err)
		}
	}
	return id
}

// checkShortcut asks the store directly whether it takes lines as plain,
// and requires that a refusal changed nothing.
func (e *env) checkShortcut(order uuid.UUID, lines []inventory.Line, want bool) {
	e.t.Helper()
	sorted := slices.Clone(lines)
	slices.SortFunc(sorted, func(a, b inventory.Line) int { return slices.Compare(a.ProductID[:], b.ProductID[:]) })
	now := e.clock.Now()
	r := inventory.Reservation{ID: uuid.New(), OrderID: order, Status: inventory.StatusActive, Lines: sorted,
		ExpiresAt: now.Add(ttl), CreatedAt: now, UpdatedAt: now}
	p := inventory.PlainReservation{Reservation: r, LowStockDefault: 5,
		Announce: inventory.Reserved{OrderID: order, ReservationID: r.ID, ExpiresAt: r.ExpiresAt, Lines: sorted}}
	if want {
		// Applied on a twin order, so that the service's own run below
		// starts from the same state as the rules-only run.
		p.Reservation.OrderID = uuid.New()
		p.Announce.OrderID = p.Reservation.OrderID
		before := e.counts()
		_, done, err := e.store.Reserve(e.ctx, p, notPlain)
		if err != nil || !done {
			e.t.Fatalf("the shortcut refused a plain reservation (done %v, err %v)", done, err)
		}
		after := e.counts()
		wantAfter := before
		wantAfter.reservations++
		wantAfter.lines += len(lines)
		wantAfter.movements += len(lines)
		wantAfter.outbox++
		if after != wantAfter {
			e.t.Fatalf("the shortcut wrote %+v, from %+v; want %+v", after, before, wantAfter)
		}
		// Give the units back so the twin run sees the same stock.
		if _, err := e.svc.Release(e.ctx, p.Reservation.OrderID, "test", inventory.FromStaff); err != nil {
			e.t.Fatal(err)
		}
		return
	}
	before := e.snapshot(lines)
	_, done, err := e.store.Reserve(e.ctx, p, notPlain)
	if !errors.Is(err, errNotPlain) || done {
		e.t.Fatalf("the shortcut took a reservation the rules must decide (done %v, err %v)", done, err)
	}
	if after := e.snapshot(lines); after != before {
		e.t.Fatalf("a refused shortcut changed the database:\nbefore %s\nafter  %s", before, after)
	}
}

// notPlain is the rules' part of a reservation offered to the store by a
// test: it ends the transaction the store began for them.
func notPlain(inventory.Tx) error { return errNotPlain }

type counts struct{ reservations, lines, movements, outbox int }

func (e *env) counts() counts {
	e.t.Helper()
	var c counts
	err := e.db.Raw(`SELECT (SELECT count(*) FROM reservations) AS reservations,
		(SELECT count(*) FROM reservation_lines) AS lines,
		(SELECT count(*) FROM stock_movements) AS movements,
		(SELECT count(*) FROM outbox) AS outbox`).Row().Scan(&c.reservations, &c.lines, &c.movements, &c.outbox)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// snapshot is the lines' stock and the table sizes, as text.
func (e *env) snapshot(lines []inventory.Line) string {
	e.t.Helper()
	out := fmt.Sprintf("%+v", e.counts())
	for _, l := range lines {
		s, err := e.store.Stock(e.ctx, l.ProductID)
		if errors.Is(err, inventory.ErrProductNotFound) {
			out += " unknown"
			continue
		}
		if err != nil {
			e.t.Fatal(err)
		}
		out += fmt.Sprintf(" %s:%d/%d@%s", s.Status, s.OnHand, s.Reserved, s.UpdatedAt)
	}
	return out
}

// outcome describes what an order did, without its IDs: the error, the
// reservation, each line's stock, the order's ledger entries and the
// events published for the order and its products, in line order.
func (e *env) outcome(order uuid.UUID, lines []inventory.Line, err error) string {
	e.t.Helper()
	out := fmt.Sprintf("error: %s\n", strings.ReplaceAll(redact(err, lines), order.String(), "<order>"))
	if r, err := e.store.Reservation(e.ctx, order); err == nil {
		out += fmt.Sprintf("reservation: %s, expires in %s, lines %s\n", r.Status, r.ExpiresAt.Sub(r.CreatedAt), byLine(r.Lines, lines))
	} else {
		out += fmt.Sprintf("reservation: %v\n", err)
	}
	for i, l := range lines {
		if s, err := e.store.Stock(e.ctx, l.ProductID); err == nil {
			out += fmt.Sprintf("line %d stock: %d on hand, %d reserved\n", i, s.OnHand, s.Reserved)
		}
		var moves []struct {
			Kind                                                   string
			OnHandDelta, ReservedDelta, OnHandAfter, ReservedAfter int64
			Reason                                                 string
			HasReservation, HasActor                               bool
		}
		err := e.db.Raw(`SELECT m.kind, m.on_hand_delta, m.reserved_delta, m.on_hand_after, m.reserved_after, m.reason,
				m.reservation_id IS NOT NULL AS has_reservation, m.actor_id IS NOT NULL AS has_actor
			FROM stock_movements m WHERE m.product_id = ? AND m.order_id = ? ORDER BY m.id`, l.ProductID, order).Scan(&moves).Error
		if err != nil {
			e.t.Fatal(err)
		}
		out += fmt.Sprintf("line %d ledger: %+v\n", i, moves)
		out += "line " + fmt.Sprint(i) + " events: " + e.events(l.ProductID.String(), lines) + "\n"
	}
	return out + "order events: " + e.events(order.String(), lines) + "\n"
}

// events lists the outbox events of a key with their decoded payloads, the
// order's and the lines' IDs replaced by names.
func (e *env) events(key string, lines []inventory.Line) string {
	e.t.Helper()
	var rows []struct {
		EventType string
		Payload   []byte
	}
	if err := e.db.Raw(`SELECT event_type, payload FROM outbox WHERE message_key = ? ORDER BY id`, key).Scan(&rows).Error; err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, r := range rows {
		var msg proto.Message
		switch r.EventType {
		case "INVENTORY_RESERVED":
			msg = &eventsv1.InventoryReserved{}
		case "INVENTORY_REJECTED":
			msg = &eventsv1.InventoryRejected{}
		case "STOCK_LOW":
			msg = &eventsv1.StockLow{}
		case "INVENTORY_CONFIRMED":
			msg = &eventsv1.InventoryConfirmed{}
		default:
			out = append(out, r.EventType)
			continue
		}
		if err := proto.Unmarshal(r.Payload, msg); err != nil {
			e.t.Fatal(err)
		}
		pos := func(productID string) int {
			return slices.IndexFunc(lines, func(l inventory.Line) bool { return l.ProductID.String() == productID })
		}
		switch m := msg.(type) {
		case *eventsv1.InventoryReserved:
			m.OrderId, m.ReservationId, m.ExpiresAt = "", "", nil
			slices.SortFunc(m.Lines, func(a, b *eventsv1.ReservedLine) int { return pos(a.ProductId) - pos(b.ProductId) })
		case *eventsv1.InventoryConfirmed:
			m.OrderId, m.ReservationId = "", ""
		case *eventsv1.InventoryRejected:
			m.OrderId = ""
			slices.SortFunc(m.ShortLines, func(a, b *eventsv1.ShortLine) int { return pos(a.ProductId) - pos(b.ProductId) })
		}
		out = append(out, r.EventType+" "+redact(fmt.Errorf("%v", msg), lines))
	}
	return fmt.Sprint(out)
}

// redact replaces the lines' product IDs in an error's text with their
// line numbers.
func redact(err error, lines []inventory.Line) string {
	if err == nil {
		return "<nil>"
	}
	s := err.Error()
	for i, l := range lines {
		s = strings.ReplaceAll(s, l.ProductID.String(), fmt.Sprintf("<line %d>", i))
	}
	return s
}

// byLine lists quantities by the line of lines that names their product, in
// line order (stored lines are in product-ID order, which differs between
// the twin runs).
func byLine(got, lines []inventory.Line) string {
	out := make([]string, len(lines))
	for _, g := range got {
		i := slices.IndexFunc(lines, func(l inventory.Line) bool { return l.ProductID == g.ProductID })
		if i < 0 {
			return fmt.Sprintf("%v (not the order's products)", got)
		}
		out[i] = fmt.Sprintf("<line %d>:%d", i, g.Quantity)
	}
	return strings.Join(out, " ")
}
