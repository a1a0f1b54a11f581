package app_test

import (
	"context"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	"google.golang.org/protobuf/proto"
	"gorm.io/gorm"

	"github.com/shop-oss/shop/pkg/database"
	"github.com/shop-oss/shop/pkg/event"
	"github.com/shop-oss/shop/pkg/testkit"
	"github.com/shop-oss/shop/services/order/internal/app"
	"github.com/shop-oss/shop/services/order/internal/order"
	"github.com/shop-oss/shop/services/order/internal/orderevents"
	"github.com/shop-oss/shop/services/order/internal/ordertest"
)

// transitions counts the transitions the domain reports (order.Metrics).
type transitions struct {
	mu sync.Mutex
	n  map[string]int
}

func (m *transitions) OrderCreated() {}
func (m *transitions) Transition(from, to order.Status, _ string, _ float64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.n[string(from)+" → "+string(to)]++
}

// A batch of saga events handled as the consumer does (one TxStartingWith
// transaction, Prepare, then each handler in key order with Prepare's
// context) ends as if its events were handled one by one: blind moves that
// apply and one that does not (a second payment), a timeline entry, and an
// order with two events in the batch. The handlers finish the moves the
// batch sent ahead from their outcomes (sent again, a move would find its
// event in the timeline and count no transition).
func TestBatchOfSagaEventsEndsAsOneByOne(t *testing.T) {
	e := newEnv(t, nil)
	e.Catalog()
	counted := &transitions{n: map[string]int{}}
	handlers := orderevents.New(order.NewService(e.Store, app.DomainConfig(e.Cfg), counted), e.Store, nil)
	place := func() string { return e.Place(ordertest.CustomerID, ordertest.Line(ordertest.Alpha, 1)).ID }
	a, b, c, d, paid := place(), place(), place(), place(), place()
	for _, ev := range []event.Event{
		ordertest.NewEvent(t, b, ordertest.Reserved(b)), ordertest.NewEvent(t, d, ordertest.Reserved(d)),
		ordertest.NewEvent(t, paid, ordertest.Reserved(paid)), ordertest.NewEvent(t, paid, ordertest.Succeeded(paid)),
	} {
		if err := e.ApplyDirect(ev); err != nil {
			t.Fatal(err)
		}
	}
	mk := func(id string, msg proto.Message) event.Event { return ordertest.NewEvent(t, id, msg) }
	batch := []event.Event{
		mk(a, ordertest.Reserved(a)),        // CREATED → PAYMENT_PENDING, blind
		mk(b, ordertest.Succeeded(b)),       // PAYMENT_PENDING → PAID, blind
		mk(c, ordertest.Reserved(c)),        // two events of one order: one by one
		mk(c, ordertest.Initiated(c)),       //
		mk(d, ordertest.Initiated(d)),       // timeline only
		mk(paid, ordertest.Succeeded(paid)), // a second payment: the blind move misses, the rules ignore it
	}
	slices.SortStableFunc(batch, func(x, y event.Event) int { return strings.Compare(x.Key, y.Key) })

	ctx := context.Background()
	err := database.TxStartingWith(ctx, e.Svc.DB, database.First{SQL: "SELECT 1"}, func(tx *gorm.DB) error {
		hctx, err := handlers.Prepare(ctx, tx, batch)
		if err != nil {
			return err
		}
		// Prepare ran the usual-case statements already, in one round
		// trip: a and b moved, d's entry is there; c waits for its
		// handlers.
		var moved []string
		err = tx.Raw("SELECT id || ' ' || status FROM orders WHERE id IN (?, ?, ?) ORDER BY id", a, b, c).Scan(&moved).Error
		if err != nil {
			return err
		}
		want := []string{a + " PAYMENT_PENDING", b + " PAID", c + " CREATED"}
		slices.Sort(want)
		if !slices.Equal(moved, want) {
			t.Errorf("after Prepare: %v; want %v", moved, want)
		}
		for _, ev := range batch {
			if err := handlers.Saga(ev.Context(hctx), tx, ev); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	for id, want := range map[string]struct {
		status  string
		entries int
	}{
		a:    {"PAYMENT_PENDING", 2}, // placed, reserved
		b:    {"PAID", 3},            // placed, reserved, paid
		c:    {"PAYMENT_PENDING", 3}, // placed, reserved, payment initiated
		d:    {"PAYMENT_PENDING", 3}, // placed, reserved, payment initiated
		paid: {"PAID", 4},            // placed, reserved, paid, the second payment ignored
	} {
		if got := e.Status(id); got != want.status {
			t.Errorf("order %s: %s, want %s", id, got, want.status)
		}
		if got := e.HistoryCount(id); got != want.entries {
			t.Errorf("order %s: %d timeline entries, want %d", id, got, want.entries)
		}
	}
	if last := e.lastEntry(paid); last.Kind != "IGNORED" {
		t.Errorf("the second payment of %s: last timeline entry %+v, want IGNORED", paid, last)
	}
	want := map[string]int{"CREATED → PAYMENT_PENDING": 2, "PAYMENT_PENDING → PAID": 1} // a, c; b
	if !maps.Equal(counted.n, want) {
		t.Errorf("transitions counted: %v, want %v", counted.n, want)
	}
}

// Two batches whose events share orders, on two workers (an order's events
// arrive on two topics): batch A's pipeline moves y and its handlers then
// move x, batch B's pipeline moves x and its handlers then move y. Were
// each pipeline to lock only its own moves, A would hold y and wait for x
// while B held x and waited for y, until PostgreSQL's deadlock check
// failed one of them a second later. Prepare locks every order the batch
// may lock first, in ID order, so B waits for A at its first lock and both
// commit: every event applied once.
func TestBatchesSharingOrdersDoNotDeadlock(t *testing.T) {
	e := newEnv(t, nil)
	e.Catalog()
	place := func() string { return e.Place(ordertest.CustomerID, ordertest.Line(ordertest.Alpha, 1)).ID }
	x, y, z1, z2 := place(), place(), place(), place()
	for _, id := range []string{x, y, z1, z2} {
		if err := e.ApplyDirect(ordertest.NewEvent(t, id, ordertest.Reserved(id))); err != nil {
			t.Fatal(err)
		}
	}
	sorted := func(evs ...event.Event) []event.Event {
		slices.SortStableFunc(evs, func(a, b event.Event) int { return strings.Compare(a.Key, b.Key) })
		return evs
	}
	batchA := sorted(ordertest.NewEvent(t, y, ordertest.Succeeded(y)), ordertest.NewEvent(t, z1, ordertest.Initiated(z1)), // the pipeline's
		ordertest.NewEvent(t, x, ordertest.Initiated(x)), ordertest.NewEvent(t, x, ordertest.Succeeded(x))) // two of one order: the handlers'
	batchB := sorted(ordertest.NewEvent(t, x, ordertest.Succeeded(x)), ordertest.NewEvent(t, z2, ordertest.Initiated(z2)),
		ordertest.NewEvent(t, y, ordertest.Initiated(y)), ordertest.NewEvent(t, y, ordertest.Succeeded(y)))

	ctx := context.Background()
	// run handles batch as the consumer does, pausing after Prepare.
	run := func(batch []event.Event, pause func()) error {
		return database.TxStartingWith(ctx, e.Svc.DB, database.First{SQL: "SELECT 1"}, func(tx *gorm.DB) error {
			hctx, err := e.Handlers.Prepare(ctx, tx, batch)
			if err != nil {
				return err
			}
			pause()
			for _, ev := range batch {
				if err := e.Handlers.Saga(ev.Context(hctx), tx, ev); err != nil {
					return err
				}
			}
			return nil
		})
	}
	errA, errB := testkit.Interleave(t, e.Svc.DB,
		func(pause func()) error { return run(batchA, pause) },
		func(pause func()) error { return run(batchB, pause) })
	if errA != nil || errB != nil {
		t.Fatalf("batch A: %v; batch B: %v", errA, errB)
	}
	for id, want := range map[string]struct {
		status  string
		entries int
	}{
		x:  {"PAID", 5}, // placed, reserved, paid, payment initiated, and one payment ignored
		y:  {"PAID", 5},
		z1: {"PAYMENT_PENDING", 3},
		z2: {"PAYMENT_PENDING", 3},
	} {
		if got := e.Status(id); got != want.status {
			t.Errorf("order %s: %s, want %s", id, got, want.status)
		}
		if got := e.HistoryCount(id); got != want.entries {
			t.Errorf("order %s: %d timeline entries, want %d", id, got, want.entries)
		}
	}
}
