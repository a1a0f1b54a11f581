package identityapi_test

import (
	"net/http"
	"strings"
	"testing"
)

// The gateway's edge authentication asks GET /internal/auth/check whether a
// bearer token is valid: 204 for a valid access token, a 401 problem for
// anything else, verified as every service verifies it; and the checks are
// not counted against a client's API budget (the gateway makes one per
// protected request).
func TestInternalAuthCheck(t *testing.T) {
	t.Parallel()
	f := start(t, map[string]string{"SHOP_RATE_LIMIT_PER_MINUTE": "5"})
	a := f.register("edge", "")
	const path = "/internal/auth/check"

	for i := range 10 {
		r := f.get(path, a.access)
		if r.status != http.StatusNoContent {
			t.Fatalf("check %d of a valid token: %d %s", i, r.status, r.raw)
		}
	}
	r := f.get(path, "")
	expect(t, "no token", r, http.StatusUnauthorized, "unauthorized")
	if r.header.Get("WWW-Authenticate") != "Bearer" {
		t.Errorf("no token: WWW-Authenticate %q", r.header.Get("WWW-Authenticate"))
	}
	expect(t, "garbage", f.get(path, "not-a-jwt"), http.StatusUnauthorized, "unauthorized")
	head, rest, _ := strings.Cut(a.access, ".")
	payload, sig, _ := strings.Cut(rest, ".")
	tampered := head + "." + payload + "." + strings.Repeat("A", len(sig))
	r = f.get(path, tampered)
	expect(t, "bad signature", r, http.StatusUnauthorized, "unauthorized")
	if !strings.Contains(r.header.Get("WWW-Authenticate"), "invalid_token") {
		t.Errorf("bad signature: WWW-Authenticate %q", r.header.Get("WWW-Authenticate"))
	}
	expect(t, "a refresh token is no access token", f.get(path, a.refresh), http.StatusUnauthorized, "unauthorized")
}
