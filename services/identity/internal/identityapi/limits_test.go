package identityapi_test

import (
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"
)

func retryAfter(t *testing.T, r response) int {
	t.Helper()
	n, err := strconv.Atoi(r.header.Get("Retry-After"))
	if err != nil || n < 1 {
		t.Fatalf("Retry-After = %q, want whole seconds >= 1", r.header.Get("Retry-After"))
	}
	return n
}

// The /auth routes have per-client limits stricter than the API's.
func TestAuthRateLimits(t *testing.T) {
	t.Parallel()
	f := start(t, map[string]string{
		"SHOP_IDENTITY_LOGIN_PER_MINUTE":    "3",
		"SHOP_IDENTITY_REGISTER_PER_MINUTE": "2",
	})
	body := map[string]any{"email": "nobody@example.com", "password": "whatever-it-is"}
	for i := range 3 {
		expect(t, fmt.Sprint("login ", i), f.post("/api/v1/auth/login", "", body, "X-Forwarded-For", "192.0.2.50"),
			http.StatusUnauthorized)
	}
	r := f.post("/api/v1/auth/login", "", body, "X-Forwarded-For", "192.0.2.50")
	expect(t, "4th login in a minute", r, http.StatusTooManyRequests, "rate-limited")
	if n := retryAfter(t, r); n > 60 {
		t.Errorf("Retry-After %d s, want within the minute", n)
	}
	expect(t, "another client", f.post("/api/v1/auth/login", "", body, "X-Forwarded-For", "192.0.2.51"), http.StatusUnauthorized)

	for i := range 2 {
		reg := map[string]any{"email": fmt.Sprintf("r%d@example.com", i), "password": "a long enough secret", "display_name": "R"}
		expect(t, "register", f.post("/api/v1/auth/register", "", reg, "X-Forwarded-For", "192.0.2.60"), http.StatusCreated)
	}
	reg := map[string]any{"email": "r9@example.com", "password": "a long enough secret", "display_name": "R"}
	r = f.post("/api/v1/auth/register", "", reg, "X-Forwarded-For", "192.0.2.60")
	expect(t, "3rd registration", r, http.StatusTooManyRequests, "rate-limited")
	retryAfter(t, r)
}

// Failed logins on an account never lock it: the address that failed 5
// times is refused (429 with Retry-After) for that account, every attempt
// on the account is slowed down, and the real user's correct password from
// an address that has not been failing still gets in.
func TestLoginThrottlePerAccountAndAddress(t *testing.T) {
	t.Parallel()
	f := start(t, map[string]string{
		"SHOP_IDENTITY_LOGIN_SLOWDOWN":     "100ms",
		"SHOP_IDENTITY_LOGIN_MAX_SLOWDOWN": "400ms",
	})
	victim := f.register("vic", "")
	wrong := map[string]any{"email": victim.email, "password": "guess-number-x"}
	right := map[string]any{"email": victim.email, "password": victim.password}
	const attacker = "192.0.2.66"
	for i := range 5 {
		expect(t, fmt.Sprint("guess ", i), f.post("/api/v1/auth/login", "", wrong, "X-Forwarded-For", attacker),
			http.StatusUnauthorized, "invalid-credentials")
	}
	r := f.post("/api/v1/auth/login", "", right, "X-Forwarded-For", attacker)
	expect(t, "the attacker's address, even with the right password", r, http.StatusTooManyRequests, "login-throttled")
	if n := retryAfter(t, r); n < 800 || n > 900 {
		t.Errorf("Retry-After %d s, want the rest of the 15-minute window", n)
	}
	if n := f.count("SELECT count(*) FROM audit_log WHERE action = 'USER_LOGIN_FAILED' AND details->>'reason' = 'RATE_LIMITED' AND user_id = ?", victim.id); n != 1 {
		t.Errorf("%d RATE_LIMITED records, want 1", n)
	}

	// Many addresses, one guess each: none is refused, but the account
	// slows every attempt down (5 failures so far: 100 ms doubled twice,
	// capped at 400 ms).
	for i := range 10 {
		begin := time.Now()
		expect(t, fmt.Sprint("distributed guess ", i), f.post("/api/v1/auth/login", "", wrong,
			"X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i)), http.StatusUnauthorized, "invalid-credentials")
		if took := time.Since(begin); took < 400*time.Millisecond {
			t.Errorf("guess %d took %s, want at least 400 ms (the account is slowed down)", i, took)
		}
	}
	begin := time.Now()
	r = f.post("/api/v1/auth/login", "", right, "X-Forwarded-For", "203.0.113.7")
	expect(t, "the real user from an address that has not been failing", r, http.StatusOK)
	if took := time.Since(begin); took < 400*time.Millisecond {
		t.Errorf("the real user's login took %s, want the account's slowdown (at least 400 ms)", took)
	}
	expect(t, "the attacker's address after the user's success", f.post("/api/v1/auth/login", "", right,
		"X-Forwarded-For", attacker), http.StatusTooManyRequests, "login-throttled")

	// Another account: 4 failures, a success, 4 more failures: never refused.
	other := f.register("otto", "")
	for round := range 2 {
		for i := range 4 {
			expect(t, fmt.Sprint("round ", round, " failure ", i),
				f.post("/api/v1/auth/login", "", map[string]any{"email": other.email, "password": "nope-nope-nope"}),
				http.StatusUnauthorized, "invalid-credentials")
		}
		f.login(other)
	}
}

// Failures from one client over many accounts slow it down, then stop it.
func TestLoginThrottlePerClient(t *testing.T) {
	t.Parallel()
	f := start(t, map[string]string{
		"SHOP_IDENTITY_LOGIN_MAX_CLIENT_FAILURES": "4",
		"SHOP_IDENTITY_LOGIN_SLOW_AFTER":          "2",
		"SHOP_IDENTITY_LOGIN_SLOWDOWN":            "100ms",
		"SHOP_IDENTITY_LOGIN_MAX_SLOWDOWN":        "400ms",
	})
	good := f.register("gina", "")
	attempt := func(i int) (response, time.Duration) {
		begin := time.Now()
		r := f.post("/api/v1/auth/login", "", map[string]any{"email": fmt.Sprintf("target%d@example.com", i), "password": "spray-password-1"},
			"X-Forwarded-For", "192.0.2.200")
		return r, time.Since(begin)
	}
	for i := range 4 {
		r, took := attempt(i)
		expect(t, fmt.Sprint("spray ", i), r, http.StatusUnauthorized, "invalid-credentials")
		// Attempts after the 2nd failure wait 100 ms, then 200 ms.
		if want := map[int]time.Duration{2: 100 * time.Millisecond, 3: 200 * time.Millisecond}[i]; took < want {
			t.Errorf("attempt %d took %s, want at least %s (slowed down)", i, took, want)
		}
	}
	r, _ := attempt(4)
	expect(t, "5th failure from the client", r, http.StatusTooManyRequests, "login-throttled")
	retryAfter(t, r)
	expect(t, "a good account from that client", f.post("/api/v1/auth/login", "",
		map[string]any{"email": good.email, "password": good.password}, "X-Forwarded-For", "192.0.2.200"),
		http.StatusTooManyRequests, "login-throttled")
	expect(t, "from another client", f.post("/api/v1/auth/login", "",
		map[string]any{"email": good.email, "password": good.password}, "X-Forwarded-For", "192.0.2.201"), http.StatusOK)
}

// With Redis stopped identity keeps serving and keeps limiting, in
// process: the per-client login limit, the failed-login throttle and the
// per-client API budget all still refuse.
func TestLimitsHoldWhileRedisIsDown(t *testing.T) {
	t.Parallel()
	f := start(t, map[string]string{
		"SHOP_IDENTITY_LOGIN_PER_MINUTE": "6",
		"SHOP_RATE_LIMIT_PER_MINUTE":     "40",
	})
	victim := f.register("rita", "")
	f.stack.Redis.Stop()

	// The per-client limit of /auth/login.
	nobody := func(i int) map[string]any {
		return map[string]any{"email": fmt.Sprintf("nobody%d@example.com", i), "password": "whatever-it-is"}
	}
	for i := range 6 {
		expect(t, fmt.Sprint("login ", i), f.post("/api/v1/auth/login", "", nobody(i), "X-Forwarded-For", "192.0.2.70"),
			http.StatusUnauthorized, "invalid-credentials")
	}
	expect(t, "7th login in a minute", f.post("/api/v1/auth/login", "", nobody(6), "X-Forwarded-For", "192.0.2.70"),
		http.StatusTooManyRequests, "rate-limited")

	// The failed-login throttle: 5 failures from an address on an account.
	wrong := map[string]any{"email": victim.email, "password": "guess-number-y"}
	for i := range 5 {
		expect(t, fmt.Sprint("guess ", i), f.post("/api/v1/auth/login", "", wrong, "X-Forwarded-For", "192.0.2.71"),
			http.StatusUnauthorized, "invalid-credentials")
	}
	r := f.post("/api/v1/auth/login", "", map[string]any{"email": victim.email, "password": victim.password},
		"X-Forwarded-For", "192.0.2.71")
	expect(t, "6th attempt from the guessing address", r, http.StatusTooManyRequests, "login-throttled")
	retryAfter(t, r)
	expect(t, "the user from elsewhere", f.post("/api/v1/auth/login", "", map[string]any{"email": victim.email,
		"password": victim.password}, "X-Forwarded-For", "192.0.2.72"), http.StatusOK)

	// The per-client budget of every /api/v1 route.
	refused := 0
	for range 45 {
		if f.get("/api/v1/users/me", "").status == http.StatusTooManyRequests {
			refused++
		}
	}
	if refused == 0 {
		t.Fatal("45 requests from one client within a minute, budget 40: none refused with Redis down")
	}
}
