package e2e

import (
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shop-oss/shop/pkg/config"
)

// runBinary runs a service binary with exactly env (plus PATH and HOME) and
// returns its combined output and whether it failed.
func runBinary(t *testing.T, service string, env map[string]string, args ...string) (string, bool) {
	t.Helper()
	cmd := exec.Command(filepath.Join(binDir, service), args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	return string(out), err != nil
}

// productionEnv is a production-grade environment for service: nothing in
// it is a developer's default (the hosts need not exist: the services
// refuse before connecting).
func productionEnv(service string) map[string]string {
	return map[string]string{
		"SHOP_ENV":                         "production",
		"SHOP_DATABASE_URL":                fmt.Sprintf("postgres://%s:secret@db.invalid:5432/%s?sslmode=verify-full", service, service),
		"SHOP_JWKS_URL":                    "https://identity.invalid/.well-known/jwks.json",
		"SHOP_BROKER_SASL_MECHANISM":       "SCRAM-SHA-512",
		"SHOP_BROKER_SASL_USERNAME":        service,
		"SHOP_BROKER_SASL_PASSWORD":        "broker-secret",
		"SHOP_BROKER_TLS":                  "true",
		"SHOP_IDEMPOTENCY_SECRET":          "a-random-production-secret-of-40-bytes!!",
		"SHOP_IDENTITY_KEY_ENCRYPTION_KEY": base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef")),
	}
}

// SHOP_ENV=production: every service refuses to start on the local
// defaults, naming each problem, and every seed refuses to run even with
// production-grade settings. Without SHOP_ENV the same defaults are fine
// (the rest of this suite runs on them).
func TestProductionMode(t *testing.T) {
	for _, svc := range config.ServiceNames {
		out, failed := runBinary(t, svc, map[string]string{"SHOP_ENV": "production"})
		if !failed {
			t.Errorf("%s started in production on the local defaults:\n%s", svc, out)
		}
		want := []string{"SHOP_JWKS_URL", "SHOP_DATABASE_URL: sslmode=disable", "SHOP_BROKER_SASL_MECHANISM", "SHOP_BROKER_TLS",
			"SHOP_IDEMPOTENCY_SECRET"}
		if svc == "identity" {
			want = append(want, "SHOP_IDENTITY_KEY_ENCRYPTION_KEY")
		}
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("%s does not name %s:\n%s", svc, w, out)
			}
		}

		out, failed = runBinary(t, svc, productionEnv(svc), "seed")
		if !failed || !strings.Contains(out, "refused with SHOP_ENV=production") {
			t.Errorf("%s seed in production: failed=%v\n%s", svc, failed, out)
		}
	}
}
