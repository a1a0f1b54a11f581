package config

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// The deployments SHOP_ENV names.
const (
	// EnvDevelopment is a developer machine, CI or the demo stack: the
	// local defaults (plain connections, no broker authentication, the
	// development secrets) are fine. The default.
	EnvDevelopment = "development"
	// EnvProduction refuses to start with any of them
	// (Common.productionProblems) and refuses demo data (ForbidInProduction).
	EnvProduction = "production"
)

// Production reports whether the service runs with SHOP_ENV=production.
func (c *Common) Production() bool { return c.Env == EnvProduction }

// ErrProduction is what ForbidInProduction returns.
var ErrProduction = errors.New("refused with SHOP_ENV=production")

// ForbidInProduction returns an error wrapping ErrProduction when the
// service runs in production: for what must never run there (the demo
// seed).
func (c *Common) ForbidInProduction(what string) error {
	if c.Production() {
		return fmt.Errorf("%s: %w (demo data has no place in production)", what, ErrProduction)
	}
	return nil
}

// secureSSLModes are the libpq sslmodes that never fall back to a plain
// connection ("prefer", the default, and "allow" do).
var secureSSLModes = []string{"require", "verify-ca", "verify-full"}

// productionProblems lists, each naming its variable, the settings of a
// production service that are only fit for a developer machine. Validate
// adds them when SHOP_ENV is production.
func (c *Common) productionProblems() []error {
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format+" (SHOP_ENV=production)", append([]any{name}, args...)...))
	}
	if u, err := url.Parse(c.JWKSURL); err == nil && u.Scheme != "https" {
		bad("SHOP_JWKS_URL", "must be https: over plain http anyone on the path can hand this service signing keys of their own")
	}
	for _, db := range []struct{ name, dsn string }{{"SHOP_DATABASE_URL", c.DatabaseURL}, {"SHOP_DATABASE_READ_URL", c.DatabaseReadURL}} {
		if db.dsn == "" {
			continue
		}
		if mode, ok := insecureSSLMode(db.dsn); ok {
			bad(db.name, "sslmode=%s lets the connection go unencrypted; use sslmode=verify-full (or require)", mode)
		}
	}
	if c.BrokerSASLMechanism == "" {
		bad("SHOP_BROKER_SASL_MECHANISM", "is not set: anyone who reaches the broker could publish the events the saga trusts")
	}
	if !c.BrokerTLS && c.BrokerTLSCAFile == "" {
		bad("SHOP_BROKER_TLS", "is off: events and broker credentials would cross the network in clear")
	}
	if c.IdempotencySecret == "" || c.IdempotencySecret == DevIdempotencySecret {
		bad("SHOP_IDEMPOTENCY_SECRET", "is the local development secret; set a random one of at least %d bytes", MinIdempotencySecretBytes)
	}
	return errs
}

// insecureSSLMode returns the sslmode of a postgres:// DSN ("prefer" when
// absent, libpq's default) when it may connect without TLS. A Unix socket
// (a host that is a path) never leaves the machine and passes.
func insecureSSLMode(dsn string) (string, bool) {
	u, err := url.Parse(dsn)
	if err != nil {
		return "", false // Validate names a DSN it cannot parse
	}
	q := u.Query()
	if host := q.Get("host"); strings.HasPrefix(host, "/") || u.Host == "" && host == "" {
		return "", false
	}
	mode := q.Get("sslmode")
	if mode == "" {
		mode = "prefer"
	}
	return mode, !slices.Contains(secureSSLModes, mode)
}
