package consumer

import (
	"context"
	"slices"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/shop-oss/shop/pkg/event"
)

// Batch is the one way a service applies the usual case of a batch's
// events at once, before their handlers run (its Prepare is the
// consumer's Preparer): it reads each event's key (the order it is
// about), takes the locks of every key of the batch in one global order,
// plans the events that are alone on their key, applies the plans
// together (one pipeline: one round trip instead of one or more each),
// and hands each handler the outcome of its event (Outcome). Events of a
// key with several events in the batch are never planned: their handlers
// apply them one after the other, so one key's events keep their order.
//
// The service supplies Key, Plan and Apply (and Lock when its locks must
// read something before it can plan); the fields hold no per-batch state,
// so one Batch serves every worker. V is what Key reads of an event, P a
// plan, O what applying a plan did.
type Batch[V, P, O any] struct {
	// Key reads e: the key its change is about (an order ID), or "" when
	// it has none (it is then neither counted, locked nor planned), and
	// the value Plan and the handler need. ok false leaves e out of the
	// batch altogether: a type the batch does not read, or an event its
	// handler refuses.
	Key func(e event.Event) (key string, v V, ok bool)

	// Lock, when set, takes the batch's locks first, in a statement of
	// its own: keys are every key of the batch, sorted and once each;
	// values are every event's value Key accepted, in batch order (for
	// locks beyond the keys, such as the products of an order's lines).
	// It returns the plan function for this batch, which may use what the
	// locks read (nil: Plan). It runs for every batch of two or more
	// events, planned or not, and Apply is then given no keys to lock.
	//
	// When Lock is nil, Apply takes the locks in its pipeline's first
	// statement: locks and changes in one round trip.
	Lock func(ctx context.Context, tx *gorm.DB, keys []string, values []V) (plan func(context.Context, V) (P, bool), err error)

	// Plan is the usual-case change of v, an event alone on its key; ok
	// false when there is none (the handler applies the event). ctx is the
	// batch's (for a plan made by running the use case on a store that
	// only records what it would send).
	Plan func(ctx context.Context, v V) (P, bool)

	// Apply runs in the batch's transaction: it first locks lock (the
	// sorted keys of the whole batch; nil when Lock took them), then
	// applies plans, in order, at once. out[i] is what plans[i] did.
	// applied false means nothing ran (the transaction cannot pipeline):
	// each handler then applies its own event. It runs for two plans or
	// more (one is no faster at once), or one when Lock holds the locks.
	Apply func(ctx context.Context, tx *gorm.DB, lock []string, plans []P) (out []O, applied bool, err error)
}

// Prepared is what the batch did for one event, as its handler gets it
// from Outcome: the value Key read, the plan and its outcome.
type Prepared[V, P, O any] struct {
	Value V
	Plan  P
	Out   O
}

// prepared is what a Batch left in its handlers' context: the outcomes by
// event ID. It lives and dies with the batch's context, so a batch that
// fails (and is then handled event by event) leaves none behind.
type prepared[V, P, O any] map[uuid.UUID]Prepared[V, P, O]

type preparedKey struct{}

// keyed is one event that Key accepted.
type keyed[V any] struct {
	id  uuid.UUID
	key string
	v   V
}

// Prepare is b as the consumer's Preparer (PrepareBatches(b.Prepare)).
// A batch of one event is left to its handler.
func (b *Batch[V, P, O]) Prepare(ctx context.Context, tx *gorm.DB, batch []event.Event) (context.Context, error) {
	if len(batch) < 2 {
		return ctx, nil
	}
	events := make([]keyed[V], 0, len(batch))
	perKey := map[string]int{}
	for _, e := range batch {
		key, v, ok := b.Key(e)
		if !ok {
			continue
		}
		events = append(events, keyed[V]{id: e.ID, key: key, v: v})
		if key != "" {
			perKey[key]++
		}
	}
	keys := make([]string, 0, len(perKey))
	for k := range perKey {
		keys = append(keys, k)
	}
	slices.Sort(keys)

	plan, lock, minPlans := b.Plan, keys, 2
	if b.Lock != nil {
		values := make([]V, len(events))
		for i, ev := range events {
			values[i] = ev.v
		}
		locked, err := b.Lock(ctx, tx, keys, values)
		if err != nil {
			return ctx, err
		}
		if locked != nil {
			plan = locked
		}
		lock, minPlans = nil, 1
	}
	out := prepared[V, P, O]{}
	if b.Lock != nil {
		// Its presence tells the handlers the locks are held (Locked).
		ctx = context.WithValue(ctx, preparedKey{}, out)
	}
	var plans []P
	var planned []keyed[V]
	for _, ev := range events {
		if ev.key == "" || perKey[ev.key] != 1 {
			continue
		}
		if p, ok := plan(ctx, ev.v); ok {
			plans = append(plans, p)
			planned = append(planned, ev)
		}
	}
	if len(plans) < minPlans {
		return ctx, nil // each handler applies its own
	}
	outs, applied, err := b.Apply(ctx, tx, lock, plans)
	if err != nil || !applied {
		return ctx, err
	}
	for i, ev := range planned {
		out[ev.id] = Prepared[V, P, O]{Value: ev.v, Plan: plans[i], Out: outs[i]}
	}
	if b.Lock == nil {
		ctx = context.WithValue(ctx, preparedKey{}, out)
	}
	return ctx, nil
}

// Outcome is what the batch did for e, for e's handler to finish from;
// false when the batch left e to it (Plan had no usual case, its key had
// other events in the batch, or the batch was not prepared).
func (b *Batch[V, P, O]) Outcome(ctx context.Context, e event.Event) (Prepared[V, P, O], bool) {
	out, _ := ctx.Value(preparedKey{}).(prepared[V, P, O])
	p, ok := out[e.ID]
	return p, ok
}

// Locked reports whether ctx is a batch's whose Lock ran: the locks of
// every event in it are held already (and whatever Lock did with them,
// such as dropping cache entries, is done).
func (b *Batch[V, P, O]) Locked(ctx context.Context) bool {
	_, ok := ctx.Value(preparedKey{}).(prepared[V, P, O])
	return ok && b.Lock != nil
}
