package ratelimit_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/go-redis/redis_rate/v10"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/shop-oss/shop/pkg/logging"
	"github.com/shop-oss/shop/pkg/problem"
	"github.com/shop-oss/shop/pkg/ratelimit"
	"github.com/shop-oss/shop/pkg/testkit"
)

func TestMiddleware429AfterBurstWithRetryAfter(t *testing.T) {
	srv := testkit.Redis(t)
	reg := prometheus.NewRegistry()
	e := newEngine(ratelimit.New(srv.Client, "api", reg, nil), redis_rate.PerMinute(3), ratelimit.ByClientIP)

	for i := range 3 {
		rec := get(e, "10.0.0.1", "")
		if rec.Code != http.StatusOK {
			t.Fatalf("request %d: status %d: %s", i+1, rec.Code, rec.Body)
		}
		if got := rec.Header().Get(ratelimit.HeaderLimit); got != "3" {
			t.Errorf("RateLimit-Limit = %q", got)
		}
		if got, want := rec.Header().Get(ratelimit.HeaderRemaining), strconv.Itoa(2-i); got != want {
			t.Errorf("request %d: RateLimit-Remaining = %q, want %s", i+1, got, want)
		}
	}

	rec := get(e, "10.0.0.1", "")
	if rec.Code != http.StatusTooManyRequests {
		t.Fatalf("4th request: status %d", rec.Code)
	}
	// PerMinute(3): one event every 20s.
	if ra, err := strconv.Atoi(rec.Header().Get(ratelimit.HeaderRetryAfter)); err != nil || ra < 19 || ra > 20 {
		t.Errorf("Retry-After = %q, want 19..20", rec.Header().Get(ratelimit.HeaderRetryAfter))
	}
	if rec.Header().Get(ratelimit.HeaderLimit) != "3" || rec.Header().Get(ratelimit.HeaderRemaining) != "0" {
		t.Errorf("RateLimit headers on 429: %v", rec.Header())
	}
	var p problem.Problem
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || rec.Header().Get("Content-Type") != problem.ContentType {
		t.Fatalf("not a problem: %v: %s", err, rec.Body)
	}
	if p.Type != problem.TypePrefix+ratelimit.SlugRateLimited || p.Status != http.StatusTooManyRequests {
		t.Errorf("problem = %+v", p)
	}
	if got := counter(t, reg, "ratelimit_rejected_total", "api"); got != 1 {
		t.Errorf("ratelimit_rejected_total = %v, want 1", got)
	}
}

func TestMiddlewareRetryAfterIsAtLeastOneSecond(t *testing.T) {
	srv := testkit.Redis(t)
	e := newEngine(ratelimit.New(srv.Client, "api", nil, nil), redis_rate.PerSecond(5), ratelimit.ByClientIP)

	var rec *httptest.ResponseRecorder
	for range 6 {
		rec = get(e, "10.0.0.1", "")
	}
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get(ratelimit.HeaderRetryAfter) != "1" {
		t.Fatalf("status %d, Retry-After %q; want 429 and 1 (200ms rounded up)", rec.Code, rec.Header().Get(ratelimit.HeaderRetryAfter))
	}
}

// Replicas have their own Limiter and Redis client but one Redis.
func TestReplicasShareTheBudget(t *testing.T) {
	srv := testkit.Redis(t)
	replica := func() *gin.Engine {
		rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
		t.Cleanup(func() { _ = rdb.Close() })
		return newEngine(ratelimit.New(rdb, "api", prometheus.NewRegistry(), nil), redis_rate.PerMinute(4), ratelimit.ByClientIP)
	}
	a, b := replica(), replica()

	for i, e := range []*gin.Engine{a, b, a, b} {
		if rec := get(e, "10.0.0.1", ""); rec.Code != http.StatusOK {
			t.Fatalf("request %d: status %d", i+1, rec.Code)
		}
	}
	for name, e := range map[string]*gin.Engine{"a": a, "b": b} {
		if rec := get(e, "10.0.0.1", ""); rec.Code != http.StatusTooManyRequests {
			t.Fatalf("replica %s after the shared budget: status %d", name, rec.Code)
		}
	}
}

func TestKeysAreIndependentPerClient(t *testing.T) {
	srv := testkit.Redis(t)
	lim := ratelimit.New(srv.Client, "api", nil, nil)
	byIP := newEngine(lim, redis_rate.PerMinute(2), ratelimit.ByClientIP)

	get(byIP, "10.0.0.1", "")
	get(byIP, "10.0.0.1", "")
	if rec := get(byIP, "10.0.0.1", ""); rec.Code != http.StatusTooManyRequests {
		t.Fatalf("client 1 over budget: status %d", rec.Code)
	}
	if rec := get(byIP, "10.0.0.2", ""); rec.Code != http.StatusOK || rec.Header().Get(ratelimit.HeaderRemaining) != "1" {
		t.Fatalf("client 2: status %d, remaining %s", rec.Code, rec.Header().Get(ratelimit.HeaderRemaining))
	}
}

func TestByUserOrIPKeysByUserWhenAuthenticated(t *testing.T) {
	srv := testkit.Redis(t)
	e := newEngine(ratelimit.New(srv.Client, "user-api", nil, nil), redis_rate.PerMinute(2), ratelimit.ByUserOrIP)

	// One user from two addresses shares a budget...
	get(e, "10.0.0.1", "user-a")
	get(e, "10.0.0.2", "user-a")
	if rec := get(e, "10.0.0.3", "user-a"); rec.Code != http.StatusTooManyRequests {
		t.Fatalf("user a over budget: status %d", rec.Code)
	}
	// ...that neither another user nor an anonymous client on the same
	// address touches.
	if rec := get(e, "10.0.0.1", "user-b"); rec.Code != http.StatusOK {
		t.Fatalf("user b: status %d", rec.Code)
	}
	if rec := get(e, "10.0.0.1", ""); rec.Code != http.StatusOK {
		t.Fatalf("anonymous: status %d", rec.Code)
	}
}

func TestEmptyKeyIsNotLimited(t *testing.T) {
	srv := testkit.Redis(t)
	e := newEngine(ratelimit.New(srv.Client, "api", nil, nil), redis_rate.PerMinute(1),
		func(*gin.Context) string { return "" })
	for range 3 {
		if rec := get(e, "10.0.0.1", ""); rec.Code != http.StatusOK || rec.Header().Get(ratelimit.HeaderLimit) != "" {
			t.Fatalf("status %d, headers %v", rec.Code, rec.Header())
		}
	}
}

// While Redis is down the middleware keeps serving and keeps limiting, in
// process: a client that spends its budget is refused as before; another
// client is not. The failures are counted and logged once.
func TestLimitsInProcessWhileRedisIsDown(t *testing.T) {
	srv := testkit.Redis(t)
	reg := prometheus.NewRegistry()
	var logs testkit.LogBuffer
	lim := ratelimit.New(srv.Client, "api", reg, logging.New(&logs, slog.LevelInfo, "test"))
	e := newEngine(lim, redis_rate.PerMinute(3), ratelimit.ByClientIP)
	get(e, "10.0.0.1", "") // one event spent in Redis

	srv.Stop()
	for i := range 3 {
		rec := get(e, "10.0.0.1", "")
		if rec.Code != http.StatusOK {
			t.Fatalf("request %d with Redis down: status %d: %s", i+1, rec.Code, rec.Body)
		}
		if rec.Header().Get(ratelimit.HeaderLimit) != "3" || rec.Header().Get(ratelimit.HeaderRemaining) != strconv.Itoa(2-i) {
			t.Errorf("request %d: headers with Redis down: %v", i+1, rec.Header())
		}
	}
	rec := get(e, "10.0.0.1", "")
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get(ratelimit.HeaderRetryAfter) == "" {
		t.Fatalf("4th request with Redis down: status %d, headers %v; want 429 with Retry-After", rec.Code, rec.Header())
	}
	if rec := get(e, "10.0.0.2", ""); rec.Code != http.StatusOK {
		t.Fatalf("another client with Redis down: status %d", rec.Code)
	}
	if got := counter(t, reg, "ratelimit_errors_total", "api"); got != 5 {
		t.Errorf("ratelimit_errors_total = %v, want 5", got)
	}
	if got := counter(t, reg, "ratelimit_rejected_total", "api"); got != 1 {
		t.Errorf("ratelimit_rejected_total = %v, want 1", got)
	}
	if n := strings.Count(logs.String(), "Redis unavailable; limiting in this process"); n != 1 {
		t.Errorf("%d warnings for 5 failures, want 1 (rate-limited):\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), `"level":"WARN"`) {
		t.Errorf("failure not logged at warn:\n%s", logs.String())
	}

	srv.Start() // an empty Redis: the budget starts afresh
	time.Sleep(ratelimit.CoolDown + 100*time.Millisecond)
	if rec := get(e, "10.0.0.1", ""); rec.Code != http.StatusOK || rec.Header().Get(ratelimit.HeaderRemaining) != "2" {
		t.Fatalf("after Redis came back: status %d, headers %v; want Redis's fresh budget", rec.Code, rec.Header())
	}
	if n := srv.ScriptRuns(t); n != 1 {
		t.Fatalf("%d limits decided in Redis after it came back, want 1", n)
	}
}

func TestClientKeyIsTheIPv4AddressOrTheIPv6Slash64(t *testing.T) {
	for ip, want := range map[string]string{
		"203.0.113.7":                   "ip:203.0.113.7",
		"::ffff:203.0.113.7":            "ip:203.0.113.7",
		"2001:db8:1:2:3:4:5:6":          "ip:2001:db8:1:2::/64",
		"2001:db8:1:2:ffff:ffff:ffff:1": "ip:2001:db8:1:2::/64",
		"2001:db8:1:3::1":               "ip:2001:db8:1:3::/64",
		"fe80::1%eth0":                  "ip:fe80::/64",
		"::1":                           "ip:::/64",
	} {
		if got := ratelimit.ClientKey(ip); got != want {
			t.Errorf("ClientKey(%s) = %s, want %s", ip, got, want)
		}
	}
}

// An IPv6 client cannot get a fresh budget by changing the low 64 bits of
// its address: the /64 shares one; another /64 has its own.
func TestMiddlewareLimitsIPv6ClientsPerSlash64(t *testing.T) {
	srv := testkit.Redis(t)
	e := newEngine(ratelimit.New(srv.Client, "api", prometheus.NewRegistry(), nil), redis_rate.PerMinute(2), ratelimit.ByClientIP)
	for i, ip := range []string{"[2001:db8:1:2::1]", "[2001:db8:1:2::2]", "[2001:db8:1:2:abcd::3]"} {
		want := http.StatusOK
		if i == 2 {
			want = http.StatusTooManyRequests
		}
		if rec := get(e, ip, ""); rec.Code != want {
			t.Fatalf("request %d from %s: %d, want %d", i+1, ip, rec.Code, want)
		}
	}
	if rec := get(e, "[2001:db8:1:3::1]", ""); rec.Code != http.StatusOK {
		t.Fatalf("another /64: %d", rec.Code)
	}
}
