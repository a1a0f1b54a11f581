package app_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/shop-oss/shop/pkg/config"
	"github.com/shop-oss/shop/pkg/testkit"
	"github.com/shop-oss/shop/services/identity/internal/app"
)

func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	cfg, err := app.Load(map[string]string{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.BcryptCost != 12 || cfg.AccessTokenTTL.Minutes() != 15 || cfg.RefreshTokenTTL.Hours() != 14*24 ||
		cfg.LoginPerMinute != 20 || cfg.KeyRotation != 0 || cfg.HTTPAddr != "127.0.0.1:8081" {
		t.Errorf("defaults: %+v", cfg)
	}
}

func TestConfigNamesEveryBadVariable(t *testing.T) {
	t.Parallel()
	_, err := app.Load(map[string]string{
		"SHOP_IDENTITY_BCRYPT_COST":        "3",
		"SHOP_IDENTITY_ACCESS_TOKEN_TTL":   "10s",
		"SHOP_IDENTITY_KEY_ENCRYPTION_KEY": "c2hvcnQ=",
		"SHOP_IDENTITY_KEY_ROTATION":       "1h",
		"SHOP_IDENTITY_SIGNING_KEY_FILE":   "/some/file.pem",
		"SHOP_IDENTITY_ADMIN_EMAIL":        "root@example.com",
		"SHOP_IDENTITY_LOGIN_PER_MINUTE":   "-1",
	})
	if err == nil {
		t.Fatal("bad configuration accepted")
	}
	for _, name := range []string{"SHOP_IDENTITY_BCRYPT_COST", "SHOP_IDENTITY_ACCESS_TOKEN_TTL",
		"SHOP_IDENTITY_KEY_ENCRYPTION_KEY", "SHOP_IDENTITY_KEY_ROTATION", "SHOP_IDENTITY_ADMIN_EMAIL",
		"SHOP_IDENTITY_LOGIN_PER_MINUTE"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name %s: %v", name, err)
		}
	}
	_, err = app.Load(map[string]string{"SHOP_IDENTITY_ADMIN_EMAIL": "root@example.com", "SHOP_IDENTITY_ADMIN_PASSWORD": "s3cret-value-xyz",
		"SHOP_IDENTITY_BCRYPT_COST": "99"})
	if err == nil || strings.Contains(err.Error(), "s3cret-value-xyz") {
		t.Errorf("error %v: want refused without printing the password", err)
	}
}

// A weak first-administrator password stops start-up, naming the variable.
func TestBootstrapAdminPasswordPolicy(t *testing.T) {
	t.Parallel()
	st := testkit.NewStack(t)
	var cfg app.Config
	st.Config(t, "identity", &cfg, map[string]string{
		"SHOP_IDENTITY_BCRYPT_COST":    "4",
		"SHOP_IDENTITY_ADMIN_EMAIL":    "root@example.com",
		"SHOP_IDENTITY_ADMIN_PASSWORD": "password123",
	})
	svc, err := app.New(context.Background(), cfg, app.Options{LogOutput: testkit.LogOutput(t)})
	if err == nil {
		svc.Close()
		t.Fatal("weak admin password accepted")
	}
	if !strings.Contains(err.Error(), "SHOP_IDENTITY_ADMIN_PASSWORD") || strings.Contains(err.Error(), "password123") {
		t.Errorf("error %v: want it to name the variable, not the value", err)
	}
}

// Access tokens live at most an hour: every service remembers a revocation
// for that long (auth.RevocationLifetime), no longer.
func TestConfigCapsTheAccessTokenLifetime(t *testing.T) {
	t.Parallel()
	if _, err := app.Load(map[string]string{"SHOP_IDENTITY_ACCESS_TOKEN_TTL": "1h"}); err != nil {
		t.Fatalf("1h refused: %v", err)
	}
	_, err := app.Load(map[string]string{"SHOP_IDENTITY_ACCESS_TOKEN_TTL": "1h1m"})
	if err == nil || !strings.Contains(err.Error(), "SHOP_IDENTITY_ACCESS_TOKEN_TTL") {
		t.Fatalf("1h1m: %v, want refused naming the variable", err)
	}
}

// productionEnv is a production-grade identity environment.
func productionEnv() map[string]string {
	return map[string]string{
		"SHOP_ENV":                         "production",
		"SHOP_DATABASE_URL":                "postgres://identity:secret@db.invalid:5432/identity?sslmode=verify-full",
		"SHOP_JWKS_URL":                    "https://identity.invalid/.well-known/jwks.json",
		"SHOP_BROKER_SASL_MECHANISM":       "SCRAM-SHA-512",
		"SHOP_BROKER_SASL_USERNAME":        "identity",
		"SHOP_BROKER_SASL_PASSWORD":        "broker-secret",
		"SHOP_BROKER_TLS":                  "true",
		"SHOP_IDEMPOTENCY_SECRET":          "a-random-production-secret-of-40-bytes!!",
		"SHOP_IDENTITY_KEY_ENCRYPTION_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
	}
}

// In production identity needs the key that seals its signing keys, and
// refuses to seed demo users.
func TestProductionIdentity(t *testing.T) {
	t.Parallel()
	cfg, err := app.Load(productionEnv())
	if err != nil {
		t.Fatalf("production-grade settings refused: %v", err)
	}
	var out strings.Builder
	if err := app.Seed(context.Background(), cfg, &out); !errors.Is(err, config.ErrProduction) || out.Len() != 0 {
		t.Fatalf("seed in production: %v, printed %q; want refused before anything", err, out.String())
	}
	env := productionEnv()
	delete(env, "SHOP_IDENTITY_KEY_ENCRYPTION_KEY")
	env["SHOP_IDENTITY_BCRYPT_COST"] = "4"
	_, err = app.Load(env)
	for _, name := range []string{"SHOP_IDENTITY_KEY_ENCRYPTION_KEY", "SHOP_IDENTITY_BCRYPT_COST"} {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("production without %s: %v, want refused naming it", name, err)
		}
	}
	if _, err := app.Load(map[string]string{"SHOP_IDENTITY_BCRYPT_COST": "4"}); err != nil {
		t.Errorf("development with the test cost: %v", err)
	}
}
