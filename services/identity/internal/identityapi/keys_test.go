package identityapi_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/shop-oss/shop/services/identity/internal/app"
	"github.com/shop-oss/shop/services/identity/internal/keys"
)

func jwksKids(t *testing.T, f *fixture) []string {
	t.Helper()
	r := f.get("/.well-known/jwks.json", "")
	expect(t, "jwks", r, http.StatusOK)
	var kids []string
	for _, k := range r.body["keys"].([]any) {
		kids = append(kids, k.(map[string]any)["kid"].(string))
	}
	return kids
}

func kidOf(t *testing.T, token string) string {
	t.Helper()
	tok, _, err := jwt.NewParser().ParseUnverified(token, jwt.MapClaims{})
	if err != nil {
		t.Fatal(err)
	}
	kid, _ := tok.Header["kid"].(string)
	return kid
}

// Without a key file, identity generates its key on first start (sealed in
// the database with the configured key-encryption key); `identity
// rotate-key` adds a key that the running service publishes and then signs
// with, while the old key stays published for the tokens it signed.
func TestJWKSAndKeyRotation(t *testing.T) {
	t.Parallel()
	kek := make([]byte, 32)
	_, _ = rand.Read(kek)
	f := start(t, map[string]string{
		"SHOP_IDENTITY_SIGNING_KEY_FILE":   "",
		"SHOP_IDENTITY_KEY_ENCRYPTION_KEY": base64.StdEncoding.EncodeToString(kek),
		"SHOP_IDENTITY_KEY_PUBLISH_DELAY":  "0s",
		"SHOP_IDENTITY_KEY_RELOAD":         "50ms",
	})
	first := jwksKids(t, f)
	if len(first) != 1 {
		t.Fatalf("JWKS of a fresh service: %v, want one generated key", first)
	}
	r := f.get("/.well-known/jwks.json", "")
	if r.header.Get("Cache-Control") != "public, max-age=30" {
		t.Errorf("Cache-Control = %q", r.header.Get("Cache-Control"))
	}
	a := f.register("kim", "")
	if kidOf(t, a.access) != first[0] {
		t.Fatalf("token kid %s, JWKS %v", kidOf(t, a.access), first)
	}

	var out bytes.Buffer
	if err := app.RotateKey(context.Background(), f.cfg, &out); err != nil {
		t.Fatalf("rotate-key: %v", err)
	}
	if !strings.Contains(out.String(), "new signing key") {
		t.Errorf("rotate-key printed %q", out.String())
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(jwksKids(t, f)) != 2 {
		if time.Now().After(deadline) {
			t.Fatalf("JWKS after rotation: %v, want old and new key", jwksKids(t, f))
		}
		time.Sleep(20 * time.Millisecond)
	}
	b := f.login(a)
	if kid := kidOf(t, b.access); kid == first[0] || !strings.Contains(strings.Join(jwksKids(t, f), " "), kid) {
		t.Fatalf("new token kid %s: want the new, published key", kid)
	}
	v := f.verifier()
	for name, tok := range map[string]string{"token of the old key": a.access, "token of the new key": b.access} {
		if _, err := v.Verify(context.Background(), tok); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if n := f.count("SELECT count(*) FROM signing_keys WHERE encryption = 'aes-256-gcm'"); n != 2 {
		t.Errorf("%d sealed keys, want 2", n)
	}
}

// A key given by file is rotated by replacing the file, not by command.
func TestRotateKeyRefusedWithKeyFile(t *testing.T) {
	t.Parallel()
	f := start(t, nil)
	if kids := jwksKids(t, f); len(kids) != 1 || kids[0] != f.kid {
		t.Fatalf("JWKS %v, want the file's key %s", kids, f.kid)
	}
	if err := app.RotateKey(context.Background(), f.cfg, &bytes.Buffer{}); !errors.Is(err, keys.ErrRotationWithKeyFile) {
		t.Fatalf("rotate-key with a key file: %v", err)
	}
}

// `identity seed` creates the demo users with their fixed IDs, prints their
// logins, and changes nothing when run again.
func TestSeed(t *testing.T) {
	t.Parallel()
	f := start(t, nil)
	var out bytes.Buffer
	if err := app.Seed(context.Background(), f.cfg, &out); err != nil {
		t.Fatal(err)
	}
	for _, d := range app.DemoUsers {
		line := "demo login: " + d.Email + " / " + d.Password
		if !strings.Contains(out.String(), line) {
			t.Errorf("output lacks %q:\n%s", line, out.String())
		}
		r := f.post("/api/v1/auth/login", "", map[string]any{"email": d.Email, "password": d.Password})
		expect(t, "demo login "+d.Email, r, http.StatusOK)
		u := r.body["user"].(map[string]any)
		if u["id"] != d.ID.String() || u["role"] != string(d.Role) {
			t.Errorf("%s: user %v, want id %s role %s", d.Email, u, d.ID, d.Role)
		}
	}
	users, audit, outbox := f.count("SELECT count(*) FROM users"), f.count("SELECT count(*) FROM audit_log"), f.count("SELECT count(*) FROM outbox")

	out.Reset()
	if err := app.Seed(context.Background(), f.cfg, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "0 demo users created, 3 already there") {
		t.Errorf("second run printed %q", out.String())
	}
	if f.count("SELECT count(*) FROM users") != users || f.count("SELECT count(*) FROM audit_log") != audit ||
		f.count("SELECT count(*) FROM outbox") > outbox {
		t.Error("a second seed changed something")
	}
	if want := int64(len(app.DemoUsers) + len(app.DemoShoppers)); users != want {
		t.Errorf("%d users, want %d", users, want)
	}
	// The shoppers: each logs in, but the disabled one; the applicant's
	// application waits for an administrator.
	for _, d := range app.DemoShoppers {
		r := f.post("/api/v1/auth/login", "", map[string]any{"email": d.Email, "password": d.Password})
		want := http.StatusOK
		if d.ID == app.DemoDisabled.ID {
			want = http.StatusForbidden
		}
		if r.status != want {
			t.Errorf("login %s: %d, want %d", d.Email, r.status, want)
		}
	}
	if n := f.count("SELECT count(*) FROM seller_applications WHERE status = 'PENDING' AND user_id = '" + app.DemoApplicant.ID.String() + "'"); n != 1 {
		t.Errorf("%d pending applications of the demo applicant, want 1", n)
	}
}
