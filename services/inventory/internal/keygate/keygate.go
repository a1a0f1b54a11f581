// Package keygate queues callers per key inside a process: at most Width
// callers hold a key at once, the others wait their turn here.
//
// Inventory uses it in front of hot stock rows. The database serialises
// the writers of one row anyway, through its row lock; queueing them in
// PostgreSQL costs a sleeping backend per waiter, lock-manager work and a
// wake-up with a re-read of the row for each, and on two cores that
// contention, not the writes, is what limits a hot product. Queueing here
// keeps only Width writers of a row inside the database per replica, which
// is enough to overlap one's commit with the next one's statement. Keys
// are taken in a caller's order; callers that take several keys must all
// use one order (product-ID order), so that no two wait on each other.
package keygate

import (
	"context"
	"sync"

	"github.com/google/uuid"
)

// Gate is a set of per-key semaphores, made on first use and dropped when
// no caller holds or waits for them. The zero value is not usable; use New.
type Gate struct {
	width int
	mu    sync.Mutex
	slots map[uuid.UUID]*slot
}

type slot struct {
	sem   chan struct{}
	users int // holding or waiting
}

// New returns a gate letting width callers (at least 1) hold a key at once.
func New(width int) *Gate {
	return &Gate{width: max(width, 1), slots: map[uuid.UUID]*slot{}}
}

// Enter waits until the caller holds every key, taken in the given order,
// and returns the function that releases them. When ctx ends first, it
// releases what it took and returns ctx's error.
func (g *Gate) Enter(ctx context.Context, keys []uuid.UUID) (func(), error) {
	held := make([]*slot, 0, len(keys))
	release := func() {
		for i := len(held) - 1; i >= 0; i-- {
			<-held[i].sem
		}
		g.drop(keys[:len(held)])
	}
	for i, k := range keys {
		s := g.join(k)
		select {
		case s.sem <- struct{}{}:
			held = append(held, s)
		case <-ctx.Done():
			g.drop(keys[i : i+1])
			release()
			return nil, ctx.Err()
		}
	}
	return release, nil
}

func (g *Gate) join(k uuid.UUID) *slot {
	g.mu.Lock()
	defer g.mu.Unlock()
	s, ok := g.slots[k]
	if !ok {
		s = &slot{sem: make(chan struct{}, g.width)}
		g.slots[k] = s
	}
	s.users++
	return s
}

func (g *Gate) drop(keys []uuid.UUID) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, k := range keys {
		s := g.slots[k]
		if s.users--; s.users == 0 {
			delete(g.slots, k)
		}
	}
}

// Len is the number of keys held or waited for.
func (g *Gate) Len() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.slots)
}
