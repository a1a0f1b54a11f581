package consumer_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/shop-oss/shop/pkg/consumer"
	"github.com/shop-oss/shop/pkg/event"
)

// batchEvent is an event of the skeleton's tests: its Key is the key the
// test batch reads, and its Type says whether it has a usual case ("plain")
// or not ("other"); "skip" is an event the batch does not read.
func batchEvent(key, typ string) event.Event {
	return event.Event{ID: uuid.New(), Type: typ, Key: key}
}

// testBatch is a Batch whose value is the event itself, whose plan is the
// event's key for "plain" events, and whose outcome is the plan's position
// in Apply's call. It records what it was asked.
type testBatch struct {
	consumer.Batch[event.Event, string, int]
	planned []string // keys, in the order Plan saw them
	lock    [][]string
	applied [][]string
	locked  [][]string // Lock's keys, when it has one
	values  []int      // how many values Lock got
}

func newTestBatch(withLock bool) *testBatch {
	b := &testBatch{}
	b.Key = func(e event.Event) (string, event.Event, bool) {
		return e.Key, e, e.Type != "skip"
	}
	b.Plan = func(_ context.Context, e event.Event) (string, bool) {
		b.planned = append(b.planned, e.Key)
		return e.Key, e.Type == "plain"
	}
	b.Apply = func(_ context.Context, _ *gorm.DB, lock []string, plans []string) ([]int, bool, error) {
		b.lock = append(b.lock, lock)
		b.applied = append(b.applied, plans)
		out := make([]int, len(plans))
		for i := range out {
			out[i] = i
		}
		return out, true, nil
	}
	if withLock {
		b.Lock = func(_ context.Context, _ *gorm.DB, keys []string, values []event.Event) (func(context.Context, event.Event) (string, bool), error) {
			b.locked = append(b.locked, keys)
			b.values = append(b.values, len(values))
			return nil, nil
		}
	}
	return b
}

// The skeleton groups a batch by key: only events alone on their key are
// planned (a key with two events is left to the handlers, in order), events
// without a key are never planned nor locked, events the batch does not
// read are not counted; the plans are applied at once, in batch order,
// after the locks of every key of the batch, sorted and once each.
func TestBatchPlansEventsAloneOnTheirKey(t *testing.T) {
	b := newTestBatch(false)
	batch := []event.Event{
		batchEvent("c", "plain"),
		batchEvent("b", "plain"), batchEvent("b", "other"), // two of b: handlers
		batchEvent("a", "plain"),
		batchEvent("", "plain"),  // no key
		batchEvent("d", "other"), // no usual case, but locked
		batchEvent("a", "skip"),  // not read: a stays alone
		batchEvent("e", "skip"),  // not read: e not locked
		batchEvent("f", "plain"),
	}
	if _, err := b.Prepare(context.Background(), nil, batch); err != nil {
		t.Fatal(err)
	}
	if want := []string{"c", "a", "d", "f"}; !slices.Equal(b.planned, want) {
		t.Errorf("planned %v; want %v (alone on their key, batch order)", b.planned, want)
	}
	if len(b.applied) != 1 || !slices.Equal(b.applied[0], []string{"c", "a", "f"}) {
		t.Errorf("applied %v; want one Apply of [c a f]", b.applied)
	}
	if want := []string{"a", "b", "c", "d", "f"}; len(b.lock) != 1 || !slices.Equal(b.lock[0], want) {
		t.Errorf("Apply locked %v; want %v", b.lock, want)
	}
}

// Each handler gets what the batch did for its event, by the event, and
// nothing for an event the batch left to it.
func TestBatchOutcomesReachTheHandlers(t *testing.T) {
	b := newTestBatch(false)
	x, y := batchEvent("x", "plain"), batchEvent("y", "plain")
	z1, z2, w := batchEvent("z", "plain"), batchEvent("z", "plain"), batchEvent("w", "other")
	ctx, err := b.Prepare(context.Background(), nil, []event.Event{x, z1, y, w, z2})
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range []event.Event{x, y} {
		p, ok := b.Outcome(ctx, e)
		if !ok || p.Value.ID != e.ID || p.Plan != e.Key || p.Out != i {
			t.Errorf("event %s: %+v, %v; want its value, plan %q and outcome %d", e.Key, p, ok, e.Key, i)
		}
	}
	for _, e := range []event.Event{z1, z2, w} {
		if p, ok := b.Outcome(ctx, e); ok {
			t.Errorf("event %s (%s) has outcome %+v; want none (its handler applies it)", e.Key, e.Type, p)
		}
	}
	if b.Locked(ctx) {
		t.Error("Locked without a Lock; want false (Apply took the locks)")
	}
	// Another batch's context, or none, has no outcomes.
	if _, ok := b.Outcome(context.Background(), x); ok {
		t.Error("outcome outside the batch's context")
	}
}

// A batch of one event, or with fewer than two plans, is left to the
// handlers: one event is no faster at once, and nothing is locked up front.
// So is a batch whose transaction cannot pipeline (Apply applied nothing).
func TestBatchLeavesSmallOrUnappliedBatchesToTheHandlers(t *testing.T) {
	for name, batch := range map[string][]event.Event{
		"one event": {batchEvent("a", "plain")},
		"one plan":  {batchEvent("a", "plain"), batchEvent("b", "other")},
	} {
		b := newTestBatch(false)
		ctx, err := b.Prepare(context.Background(), nil, batch)
		if err != nil {
			t.Fatal(err)
		}
		if len(b.applied) != 0 {
			t.Errorf("%s: applied %v; want nothing", name, b.applied)
		}
		if _, ok := b.Outcome(ctx, batch[0]); ok {
			t.Errorf("%s: an outcome; want none", name)
		}
	}
	b := newTestBatch(false)
	b.Apply = func(context.Context, *gorm.DB, []string, []string) ([]int, bool, error) { return nil, false, nil }
	x := batchEvent("x", "plain")
	ctx, err := b.Prepare(context.Background(), nil, []event.Event{x, batchEvent("y", "plain")})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := b.Outcome(ctx, x); ok {
		t.Error("an outcome of a batch Apply did not apply; want none")
	}
}

// With a Lock, the locks come first in every batch of two or more events,
// planned or not: Lock gets the sorted keys and every value, its plan
// function replaces Plan, Apply locks nothing more and runs for a single
// plan, and the handlers can tell the locks are held.
func TestBatchLockComesFirstAndPlansFromWhatItRead(t *testing.T) {
	b := newTestBatch(true)
	var order []string
	b.Lock = func(_ context.Context, _ *gorm.DB, keys []string, values []event.Event) (func(context.Context, event.Event) (string, bool), error) {
		order = append(order, "lock")
		b.locked = append(b.locked, keys)
		b.values = append(b.values, len(values))
		return func(_ context.Context, e event.Event) (string, bool) {
			order = append(order, "plan "+e.Key)
			return "read " + e.Key, e.Type == "plain"
		}, nil
	}
	plain := batchEvent("b", "plain")
	batch := []event.Event{batchEvent("c", "other"), plain, batchEvent("", "other"), batchEvent("a", "other")}
	ctx, err := b.Prepare(context.Background(), nil, batch)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"lock", "plan c", "plan b", "plan a"}; !slices.Equal(order, want) {
		t.Errorf("steps %v; want %v", order, want)
	}
	if len(b.planned) != 0 {
		t.Errorf("Plan called for %v; want Lock's plan function instead", b.planned)
	}
	if len(b.locked) != 1 || !slices.Equal(b.locked[0], []string{"a", "b", "c"}) || b.values[0] != 4 {
		t.Errorf("Lock got keys %v and %v values; want [a b c] and 4", b.locked, b.values)
	}
	if len(b.applied) != 1 || b.lock[0] != nil || !slices.Equal(b.applied[0], []string{"read b"}) {
		t.Errorf("Apply got locks %v and plans %v; want none and [read b]", b.lock, b.applied)
	}
	if p, ok := b.Outcome(ctx, plain); !ok || p.Plan != "read b" {
		t.Errorf("outcome %+v, %v; want plan %q", p, ok, "read b")
	}
	if !b.Locked(ctx) {
		t.Error("Locked false after Lock ran")
	}

	// Nothing to plan: the locks are still taken, and said to be.
	b = newTestBatch(true)
	ctx, err = b.Prepare(context.Background(), nil, []event.Event{batchEvent("a", "other"), batchEvent("b", "other")})
	if err != nil {
		t.Fatal(err)
	}
	if len(b.locked) != 1 || len(b.applied) != 0 || !b.Locked(ctx) {
		t.Errorf("locked %v, applied %v, Locked %v; want locks, no Apply, true", b.locked, b.applied, b.Locked(ctx))
	}
}

// An error of Lock or Apply fails the batch (the consumer then handles its
// events one by one).
func TestBatchErrorsFailTheBatch(t *testing.T) {
	boom := errors.New("boom")
	b := newTestBatch(true)
	b.Lock = func(context.Context, *gorm.DB, []string, []event.Event) (func(context.Context, event.Event) (string, bool), error) {
		return nil, boom
	}
	two := []event.Event{batchEvent("a", "plain"), batchEvent("b", "plain")}
	if _, err := b.Prepare(context.Background(), nil, two); !errors.Is(err, boom) {
		t.Errorf("Lock failing: %v; want %v", err, boom)
	}
	b = newTestBatch(false)
	b.Apply = func(context.Context, *gorm.DB, []string, []string) ([]int, bool, error) { return nil, true, boom }
	if _, err := b.Prepare(context.Background(), nil, two); !errors.Is(err, boom) {
		t.Errorf("Apply failing: %v; want %v", err, boom)
	}
}
