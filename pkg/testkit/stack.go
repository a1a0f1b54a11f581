package testkit

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/shop-oss/shop/pkg/auth/authtest"
	"github.com/shop-oss/shop/pkg/config"
	"github.com/shop-oss/shop/pkg/localbroker"
	"github.com/shop-oss/shop/pkg/service"
)

// Stack is the shared infrastructure of a test that runs one or more
// services: one private Redis, one broker and a JWT issuer; each service
// gets its own fresh database from Config.
type Stack struct {
	Redis  *RedisServer
	Broker *localbroker.Broker
	// Issuer signs access tokens that the services accept. A test of the
	// identity service points SHOP_JWKS_URL at identity instead.
	Issuer *authtest.Issuer
}

// NewStack starts the shared infrastructure for the test.
func NewStack(t testing.TB) *Stack {
	t.Helper()
	return &Stack{Redis: Redis(t), Broker: Broker(t), Issuer: authtest.NewIssuer(t)}
}

// Config returns the configuration of service (identity, catalog, ...) on a
// free port with a fresh database and the stack's Redis, broker and JWKS.
// env overrides or adds variables (e.g. service-specific SHOP_<NAME>_*).
func (s *Stack) Config(t testing.TB, service string, cfg any, env map[string]string) {
	t.Helper()
	vars := map[string]string{
		"SHOP_HTTP_ADDR":             "127.0.0.1:0",
		"SHOP_DATABASE_URL":          PostgresURL(t),
		"SHOP_REDIS_URL":             s.Redis.URL(),
		"SHOP_KAFKA_BROKERS":         s.Broker.Addr(),
		"SHOP_JWKS_URL":              s.Issuer.JWKSURL(),
		"SHOP_LOG_LEVEL":             "debug",
		"SHOP_RATE_LIMIT_PER_MINUTE": "100000",
		"SHOP_SHUTDOWN_TIMEOUT":      "10s",
	}
	for k, v := range env {
		vars[k] = v
	}
	if err := config.Load(cfg, service, vars); err != nil {
		t.Fatalf("config for %s: %v", service, err)
	}
}

// Run runs svc until the test ends (then shuts it down gracefully and fails
// the test if that fails), waits until /readyz answers 200, and returns the
// base URL, e.g. http://127.0.0.1:41234.
func Run(t testing.TB, svc *service.Service) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("%s shutdown: %v", svc.Name, err)
			}
		case <-time.After(60 * time.Second):
			t.Errorf("%s did not shut down within 60s", svc.Name)
		}
		svc.Close()
	})
	base := "http://" + svc.Addr()
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := http.Get(base + "/readyz")
		if err == nil {
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return base
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready after 30s (last: %v)", svc.Name, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// LogOutput returns a writer for a service's JSON logs that passes them to
// t.Log (visible with -v or on failure).
func LogOutput(t testing.TB) io.Writer {
	w := &tWriter{t: t}
	t.Cleanup(func() { w.done.Store(true) })
	return w
}

// LogBuffer collects log output from concurrent writers for assertions.
type LogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns everything written so far.
func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
