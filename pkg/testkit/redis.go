package testkit

import (
	"context"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shop-oss/shop/pkg/freeport"
)

// RedisServer is a private redis-server process for one test.
type RedisServer struct {
	t    testing.TB
	port int
	dir  string
	cmd  *exec.Cmd
	// Client is connected to the server; it survives Stop/Start.
	Client *redis.Client
}

// Redis starts an empty redis-server on a free loopback port, stopped when the
// test ends. It fails the test if redis-server is not installed.
func Redis(t testing.TB) *RedisServer {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatalf("redis-server not installed (make deps installs it): %v", err)
	}
	s := &RedisServer{t: t, port: FreePort(t), dir: t.TempDir()}
	s.Start()
	s.Client = redis.NewClient(&redis.Options{Addr: s.Addr(), MaxRetries: -1})
	t.Cleanup(func() {
		_ = s.Client.Close()
		s.Stop()
	})
	return s
}

// Addr is host:port of the server.
func (s *RedisServer) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// URL is the redis:// URL of the server.
func (s *RedisServer) URL() string { return "redis://" + s.Addr() + "/0" }

// Start (re)starts the server process on the same port; data is not kept.
func (s *RedisServer) Start() {
	s.t.Helper()
	s.cmd = exec.Command("redis-server", "--bind", "127.0.0.1", "--port", strconv.Itoa(s.port),
		"--save", "", "--appendonly", "no", "--dir", s.dir, "--loglevel", "warning")
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("start redis-server: %v", err)
	}
	waitTCP(s.t, s.Addr(), 10*time.Second)
	c := redis.NewClient(&redis.Options{Addr: s.Addr()})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for c.Ping(context.Background()).Err() != nil {
		if time.Now().After(deadline) {
			s.t.Fatalf("redis-server on %s did not answer PING", s.Addr())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ScriptRuns is how many Lua scripts the server has run since it started:
// EVALSHA calls that did not fail (the first of a script fails when it is
// not loaded yet, and the client falls back to EVAL), and EVAL calls.
func (s *RedisServer) ScriptRuns(t testing.TB) int {
	t.Helper()
	info, err := s.Client.Info(context.Background(), "commandstats").Result()
	if err != nil {
		t.Fatalf("redis INFO commandstats: %v", err)
	}
	field := func(line, name string) int {
		_, rest, ok := strings.Cut(line, name+"=")
		if !ok {
			return 0
		}
		v, _, _ := strings.Cut(rest, ",")
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Fatalf("commandstats line %q: %v", line, err)
		}
		return n
	}
	n := 0
	for _, line := range strings.Split(info, "\r\n") {
		if strings.HasPrefix(line, "cmdstat_evalsha:") || strings.HasPrefix(line, "cmdstat_eval:") {
			n += field(line, "calls") - field(line, "failed_calls")
		}
	}
	return n
}

// Stop kills the server process (as an outage would).
func (s *RedisServer) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago
// (pkg/freeport).
func FreePort(t testing.TB) int {
	t.Helper()
	port, err := freeport.Get()
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	return port
}

func waitTCP(t testing.TB, addr string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			_ = c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not reachable after %s: %v", addr, timeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
