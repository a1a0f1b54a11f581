package auth

import (
	"errors"
	"fmt"
	"net/url"
	"time"
)

// Defaults for Config.
const (
	// DefaultIssuer is the `iss` of the identity service's tokens.
	DefaultIssuer = "shop-identity"
	// DefaultAudience is the `aud` every shop service accepts.
	DefaultAudience = "shop"
	// DefaultLeeway tolerates clock skew between identity and this service.
	DefaultLeeway = 30 * time.Second
	// DefaultRefreshInterval is how often the JWKS is fetched regardless of
	// need, so that revoked keys disappear.
	DefaultRefreshInterval = 10 * time.Minute
	// DefaultMinRefreshInterval spaces the refreshes that an unknown `kid`
	// (or a missing key set) triggers, so that a flood of forged tokens
	// cannot make us hammer identity.
	DefaultMinRefreshInterval = 10 * time.Second
	// DefaultFetchTimeout bounds one JWKS request.
	DefaultFetchTimeout = 5 * time.Second
	// DefaultCacheSize is how many verified tokens a Verifier remembers.
	DefaultCacheSize = 10_000
)

// maxLeeway keeps Leeway small: a larger skew is a clock problem to fix.
const maxLeeway = 5 * time.Minute

// Config configures a Verifier. Zero durations take the defaults above;
// an empty Issuer or Audience takes DefaultIssuer or DefaultAudience.
type Config struct {
	// JWKSURL is identity's key set, e.g.
	// http://identity:8081/.well-known/jwks.json. Required.
	JWKSURL string
	// Issuer is the required `iss` claim.
	Issuer string
	// Audience must be among the `aud` claim's values.
	Audience string
	// Leeway is the clock skew allowed on `exp`, `nbf` and `iat`.
	Leeway time.Duration
	// RefreshInterval is the period of the background JWKS refresh.
	RefreshInterval time.Duration
	// MinRefreshInterval is the least time between two refreshes caused by
	// tokens naming an unknown `kid`.
	MinRefreshInterval time.Duration
	// FetchTimeout bounds one JWKS request, including the first one made
	// while NewVerifier runs.
	FetchTimeout time.Duration
	// CacheSize bounds the verified-token cache, which spares a token's
	// later requests the signature check (expiry and key revocation are
	// checked on every hit). Zero means DefaultCacheSize, negative disables
	// the cache.
	CacheSize int
	// Revocations, when set, is the revocation list checked on every
	// verification (pkg/revocation keeps it current).
	Revocations *Revocations
}

func (c *Config) setDefaults() {
	if c.Issuer == "" {
		c.Issuer = DefaultIssuer
	}
	if c.Audience == "" {
		c.Audience = DefaultAudience
	}
	if c.Leeway == 0 {
		c.Leeway = DefaultLeeway
	}
	if c.RefreshInterval == 0 {
		c.RefreshInterval = DefaultRefreshInterval
	}
	if c.MinRefreshInterval == 0 {
		c.MinRefreshInterval = DefaultMinRefreshInterval
	}
	if c.FetchTimeout == 0 {
		c.FetchTimeout = DefaultFetchTimeout
	}
	if c.CacheSize == 0 {
		c.CacheSize = DefaultCacheSize
	}
}

// Validate reports every invalid field of c (after defaults).
func (c Config) Validate() error {
	var errs []error
	if u, err := url.Parse(c.JWKSURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("JWKSURL %q: want an absolute http(s) URL", c.JWKSURL))
	}
	if c.Leeway < 0 || c.Leeway > maxLeeway {
		errs = append(errs, fmt.Errorf("Leeway %s: want between 0 and %s", c.Leeway, maxLeeway))
	}
	if c.RefreshInterval < 0 {
		errs = append(errs, fmt.Errorf("RefreshInterval %s: want positive", c.RefreshInterval))
	}
	if c.MinRefreshInterval < 0 {
		errs = append(errs, fmt.Errorf("MinRefreshInterval %s: want positive", c.MinRefreshInterval))
	}
	if c.FetchTimeout < 0 {
		errs = append(errs, fmt.Errorf("FetchTimeout %s: want positive", c.FetchTimeout))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("auth config: %w", err)
	}
	return nil
}
