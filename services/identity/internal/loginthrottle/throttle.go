// Package loginthrottle counts failed logins in Redis, per account and per
// client, shared by every identity replica (identity.LoginThrottle).
//
// A count lives for one window from its first failure (a fixed window: the
// count and its TTL are all the state). The domain decides what the counts
// mean (slow down, then refuse; see identity.ThrottlePolicy). Redis being
// down must not lock every user out, so every method fails open: it reports
// no failures and returns the error, which is also logged here, at most
// once per LogEvery.
package loginthrottle

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shop-oss/shop/services/identity/internal/identity"
)

// LogEvery spaces warnings about Redis failures.
const LogEvery = 10 * time.Second

// Throttle implements identity.LoginThrottle.
type Throttle struct {
	rdb      *redis.Client
	window   time.Duration
	log      *slog.Logger
	lastWarn atomic.Int64
}

// New returns a Throttle whose counts last window from their first failure.
func New(rdb *redis.Client, window time.Duration, log *slog.Logger) *Throttle {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Throttle{rdb: rdb, window: window, log: log}
}

// Keys: the account is already a hash of the email (never the address),
// the client an IP address.
func accountKey(account string) string { return "identity:login-failures:account:" + account }
func clientKey(client string) string   { return "identity:login-failures:client:" + client }

// Pressure implements identity.LoginThrottle.
func (t *Throttle) Pressure(ctx context.Context, account, client string) (identity.LoginPressure, error) {
	pipe := t.rdb.Pipeline()
	aN, aTTL := pipe.Get(ctx, accountKey(account)), pipe.PTTL(ctx, accountKey(account))
	cN, cTTL := pipe.Get(ctx, clientKey(client)), pipe.PTTL(ctx, clientKey(client))
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return identity.LoginPressure{}, t.failed(ctx, err)
	}
	p := identity.LoginPressure{
		AccountFailures: count(aN), AccountRetryAfter: ttl(aTTL),
		ClientFailures: count(cN), ClientRetryAfter: ttl(cTTL),
	}
	return p, nil
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

// Failed implements identity.LoginThrottle.
func (t *Throttle) Failed(ctx context.Context, account, client string) error {
	pipe := t.rdb.TxPipeline()
	for _, k := range []string{accountKey(account), clientKey(client)} {
		pipe.Incr(ctx, k)
		pipe.ExpireNX(ctx, k, t.window) // the window starts at the first failure
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return t.failed(ctx, err)
	}
	return nil
}

// Succeeded implements identity.LoginThrottle.
func (t *Throttle) Succeeded(ctx context.Context, account string) error {
	if err := t.rdb.Del(ctx, accountKey(account)).Err(); err != nil {
		return t.failed(ctx, err)
	}
	return nil
}

// failed logs err (rate limited) and returns it wrapped.
func (t *Throttle) failed(ctx context.Context, err error) error {
	err = fmt.Errorf("login throttle: %w", err)
	now := time.Now().UnixNano()
	last := t.lastWarn.Load()
	if now-last >= int64(LogEvery) && t.lastWarn.CompareAndSwap(last, now) && ctx.Err() == nil {
		t.log.WarnContext(ctx, "login throttle unavailable; failed logins are not counted", "error", err.Error())
	}
	return err
}
