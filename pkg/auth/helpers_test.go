package auth_test

import (
	"io"
	"log/slog"
	"testing"

	"github.com/shop-oss/shop/pkg/auth"
	"github.com/shop-oss/shop/pkg/logging"
)

const (
	alice = "0190f3c4-8a7e-7b1c-9d2e-3f4a5b6c7d8e"
	bob   = "0190f3c4-8a7e-7b1c-9d2e-000000000b0b"
)

func newLogger(w io.Writer) *slog.Logger { return logging.New(w, slog.LevelDebug, "test") }

// newVerifier builds a verifier for cfg that stops when the test ends.
func newVerifier(t testing.TB, cfg auth.Config, log *slog.Logger) *auth.Verifier {
	t.Helper()
	v, err := auth.NewVerifier(t.Context(), cfg, log)
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	t.Cleanup(v.Close)
	return v
}
