package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"

	"github.com/shop-oss/shop/pkg/config"
	"github.com/shop-oss/shop/pkg/database"
	"github.com/shop-oss/shop/pkg/localbroker"
	"github.com/shop-oss/shop/scripts/internal/procstack"
)

// env is a running identity service with its own database and broker.
type env struct {
	base string
	stop func()
}

func startIdentity(ctx context.Context, cost int) (*env, error) {
	var cleanups []func()
	stop := func() {
		for i := len(cleanups) - 1; i >= 0; i-- {
			cleanups[i]()
		}
	}
	fail := func(err error) (*env, error) {
		stop()
		return nil, err
	}

	dataDir, err := os.MkdirTemp("", "identity-bench-broker-")
	if err != nil {
		return nil, err
	}
	cleanups = append(cleanups, func() { _ = os.RemoveAll(dataDir) })
	b, err := localbroker.Start(localbroker.Config{DataDir: dataDir, Partitions: 6})
	if err != nil {
		return fail(fmt.Errorf("start broker: %w", err))
	}
	cleanups = append(cleanups, b.Stop)

	dsn, drop, err := freshDatabase(ctx)
	if err != nil {
		return fail(err)
	}
	cleanups = append(cleanups, drop)

	addr, err := freeAddr()
	if err != nil {
		return fail(err)
	}
	environ := config.Environ()
	redisURL := environ["SHOP_REDIS_URL"]
	if redisURL == "" {
		redisURL = "redis://127.0.0.1:6379/15"
	}
	for k, v := range map[string]string{
		"SHOP_HTTP_ADDR":                           addr,
		"SHOP_JWKS_URL":                            "http://" + addr + "/.well-known/jwks.json",
		"SHOP_DATABASE_URL":                        dsn,
		"SHOP_REDIS_URL":                           redisURL,
		"SHOP_KAFKA_BROKERS":                       b.Addr(),
		"SHOP_LOG_LEVEL":                           "error",
		"SHOP_RATE_LIMIT_PER_MINUTE":               "0",
		"SHOP_IDENTITY_BCRYPT_COST":                fmt.Sprint(cost),
		"SHOP_IDENTITY_LOGIN_PER_MINUTE":           "0",
		"SHOP_IDENTITY_REGISTER_PER_MINUTE":        "0",
		"SHOP_IDENTITY_LOGIN_MAX_ADDRESS_FAILURES": "0",
		"SHOP_IDENTITY_LOGIN_MAX_CLIENT_FAILURES":  "0",
		"SHOP_IDENTITY_LOGIN_SLOWDOWN":             "0s",
	} {
		environ[k] = v
	}
	// The service runs as its own process, built from this checkout, as it
	// runs in a deployment.
	bin, err := buildIdentity(ctx)
	if err != nil {
		return fail(err)
	}
	cleanups = append(cleanups, func() { _ = os.RemoveAll(filepath.Dir(bin)) })
	cmd := exec.CommandContext(context.WithoutCancel(ctx), bin)
	for k, v := range environ {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	if err := cmd.Start(); err != nil {
		return fail(fmt.Errorf("start identity: %w", err))
	}
	cleanups = append(cleanups, func() { _ = cmd.Process.Signal(syscall.SIGTERM); _ = cmd.Wait() })
	base := "http://" + addr
	if err := waitReady(ctx, base+"/readyz"); err != nil {
		return fail(err)
	}
	return &env{base: base, stop: stop}, nil
}

// freshDatabase creates a database for the run on the server of
// SHOP_TEST_DATABASE_URL (default: the local one) and returns its URL and
// a function that drops it.
func freshDatabase(ctx context.Context) (string, func(), error) {
	admin := os.Getenv("SHOP_TEST_DATABASE_URL")
	if admin == "" {
		admin = config.LocalDatabaseURL("postgres")
	}
	suffix := make([]byte, 6)
	_, _ = rand.Read(suffix)
	name := "identity_bench_" + hex.EncodeToString(suffix)
	u, err := url.Parse(admin)
	if err != nil {
		return "", nil, fmt.Errorf("SHOP_TEST_DATABASE_URL: %w", err)
	}
	u.Path = "/" + name
	dsn := u.String()
	if err := database.EnsureExists(ctx, dsn); err != nil {
		return "", nil, err
	}
	drop := func() {
		db, err := database.Open(context.Background(), admin, database.Pool{MaxOpen: 1}, slog.New(slog.DiscardHandler))
		if err != nil {
			fmt.Fprintln(os.Stderr, "identity-bench: drop database:", err)
			return
		}
		defer database.Close(db)
		if err := db.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)").Error; err != nil {
			fmt.Fprintln(os.Stderr, "identity-bench: drop database:", err)
		}
	}
	return dsn, drop, nil
}

// buildIdentity compiles the identity service of this checkout into a
// temporary folder and returns the binary's path.
func buildIdentity(ctx context.Context) (string, error) {
	root, err := procstack.RepoRoot()
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "identity-bench-bin-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "identity")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./services/identity/cmd/identity")
	build.Dir, build.Stdout, build.Stderr = root, os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		_ = os.RemoveAll(dir)
		return "", fmt.Errorf("build identity: %w", err)
	}
	return bin, nil
}
