package ratelimit_test

import (
	"errors"
	"testing"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/shop-oss/shop/pkg/ratelimit"
	"github.com/shop-oss/shop/pkg/testkit"
)

func TestAllow(t *testing.T) {
	srv := testkit.Redis(t)
	reg := prometheus.NewRegistry()
	logins := ratelimit.New(srv.Client, "login", reg, nil)
	api := ratelimit.New(srv.Client, "api", reg, nil) // shares the registered counters
	limit := redis_rate.PerHour(2)
	ctx := t.Context()

	for i := range 2 {
		res, err := logins.Allow(ctx, "account:alice", limit)
		if err != nil || !res.Allowed || res.Remaining != 1-i {
			t.Fatalf("attempt %d: %+v, %v", i+1, res, err)
		}
	}
	res, err := logins.Allow(ctx, "account:alice", limit)
	if err != nil || res.Allowed || res.RetryAfter < 29*time.Minute || res.RetryAfter > 30*time.Minute {
		t.Fatalf("3rd attempt: %+v, %v; want denied, retry in ~30m", res, err)
	}
	if res, err := logins.Allow(ctx, "account:bob", limit); err != nil || !res.Allowed {
		t.Fatalf("another account: %+v, %v", res, err)
	}
	if res, err := api.Allow(ctx, "account:alice", limit); err != nil || !res.Allowed {
		t.Fatalf("same key, another limiter: %+v, %v", res, err)
	}
	if err := logins.Reset(ctx, "account:alice"); err != nil {
		t.Fatal(err)
	}
	if res, err := logins.Allow(ctx, "account:alice", limit); err != nil || !res.Allowed {
		t.Fatalf("after Reset: %+v, %v", res, err)
	}
	if got := counter(t, reg, "ratelimit_rejected_total", "login"); got != 1 {
		t.Errorf("ratelimit_rejected_total{login} = %v, want 1", got)
	}

	res, err = logins.Allow(ctx, "account:alice", redis_rate.Limit{})
	if !errors.Is(err, ratelimit.ErrInvalidLimit) || !res.Allowed {
		t.Fatalf("zero limit: %+v, %v", res, err)
	}
}

// With Redis down Allow decides in process, with the error.
func TestAllowDecidesInProcessWithError(t *testing.T) {
	srv := testkit.Redis(t)
	reg := prometheus.NewRegistry()
	lim := ratelimit.New(srv.Client, "login", reg, nil)
	srv.Stop()

	res, err := lim.Allow(t.Context(), "account:alice", redis_rate.PerHour(1))
	if err == nil || !res.Allowed || res.Remaining != 0 {
		t.Fatalf("Allow with Redis down = %+v, %v; want allowed, nothing left, with an error", res, err)
	}
	if got := counter(t, reg, "ratelimit_errors_total", "login"); got != 1 {
		t.Errorf("ratelimit_errors_total = %v, want 1", got)
	}
}

// After a failure the limiter does not ask Redis again for CoolDown: a
// Redis that is back is used again only after it.
func TestAllowCoolsDownAfterAFailure(t *testing.T) {
	srv := testkit.Redis(t)
	lim := ratelimit.New(srv.Client, "login", nil, nil)
	srv.Stop()
	if _, err := lim.Allow(t.Context(), "k", redis_rate.PerHour(1)); err == nil || errors.Is(err, ratelimit.ErrUnavailable) {
		t.Fatalf("first failure: want the Redis error, got %v", err)
	}
	srv.Start()
	if res, err := lim.Allow(t.Context(), "k2", redis_rate.PerHour(1)); !errors.Is(err, ratelimit.ErrUnavailable) || !res.Allowed {
		t.Fatalf("during the cool-down: want an in-process decision with ErrUnavailable, got %+v %v", res, err)
	}
	if res, _ := lim.Allow(t.Context(), "k2", redis_rate.PerHour(1)); res.Allowed {
		t.Fatalf("during the cool-down, over the limit: %+v, want refused in process", res)
	}
	time.Sleep(ratelimit.CoolDown + 100*time.Millisecond)
	if _, err := lim.Allow(t.Context(), "k", redis_rate.PerHour(1)); err != nil {
		t.Fatalf("after the cool-down Redis is asked again: %v", err)
	}
}
