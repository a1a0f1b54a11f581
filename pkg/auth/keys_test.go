package auth_test

import (
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shop-oss/shop/pkg/auth"
	"github.com/shop-oss/shop/pkg/auth/authtest"
	"github.com/shop-oss/shop/pkg/testkit"
)

func TestRotatedKeyIsFetchedOnFirstUse(t *testing.T) {
	iss := authtest.NewIssuer(t)
	v := newVerifier(t, iss.Config(), nil)
	old := iss.Token(t, alice, auth.RoleCustomer)
	if n := iss.Fetches(); n != 1 {
		t.Fatalf("fetches after start = %d, want 1", n)
	}

	iss.Rotate(t)
	if _, err := v.Verify(t.Context(), iss.Token(t, alice, auth.RoleCustomer)); err != nil {
		t.Fatalf("Verify with the new kid: %v", err)
	}
	if _, err := v.Verify(t.Context(), old); err != nil {
		t.Fatalf("Verify with the old kid: %v", err)
	}
	if n := iss.Fetches(); n != 2 {
		t.Fatalf("fetches = %d, want 2 (one refresh for the new kid)", n)
	}
}

func TestUnknownKidRefreshesOnceThenIsRateLimited(t *testing.T) {
	iss := authtest.NewIssuer(t)
	v := newVerifier(t, iss.Config(), nil) // MinRefreshInterval: 10s
	claims := iss.Claims(alice, auth.RoleCustomer)

	for i := range 50 {
		_, err := v.Verify(t.Context(), iss.Sign(t, claims, authtest.KeyID("forged-"+strings.Repeat("x", i))))
		if !errors.Is(err, auth.ErrUnknownKey) {
			t.Fatalf("Verify #%d: %v, want ErrUnknownKey", i, err)
		}
	}
	if n := iss.Fetches(); n != 2 {
		t.Fatalf("fetches = %d, want 2 (start + one refresh for 50 unknown kids)", n)
	}
	// Known keys are unaffected by the spent budget.
	if _, err := v.Verify(t.Context(), iss.Sign(t, claims)); err != nil {
		t.Fatalf("Verify with a known kid: %v", err)
	}
}

func TestConcurrentTokensWithNewKidShareOneRefresh(t *testing.T) {
	iss := authtest.NewIssuer(t)
	v := newVerifier(t, iss.Config(), nil)
	iss.Rotate(t)
	raw := iss.Token(t, alice, auth.RoleCustomer)

	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for range 32 {
		wg.Go(func() {
			if _, err := v.Verify(t.Context(), raw); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Verify: %v", err)
	}
	if n := iss.Fetches(); n != 2 {
		t.Fatalf("fetches = %d, want 2", n)
	}
}

// Start order is not guaranteed: a service must start while identity is down
// and accept tokens by itself once identity is up.
func TestIdentityDownAtStartThenUp(t *testing.T) {
	iss := authtest.NewIssuer(t)
	addr := reserveAddr(t)
	cfg := iss.Config()
	cfg.JWKSURL = "http://" + addr + authtest.JWKSPath
	cfg.MinRefreshInterval = 50 * time.Millisecond
	var logs testkit.LogBuffer

	start := time.Now()
	v := newVerifier(t, cfg, newLogger(&logs))
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("NewVerifier took %s with identity down", d)
	}
	if !strings.Contains(logs.String(), "fetch JWKS failed") {
		t.Errorf("initial fetch failure not logged: %s", logs.String())
	}
	raw := iss.Token(t, alice, auth.RoleCustomer)
	if _, err := v.Verify(t.Context(), raw); !errors.Is(err, auth.ErrKeysUnavailable) {
		t.Fatalf("Verify while identity is down: %v, want ErrKeysUnavailable", err)
	}

	serve(t, addr, iss.Handler())
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := v.Verify(t.Context(), raw)
		if err == nil {
			break
		}
		if !errors.Is(err, auth.ErrKeysUnavailable) || time.Now().After(deadline) {
			t.Fatalf("Verify after identity came up: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestPeriodicRefreshUntilClose(t *testing.T) {
	iss := authtest.NewIssuer(t)
	cfg := iss.Config()
	cfg.RefreshInterval = 20 * time.Millisecond
	v := newVerifier(t, cfg, nil)

	waitFor(t, func() bool { return iss.Fetches() >= 4 })
	v.Close()
	time.Sleep(50 * time.Millisecond) // a refresh in flight may finish
	n := iss.Fetches()
	time.Sleep(100 * time.Millisecond)
	if got := iss.Fetches(); got != n {
		t.Fatalf("fetches went from %d to %d after Close", n, got)
	}
}

// reserveAddr returns a loopback address on which nothing listens (yet).
func reserveAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// serve serves h on addr until the test ends.
func serve(t *testing.T, addr string, h http.Handler) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen on %s: %v", addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A token verified (and cached) before its key was revoked is rejected once
// the verifier has refreshed the key set.
func TestRevokedKeyInvalidatesCachedTokens(t *testing.T) {
	iss := authtest.NewIssuer(t)
	cfg := iss.Config()
	cfg.RefreshInterval = 20 * time.Millisecond
	v := newVerifier(t, cfg, nil)
	raw := iss.Token(t, alice, auth.RoleCustomer)
	if _, err := v.Verify(t.Context(), raw); err != nil {
		t.Fatalf("Verify: %v", err)
	}

	revoked := iss.KeyID()
	iss.Rotate(t)
	iss.Unpublish(revoked)
	n := iss.Fetches()
	waitFor(t, func() bool { return iss.Fetches() >= n+2 })

	if _, err := v.Verify(t.Context(), raw); !errors.Is(err, auth.ErrUnknownKey) {
		t.Fatalf("Verify after revocation: %v, want ErrUnknownKey", err)
	}
	if _, err := v.Verify(t.Context(), iss.Token(t, alice, auth.RoleCustomer)); err != nil {
		t.Fatalf("Verify with the new key: %v", err)
	}
}
