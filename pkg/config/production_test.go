package config

import (
	"errors"
	"strings"
	"testing"
)

// productionEnv is a production-grade environment: every check passes.
func productionEnv() map[string]string {
	return map[string]string{
		"SHOP_ENV":                   "production",
		"SHOP_DATABASE_URL":          "postgres://catalog:secret@db.internal:5432/catalog?sslmode=verify-full",
		"SHOP_JWKS_URL":              "https://identity.internal/.well-known/jwks.json",
		"SHOP_BROKER_SASL_MECHANISM": "SCRAM-SHA-512",
		"SHOP_BROKER_SASL_USERNAME":  "catalog",
		"SHOP_BROKER_SASL_PASSWORD":  "broker-secret",
		"SHOP_BROKER_TLS":            "true",
		"SHOP_IDEMPOTENCY_SECRET":    "a-random-production-secret-of-40-bytes!!",
	}
}

func TestProductionAcceptsProductionSettings(t *testing.T) {
	var c Common
	if err := Load(&c, "catalog", productionEnv()); err != nil {
		t.Fatalf("production-grade settings refused: %v", err)
	}
	if !c.Production() || !errors.Is(c.ForbidInProduction("seed"), ErrProduction) {
		t.Fatalf("Production() = %v, ForbidInProduction = %v", c.Production(), c.ForbidInProduction("seed"))
	}
	env := productionEnv()
	env["SHOP_DATABASE_URL"] = "postgres://catalog@/catalog?host=/var/run/postgresql" // a Unix socket
	env["SHOP_BROKER_TLS"], env["SHOP_BROKER_TLS_CA_FILE"] = "false", "/etc/shop/ca.pem"
	if err := Load(&Common{}, "catalog", env); err != nil {
		t.Fatalf("a socket and a CA file refused: %v", err)
	}
}

// SHOP_ENV=production with the local defaults: every problem is named, in
// one error, and no secret is printed.
func TestProductionNamesEveryProblem(t *testing.T) {
	var c Common
	err := Load(&c, "catalog", map[string]string{
		"SHOP_ENV":               "production",
		"SHOP_DATABASE_READ_URL": "postgres://reader:read-secret@replica:5432/catalog?sslmode=prefer",
	})
	if err == nil {
		t.Fatal("the local defaults accepted in production")
	}
	for _, want := range []string{"SHOP_JWKS_URL", "SHOP_DATABASE_URL: sslmode=disable", "SHOP_DATABASE_READ_URL: sslmode=prefer",
		"SHOP_BROKER_SASL_MECHANISM", "SHOP_BROKER_TLS", "SHOP_IDEMPOTENCY_SECRET"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "read-secret") || strings.Contains(err.Error(), DevIdempotencySecret) {
		t.Errorf("a secret in the error: %v", err)
	}
	for name, value := range map[string]string{
		"SHOP_DATABASE_URL":       "postgres://catalog:secret@db.internal:5432/catalog?sslmode=allow",
		"SHOP_JWKS_URL":           "http://identity:8081/.well-known/jwks.json",
		"SHOP_IDEMPOTENCY_SECRET": DevIdempotencySecret,
	} {
		env := productionEnv()
		env[name] = value
		if err := Load(&Common{}, "catalog", env); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%s: %v, want refused naming it", name, value, err)
		}
	}
	env := productionEnv()
	delete(env, "SHOP_BROKER_SASL_MECHANISM")
	if err := Load(&Common{}, "catalog", env); err == nil || !strings.Contains(err.Error(), "SHOP_BROKER_SASL_MECHANISM") {
		t.Errorf("no broker authentication: %v", err)
	}
}

// The local stack keeps its easy defaults; SHOP_ENV takes nothing else.
func TestDevelopmentKeepsTheEasyDefaults(t *testing.T) {
	var c Common
	if err := Load(&c, "catalog", nil); err != nil || c.Env != EnvDevelopment || c.Production() || c.ForbidInProduction("seed") != nil {
		t.Fatalf("defaults: %v, env %q", err, c.Env)
	}
	if err := Load(&Common{}, "catalog", map[string]string{"SHOP_ENV": "prod"}); err == nil || !strings.Contains(err.Error(), "SHOP_ENV") {
		t.Fatalf("SHOP_ENV=prod: %v, want refused naming it", err)
	}
}
