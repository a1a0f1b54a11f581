// Package authtest issues access tokens for tests, the way the identity
// service does: an Issuer holds an Ed25519 signing key (and an ES256 one),
// publishes the public keys as a JWKS over an httptest.Server, and signs
// tokens that an auth.Verifier built from Issuer.Config accepts. Sign and its
// options craft every kind of bad token too.
package authtest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/shop-oss/shop/pkg/auth"
)

// JWKSPath is where the Issuer (like identity) serves its key set.
const JWKSPath = "/.well-known/jwks.json"

// TokenTTL is the lifetime of the tokens that Claims describes.
const TokenTTL = 15 * time.Minute

// Issuer signs tokens and serves the matching JWKS. It is safe for
// concurrent use.
type Issuer struct {
	srv     *httptest.Server
	fetches atomic.Int64

	mu        sync.Mutex
	current   signingKey   // the Ed25519 key that signs by default
	published []signingKey // every key in the JWKS, current and rotated
	es256     signingKey
}

type signingKey struct {
	kid    string
	method jwt.SigningMethod
	key    crypto.Signer
}

// NewIssuer returns an Issuer with a fresh Ed25519 key and a fresh P-256
// (ES256) key, both published; its server stops when the test ends.
func NewIssuer(t testing.TB) *Issuer {
	t.Helper()
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("authtest: generate ES256 key: %v", err)
	}
	i := &Issuer{es256: signingKey{kid: "es256-" + uuid.NewString(), method: jwt.SigningMethodES256, key: ec}}
	i.current = newEd25519Key(t)
	i.published = []signingKey{i.current, i.es256}
	i.srv = httptest.NewServer(i.Handler())
	t.Cleanup(i.srv.Close)
	return i
}

func newEd25519Key(t testing.TB) signingKey {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatalf("authtest: generate Ed25519 key: %v", err)
	}
	return signingKey{kid: "ed25519-" + uuid.NewString(), method: jwt.SigningMethodEdDSA, key: priv}
}

// JWKSURL is the URL of the published key set.
func (i *Issuer) JWKSURL() string { return i.srv.URL + JWKSPath }

// Config returns an auth.Config that trusts this Issuer (issuer
// auth.DefaultIssuer, audience auth.DefaultAudience, other fields default).
func (i *Issuer) Config() auth.Config {
	return auth.Config{JWKSURL: i.JWKSURL(), Issuer: auth.DefaultIssuer, Audience: auth.DefaultAudience}
}

// KeyID is the kid of the current Ed25519 signing key.
func (i *Issuer) KeyID() string {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.current.kid
}

// PublicKey is the current Ed25519 public key (to forge an HS256 token
// keyed with it, the classic algorithm-confusion attack).
func (i *Issuer) PublicKey() ed25519.PublicKey {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.current.key.Public().(ed25519.PublicKey)
}

// Rotate makes a new Ed25519 key (with a new kid) the signing key. The old
// key stays published, as identity keeps it until its tokens expire. A
// Verifier learns the new kid on the first token that names it (subject to
// auth.Config.MinRefreshInterval between two such refreshes).
func (i *Issuer) Rotate(t testing.TB) {
	t.Helper()
	k := newEd25519Key(t)
	i.mu.Lock()
	defer i.mu.Unlock()
	i.current = k
	i.published = append(i.published, k)
}

// Unpublish removes the key kid from the JWKS, as identity does when it
// revokes a key; Verifiers drop it at their next refresh.
func (i *Issuer) Unpublish(kid string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.published = slices.DeleteFunc(i.published, func(k signingKey) bool { return k.kid == kid })
}

// Fetches counts the JWKS requests served so far.
func (i *Issuer) Fetches() int { return int(i.fetches.Load()) }

// Handler serves the JWKS at JWKSPath; use it to serve the keys from
// another server (one that starts late, say).
func (i *Issuer) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+JWKSPath, func(w http.ResponseWriter, r *http.Request) {
		i.fetches.Add(1)
		set, err := i.jwks()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(set)
	})
	return mux
}

func (i *Issuer) jwks() (jwkset.JWKSMarshal, error) {
	i.mu.Lock()
	keys := append([]signingKey(nil), i.published...)
	i.mu.Unlock()
	var set jwkset.JWKSMarshal
	for _, k := range keys {
		jwk, err := jwkset.NewJWKFromKey(k.key.Public(), jwkset.JWKOptions{Metadata: jwkset.JWKMetadataOptions{
			KID: k.kid, ALG: jwkset.ALG(k.method.Alg()), USE: jwkset.UseSig,
		}})
		if err != nil {
			return jwkset.JWKSMarshal{}, err
		}
		set.Keys = append(set.Keys, jwk.Marshal())
	}
	return set, nil
}
