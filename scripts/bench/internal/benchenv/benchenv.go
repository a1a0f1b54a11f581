// Package benchenv runs one service as it is deployed, for the benchmark
// programs under scripts/bench/: its binary (built from a source tree, or
// given) as a process on a fresh database of the local PostgreSQL server,
// with a private redis-server, an in-process Kafka-protocol broker and a
// JWKS endpoint with no keys (the benchmarks call the API anonymously or
// drive the service through its topics). Close stops everything and drops
// the databases. It also measures the server's own limit, pgbench's TPC-B,
// so that every benchmark prints its figures beside a baseline of the same
// run.
package benchenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shop-oss/shop/pkg/config"
	"github.com/shop-oss/shop/pkg/database"
	"github.com/shop-oss/shop/pkg/freeport"
	"github.com/shop-oss/shop/pkg/localbroker"
	"github.com/shop-oss/shop/scripts/internal/gateway"
	"github.com/shop-oss/shop/scripts/internal/procstack"
)

// Env is what a service needs, private to one benchmark run.
type Env struct {
	// AdminURL is the maintenance database of the PostgreSQL server
	// (SHOP_TEST_DATABASE_URL, else the local server).
	AdminURL string
	RedisURL string
	Broker   *localbroker.Broker
	JWKSURL  string
	closers  []func()
}

// Start starts Redis, the broker and the JWKS endpoint. On error, what was
// started is stopped.
func Start() (_ *Env, err error) {
	e := &Env{AdminURL: os.Getenv("SHOP_TEST_DATABASE_URL")}
	if e.AdminURL == "" {
		e.AdminURL = config.LocalDatabaseURL("postgres")
	}
	defer func() {
		if err != nil {
			e.Close()
		}
	}()
	if err := e.startRedis(); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "bench-broker-")
	if err != nil {
		return nil, err
	}
	e.closers = append(e.closers, func() { _ = os.RemoveAll(dir) })
	// A data directory, as `make up`'s broker has: the broker writes what
	// it is sent, as a deployed one does.
	if e.Broker, err = localbroker.Start(localbroker.Config{DataDir: dir, Partitions: 6}); err != nil {
		return nil, fmt.Errorf("start broker: %w", err)
	}
	e.closers = append(e.closers, e.Broker.Stop)
	return e, e.serveJWKS()
}

// Service is a service's binary and a fresh database for it.
type Service struct {
	Bin, DatabaseURL string
}

// ForService starts an environment and prepares a service in it: its
// binary (Binary, as t says) and a fresh database. On error,
// what was started is stopped.
func ForService(ctx context.Context, service string, t Target) (*Env, Service, error) {
	e, err := Start()
	if err != nil {
		return nil, Service{}, err
	}
	s := Service{}
	if s.Bin, err = e.Binary(ctx, service, t.Tree, t.Bin); err == nil {
		s.DatabaseURL, err = e.Database(ctx, service+"_bench")
	}
	if err != nil {
		e.Close()
		return nil, Service{}, err
	}
	return e, s, nil
}

// Close stops what Start and StartService started and drops the databases,
// last started first.
func (e *Env) Close() {
	for i := len(e.closers) - 1; i >= 0; i-- {
		e.closers[i]()
	}
	e.closers = nil
}

// Database creates an empty database named prefix_<random> and returns
// its URL; Close drops it.
func (e *Env) Database(ctx context.Context, prefix string) (string, error) {
	conn, err := pgx.Connect(ctx, e.AdminURL)
	if err != nil {
		return "", fmt.Errorf("connect to %s (make deps starts PostgreSQL): %w", database.Redact(e.AdminURL), err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	buf := make([]byte, 6)
	_, _ = rand.Read(buf)
	name := prefix + "_" + hex.EncodeToString(buf)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", fmt.Errorf("create database %s: %w", name, err)
	}
	e.closers = append(e.closers, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, e.AdminURL)
		if err != nil {
			fmt.Fprintln(os.Stderr, "drop database:", err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			fmt.Fprintln(os.Stderr, "drop database:", err)
		}
	})
	u, err := url.Parse(e.AdminURL)
	if err != nil {
		return "", err
	}
	u.Path = "/" + name
	return u.String(), nil
}

// Binary returns the path of a service's binary: bin when set, else one
// built from the source tree at tree (default: the repository the current
// directory is in) into a temporary folder that Close removes. Building
// another tree's binary is how an A/B pair compares two versions of a
// service with the same benchmark.
func (e *Env) Binary(ctx context.Context, service, tree, bin string) (string, error) {
	if bin != "" {
		return filepath.Abs(bin)
	}
	if tree == "" {
		root, err := procstack.RepoRoot()
		if err != nil {
			return "", err
		}
		tree = root
	}
	dir, err := os.MkdirTemp("", "bench-bin-")
	if err != nil {
		return "", err
	}
	e.closers = append(e.closers, func() { _ = os.RemoveAll(dir) })
	out := filepath.Join(dir, service)
	build := exec.CommandContext(ctx, "go", "build", "-o", out, "./services/"+service+"/cmd/"+service)
	build.Dir, build.Stdout, build.Stderr = tree, os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return "", fmt.Errorf("build %s in %s: %w", service, tree, err)
	}
	return out, nil
}

// Proc is a running service process.
type Proc struct {
	// URL is the service's base URL (http://127.0.0.1:port).
	URL  string
	cmd  *exec.Cmd
	done chan struct{}
}

// FreeAddr returns a loopback address that was free a moment ago.
func FreeAddr() (string, error) {
	port, err := freeport.Get()
	if err != nil {
		return "", err
	}
	return "127.0.0.1:" + strconv.Itoa(port), nil
}

// StartService runs the binary against the environment on a free port
// (or SHOP_HTTP_ADDR of vars), with rate limits off (one client address
// drives all the load) and warn-level logs (a line per request would
// measure the logger); vars add or override variables (SHOP_DATABASE_URL
// at least). It returns once /readyz answers; Close stops the process.
func (e *Env) StartService(bin string, vars map[string]string) (*Proc, error) {
	addr := vars["SHOP_HTTP_ADDR"]
	if addr == "" {
		var err error
		if addr, err = FreeAddr(); err != nil {
			return nil, err
		}
	}
	env := map[string]string{
		"SHOP_HTTP_ADDR":             addr,
		"SHOP_REDIS_URL":             e.RedisURL,
		"SHOP_KAFKA_BROKERS":         e.Broker.Addr(),
		"SHOP_JWKS_URL":              e.JWKSURL,
		"SHOP_LOG_LEVEL":             "warn",
		"SHOP_RATE_LIMIT_PER_MINUTE": "0",
	}
	for k, v := range vars {
		env[k] = v
	}
	cmd := exec.Command(bin)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SHOP_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	cmd.SysProcAttr = gateway.StopWithParent()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	p := &Proc{URL: "http://" + addr, cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.done) }()
	e.closers = append(e.closers, func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-p.done
		}
	})
	if err := gateway.WaitOK(p.URL+"/readyz", p.done, 90*time.Second); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Base(bin), err)
	}
	return p, nil
}

// CPU is the CPU time (user and system) the process has used so far, from
// /proc (zero off Linux). CPU per operation is steadier than operations per
// second on a machine others share.
func (p *Proc) CPU() time.Duration {
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(p.cmd.Process.Pid) + "/stat")
	if err != nil {
		return 0
	}
	// The fields after the command name, which is in parentheses and may
	// hold spaces: utime and stime are the 12th and 13th of them.
	f := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	user, _ := strconv.ParseInt(f[11], 10, 64)
	system, _ := strconv.ParseInt(f[12], 10, 64)
	const userHZ = 100 // the unit of /proc's CPU times on Linux
	return time.Duration(user+system) * time.Second / userHZ
}

// startRedis runs a private redis-server on a free port, without
// persistence.
func (e *Env) startRedis() error {
	port, err := freeport.Get()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "bench-redis-")
	if err != nil {
		return err
	}
	cmd := exec.Command("redis-server", "--bind", "127.0.0.1", "--port", strconv.Itoa(port),
		"--save", "", "--appendonly", "no", "--dir", dir, "--loglevel", "warning")
	cmd.SysProcAttr = gateway.StopWithParent()
	if err := cmd.Start(); err != nil {
		_ = os.RemoveAll(dir)
		return fmt.Errorf("start redis-server (make deps installs it): %w", err)
	}
	e.closers = append(e.closers, func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		_ = os.RemoveAll(dir)
	})
	addr := "127.0.0.1:" + strconv.Itoa(port)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			_ = c.Close()
			e.RedisURL = "redis://" + addr + "/0"
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("redis-server did not start within 10s")
		}
	}
}

// serveJWKS answers an empty key set: no token verifies, and none is sent.
func (e *Env) serveJWKS() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"keys":[]}`))
	}), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	e.closers = append(e.closers, func() { _ = srv.Close() })
	e.JWKSURL = "http://" + ln.Addr().String() + "/.well-known/jwks.json"
	return nil
}

// LoadAverage is the machine's 1, 5 and 15 minute load ("?" off Linux):
// other work on a shared machine moves every figure.
func LoadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// Target is the build of a service a benchmark measures: the flags -tree
// (a source tree to build it from, default this checkout) and -bin (a
// binary already built).
type Target struct{ Tree, Bin string }

// TargetFlags defines -tree and -bin on the command line for service.
func TargetFlags(service string) *Target {
	t := &Target{}
	flag.StringVar(&t.Tree, "tree", "", "source tree whose "+service+" to build and measure (default: this checkout)")
	flag.StringVar(&t.Bin, "bin", "", service+" binary to measure instead of building one")
	return t
}

// Main parses the command line and runs run until it returns or the
// process is interrupted; an error is printed after name and exits 1.
func Main(name string, run func(ctx context.Context) error) {
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, name+":", err)
		os.Exit(1)
	}
}
