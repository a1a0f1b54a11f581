package authtest

import (
	"crypto/ed25519"
	"crypto/rand"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/shop-oss/shop/pkg/auth"
)

// Claims returns the claims of a valid access token for userID with role:
// sub, role, iss, aud, iat, nbf, exp (TokenTTL from now) and a fresh jti.
// Change them and pass them to Sign to craft a bad token.
func (i *Issuer) Claims(userID string, role auth.Role) jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{
		"sub":  userID,
		"role": string(role),
		"iss":  auth.DefaultIssuer,
		"aud":  auth.DefaultAudience,
		"iat":  now.Unix(),
		"nbf":  now.Unix(),
		"exp":  now.Add(TokenTTL).Unix(),
		"jti":  uuid.NewString(),
	}
}

// Token returns a valid access token for userID with role, signed with the
// current Ed25519 key.
func (i *Issuer) Token(t testing.TB, userID string, role auth.Role) string {
	t.Helper()
	return i.Sign(t, i.Claims(userID, role))
}

// SignOption changes how Sign signs.
type SignOption func(*signing)

type signing struct {
	method jwt.SigningMethod
	key    any
	kid    string
	noKID  bool
	es256  signingKey
}

// ES256 signs with the Issuer's published P-256 key.
func ES256() SignOption {
	return func(s *signing) { s.method, s.key, s.kid = s.es256.method, s.es256.key, s.es256.kid }
}

// HS256 signs with HMAC-SHA256 keyed with secret, keeping the current kid.
func HS256(secret []byte) SignOption {
	return func(s *signing) { s.method, s.key = jwt.SigningMethodHS256, secret }
}

// None makes an unsigned token (alg "none").
func None() SignOption {
	return func(s *signing) { s.method, s.key = jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType }
}

// ForeignKey signs with a new Ed25519 key that is not published, under the
// current kid: a forged signature.
func ForeignKey() SignOption {
	return func(s *signing) {
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			panic(err) // crypto/rand does not fail
		}
		s.method, s.key = jwt.SigningMethodEdDSA, priv
	}
}

// KeyID sets the kid header (to one the JWKS does not have, say).
func KeyID(kid string) SignOption {
	return func(s *signing) { s.kid = kid }
}

// NoKeyID leaves the kid header out.
func NoKeyID() SignOption {
	return func(s *signing) { s.noKID = true }
}

// Sign signs claims exactly as given (see Claims for valid ones) with the
// current Ed25519 key and its kid, unless opts say otherwise.
func (i *Issuer) Sign(t testing.TB, claims jwt.MapClaims, opts ...SignOption) string {
	t.Helper()
	i.mu.Lock()
	cur, es := i.current, i.es256
	i.mu.Unlock()
	s := signing{method: cur.method, key: cur.key, kid: cur.kid, es256: es}
	for _, opt := range opts {
		opt(&s)
	}
	tok := jwt.NewWithClaims(s.method, claims)
	if !s.noKID {
		tok.Header["kid"] = s.kid
	}
	raw, err := tok.SignedString(s.key)
	if err != nil {
		t.Fatalf("authtest: sign token: %v", err)
	}
	return raw
}
