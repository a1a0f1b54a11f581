package identityapi_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/shop-oss/shop/pkg/auth"
)

// validClaims are the claims identity puts in an access token of user.
func validClaims(user string) jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{"sub": user, "role": "ADMIN", "iss": "shop-identity", "aud": "shop",
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(15 * time.Minute).Unix(), "jti": uuid.NewString()}
}

// sign signs claims with method and key under kid ("" leaves kid out).
func sign(t *testing.T, method jwt.SigningMethod, key any, kid string, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	raw, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// Every forged or stale token is refused, by identity's own endpoints and
// by pkg/auth as every other service uses it, each for its own reason.
// The forgeries use identity's real signing key where the attack needs
// one, so that only the attacked property makes them invalid.
func TestTokenAttacks(t *testing.T) {
	t.Parallel()
	f := start(t, nil)
	a := f.register("ada", "")
	v := f.verifier()
	with := func(change func(jwt.MapClaims)) jwt.MapClaims {
		c := validClaims(a.id)
		change(c)
		return c
	}
	pub := f.key.Public().(ed25519.PublicKey)
	_, foreign, _ := ed25519.GenerateKey(rand.Reader)
	hour := time.Hour

	// The control: the same crafting with nothing wrong is accepted.
	control := sign(t, jwt.SigningMethodEdDSA, f.key, f.kid, validClaims(a.id))
	expect(t, "control token", f.get("/api/v1/users/me", control), http.StatusOK)

	attacks := []struct {
		name   string
		token  string
		reason error
	}{
		{"alg none", sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, f.kid, validClaims(a.id)), auth.ErrAlgNone},
		{"HS256 keyed with the public key", sign(t, jwt.SigningMethodHS256, []byte(pub), f.kid, validClaims(a.id)), auth.ErrAlgNotAllowed},
		{"HS256 keyed with the JWKS x value", sign(t, jwt.SigningMethodHS256,
			[]byte(base64.RawURLEncoding.EncodeToString(pub)), f.kid, validClaims(a.id)), auth.ErrAlgNotAllowed},
		{"bad signature", sign(t, jwt.SigningMethodEdDSA, foreign, f.kid, validClaims(a.id)), auth.ErrBadSignature},
		{"tampered payload", tamper(t, sign(t, jwt.SigningMethodEdDSA, f.key, f.kid, with(func(c jwt.MapClaims) { c["role"] = "CUSTOMER" }))), auth.ErrBadSignature},
		{"expired", sign(t, jwt.SigningMethodEdDSA, f.key, f.kid, with(func(c jwt.MapClaims) {
			c["iat"], c["nbf"], c["exp"] = time.Now().Add(-2*hour).Unix(), time.Now().Add(-2*hour).Unix(), time.Now().Add(-hour).Unix()
		})), auth.ErrExpired},
		{"nbf in the future", sign(t, jwt.SigningMethodEdDSA, f.key, f.kid, with(func(c jwt.MapClaims) {
			c["nbf"] = time.Now().Add(hour).Unix()
		})), auth.ErrNotYetValid},
		{"wrong issuer", sign(t, jwt.SigningMethodEdDSA, f.key, f.kid, with(func(c jwt.MapClaims) { c["iss"] = "evil-identity" })), auth.ErrWrongIssuer},
		{"wrong audience", sign(t, jwt.SigningMethodEdDSA, f.key, f.kid, with(func(c jwt.MapClaims) { c["aud"] = "another-app" })), auth.ErrWrongAudience},
		{"unknown kid", sign(t, jwt.SigningMethodEdDSA, f.key, "kid-that-does-not-exist", validClaims(a.id)), auth.ErrUnknownKey},
		{"unknown kid, foreign key", sign(t, jwt.SigningMethodEdDSA, foreign, uuid.NewString(), validClaims(a.id)), auth.ErrUnknownKey},
		{"no kid", sign(t, jwt.SigningMethodEdDSA, f.key, "", validClaims(a.id)), auth.ErrUnknownKey},
	}
	for _, at := range attacks {
		t.Run(at.name, func(t *testing.T) {
			r := f.get("/api/v1/users/me", at.token)
			expect(t, "identity", r, http.StatusUnauthorized, "unauthorized")
			if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), `Bearer error="invalid_token"`) {
				t.Errorf("WWW-Authenticate = %q", r.header.Get("WWW-Authenticate"))
			}
			_, err := v.Verify(context.Background(), at.token)
			if !errors.Is(err, at.reason) {
				t.Errorf("pkg/auth: %v, want %v", err, at.reason)
			}
		})
	}
	if strings.Contains(f.logs.String(), control) {
		t.Error("a token appears in the logs")
	}
}

// tamper swaps the payload of a signed token for one claiming ADMIN,
// keeping the header and signature.
func tamper(t *testing.T, raw string) string {
	t.Helper()
	parts := strings.Split(raw, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	forged := strings.Replace(string(payload), `"role":"CUSTOMER"`, `"role":"ADMIN"`, 1)
	if forged == string(payload) {
		t.Fatal("tamper: role claim not found")
	}
	parts[1] = base64.RawURLEncoding.EncodeToString([]byte(forged))
	return strings.Join(parts, ".")
}
