package ratelimit

import (
	"context"
	"sync"
	"time"

	"github.com/go-redis/redis_rate/v10"
)

// maxHeldKeys bounds how many keys a Batched holds events for, so that a
// flood of distinct keys (client IPs) cannot grow it without end: past it,
// a batch's leftover events are given up instead of held.
const maxHeldKeys = 10_000

// Batched spends a key's budget in Redis a batch of events at a time and
// hands the batch out in this process, so that a busy key costs one Redis
// call per batch instead of one per request (a round trip for the service
// and a script run for Redis: about a tenth of a millisecond of CPU each,
// measured in scripts/loadgen).
//
// The budget stays shared: every event is spent in Redis before it is
// handed out, so all replicas together never allow more than the limit. A
// replica may hold up to size-1 events of a key for up to hold; events it
// has not handed out by then are lost to the key, which only errs on the
// strict side. Remaining and ResetAfter of an event handed out here are
// Redis's figures when its batch was taken, less what was handed out since.
//
// Use it for generous limits (the per-client API budget): for a strict one
// (logins per account) take size 1, which is Limiter.Allow.
type Batched struct {
	l     *Limiter
	limit redis_rate.Limit
	size  int
	hold  time.Duration
	// maxKeys is maxHeldKeys (smaller in tests).
	maxKeys int

	mu      sync.Mutex
	held    map[string]*heldEvents
	sweptAt time.Time
}

// heldEvents are the events of one key taken from Redis and not handed out.
type heldEvents struct {
	left      int
	until     time.Time // when the events left are given up
	remaining int       // Redis's Remaining when they were taken
	resetAt   time.Time
}

// Batched returns a Batched over l for limit, taking up to size events per
// Redis call and holding the unspent ones for up to hold.
func (l *Limiter) Batched(limit redis_rate.Limit, size int, hold time.Duration) *Batched {
	return &Batched{l: l, limit: limit, size: max(1, size), hold: hold, maxKeys: maxHeldKeys, held: map[string]*heldEvents{}}
}

// Allow spends one event of key's budget: one this process holds, else a
// batch from Redis. Failures are Limiter.Allow's: it fails open with the
// error.
func (b *Batched) Allow(ctx context.Context, key string) (Result, error) {
	if r, ok := b.take(key, time.Now()); ok {
		return r, nil
	}
	r, granted, err := b.l.allow(ctx, key, b.limit, b.size)
	if err != nil || granted <= 1 {
		return r, err
	}
	b.keep(key, granted-1, r, time.Now())
	r.Remaining += granted - 1 // held here, for this key's next requests
	return r, nil
}

// take hands out one held event of key, if there is one.
func (b *Batched) take(key string, now time.Time) (Result, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	h := b.held[key]
	if h == nil || h.left == 0 || !now.Before(h.until) {
		return Result{}, false
	}
	h.left--
	return Result{Limit: b.limit, Allowed: true, Remaining: h.remaining + h.left,
		RetryAfter: -1, ResetAfter: max(0, h.resetAt.Sub(now))}, true
}

// keep holds n events of key, taken from Redis with result r at now.
func (b *Batched) keep(key string, n int, r Result, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	// Expired keys are swept at most once per hold, so that a full map
	// (a flood of distinct keys) costs no sweep per request.
	if now.Sub(b.sweptAt) >= b.hold {
		for k, h := range b.held {
			if !now.Before(h.until) {
				delete(b.held, k)
			}
		}
		b.sweptAt = now
	}
	h := b.held[key]
	if h == nil {
		if len(b.held) >= b.maxKeys {
			return
		}
		h = &heldEvents{}
		b.held[key] = h
	}
	if !now.Before(h.until) {
		h.left = 0
	}
	// Concurrent requests that found nothing held may each have taken a
	// batch: the events add up, and the newest figures describe them.
	h.left += n
	h.until = now.Add(b.hold)
	h.remaining = r.Remaining
	h.resetAt = now.Add(r.ResetAfter)
}
