package auth

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

// algorithms are the signing algorithms a token may use. Anything else,
// "none" and the HMAC family above all, is rejected before any key lookup.
var algorithms = []string{jwt.SigningMethodEdDSA.Alg(), jwt.SigningMethodES256.Alg()}

// maxTokenLen bounds the work an oversized token can cause.
const maxTokenLen = 8 << 10

// Verifier verifies access tokens against identity's published keys. It is
// safe for concurrent use.
type Verifier struct {
	keys    *keySet
	cache   *tokenCache
	revoked *Revocations // nil: no revocation check
	parser  *jwt.Parser
	log     *slog.Logger
	stop    context.CancelFunc
}

// NewVerifier returns a Verifier for cfg. It fetches the JWKS once, for at
// most cfg.FetchTimeout, but does not fail when identity cannot be reached:
// verification then fails with ErrKeysUnavailable until a later fetch
// succeeds. The background refresh runs until ctx ends or Close is called.
// log (nil discards) receives fetch failures and, from the middleware,
// rejection reasons; never tokens.
func NewVerifier(ctx context.Context, cfg Config, log *slog.Logger) (*Verifier, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, stop := context.WithCancel(ctx)
	keys, err := newKeySet(ctx, cfg, log)
	if err != nil {
		stop()
		return nil, fmt.Errorf("new verifier: %w", err)
	}
	parser := jwt.NewParser(
		jwt.WithValidMethods(algorithms),
		jwt.WithIssuer(cfg.Issuer),
		jwt.WithAudience(cfg.Audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(cfg.Leeway),
		jwt.WithStrictDecoding(),
	)
	return &Verifier{keys: keys, cache: newTokenCache(cfg.CacheSize, cfg.Leeway), revoked: cfg.Revocations,
		parser: parser, log: log, stop: stop}, nil
}

// Close stops the background refresh. Verification keeps working with the
// keys already fetched.
func (v *Verifier) Close() { v.stop() }

// claims are the claims of an access token.
type claims struct {
	jwt.RegisteredClaims
	Role string `json:"role"`
	// Generation is the user's token generation when the token was
	// issued (0 when absent: tokens of an identity older than the claim).
	Generation int64 `json:"gen"`
}

// Verify checks raw (the compact JWT, without "Bearer ") and returns the
// principal it authenticates. Errors wrap one of the Err* reasons of this
// package: ErrKeysUnavailable, or a reason wrapping ErrInvalidToken.
//
// The revocation list (Config.Revocations) is checked on every call, the
// cached ones included: a token verified before its user was disabled or
// demoted is refused from the moment the list learns of it.
func (v *Verifier) Verify(ctx context.Context, raw string) (Principal, error) {
	if raw == "" || len(raw) > maxTokenLen {
		return Principal{}, fmt.Errorf("verify access token: %w: length %d", ErrMalformed, len(raw))
	}
	now := time.Now()
	published := func(kid string, key crypto.PublicKey) bool { return v.keys.published(ctx, kid, key) }
	if p, ok := v.cache.get(raw, now, published); ok {
		if v.revoked.Revoked(p) {
			return Principal{}, fmt.Errorf("verify access token: %w", ErrRevoked)
		}
		return p, nil
	}
	var (
		c    claims
		used cacheEntry
	)
	tok, err := v.parser.ParseWithClaims(raw, &c, func(t *jwt.Token) (any, error) {
		key, kid, err := v.keys.lookup(ctx, t)
		used.kid, used.key = kid, key
		return key, err
	})
	if err != nil {
		if r := classify(tok, &c, err); r != nil {
			return Principal{}, fmt.Errorf("verify access token: %w: %w", r, err)
		}
		return Principal{}, fmt.Errorf("verify access token: %w", err)
	}
	p, err := c.principal()
	if err != nil {
		return Principal{}, fmt.Errorf("verify access token: %w", err)
	}
	if v.revoked.Revoked(p) {
		return Principal{}, fmt.Errorf("verify access token: %w", ErrRevoked)
	}
	used.principal = p
	v.cache.put(raw, now, used)
	return p, nil
}

// classify returns the reason for a jwt error, or nil when err already
// carries one (the key lookup returns ours).
func classify(tok *jwt.Token, c *claims, err error) error {
	if tok != nil && tok.Header != nil {
		alg, _ := tok.Header["alg"].(string)
		switch {
		case strings.EqualFold(alg, "none"):
			return ErrAlgNone
		case !slices.Contains(algorithms, alg):
			return ErrAlgNotAllowed
		}
	}
	missing := errors.Is(err, jwt.ErrTokenRequiredClaimMissing)
	switch {
	case errors.Is(err, ErrInvalidToken), errors.Is(err, ErrKeysUnavailable):
		return nil
	case errors.Is(err, jwt.ErrTokenMalformed):
		return ErrMalformed
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return ErrBadSignature
	case errors.Is(err, jwt.ErrTokenExpired):
		return ErrExpired
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return ErrNotYetValid
	case errors.Is(err, jwt.ErrTokenInvalidIssuer), missing && c.Issuer == "":
		return ErrWrongIssuer
	case errors.Is(err, jwt.ErrTokenInvalidAudience), missing && len(c.Audience) == 0:
		return ErrWrongAudience
	default:
		return ErrInvalidClaims
	}
}

// principal checks the claims that jwt does not know about.
func (c *claims) principal() (Principal, error) {
	id, err := uuid.Parse(c.Subject)
	if err != nil || len(c.Subject) != len(uuid.Nil.String()) || id == uuid.Nil {
		return Principal{}, ErrInvalidSubject
	}
	role, err := ParseRole(c.Role)
	if err != nil {
		return Principal{}, fmt.Errorf("%w: %w", ErrInvalidRole, err)
	}
	if c.Generation < 0 {
		return Principal{}, fmt.Errorf("%w: negative gen", ErrInvalidClaims)
	}
	return Principal{UserID: id.String(), Role: role, TokenID: c.ID, ExpiresAt: c.ExpiresAt.Time,
		Generation: c.Generation}, nil
}
