package auth_test

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/shop-oss/shop/pkg/auth"
	"github.com/shop-oss/shop/pkg/auth/authtest"
)

func TestVerifyAcceptsValidEdDSAToken(t *testing.T) {
	iss := authtest.NewIssuer(t)
	v := newVerifier(t, iss.Config(), nil)
	claims := iss.Claims(alice, auth.RoleSeller)

	p, err := v.Verify(t.Context(), iss.Sign(t, claims))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	want := auth.Principal{UserID: alice, Role: auth.RoleSeller, TokenID: claims["jti"].(string),
		ExpiresAt: time.Unix(claims["exp"].(int64), 0)}
	if p.UserID != want.UserID || p.Role != want.Role || p.TokenID != want.TokenID || !p.ExpiresAt.Equal(want.ExpiresAt) {
		t.Fatalf("principal = %+v, want %+v", p, want)
	}
}

func TestVerifyAcceptsValidES256Token(t *testing.T) {
	iss := authtest.NewIssuer(t)
	v := newVerifier(t, iss.Config(), nil)

	p, err := v.Verify(t.Context(), iss.Sign(t, iss.Claims(alice, auth.RoleCustomer), authtest.ES256()))
	if err != nil || p.UserID != alice {
		t.Fatalf("Verify = %+v, %v", p, err)
	}
}

func TestVerifyAcceptsSkewWithinLeewayAndAudienceList(t *testing.T) {
	iss := authtest.NewIssuer(t)
	v := newVerifier(t, iss.Config(), nil)
	c := iss.Claims(alice, auth.RoleCustomer)
	c["exp"] = time.Now().Add(-10 * time.Second).Unix() // default leeway is 30s
	c["iat"] = time.Now().Add(10 * time.Second).Unix()
	c["aud"] = []string{"other", auth.DefaultAudience}

	if _, err := v.Verify(t.Context(), iss.Sign(t, c)); err != nil {
		t.Fatalf("Verify: %v", err)
	}
}

func TestVerifyNormalisesSubjectToLowercase(t *testing.T) {
	iss := authtest.NewIssuer(t)
	v := newVerifier(t, iss.Config(), nil)

	p, err := v.Verify(t.Context(), iss.Token(t, strings.ToUpper(alice), auth.RoleCustomer))
	if err != nil || p.UserID != alice {
		t.Fatalf("Verify = %+v, %v", p, err)
	}
}

// sentinels are the rejection reasons, each of which must be distinct.
var sentinels = []error{
	auth.ErrMalformed, auth.ErrAlgNone, auth.ErrAlgNotAllowed, auth.ErrBadSignature, auth.ErrUnknownKey,
	auth.ErrExpired, auth.ErrNotYetValid, auth.ErrWrongIssuer, auth.ErrWrongAudience,
	auth.ErrInvalidSubject, auth.ErrInvalidRole, auth.ErrInvalidClaims, auth.ErrKeysUnavailable,
}

func TestVerifyRejects(t *testing.T) {
	iss := authtest.NewIssuer(t)
	v := newVerifier(t, iss.Config(), nil)
	hour := time.Hour
	with := func(change func(jwt.MapClaims)) jwt.MapClaims {
		c := iss.Claims(alice, auth.RoleCustomer)
		change(c)
		return c
	}
	valid := iss.Claims(alice, auth.RoleCustomer)

	cases := []struct {
		name  string
		token func(t *testing.T) string
		want  error
	}{
		{"empty", func(*testing.T) string { return "" }, auth.ErrMalformed},
		{"not a JWT", func(*testing.T) string { return "not.a.jwt" }, auth.ErrMalformed},
		{"oversized", func(*testing.T) string { return strings.Repeat("a", 9000) }, auth.ErrMalformed},
		{"alg none", func(t *testing.T) string { return iss.Sign(t, valid, authtest.None()) }, auth.ErrAlgNone},
		{"HS256 keyed with the public key", func(t *testing.T) string {
			return iss.Sign(t, valid, authtest.HS256(iss.PublicKey()))
		}, auth.ErrAlgNotAllowed},
		{"forged signature", func(t *testing.T) string { return iss.Sign(t, valid, authtest.ForeignKey()) }, auth.ErrBadSignature},
		{"tampered payload", func(t *testing.T) string {
			parts := strings.Split(iss.Token(t, alice, auth.RoleCustomer), ".")
			admin := iss.Sign(t, iss.Claims(alice, auth.RoleAdmin))
			parts[1] = strings.Split(admin, ".")[1]
			return strings.Join(parts, ".")
		}, auth.ErrBadSignature},
		{"ES256 under an EdDSA kid", func(t *testing.T) string {
			return iss.Sign(t, valid, authtest.ES256(), authtest.KeyID(iss.KeyID()))
		}, auth.ErrBadSignature},
		{"expired", func(t *testing.T) string {
			return iss.Sign(t, with(func(c jwt.MapClaims) {
				c["iat"], c["nbf"], c["exp"] = time.Now().Add(-2*hour).Unix(), time.Now().Add(-2*hour).Unix(), time.Now().Add(-hour).Unix()
			}))
		}, auth.ErrExpired},
		{"no exp", func(t *testing.T) string { return iss.Sign(t, with(func(c jwt.MapClaims) { delete(c, "exp") })) }, auth.ErrInvalidClaims},
		{"nbf in the future", func(t *testing.T) string {
			return iss.Sign(t, with(func(c jwt.MapClaims) { c["nbf"] = time.Now().Add(hour).Unix() }))
		}, auth.ErrNotYetValid},
		{"iat in the future", func(t *testing.T) string {
			return iss.Sign(t, with(func(c jwt.MapClaims) { c["iat"] = time.Now().Add(hour).Unix() }))
		}, auth.ErrNotYetValid},
		{"wrong issuer", func(t *testing.T) string {
			return iss.Sign(t, with(func(c jwt.MapClaims) { c["iss"] = "evil-identity" }))
		}, auth.ErrWrongIssuer},
		{"no issuer", func(t *testing.T) string { return iss.Sign(t, with(func(c jwt.MapClaims) { delete(c, "iss") })) }, auth.ErrWrongIssuer},
		{"wrong audience", func(t *testing.T) string {
			return iss.Sign(t, with(func(c jwt.MapClaims) { c["aud"] = "shop-admin-tools" }))
		}, auth.ErrWrongAudience},
		{"no audience", func(t *testing.T) string { return iss.Sign(t, with(func(c jwt.MapClaims) { delete(c, "aud") })) }, auth.ErrWrongAudience},
		{"unknown kid", func(t *testing.T) string { return iss.Sign(t, valid, authtest.KeyID("retired-key")) }, auth.ErrUnknownKey},
		{"no kid", func(t *testing.T) string { return iss.Sign(t, valid, authtest.NoKeyID()) }, auth.ErrUnknownKey},
		{"no sub", func(t *testing.T) string { return iss.Sign(t, with(func(c jwt.MapClaims) { delete(c, "sub") })) }, auth.ErrInvalidSubject},
		{"sub not a UUID", func(t *testing.T) string { return iss.Token(t, "alice", auth.RoleCustomer) }, auth.ErrInvalidSubject},
		{"sub the nil UUID", func(t *testing.T) string {
			return iss.Token(t, "00000000-0000-0000-0000-000000000000", auth.RoleCustomer)
		}, auth.ErrInvalidSubject},
		{"no role", func(t *testing.T) string { return iss.Sign(t, with(func(c jwt.MapClaims) { delete(c, "role") })) }, auth.ErrInvalidRole},
		{"unknown role", func(t *testing.T) string { return iss.Token(t, alice, "ROOT") }, auth.ErrInvalidRole},
		{"lowercase role", func(t *testing.T) string { return iss.Token(t, alice, "admin") }, auth.ErrInvalidRole},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			raw := tc.token(t)
			p, err := v.Verify(t.Context(), raw)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Verify = %+v, %v; want %v", p, err, tc.want)
			}
			if p != (auth.Principal{}) {
				t.Errorf("principal %+v returned with an error", p)
			}
			for _, other := range sentinels {
				if other != tc.want && errors.Is(err, other) {
					t.Errorf("error %q is also %q", err, other)
				}
			}
			if !errors.Is(err, auth.ErrInvalidToken) {
				t.Errorf("error %q does not wrap ErrInvalidToken", err)
			}
			if sig := raw[strings.LastIndex(raw, ".")+1:]; len(sig) > 8 && strings.Contains(err.Error(), sig) {
				t.Errorf("error echoes the token: %q", err)
			}
		})
	}
}

// A payload with an unexpected claim type is malformed, not a crash.
func TestVerifyRejectsBadlyTypedClaims(t *testing.T) {
	iss := authtest.NewIssuer(t)
	v := newVerifier(t, iss.Config(), nil)
	c := iss.Claims(alice, auth.RoleCustomer)
	c["exp"] = "tomorrow"

	if _, err := v.Verify(t.Context(), iss.Sign(t, c)); !errors.Is(err, auth.ErrMalformed) {
		t.Fatalf("err = %v, want ErrMalformed", err)
	}
	c = iss.Claims(alice, auth.RoleCustomer)
	c["role"] = 7
	if _, err := v.Verify(t.Context(), iss.Sign(t, c)); !errors.Is(err, auth.ErrMalformed) {
		t.Fatalf("err = %v, want ErrMalformed", err)
	}
}

// Strict decoding: a second spelling of the same signature (the unused low
// bits of the last base64 character set) is rejected, so tokens are not
// malleable.
func TestVerifyRejectsNonCanonicalEncoding(t *testing.T) {
	iss := authtest.NewIssuer(t)
	v := newVerifier(t, iss.Config(), nil)
	raw := iss.Token(t, alice, auth.RoleCustomer)
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alphabet, raw[len(raw)-1]) // 64-byte signature: 4 unused bits
	forged := raw[:len(raw)-1] + string(alphabet[last|1])
	if sig, err := base64.RawURLEncoding.DecodeString(forged[strings.LastIndex(forged, ".")+1:]); err != nil || len(sig) != 64 {
		t.Fatalf("lenient decoding of the forged signature: %d bytes, %v", len(sig), err)
	}

	if _, err := v.Verify(t.Context(), forged); !errors.Is(err, auth.ErrMalformed) {
		t.Fatalf("err = %v, want ErrMalformed", err)
	}
}

func TestNewVerifierRejectsBadConfig(t *testing.T) {
	for name, cfg := range map[string]auth.Config{
		"no URL":         {},
		"relative URL":   {JWKSURL: "/.well-known/jwks.json"},
		"other scheme":   {JWKSURL: "ftp://identity/jwks.json"},
		"huge leeway":    {JWKSURL: "http://identity:8081/.well-known/jwks.json", Leeway: time.Hour},
		"negative delay": {JWKSURL: "http://identity:8081/.well-known/jwks.json", MinRefreshInterval: -time.Second},
	} {
		t.Run(name, func(t *testing.T) {
			if v, err := auth.NewVerifier(t.Context(), cfg, nil); err == nil {
				v.Close()
				t.Fatal("accepted")
			}
		})
	}
}
