package config

import (
	"strings"
	"testing"
	"time"
)

type inventoryConfig struct {
	Common
	ReservationTTL time.Duration `env:"SHOP_INVENTORY_RESERVATION_TTL" envDefault:"15m"`
}

func TestLoadDefaultsWorkLocally(t *testing.T) {
	var cfg inventoryConfig
	if err := Load(&cfg, "inventory", map[string]string{}); err != nil {
		t.Fatal(err)
	}
	if cfg.Service != "inventory" || cfg.HTTPAddr != "127.0.0.1:8083" ||
		cfg.DatabaseURL != "postgres://postgres@127.0.0.1:5432/inventory?sslmode=disable" ||
		cfg.KafkaBrokers[0] != "127.0.0.1:9092" || cfg.TopicPartitions != 6 || cfg.ReservationTTL != 15*time.Minute {
		t.Fatalf("unexpected defaults: %+v", cfg)
	}
	var order Common
	if err := Load(&order, "order", nil); err != nil || !strings.HasSuffix(order.DatabaseURL, "/orders?sslmode=disable") {
		t.Fatalf("order database default: %v %q", err, order.DatabaseURL)
	}
}

// TestIdlePoolKeepsWhatMayBeOpen: unless told otherwise, the pool keeps as
// many idle connections as it may open, so that load never makes it close
// and reopen PostgreSQL connections.
func TestIdlePoolKeepsWhatMayBeOpen(t *testing.T) {
	for _, c := range []struct {
		environ        map[string]string
		wantOpen, want int
	}{
		{nil, 12, 12},
		{map[string]string{"SHOP_DB_MAX_OPEN_CONNS": "30"}, 30, 30},
		{map[string]string{"SHOP_DB_MAX_OPEN_CONNS": "30", "SHOP_DB_MAX_IDLE_CONNS": "10"}, 30, 10},
	} {
		var cfg Common
		if err := Load(&cfg, "order", c.environ); err != nil {
			t.Fatal(err)
		}
		if cfg.DBMaxOpenConns != c.wantOpen || cfg.DBMaxIdleConns != c.want {
			t.Errorf("%v: open %d idle %d, want %d %d", c.environ, cfg.DBMaxOpenConns, cfg.DBMaxIdleConns, c.wantOpen, c.want)
		}
	}
}

func TestLoadReadsEnvironment(t *testing.T) {
	var cfg inventoryConfig
	err := Load(&cfg, "inventory", map[string]string{
		"SHOP_HTTP_ADDR":                 ":9000",
		"SHOP_KAFKA_BROKERS":             "a:1,b:2",
		"SHOP_INVENTORY_RESERVATION_TTL": "2m",
		"SHOP_LOG_LEVEL":                 "debug",
	})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HTTPAddr != ":9000" || len(cfg.KafkaBrokers) != 2 || cfg.ReservationTTL != 2*time.Minute || cfg.LogLevel != "debug" {
		t.Fatalf("got %+v", cfg)
	}
}

func TestLoadRejectsBadValuesNamingTheVariable(t *testing.T) {
	cases := map[string]map[string]string{
		"SHOP_TOPIC_PARTITIONS":          {"SHOP_TOPIC_PARTITIONS": "zero"},
		"SHOP_INVENTORY_RESERVATION_TTL": {"SHOP_INVENTORY_RESERVATION_TTL": "soon"},
		"SHOP_LOG_LEVEL":                 {"SHOP_LOG_LEVEL": "loud"},
		"SHOP_HTTP_ADDR":                 {"SHOP_HTTP_ADDR": "8080"},
		"SHOP_DATABASE_URL":              {"SHOP_DATABASE_URL": "mysql://x/y"},
		"SHOP_KAFKA_BROKERS":             {"SHOP_KAFKA_BROKERS": "nohostport"},
		"SHOP_JWKS_URL":                  {"SHOP_JWKS_URL": "ftp://x"},
		"SHOP_DB_MAX_IDLE_CONNS":         {"SHOP_DB_MAX_OPEN_CONNS": "4", "SHOP_DB_MAX_IDLE_CONNS": "5"},
		"SHOP_KAFKA_MAX_MESSAGE_BYTES":   {"SHOP_KAFKA_MAX_MESSAGE_BYTES": "1000"},
		"SHOP_IDEMPOTENCY_SECRET":        {"SHOP_IDEMPOTENCY_SECRET": "too-short"},
		"SHOP_TOPIC_MIN_INSYNC_REPLICAS": {"SHOP_TOPIC_REPLICATION_FACTOR": "3", "SHOP_TOPIC_MIN_INSYNC_REPLICAS": "4"},
		"SHOP_BROKER_SASL_MECHANISM":     {"SHOP_BROKER_SASL_MECHANISM": "GSSAPI", "SHOP_BROKER_SASL_USERNAME": "u", "SHOP_BROKER_SASL_PASSWORD": "p"},
		"SHOP_BROKER_SASL_PASSWORD":      {"SHOP_BROKER_SASL_MECHANISM": "SCRAM-SHA-512", "SHOP_BROKER_SASL_USERNAME": "u"},
		"SHOP_BROKER_SASL_USERNAME":      {"SHOP_BROKER_SASL_MECHANISM": "SCRAM-SHA-256", "SHOP_BROKER_SASL_PASSWORD": "p"},
		"SHOP_BROKER_TLS_KEY_FILE":       {"SHOP_BROKER_TLS_CERT_FILE": "/etc/shop/client.pem"},
	}
	for name, environ := range cases {
		var cfg inventoryConfig
		err := Load(&cfg, "inventory", environ)
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: want an error naming it, got %v", name, err)
		}
	}
}

func TestConfigErrorsNeverPrintPasswords(t *testing.T) {
	var cfg Common
	err := Load(&cfg, "catalog", map[string]string{"SHOP_DATABASE_URL": "mysql://app:s3cret@db/catalog"})
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("want a redacted error, got %v", err)
	}
	err = Load(&cfg, "catalog", map[string]string{"SHOP_IDEMPOTENCY_SECRET": "s3cret-but-short"})
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("want an error that does not print the secret, got %v", err)
	}
}

// The idempotency secret and the message size limit have local defaults.
func TestEventAndIdempotencyDefaults(t *testing.T) {
	var cfg Common
	if err := Load(&cfg, "payment", nil); err != nil {
		t.Fatal(err)
	}
	if cfg.IdempotencySecret != DevIdempotencySecret || cfg.KafkaMaxMessageBytes != 1000000 {
		t.Fatalf("secret %q, max message bytes %d", cfg.IdempotencySecret, cfg.KafkaMaxMessageBytes)
	}
}

func TestLoadUnknownService(t *testing.T) {
	var cfg Common
	if err := Load(&cfg, "shipping", nil); err == nil {
		t.Fatal("unknown service accepted")
	}
}

// No proxy is trusted unless configured: a client that sends
// X-Forwarded-For straight to a service must not choose its own address.
func TestTrustedProxiesDefaultToNone(t *testing.T) {
	for _, c := range []struct {
		environ map[string]string
		want    []string
	}{
		{nil, nil},
		{map[string]string{"SHOP_TRUSTED_PROXIES": ""}, nil},
		{map[string]string{"SHOP_TRUSTED_PROXIES": "127.0.0.2"}, []string{"127.0.0.2"}},
		{map[string]string{"SHOP_TRUSTED_PROXIES": "10.0.0.0/8, fd00::1,"}, []string{"10.0.0.0/8", "fd00::1"}},
	} {
		var cfg Common
		if err := Load(&cfg, "identity", c.environ); err != nil {
			t.Fatalf("%v: %v", c.environ, err)
		}
		if strings.Join(cfg.TrustedProxies, "|") != strings.Join(c.want, "|") {
			t.Errorf("%v: trusted proxies %q, want %q", c.environ, cfg.TrustedProxies, c.want)
		}
	}
	var cfg Common
	err := Load(&cfg, "identity", map[string]string{"SHOP_TRUSTED_PROXIES": "gateway.local"})
	if err == nil || !strings.Contains(err.Error(), "SHOP_TRUSTED_PROXIES") {
		t.Errorf("a host name: want an error naming SHOP_TRUSTED_PROXIES, got %v", err)
	}
}

func TestBrokerSettings(t *testing.T) {
	var cfg Common
	err := Load(&cfg, "payment", map[string]string{
		"SHOP_TOPIC_REPLICATION_FACTOR": "3", "SHOP_TOPIC_MIN_INSYNC_REPLICAS": "2",
		"SHOP_BROKER_SASL_MECHANISM": "SCRAM-SHA-512", "SHOP_BROKER_SASL_USERNAME": "shop", "SHOP_BROKER_SASL_PASSWORD": "p",
		"SHOP_BROKER_TLS": "true",
	})
	if err != nil {
		t.Fatal(err)
	}
	b, err := cfg.Broker()
	if err != nil {
		t.Fatal(err)
	}
	if b.Replicas != 3 || b.MinInSyncReplicas != 2 || b.ClientID != "payment" || b.SASL == nil ||
		b.SASL.Name() != "SCRAM-SHA-512" || b.TLS == nil || b.TLS.RootCAs != nil {
		t.Fatalf("broker config: %+v", b)
	}

	// Without them: plaintext, no SASL (the local broker).
	var plain Common
	if err := Load(&plain, "payment", nil); err != nil {
		t.Fatal(err)
	}
	if b, err := plain.Broker(); err != nil || b.SASL != nil || b.TLS != nil {
		t.Fatalf("default broker config: %+v, %v", b, err)
	}

	// A CA file that is not there stops start-up naming the variable.
	var missing Common
	if err := Load(&missing, "payment", map[string]string{"SHOP_BROKER_TLS_CA_FILE": "/nonexistent/ca.pem"}); err != nil {
		t.Fatal(err)
	}
	if _, err := missing.Broker(); err == nil || !strings.Contains(err.Error(), "SHOP_BROKER_TLS_CA_FILE") {
		t.Fatalf("missing CA file: got %v", err)
	}
}

func TestSettingsListsEveryVariable(t *testing.T) {
	settings, err := Settings(&inventoryConfig{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, s := range settings {
		got[s.Name] = s.Default
	}
	for name, def := range map[string]string{
		"SHOP_INVENTORY_RESERVATION_TTL": "15m", "SHOP_TOPIC_PARTITIONS": "6", "SHOP_BROKER_SASL_PASSWORD": "", "SHOP_HTTP_ADDR": "",
	} {
		if d, ok := got[name]; !ok || d != def {
			t.Errorf("%s: listed %v with default %q, want %q", name, ok, d, def)
		}
	}
	if _, ok := got["Service"]; ok || len(settings) < 30 {
		t.Errorf("settings: %v", settings)
	}
}
