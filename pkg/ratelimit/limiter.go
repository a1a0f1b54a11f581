package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
)

// LogEvery is the least time between two warnings about Redis failures of
// one Limiter; failures in between are counted and reported with the next.
const LogEvery = 10 * time.Second

// CoolDown is how long a limiter allows requests without asking Redis after
// Redis failed.
const CoolDown = time.Second

// ErrUnavailable is returned (with an allowing Result) while the limiter is
// cooling down after a Redis failure.
var ErrUnavailable = errors.New("rate limiter unavailable")

// ErrInvalidLimit is returned for a limit without a positive rate, burst
// and period.
var ErrInvalidLimit = errors.New("invalid rate limit")

// Limiter is a named rate limiter backed by Redis. It is safe for
// concurrent use. Use one Limiter (one name) per limit: two limits applied
// to the same key of the same Limiter would share, and corrupt, one budget.
type Limiter struct {
	rl       *redis_rate.Limiter
	name     string
	log      *slog.Logger
	rejected prometheus.Counter
	failures prometheus.Counter

	lastWarn   atomic.Int64 // unix nanoseconds of the last warning
	coolDown   atomic.Int64 // unix nanoseconds until which Redis is not asked
	suppressed atomic.Int64 // failures not logged since
	// local decides while Redis is unreachable.
	local *local
}

// Result is the outcome of one Allow.
type Result struct {
	// Limit is the limit applied.
	Limit redis_rate.Limit
	// Allowed reports whether the event may happen now.
	Allowed bool
	// Remaining is how many more events the key may have right now.
	Remaining int
	// RetryAfter is how long until the next event is allowed (when
	// Allowed is false).
	RetryAfter time.Duration
	// ResetAfter is how long until the key's full budget is back.
	ResetAfter time.Duration
	// Remaining, RetryAfter and ResetAfter are -1 when Allow failed open
	// (an invalid limit). While Redis is unreachable they are the
	// in-process limiter's.
}

// New returns a Limiter named name (e.g. "api" or "login") over rdb. Its
// counters are registered with reg (nil skips registration); log (nil
// discards) receives the warnings about Redis failures.
func New(rdb *redis.Client, name string, reg prometheus.Registerer, log *slog.Logger) *Limiter {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m := newMetrics(reg, log)
	return &Limiter{
		rl:       redis_rate.NewLimiter(rdb),
		name:     name,
		log:      log,
		rejected: m.rejected.WithLabelValues(name),
		failures: m.failures.WithLabelValues(name),
		local:    newLocal(maxLocalKeys),
	}
}

// Name is the limiter's name.
func (l *Limiter) Name() string { return l.name }

// Allow spends one event of key's budget under limit. The key is scoped by
// the limiter's name, so "user:42" of the "login" and "api" limiters are
// independent.
//
// On a Redis failure Allow decides in process (the same limit, kept by
// this replica) and returns that Result with the error, which tells
// callers that the budget is not shared right now. The failure is counted
// and logged here; callers need not log it again.
func (l *Limiter) Allow(ctx context.Context, key string, limit redis_rate.Limit) (Result, error) {
	res, _, err := l.allow(ctx, key, limit, 1)
	return res, err
}

// allow is Allow for up to n events at once (n > 1: as many as the budget
// has, at least one, or none); granted is how many it spent in Redis (0
// when it failed open).
func (l *Limiter) allow(ctx context.Context, key string, limit redis_rate.Limit, n int) (r Result, granted int, err error) {
	open := Result{Limit: limit, Allowed: true, Remaining: -1, RetryAfter: -1, ResetAfter: -1}
	if limit.Rate <= 0 || limit.Burst <= 0 || limit.Period <= 0 {
		err := fmt.Errorf("rate limit %s: %w: %s", l.name, ErrInvalidLimit, limit)
		l.failed(ctx, err)
		return open, 0, err
	}
	// After a Redis failure, skip Redis for a cool-down instead of making
	// every request wait for its own timeout while Redis is down.
	if until := l.coolDown.Load(); until != 0 && time.Now().UnixNano() < until {
		l.failures.Inc()
		return l.inProcess(key, limit), 0, fmt.Errorf("rate limit %s: %w", l.name, ErrUnavailable)
	}
	var res *redis_rate.Result
	if n > 1 {
		res, err = l.rl.AllowAtMost(ctx, l.name+":"+key, limit, n)
	} else {
		res, err = l.rl.Allow(ctx, l.name+":"+key, limit)
	}
	if err != nil {
		err = fmt.Errorf("rate limit %s: %w", l.name, err)
		if !errors.Is(ctx.Err(), context.Canceled) { // else the caller went away
			l.coolDown.Store(time.Now().Add(CoolDown).UnixNano())
			l.failed(ctx, err)
		}
		return l.inProcess(key, limit), 0, err
	}
	r = Result{Limit: limit, Allowed: res.Allowed > 0, Remaining: res.Remaining,
		RetryAfter: res.RetryAfter, ResetAfter: res.ResetAfter}
	if !r.Allowed {
		l.rejected.Inc()
	}
	return r, res.Allowed, nil
}

// inProcess decides one event of key under limit in this process.
func (l *Limiter) inProcess(key string, limit redis_rate.Limit) Result {
	r := l.local.allow(key, limit, time.Now())
	if !r.Allowed {
		l.rejected.Inc()
	}
	return r
}

// Reset restores key's full budget (after a successful login, say).
func (l *Limiter) Reset(ctx context.Context, key string) error {
	if err := l.rl.Reset(ctx, l.name+":"+key); err != nil {
		return fmt.Errorf("rate limit %s: reset: %w", l.name, err)
	}
	return nil
}

// failed counts a failure and logs it, at most once per LogEvery.
func (l *Limiter) failed(ctx context.Context, err error) {
	l.failures.Inc()
	now := time.Now().UnixNano()
	last := l.lastWarn.Load()
	if now-last < int64(LogEvery) || !l.lastWarn.CompareAndSwap(last, now) {
		l.suppressed.Add(1)
		return
	}
	l.log.WarnContext(ctx, "rate limiter's Redis unavailable; limiting in this process",
		"limiter", l.name, "error", err.Error(), "suppressed", l.suppressed.Swap(0))
}
