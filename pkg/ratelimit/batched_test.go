package ratelimit_test

import (
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/shop-oss/shop/pkg/ratelimit"
	"github.com/shop-oss/shop/pkg/testkit"
)

func TestBatchedSpendsABatchPerRedisCall(t *testing.T) {
	srv := testkit.Redis(t)
	lim := ratelimit.New(srv.Client, "api", nil, nil)
	b := lim.Batched(redis_rate.PerMinute(100), 5, time.Minute)
	ctx := t.Context()

	for i := range 5 {
		res, err := b.Allow(ctx, "ip:10.0.0.1")
		if err != nil || !res.Allowed || res.Remaining != 99-i {
			t.Fatalf("request %d: %+v, %v; want allowed, %d remaining", i+1, res, err, 99-i)
		}
	}
	if n := srv.ScriptRuns(t); n != 1 {
		t.Fatalf("5 requests ran %d scripts in Redis, want 1 (one batch)", n)
	}
	// Redis holds the whole batch as spent: an exact limiter on the same
	// key sees 5 gone.
	if res, err := lim.Allow(ctx, "ip:10.0.0.1", redis_rate.PerMinute(100)); err != nil || res.Remaining != 94 {
		t.Fatalf("exact Allow after one batch: %+v, %v; want 94 remaining", res, err)
	}
	if res, err := b.Allow(ctx, "ip:10.0.0.1"); err != nil || !res.Allowed || res.Remaining != 93 {
		t.Fatalf("6th request: %+v, %v; want a new batch, 93 remaining", res, err)
	}
	if n := srv.ScriptRuns(t); n != 3 {
		t.Fatalf("%d scripts run, want 3", n)
	}
	// Another key has its own batch.
	if res, err := b.Allow(ctx, "ip:10.0.0.2"); err != nil || res.Remaining != 99 {
		t.Fatalf("another key: %+v, %v", res, err)
	}
}

// Replicas take batches from one budget: together they allow exactly the
// burst, however the requests are spread, and the last batch is what was
// left.
func TestBatchedReplicasNeverExceedTheLimit(t *testing.T) {
	srv := testkit.Redis(t)
	reg := prometheus.NewRegistry()
	replica := func() *ratelimit.Batched {
		rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
		t.Cleanup(func() { _ = rdb.Close() })
		return ratelimit.New(rdb, "api", reg, nil).Batched(redis_rate.PerHour(23), 10, time.Minute)
	}
	a, b := replica(), replica()
	ctx := t.Context()

	allowed := 0
	for i := range 60 {
		r := a
		if i%3 == 0 {
			r = b
		}
		res, err := r.Allow(ctx, "ip:10.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		if res.Allowed {
			allowed++
			continue
		}
		// PerHour(23): one event every 156.5 s.
		if res.RetryAfter < 150*time.Second || res.RetryAfter > 157*time.Second {
			t.Errorf("request %d denied with RetryAfter %v, want about 156 s", i+1, res.RetryAfter)
		}
	}
	if allowed != 23 {
		t.Fatalf("two replicas allowed %d requests, want exactly the burst of 23", allowed)
	}
	if got := counter(t, reg, "ratelimit_rejected_total", "api"); got != 60-23 {
		t.Errorf("ratelimit_rejected_total = %v, want %d", got, 60-23)
	}
}

func TestBatchedGivesUpHeldEventsAfterHold(t *testing.T) {
	srv := testkit.Redis(t)
	lim := ratelimit.New(srv.Client, "api", nil, nil)
	b := lim.Batched(redis_rate.PerHour(100), 5, 50*time.Millisecond)
	ctx := t.Context()

	if _, err := b.Allow(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(60 * time.Millisecond)
	// The 4 held events are given up: this request takes a new batch.
	if res, err := b.Allow(ctx, "k"); err != nil || res.Remaining != 94 {
		t.Fatalf("after the hold: %+v, %v; want a new batch, 94 remaining", res, err)
	}
}

// Expired events are not carried over into a key's next batch, also when
// no sweep of expired keys ran in between.
func TestBatchedDoesNotCarryExpiredEventsOver(t *testing.T) {
	srv := testkit.Redis(t)
	b := ratelimit.New(srv.Client, "api", nil, nil).Batched(redis_rate.PerHour(1000), 5, 200*time.Millisecond)
	ctx := t.Context()
	allow := func(key string) {
		t.Helper()
		if _, err := b.Allow(ctx, key); err != nil {
			t.Fatal(err)
		}
	}
	allow("a") // sweeps (the first batch does)
	time.Sleep(50 * time.Millisecond)
	allow("k") // 4 held until 250 ms
	time.Sleep(160 * time.Millisecond)
	allow("b") // sweeps at 210 ms or later: k not expired yet, kept
	time.Sleep(60 * time.Millisecond)
	allow("k") // k expired, no sweep since: a new batch, 4 held
	runs := srv.ScriptRuns(t)
	for range 4 {
		allow("k")
	}
	if n := srv.ScriptRuns(t) - runs; n != 0 {
		t.Fatalf("4 requests after a new batch of 5 ran %d scripts, want 0", n)
	}
	allow("k")
	if n := srv.ScriptRuns(t) - runs; n != 1 {
		t.Fatalf("the 5th request after a new batch of 5 ran %d scripts, want 1 (a batch holds 4, not 4 more)", n)
	}
}

// With Redis down a Batched limiter decides each event in process.
func TestBatchedDecidesInProcessWithError(t *testing.T) {
	srv := testkit.Redis(t)
	b := ratelimit.New(srv.Client, "api", nil, nil).Batched(redis_rate.PerHour(2), 5, time.Minute)
	srv.Stop()
	for i := range 2 {
		if res, err := b.Allow(t.Context(), "k"); err == nil || !res.Allowed || res.Remaining != 1-i {
			t.Fatalf("event %d with Redis down = %+v, %v; want allowed in process with an error", i+1, res, err)
		}
	}
	if res, err := b.Allow(t.Context(), "k"); err == nil || res.Allowed {
		t.Fatalf("3rd event with Redis down = %+v, %v; want refused in process", res, err)
	}
}

func TestBatchedMiddlewareHeadersAnd429(t *testing.T) {
	srv := testkit.Redis(t)
	limit := redis_rate.PerMinute(6)
	b := ratelimit.New(srv.Client, "api", nil, nil).Batched(limit, 4, time.Minute)
	e := newEngineWith(b.Middleware(ratelimit.ByClientIP))

	for i := range 6 {
		rec := get(e, "10.0.0.1", "")
		if rec.Code != http.StatusOK {
			t.Fatalf("request %d: status %d", i+1, rec.Code)
		}
		if got, want := rec.Header().Get(ratelimit.HeaderRemaining), strconv.Itoa(5-i); got != want || rec.Header().Get(ratelimit.HeaderLimit) != "6" {
			t.Errorf("request %d: RateLimit-Remaining %q (want %s), RateLimit-Limit %q", i+1, got, want, rec.Header().Get(ratelimit.HeaderLimit))
		}
	}
	rec := get(e, "10.0.0.1", "")
	if rec.Code != http.StatusTooManyRequests {
		t.Fatalf("7th request: status %d", rec.Code)
	}
	// PerMinute(6): one event every 10 s.
	if ra, err := strconv.Atoi(rec.Header().Get(ratelimit.HeaderRetryAfter)); err != nil || ra < 9 || ra > 10 {
		t.Errorf("Retry-After = %q, want 9..10", rec.Header().Get(ratelimit.HeaderRetryAfter))
	}
}

// Past its bound on keys a Batched holds nothing more: a new key's
// leftover events are given up (its requests still pass, a batch each),
// and the keys already held are served as before.
func TestBatchedHoldsABoundedNumberOfKeys(t *testing.T) {
	srv := testkit.Redis(t)
	b := ratelimit.New(srv.Client, "api", nil, nil).Batched(redis_rate.PerHour(1000), 5, time.Minute)
	ratelimit.SetMaxHeldKeys(b, 2)
	for _, k := range []string{"a", "b", "c", "c", "a"} {
		if res, err := b.Allow(t.Context(), k); err != nil || !res.Allowed {
			t.Fatalf("key %s: %+v, %v", k, res, err)
		}
	}
	held := ratelimit.HeldKeys(b)
	slices.Sort(held)
	if !slices.Equal(held, []string{"a", "b"}) {
		t.Fatalf("held keys %v; want [a b]", held)
	}
	// a, b and c twice took a batch each; a's second request was held.
	if n := srv.ScriptRuns(t); n != 4 {
		t.Fatalf("%d scripts run, want 4", n)
	}
}

// Concurrent requests of one key may each take a batch, but never more
// than the budget between them.
func TestBatchedConcurrentRequestsStayWithinTheBudget(t *testing.T) {
	srv := testkit.Redis(t)
	b := ratelimit.New(srv.Client, "api", nil, nil).Batched(redis_rate.PerHour(100), 10, time.Minute)
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				res, err := b.Allow(t.Context(), "ip:10.0.0.1")
				if err != nil {
					t.Error(err)
					return
				}
				if res.Allowed {
					allowed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	// Events a batch took after the others were done may be left held.
	if n := allowed.Load(); n > 100 || n < 50 {
		t.Fatalf("400 concurrent requests, %d allowed; want at most the budget of 100 (and most of it)", n)
	}
}
