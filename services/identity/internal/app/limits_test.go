package app_test

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

// Repeated failures on one account are refused (429 with Retry-After)
// until the window ends, even with the right password and from other
// clients; a success clears an account's failures.
func TestLoginThrottlePerAccount(t *testing.T) {
	t.Parallel()
	f := start(t, nil)
	victim := f.register("vic", "")
	wrong := map[string]any{"email": victim.email, "password": "guess-number-x"}
	for i := range 5 {
		expect(t, fmt.Sprint("guess ", i), f.post("/api/v1/auth/login", "", wrong, "X-Forwarded-For", fmt.Sprintf("192.0.2.%d", 10+i)),
			http.StatusUnauthorized, "invalid-credentials")
	}
	r := f.post("/api/v1/auth/login", "", map[string]any{"email": victim.email, "password": victim.password},
		"X-Forwarded-For", "192.0.2.99")
	expect(t, "right password while throttled", r, http.StatusTooManyRequests, "login-throttled")
	if n := retryAfter(t, r); n < 800 || n > 900 {
		t.Errorf("Retry-After %d s, want the rest of the 15-minute window", n)
	}
	if n := f.count("SELECT count(*) FROM audit_log WHERE action = 'USER_LOGIN_FAILED' AND details->>'reason' = 'RATE_LIMITED' AND user_id = ?", victim.id); n != 1 {
		t.Errorf("%d RATE_LIMITED records, want 1", n)
	}

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
