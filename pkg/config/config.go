// Package config reads a service's configuration from SHOP_* environment
// variables, once, at start-up. Every setting has a default that works on a
// developer machine (PostgreSQL, Redis and the broker on 127.0.0.1), so a
// service runs with no variables set; a value that does not parse or breaks a
// rule stops start-up with a message naming the variable.
//
// A service embeds Common in its own Config struct and adds SHOP_<NAME>_*
// fields with `env` and `envDefault` tags (github.com/caarlos0/env).
package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"

	"github.com/shop-oss/shop/pkg/logging"
)

// Common holds the settings every service has. Names are the same in
// `make up`, compose and the Helm chart.
type Common struct {
	// Service is the service name (identity, catalog, ...); not from env.
	Service string `env:"-"`

	HTTPAddr        string `env:"SHOP_HTTP_ADDR"`
	DatabaseURL     string `env:"SHOP_DATABASE_URL"`
	DatabaseReadURL string `env:"SHOP_DATABASE_READ_URL"` // optional replica for read-heavy paths
	DatabaseCreate  bool   `env:"SHOP_DATABASE_CREATE" envDefault:"true"`
	DBMaxOpenConns  int    `env:"SHOP_DB_MAX_OPEN_CONNS" envDefault:"12"`
	// DBMaxIdleConns unset (0) keeps as many idle connections as may be
	// open: a pool that keeps fewer closes connections under load and opens
	// them again (a PostgreSQL backend each time, about 30 ms of CPU with
	// its caches; it was 80% of a core in the saga load). Idle ones still
	// close after 5 minutes.
	DBMaxIdleConns int           `env:"SHOP_DB_MAX_IDLE_CONNS"`
	DBConnLifetime time.Duration `env:"SHOP_DB_CONN_MAX_LIFETIME" envDefault:"30m"`

	RedisURL string `env:"SHOP_REDIS_URL" envDefault:"redis://127.0.0.1:6379/0"`

	KafkaBrokers    []string `env:"SHOP_KAFKA_BROKERS" envSeparator:"," envDefault:"127.0.0.1:9092"`
	TopicPartitions int      `env:"SHOP_TOPIC_PARTITIONS" envDefault:"6"`
	TopicReplicas   int      `env:"SHOP_TOPIC_REPLICATION_FACTOR" envDefault:"1"`

	JWKSURL     string        `env:"SHOP_JWKS_URL" envDefault:"http://127.0.0.1:8081/.well-known/jwks.json"`
	JWTIssuer   string        `env:"SHOP_JWT_ISSUER" envDefault:"shop-identity"`
	JWTAudience string        `env:"SHOP_JWT_AUDIENCE" envDefault:"shop"`
	JWTLeeway   time.Duration `env:"SHOP_JWT_LEEWAY" envDefault:"30s"`

	// RateLimitPerMinute is the default per-client API budget; 0 disables it.
	RateLimitPerMinute int `env:"SHOP_RATE_LIMIT_PER_MINUTE" envDefault:"600"`

	// TrustedProxies are the addresses or CIDRs whose X-Forwarded-For and
	// X-Real-IP a service believes: the gateway's only (127.0.0.2 in
	// `make up`, where the gateway connects from that address; the
	// gateway's pods in Kubernetes). Default none: from anyone else the
	// headers are ignored, so a client cannot choose the address that rate
	// limits and the audit log see.
	TrustedProxies []string `env:"SHOP_TRUSTED_PROXIES" envSeparator:","`

	// PprofAddr, when set (e.g. 127.0.0.1:6060), serves net/http/pprof
	// there for profiling; never on the public port.
	PprofAddr string `env:"SHOP_PPROF_ADDR"`

	LogLevel        string        `env:"SHOP_LOG_LEVEL" envDefault:"info"`
	BodyLimit       int64         `env:"SHOP_HTTP_BODY_LIMIT" envDefault:"1048576"`
	ShutdownTimeout time.Duration `env:"SHOP_SHUTDOWN_TIMEOUT" envDefault:"20s"`
}

// Defaults per service: the port and database of the architecture contract.
var services = map[string]struct {
	port     int
	database string
}{
	"identity":  {8081, "identity"},
	"catalog":   {8082, "catalog"},
	"inventory": {8083, "inventory"},
	"order":     {8084, "orders"},
	"payment":   {8085, "payment"},
}

// Service names in start order.
var ServiceNames = []string{"identity", "catalog", "inventory", "order", "payment"}

// LocalDatabaseURL is the DSN of database name on the local server.
func LocalDatabaseURL(name string) string {
	return "postgres://postgres@127.0.0.1:5432/" + name + "?sslmode=disable"
}

// Load fills cfg (a pointer to a struct that embeds Common, or to Common)
// from the environment with the defaults of service, and validates Common.
// environ is Environ() in production and a literal map in tests.
func Load(cfg any, service string, environ map[string]string) error {
	def, ok := services[service]
	if !ok {
		return fmt.Errorf("config: unknown service %q", service)
	}
	if err := env.ParseWithOptions(cfg, env.Options{Environment: environ}); err != nil {
		return fmt.Errorf("config: %w", nameVariables(cfg, err))
	}
	c := common(cfg)
	if c == nil {
		return errors.New("config: cfg must embed config.Common")
	}
	c.Service = service
	if c.HTTPAddr == "" {
		c.HTTPAddr = fmt.Sprintf("127.0.0.1:%d", def.port)
	}
	if c.DatabaseURL == "" {
		c.DatabaseURL = LocalDatabaseURL(def.database)
	}
	if c.DBMaxIdleConns == 0 {
		c.DBMaxIdleConns = c.DBMaxOpenConns
	}
	for i, p := range c.TrustedProxies {
		c.TrustedProxies[i] = strings.TrimSpace(p)
	}
	c.TrustedProxies = slices.DeleteFunc(c.TrustedProxies, func(p string) bool { return p == "" })
	if err := c.Validate(); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	return nil
}

// nameVariables rewrites parse errors, which name the Go field, to name the
// environment variable the operator actually set.
func nameVariables(cfg any, err error) error {
	var agg env.AggregateError
	if !errors.As(err, &agg) {
		return err
	}
	keys := map[string]string{}
	collectKeys(reflect.TypeOf(cfg), keys)
	out := make([]error, 0, len(agg.Errors))
	for _, e := range agg.Errors {
		var pe env.ParseError
		if errors.As(e, &pe) && keys[pe.Name] != "" {
			e = fmt.Errorf("%s: cannot parse as %s: %w", keys[pe.Name], pe.Type, pe.Err)
		}
		out = append(out, e)
	}
	return errors.Join(out...)
}

// collectKeys maps field names to their env tags, through embedded structs.
func collectKeys(t reflect.Type, keys map[string]string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return
	}
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous {
			collectKeys(f.Type, keys)
			continue
		}
		if k, _, _ := strings.Cut(f.Tag.Get("env"), ","); k != "" && k != "-" {
			keys[f.Name] = k
		}
	}
}

// Environ returns the process environment as a map, for Load.
func Environ() map[string]string { return env.ToMap(os.Environ()) }

func common(cfg any) *Common {
	switch c := cfg.(type) {
	case *Common:
		return c
	case interface{ common() *Common }:
		return c.common()
	}
	return nil
}

// common lets Load find the embedded Common of a service config.
func (c *Common) common() *Common { return c }

// Validate checks Common and names each bad variable.
func (c *Common) Validate() error {
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{name}, args...)...))
	}
	if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
		bad("SHOP_HTTP_ADDR", "%q is not host:port", c.HTTPAddr)
	}
	for name, dsn := range map[string]string{"SHOP_DATABASE_URL": c.DatabaseURL, "SHOP_DATABASE_READ_URL": c.DatabaseReadURL} {
		if dsn == "" && name == "SHOP_DATABASE_READ_URL" {
			continue
		}
		if u, err := url.Parse(dsn); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || strings.TrimPrefix(u.Path, "/") == "" {
			bad(name, "want postgres://user@host:port/dbname, got %q", redact(dsn))
		}
	}
	if u, err := url.Parse(c.RedisURL); err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") {
		bad("SHOP_REDIS_URL", "want redis://host:port/db, got %q", redact(c.RedisURL))
	}
	if len(c.KafkaBrokers) == 0 {
		bad("SHOP_KAFKA_BROKERS", "at least one broker host:port is required")
	}
	for _, b := range c.KafkaBrokers {
		if _, _, err := net.SplitHostPort(strings.TrimSpace(b)); err != nil {
			bad("SHOP_KAFKA_BROKERS", "%q is not host:port", b)
		}
	}
	if c.TopicPartitions < 1 || c.TopicPartitions > 1000 {
		bad("SHOP_TOPIC_PARTITIONS", "must be 1..1000, got %d", c.TopicPartitions)
	}
	if c.TopicReplicas < 1 {
		bad("SHOP_TOPIC_REPLICATION_FACTOR", "must be at least 1, got %d", c.TopicReplicas)
	}
	if u, err := url.Parse(c.JWKSURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("SHOP_JWKS_URL", "want an http(s) URL, got %q", c.JWKSURL)
	}
	if c.JWTIssuer == "" {
		bad("SHOP_JWT_ISSUER", "must not be empty")
	}
	if c.JWTAudience == "" {
		bad("SHOP_JWT_AUDIENCE", "must not be empty")
	}
	if c.DBMaxOpenConns < 1 {
		bad("SHOP_DB_MAX_OPEN_CONNS", "must be at least 1, got %d", c.DBMaxOpenConns)
	}
	if c.DBMaxIdleConns < 1 || c.DBMaxIdleConns > c.DBMaxOpenConns {
		bad("SHOP_DB_MAX_IDLE_CONNS", "must be 1..SHOP_DB_MAX_OPEN_CONNS (unset: as many), got %d", c.DBMaxIdleConns)
	}
	for _, p := range c.TrustedProxies {
		if !validAddressOrCIDR(p) {
			bad("SHOP_TRUSTED_PROXIES", "%q is not an IP address or CIDR", p)
		}
	}
	if c.RateLimitPerMinute < 0 {
		bad("SHOP_RATE_LIMIT_PER_MINUTE", "must not be negative, got %d", c.RateLimitPerMinute)
	}
	if _, err := logging.ParseLevel(c.LogLevel); err != nil {
		bad("SHOP_LOG_LEVEL", "%v", err)
	}
	if c.BodyLimit < 1024 {
		bad("SHOP_HTTP_BODY_LIMIT", "must be at least 1024 bytes, got %d", c.BodyLimit)
	}
	if c.ShutdownTimeout <= 0 {
		bad("SHOP_SHUTDOWN_TIMEOUT", "must be positive, got %s", c.ShutdownTimeout)
	}
	return errors.Join(errs...)
}

// validAddressOrCIDR reports whether s is an IP address or an IP network
// in CIDR notation (what gin's trusted proxies accept).
func validAddressOrCIDR(s string) bool {
	if _, _, err := net.ParseCIDR(s); err == nil {
		return true
	}
	return net.ParseIP(s) != nil
}

// redact hides a password in a URL so that config errors never print one.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}
