// Package loginthrottle counts failed logins in Redis, per account, per
// client address and per (account, address) pair, shared by every identity
// replica (identity.LoginThrottle).
//
// A count lives for one window from its first failure (a fixed window: the
// count and its TTL are all the state). The domain decides what the counts
// mean (slow down, then refuse; see identity.ThrottlePolicy).
//
// Redis being down must neither lock every user out nor leave guessing
// unbounded: while Redis fails, the counts are kept in this process (per
// replica: with n replicas an attacker gets up to n times the budget, and
// counts from before the outage are not seen) and Redis is not asked again
// for CoolDown. Counts kept here during an outage still count once Redis is
// back, until their window ends. The errors are returned (and logged here,
// at most once per LogEvery) for the caller to ignore.
package loginthrottle

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shop-oss/shop/services/identity/internal/identity"
)

// LogEvery spaces warnings about Redis failures.
const LogEvery = 10 * time.Second

// CoolDown is how long the throttle counts in process without asking Redis
// after Redis failed.
const CoolDown = time.Second

// maxLocalKeys bounds the counts kept in process during an outage.
const maxLocalKeys = 100_000

// Throttle implements identity.LoginThrottle.
type Throttle struct {
	rdb      *redis.Client
	window   time.Duration
	log      *slog.Logger
	lastWarn atomic.Int64
	coolDown atomic.Int64 // unix nanoseconds until which Redis is not asked
	local    *counts
}

// New returns a Throttle whose counts last window from their first failure.
func New(rdb *redis.Client, window time.Duration, log *slog.Logger) *Throttle {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Throttle{rdb: rdb, window: window, log: log, local: newCounts(maxLocalKeys)}
}

// Keys: the account is already a hash of the email (never the address),
// the client an IP address.
func accountKey(account string) string { return "identity:login-failures:account:" + account }
func clientKey(client string) string   { return "identity:login-failures:client:" + client }
func pairKey(account, client string) string {
	return "identity:login-failures:pair:" + account + ":" + client
}

// Pressure implements identity.LoginThrottle.
func (t *Throttle) Pressure(ctx context.Context, account, client string) (identity.LoginPressure, error) {
	keys := []string{accountKey(account), clientKey(client), pairKey(account, client)}
	local := t.local.pressure(keys, time.Now())
	if t.coolingDown() {
		return local, t.unavailable()
	}
	pipe := t.rdb.Pipeline()
	aN := pipe.Get(ctx, keys[0])
	cN, cTTL := pipe.Get(ctx, keys[1]), pipe.PTTL(ctx, keys[1])
	pN, pTTL := pipe.Get(ctx, keys[2]), pipe.PTTL(ctx, keys[2])
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return local, t.failed(ctx, err)
	}
	p := identity.LoginPressure{
		AccountFailures: count(aN),
		ClientFailures:  count(cN), ClientRetryAfter: ttl(cTTL),
		AddressFailures: count(pN), AddressRetryAfter: ttl(pTTL),
	}
	return larger(p, local), nil
}

func count(c *redis.StringCmd) int {
	n, err := c.Int()
	if err != nil {
		return 0
	}
	return n
}

func ttl(c *redis.DurationCmd) time.Duration {
	return max(0, c.Val())
}

// larger is, count by count, the larger of two pressures.
func larger(a, b identity.LoginPressure) identity.LoginPressure {
	return identity.LoginPressure{
		AccountFailures: max(a.AccountFailures, b.AccountFailures),
		ClientFailures:  max(a.ClientFailures, b.ClientFailures), ClientRetryAfter: max(a.ClientRetryAfter, b.ClientRetryAfter),
		AddressFailures: max(a.AddressFailures, b.AddressFailures), AddressRetryAfter: max(a.AddressRetryAfter, b.AddressRetryAfter),
	}
}

// Failed implements identity.LoginThrottle.
func (t *Throttle) Failed(ctx context.Context, account, client string) error {
	keys := []string{accountKey(account), clientKey(client), pairKey(account, client)}
	if t.coolingDown() {
		t.local.add(keys, t.window, time.Now())
		return t.unavailable()
	}
	pipe := t.rdb.TxPipeline()
	for _, k := range keys {
		pipe.Incr(ctx, k)
		pipe.ExpireNX(ctx, k, t.window) // the window starts at the first failure
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.local.add(keys, t.window, time.Now())
		return t.failed(ctx, err)
	}
	return nil
}

// Succeeded implements identity.LoginThrottle.
func (t *Throttle) Succeeded(ctx context.Context, account, client string) error {
	keys := []string{accountKey(account), pairKey(account, client)}
	t.local.clear(keys)
	if t.coolingDown() {
		return t.unavailable()
	}
	if err := t.rdb.Del(ctx, keys...).Err(); err != nil {
		return t.failed(ctx, err)
	}
	return nil
}

func (t *Throttle) coolingDown() bool {
	until := t.coolDown.Load()
	return until != 0 && time.Now().UnixNano() < until
}

// errUnavailable is returned while the throttle counts in process.
var errUnavailable = errors.New("login throttle: Redis unavailable; counting in this process")

func (t *Throttle) unavailable() error { return errUnavailable }

// failed starts a cool-down, logs err (rate limited) and returns it wrapped.
func (t *Throttle) failed(ctx context.Context, err error) error {
	err = fmt.Errorf("login throttle: %w", err)
	if ctx.Err() != nil {
		return err // the caller went away; Redis may be fine
	}
	t.coolDown.Store(time.Now().Add(CoolDown).UnixNano())
	now := time.Now().UnixNano()
	last := t.lastWarn.Load()
	if now-last >= int64(LogEvery) && t.lastWarn.CompareAndSwap(last, now) {
		t.log.WarnContext(ctx, "login throttle unavailable; counting failed logins in this process", "error", err.Error())
	}
	return err
}

// counts are fixed-window failure counts kept in process, bounded: when
// full, expired counts go first, then arbitrary ones (an attacker who
// floods distinct keys to push a count out gets at most a fresh window on
// one replica).
type counts struct {
	mu      sync.Mutex
	max     int
	entries map[string]localCount
}

type localCount struct {
	n       int
	expires time.Time
}

func newCounts(maxKeys int) *counts { return &counts{max: maxKeys, entries: map[string]localCount{}} }

// pressure reads account, client and pair counts (keys in that order).
func (c *counts) pressure(keys []string, now time.Time) identity.LoginPressure {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) == 0 {
		return identity.LoginPressure{}
	}
	get := func(k string) (int, time.Duration) {
		e, ok := c.entries[k]
		if !ok || !now.Before(e.expires) {
			return 0, 0
		}
		return e.n, e.expires.Sub(now)
	}
	var p identity.LoginPressure
	p.AccountFailures, _ = get(keys[0])
	p.ClientFailures, p.ClientRetryAfter = get(keys[1])
	p.AddressFailures, p.AddressRetryAfter = get(keys[2])
	return p
}

func (c *counts) add(keys []string, window time.Duration, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, k := range keys {
		e, ok := c.entries[k]
		if !ok || !now.Before(e.expires) {
			if !ok && len(c.entries) >= c.max {
				c.evict(now)
			}
			e = localCount{expires: now.Add(window)}
		}
		e.n++
		c.entries[k] = e
	}
}

// evict makes room: expired counts, or else one arbitrary count.
func (c *counts) evict(now time.Time) {
	for k, e := range c.entries {
		if !now.Before(e.expires) {
			delete(c.entries, k)
		}
	}
	for k := range c.entries {
		if len(c.entries) < c.max {
			return
		}
		delete(c.entries, k)
	}
}

func (c *counts) clear(keys []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, k := range keys {
		delete(c.entries, k)
	}
}
