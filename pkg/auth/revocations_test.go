package auth_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/shop-oss/shop/pkg/auth"
	"github.com/shop-oss/shop/pkg/auth/authtest"
	"github.com/shop-oss/shop/pkg/testkit"
)

func TestRevocationsKeepTheHighestGenerationPerUser(t *testing.T) {
	r := auth.NewRevocations()
	now := time.Now()
	later := now.Add(time.Hour)
	if n := r.Apply(now, auth.Revocation{UserID: alice, Generation: 2, Until: later}); n != 1 {
		t.Fatalf("first entry: %d changed", n)
	}
	// An older event arriving late, and the same one again, change nothing.
	if n := r.Apply(now, auth.Revocation{UserID: alice, Generation: 1, Until: later.Add(time.Minute)},
		auth.Revocation{UserID: alice, Generation: 2, Until: later}); n != 0 {
		t.Fatalf("older and repeated entries: %d changed", n)
	}
	if e, ok := r.Get(alice); !ok || e.Generation != 2 || !e.Until.Equal(later) {
		t.Fatalf("entry = %+v, %v", e, ok)
	}
	for gen, want := range map[int64]bool{0: true, 1: true, 2: false, 3: false} {
		if got := r.Revoked(auth.Principal{UserID: alice, Generation: gen}); got != want {
			t.Errorf("gen %d revoked = %v, want %v", gen, got, want)
		}
	}
	if r.Revoked(auth.Principal{UserID: bob}) {
		t.Error("a user without an entry is revoked")
	}
	// Expired entries go, and are never added.
	r.Apply(now, auth.Revocation{UserID: bob, Generation: 5, Until: now})
	if r.Len() != 1 {
		t.Fatalf("an expired entry was added: %d entries", r.Len())
	}
	r.Apply(later)
	if r.Len() != 0 {
		t.Fatalf("%d entries after they all expired", r.Len())
	}
	var none *auth.Revocations
	if none.Revoked(auth.Principal{UserID: alice}) {
		t.Error("a nil list revokes")
	}
}

// A token is refused once its user's generation passes it, also when the
// verifier had cached it as valid; a token of the new generation is
// accepted.
func TestVerifyRefusesRevokedTokens(t *testing.T) {
	iss := authtest.NewIssuer(t)
	list := auth.NewRevocations()
	cfg := iss.Config()
	cfg.Revocations = list
	v := newVerifier(t, cfg, nil)
	withGen := func(role auth.Role, gen int64) string {
		c := iss.Claims(alice, role)
		if gen > 0 {
			c["gen"] = gen
		}
		return iss.Sign(t, c)
	}
	seller := withGen(auth.RoleSeller, 0) // no gen claim: generation 0
	if p, err := v.Verify(t.Context(), seller); err != nil || p.Generation != 0 {
		t.Fatalf("before any revocation: %+v, %v", p, err)
	}
	uncached := withGen(auth.RoleSeller, 1)

	list.Apply(time.Now(), auth.Revocation{UserID: alice, Generation: 2, Until: time.Now().Add(time.Hour)})
	for name, tok := range map[string]string{"cached": seller, "uncached": uncached} {
		if _, err := v.Verify(t.Context(), tok); !errors.Is(err, auth.ErrRevoked) || !errors.Is(err, auth.ErrInvalidToken) {
			t.Errorf("%s old token: err = %v, want ErrRevoked", name, err)
		}
	}
	p, err := v.Verify(t.Context(), withGen(auth.RoleCustomer, 2))
	if err != nil || p.Generation != 2 || p.Role != auth.RoleCustomer {
		t.Fatalf("token of the new generation: %+v, %v", p, err)
	}
	if _, err := v.Verify(t.Context(), iss.Token(t, bob, auth.RoleAdmin)); err != nil {
		t.Fatalf("another user's token: %v", err)
	}
}

func TestVerifyRejectsNegativeGeneration(t *testing.T) {
	iss := authtest.NewIssuer(t)
	v := newVerifier(t, iss.Config(), nil)
	c := iss.Claims(alice, auth.RoleCustomer)
	c["gen"] = -1
	if _, err := v.Verify(t.Context(), iss.Sign(t, c)); !errors.Is(err, auth.ErrInvalidClaims) {
		t.Fatalf("err = %v, want ErrInvalidClaims", err)
	}
	c["gen"] = "2"
	if _, err := v.Verify(t.Context(), iss.Sign(t, jwt.MapClaims(c))); !errors.Is(err, auth.ErrInvalidToken) {
		t.Fatalf("gen as a string: err = %v, want a rejection", err)
	}
}

func TestMiddlewareAnswersRevokedTokens(t *testing.T) {
	iss := authtest.NewIssuer(t)
	list := auth.NewRevocations()
	cfg := iss.Config()
	cfg.Revocations = list
	var logs testkit.LogBuffer
	e := newEngine(newVerifier(t, cfg, newLogger(&logs)), &logs)
	admin := iss.Token(t, bob, auth.RoleAdmin)
	list.Apply(time.Now(), auth.Revocation{UserID: bob, Generation: 1, Until: time.Now().Add(time.Hour)})

	req := httptest.NewRequest(http.MethodGet, "/api/v1/admin/users", nil)
	req.Header.Set("Authorization", "Bearer "+admin)
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	if rec.Code != http.StatusUnauthorized {
		t.Fatalf("demoted admin's old token: status %d", rec.Code)
	}
	checkProblem(t, rec, http.StatusUnauthorized, "revoked")
}
