package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/shop-oss/shop/pkg/config"
	"github.com/shop-oss/shop/scripts/internal/procstack"
)

// binDir holds the service binaries, built once per test run (TestMain).
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "shop-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	wd, _ := os.Getwd()
	if err := procstack.Build(filepath.Join(wd, "../.."), dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// stack is procstack.Stack bound to a test.
type stack struct {
	*procstack.Stack
	t *testing.T
}

// newStack starts every service; extra sets additional variables per
// service. Everything stops when the test ends, and a service that does not
// shut down cleanly fails the test.
func newStack(t *testing.T, extra map[string]map[string]string) *stack {
	t.Helper()
	ps, err := procstack.Start(context.Background(), procstack.Options{BinDir: binDir, WorkDir: t.TempDir(), Env: extra})
	if err != nil {
		t.Fatal(err)
	}
	s := &stack{Stack: ps, t: t}
	t.Cleanup(func() {
		if t.Failed() {
			for _, name := range config.ServiceNames {
				t.Logf("--- %s log (last lines):\n%s", name, ps.Tail(name, 30))
			}
		}
		if err := ps.Close(); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return s
}

func (s *stack) url(service string) string { return s.URL(service) }

func (s *stack) run(service string, args ...string) string {
	s.t.Helper()
	out, err := s.Run(service, args...)
	if err != nil {
		s.t.Fatalf("%v\n%s", err, out)
	}
	return out
}

func (s *stack) stop(name string) {
	s.t.Helper()
	if err := s.StopService(name); err != nil {
		s.t.Error(err)
	}
}

func (s *stack) start(name string) {
	s.t.Helper()
	if err := s.StartService(name); err != nil {
		s.t.Fatal(err)
	}
}

func (s *stack) waitReady(name string) {
	s.t.Helper()
	if err := s.WaitReady(name, 60*time.Second); err != nil {
		s.t.Fatal(err)
	}
}
