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

	"github.com/shop-oss/shop/pkg/broker"
	"github.com/shop-oss/shop/pkg/logging"
)

// Common holds the settings every service has. Names are the same in
// `make up`, compose and the Helm chart.
type Common struct {
	// Service is the service name (identity, catalog, ...); not from env.
	Service string `env:"-"`

	// Env is the deployment: development (the default: the local stack's
	// easy defaults) or production, where a service refuses to start with
	// settings only fit for a developer machine (production.go).
	Env string `env:"SHOP_ENV" envDefault:"development"`

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

	// DatabaseMigrate runs the migrations at start-up; the Helm chart turns
	// it off and runs `<service> migrate` as a Job before each release.
	DatabaseMigrate bool `env:"SHOP_DATABASE_MIGRATE" envDefault:"true"`

	RedisURL string `env:"SHOP_REDIS_URL" envDefault:"redis://127.0.0.1:6379/0"`

	KafkaBrokers    []string `env:"SHOP_KAFKA_BROKERS" envSeparator:"," envDefault:"127.0.0.1:9092"`
	TopicPartitions int      `env:"SHOP_TOPIC_PARTITIONS" envDefault:"6"`
	TopicReplicas   int      `env:"SHOP_TOPIC_REPLICATION_FACTOR" envDefault:"1"`
	// KafkaMaxMessageBytes is the one size limit of a message, the
	// producers' and the consumers' both; keep it below the broker's
	// (message.max.bytes, Redpanda's kafka_batch_max_bytes; 1 MiB by
	// default) by a few KiB of batch overhead. A dead letter that would
	// exceed it is sent with its payload cut (pkg/consumer).
	KafkaMaxMessageBytes int `env:"SHOP_KAFKA_MAX_MESSAGE_BYTES" envDefault:"1000000"`

	// IdempotencySecret keys the fingerprints of Idempotency-Key requests
	// (HMAC-SHA-256; pkg/idempotency): the same in every replica, at least
	// 32 bytes. The default is for the local stack only (DevIdempotencySecret).
	IdempotencySecret string `env:"SHOP_IDEMPOTENCY_SECRET" envDefault:"shop-local-development-idempotency-secret"`

	// TopicMinInSync is min.insync.replicas of the topics the service
	// creates (0: the broker's default).
	TopicMinInSync int `env:"SHOP_TOPIC_MIN_INSYNC_REPLICAS" envDefault:"0"`

	// Broker authentication and encryption (a real cluster): SASL with
	// SCRAM-SHA-256, SCRAM-SHA-512 or PLAIN when the mechanism is set; TLS
	// when SHOP_BROKER_TLS is true or a CA file is given.
	BrokerSASLMechanism string `env:"SHOP_BROKER_SASL_MECHANISM"`
	BrokerSASLUsername  string `env:"SHOP_BROKER_SASL_USERNAME"`
	BrokerSASLPassword  string `env:"SHOP_BROKER_SASL_PASSWORD"`
	BrokerTLS           bool   `env:"SHOP_BROKER_TLS" envDefault:"false"`
	BrokerTLSCAFile     string `env:"SHOP_BROKER_TLS_CA_FILE"`
	BrokerTLSCertFile   string `env:"SHOP_BROKER_TLS_CERT_FILE"`
	BrokerTLSKeyFile    string `env:"SHOP_BROKER_TLS_KEY_FILE"`

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

// DevIdempotencySecret is SHOP_IDEMPOTENCY_SECRET's default, for the local
// stack: a production deployment must set its own.
const DevIdempotencySecret = "shop-local-development-idempotency-secret"

// MinIdempotencySecretBytes is the shortest SHOP_IDEMPOTENCY_SECRET accepted.
const MinIdempotencySecretBytes = 32

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
	errs := []error{c.Validate()}
	// A service's own settings are checked in the same pass, so that one
	// refused start names every problem (SHOP_ENV=production often has
	// several).
	if own, ok := cfg.(interface{ Validate() error }); ok && cfg != any(c) {
		errs = append(errs, own.Validate())
	}
	if err := errors.Join(errs...); err != nil {
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

// Of returns the Common that cfg (a pointer to a service's config, or to a
// Common) embeds; nil when it embeds none.
func Of(cfg any) *Common { return common(cfg) }

// Setting is one environment variable a configuration reads.
type Setting struct {
	Name string
	// Default is the tag's default; empty where there is none or where Load
	// derives it (the HTTP address and database of the service).
	Default string
}

// Settings lists the variables that cfg (a pointer to a config struct)
// reads, sorted by name: what compose and the Helm chart must provide.
func Settings(cfg any) ([]Setting, error) {
	params, err := env.GetFieldParams(cfg)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	out := make([]Setting, 0, len(params))
	for _, p := range params {
		out = append(out, Setting{Name: p.Key, Default: p.DefaultValue})
	}
	slices.SortFunc(out, func(a, b Setting) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

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
	switch c.Env {
	case EnvDevelopment:
	case EnvProduction:
		errs = append(errs, c.productionProblems()...)
	default:
		bad("SHOP_ENV", "want %s or %s, got %q", EnvDevelopment, EnvProduction, c.Env)
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
	if c.KafkaMaxMessageBytes < 64<<10 || c.KafkaMaxMessageBytes > 100<<20 {
		bad("SHOP_KAFKA_MAX_MESSAGE_BYTES", "must be 65536..104857600 bytes, got %d", c.KafkaMaxMessageBytes)
	}
	if len(c.IdempotencySecret) < MinIdempotencySecretBytes {
		// The value is a secret: never print it.
		bad("SHOP_IDEMPOTENCY_SECRET", "must be at least %d bytes, got %d", MinIdempotencySecretBytes, len(c.IdempotencySecret))
	}
	if c.TopicMinInSync < 0 || c.TopicMinInSync > c.TopicReplicas {
		bad("SHOP_TOPIC_MIN_INSYNC_REPLICAS", "must be 0 (the broker's default) .. SHOP_TOPIC_REPLICATION_FACTOR (%d), got %d", c.TopicReplicas, c.TopicMinInSync)
	}
	if m := c.BrokerSASLMechanism; m != "" {
		if !slices.Contains(broker.Mechanisms, m) {
			bad("SHOP_BROKER_SASL_MECHANISM", "want one of %s (or empty for no SASL), got %q", strings.Join(broker.Mechanisms, ", "), m)
		}
		if c.BrokerSASLUsername == "" {
			bad("SHOP_BROKER_SASL_USERNAME", "must be set with SHOP_BROKER_SASL_MECHANISM")
		}
		if c.BrokerSASLPassword == "" {
			bad("SHOP_BROKER_SASL_PASSWORD", "must be set with SHOP_BROKER_SASL_MECHANISM")
		}
	}
	if (c.BrokerTLSCertFile == "") != (c.BrokerTLSKeyFile == "") {
		bad("SHOP_BROKER_TLS_CERT_FILE", "and SHOP_BROKER_TLS_KEY_FILE must be set together")
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

// Broker returns the broker client settings of c, with SASL and TLS set up;
// a TLS file that cannot be read stops start-up here.
func (c *Common) Broker() (broker.Config, error) {
	mech, err := broker.Mechanism(c.BrokerSASLMechanism, c.BrokerSASLUsername, c.BrokerSASLPassword)
	if err != nil {
		return broker.Config{}, fmt.Errorf("SHOP_BROKER_SASL_MECHANISM: %w", err)
	}
	cfg := broker.Config{
		Brokers: c.KafkaBrokers, Partitions: c.TopicPartitions, Replicas: c.TopicReplicas,
		MinInSyncReplicas: c.TopicMinInSync, ClientID: c.Service, SASL: mech, MaxMessageBytes: c.KafkaMaxMessageBytes,
	}
	if c.BrokerTLS || c.BrokerTLSCAFile != "" || c.BrokerTLSCertFile != "" {
		cfg.TLS, err = broker.TLSConfig(broker.TLSFiles{CA: c.BrokerTLSCAFile, Cert: c.BrokerTLSCertFile, Key: c.BrokerTLSKeyFile})
		if err != nil {
			return broker.Config{}, fmt.Errorf("SHOP_BROKER_TLS_CA_FILE, SHOP_BROKER_TLS_CERT_FILE, SHOP_BROKER_TLS_KEY_FILE: %w", err)
		}
	}
	return cfg, nil
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
