// Package procstack runs the whole of Shop as real processes for the
// end-to-end tests, the load generator and the stack launcher: the five
// service binaries on free ports, each with a fresh database on the local
// PostgreSQL server, sharing a private redis-server and an in-process
// Kafka-protocol broker, and, when asked, the nginx gateway in front of them
// (scripts/internal/gateway). Close stops everything (SIGTERM, then a
// graceful wait) and drops the databases.
package procstack

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shop-oss/shop/pkg/config"
	"github.com/shop-oss/shop/pkg/freeport"
	"github.com/shop-oss/shop/pkg/localbroker"
	"github.com/shop-oss/shop/scripts/internal/gateway"
)

// RepoRoot is the repository the current directory is in (where go.work
// is).
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("run from inside the repository (no go.work found)")
		}
		dir = parent
	}
}

// Build compiles the service binaries of the repository at root into dir.
func Build(root, dir string) error {
	for _, s := range config.ServiceNames {
		cmd := exec.Command("go", "build", "-o", filepath.Join(dir, s), "./services/"+s+"/cmd/"+s)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("build %s: %v\n%s", s, err, out)
		}
	}
	return nil
}

// Options configures Start.
type Options struct {
	BinDir  string // where Build put the binaries
	WorkDir string // logs, broker and Redis data
	// AdminURL is the PostgreSQL maintenance database (local default).
	AdminURL string
	// PGSocketDir, when set, makes the services reach PostgreSQL through
	// its Unix socket in that directory instead of TCP: what a deployment
	// with the database on the same host does (on this 2-core VM a small
	// query costs about 1.4x more CPU over loopback TCP).
	PGSocketDir string
	// Env adds or overrides variables per service.
	Env map[string]map[string]string
	// LogLevel of the services (default info).
	LogLevel string
	// BrokerBin, when set, is the local broker's binary (deploy/localbroker):
	// the broker then runs as its own process, which the fault suite can
	// kill -9 (an in-process broker cannot be). Empty: in process.
	BrokerBin string
	// DSNFor, when set, rewrites the database URL a service is given (the
	// fault suite points one service at a delaying proxy); the stack keeps
	// using the real one.
	DSNFor func(service, dsn string) string
	// Gateway, when set, starts the gateway in front of the services (its
	// Dir and Upstreams are filled in), and the services trust forwarded
	// headers from the gateway's address only. Its rate limits are lifted
	// as the services' are, unless Gateway.Env sets them.
	Gateway *gateway.Options
}

// Stack is the running system.
type Stack struct {
	opts   Options
	Broker *localbroker.Broker
	// brokerCmd is the broker process when Options.BrokerBin is set.
	brokerCmd  *exec.Cmd
	brokerPort int
	redis      *exec.Cmd
	redisPort  int
	// RedisURL is the private Redis of the stack.
	RedisURL string
	procs    map[string]*Proc
	dbs      []string
	// Gateway is the running gateway, when Options.Gateway asked for one.
	Gateway *gateway.Gateway
}

// testStackLimits switches the per-customer limits off in a test stack,
// per service (0 disables each).
var testStackLimits = map[string]map[string]string{
	"order":   {"SHOP_ORDER_MAX_OPEN_ORDERS": "0", "SHOP_ORDER_MAX_OPEN_UNITS": "0", "SHOP_ORDER_PLACE_PER_MINUTE": "0"},
	"payment": {"SHOP_PAYMENT_CONFIRM_PER_MINUTE": "0"},
}

// Proc is one service process.
type Proc struct {
	Name string
	Port int
	DSN  string
	env  []string
	cmd  *exec.Cmd
	done chan struct{}
	log  *os.File
}

// Start starts the broker, Redis and every service, and waits until all are
// ready. On error, what was started is stopped.
func Start(ctx context.Context, opts Options) (_ *Stack, err error) {
	if opts.AdminURL == "" {
		opts.AdminURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	if opts.LogLevel == "" {
		opts.LogLevel = "info"
	}
	s := &Stack{opts: opts, procs: map[string]*Proc{}}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	if opts.BrokerBin != "" {
		if s.brokerPort, err = freeport.Get(); err != nil {
			return nil, err
		}
		if err := s.StartBroker(); err != nil {
			return nil, err
		}
	} else if s.Broker, err = localbroker.Start(localbroker.Config{DataDir: filepath.Join(opts.WorkDir, "broker"), Partitions: 6}); err != nil {
		return nil, err
	}
	if err := s.startRedis(); err != nil {
		return nil, err
	}
	ports := map[string]int{}
	for _, name := range config.ServiceNames {
		if ports[name], err = freeport.Get(); err != nil {
			return nil, err
		}
	}
	for _, name := range config.ServiceNames {
		dsn, err := s.createDatabase(ctx, name)
		if err != nil {
			return nil, err
		}
		p := &Proc{Name: name, Port: ports[name], DSN: dsn}
		vars := map[string]string{
			"SHOP_HTTP_ADDR":             "127.0.0.1:" + strconv.Itoa(p.Port),
			"SHOP_DATABASE_URL":          serviceDSN(opts, name, dsn),
			"SHOP_REDIS_URL":             s.RedisURL,
			"SHOP_KAFKA_BROKERS":         s.BrokerAddr(),
			"SHOP_JWKS_URL":              fmt.Sprintf("http://127.0.0.1:%d/.well-known/jwks.json", ports["identity"]),
			"SHOP_LOG_LEVEL":             opts.LogLevel,
			"SHOP_RATE_LIMIT_PER_MINUTE": "1000000",
		}
		if opts.Gateway != nil {
			vars["SHOP_TRUSTED_PROXIES"] = gateway.ProxyAddress
		}
		// The per-customer limits (open orders and units, placements and
		// card confirmations per minute) are off like the API's budget:
		// the end-to-end suite, the load generator and the browser tests
		// place many orders for a few users. The services' own tests test
		// the limits; opts.Env turns them back on.
		for k, v := range testStackLimits[name] {
			vars[k] = v
		}
		for k, v := range opts.Env[name] {
			vars[k] = v
		}
		for k, v := range vars {
			p.env = append(p.env, k+"="+v)
		}
		s.procs[name] = p
	}
	for _, name := range config.ServiceNames {
		if err := s.StartService(name); err != nil {
			return nil, err
		}
	}
	for _, name := range config.ServiceNames {
		if err := s.WaitReady(name, 90*time.Second); err != nil {
			return nil, err
		}
	}
	if opts.Gateway != nil {
		if err := s.startGateway(ctx, *opts.Gateway); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func serviceDSN(opts Options, name, dsn string) string {
	if opts.DSNFor != nil {
		return opts.DSNFor(name, dsn)
	}
	return dsn
}

// BrokerAddr is the broker's host:port, in process or not.
func (s *Stack) BrokerAddr() string {
	if s.Broker != nil {
		return s.Broker.Addr()
	}
	return "127.0.0.1:" + strconv.Itoa(s.brokerPort)
}

// StartBroker starts the broker again on its port and data directory.
func (s *Stack) StartBroker() error {
	if s.Broker != nil {
		return s.Broker.Start()
	}
	if s.brokerCmd != nil {
		return nil
	}
	f, err := os.OpenFile(s.logPath("broker"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer f.Close() // the child holds its own descriptor
	cmd := exec.Command(s.opts.BrokerBin, "-port", strconv.Itoa(s.brokerPort), "-data-dir", filepath.Join(s.opts.WorkDir, "broker"), "-partitions", "6")
	cmd.SysProcAttr = gateway.StopWithParent()
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start broker: %w", err)
	}
	s.brokerCmd = cmd
	return waitListening(s.BrokerAddr(), 20*time.Second)
}

// StopBroker stops the broker: gracefully (flushing its data directory),
// or with SIGKILL when kill is set (a process broker only; an in-process
// one is closed either way).
func (s *Stack) StopBroker(kill bool) {
	if s.Broker != nil {
		s.Broker.Stop()
		return
	}
	if s.brokerCmd == nil {
		return
	}
	sig := os.Signal(syscall.SIGTERM)
	if kill {
		sig = syscall.SIGKILL
	}
	_ = s.brokerCmd.Process.Signal(sig)
	_ = s.brokerCmd.Wait()
	s.brokerCmd = nil
}

// KillService sends SIGKILL to a service (a crash: no graceful shutdown)
// and waits until it is gone.
func (s *Stack) KillService(name string) error {
	p := s.procs[name]
	if p == nil || p.cmd == nil {
		return fmt.Errorf("%s is not running", name)
	}
	_ = p.cmd.Process.Kill()
	<-p.done
	p.cmd = nil
	_ = p.log.Close()
	return nil
}

// AddReplica registers a second process of service under the name replica
// (same database, broker and consumer groups, its own port); StartService
// starts it.
func (s *Stack) AddReplica(service, replica string) error {
	p := s.procs[service]
	if p == nil {
		return fmt.Errorf("no service %s", service)
	}
	port, err := freeport.Get()
	if err != nil {
		return err
	}
	r := &Proc{Name: service, Port: port, DSN: p.DSN}
	for _, kv := range p.env {
		if strings.HasPrefix(kv, "SHOP_HTTP_ADDR=") {
			kv = "SHOP_HTTP_ADDR=127.0.0.1:" + strconv.Itoa(port)
		}
		r.env = append(r.env, kv)
	}
	s.procs[replica] = r
	return nil
}

func waitListening(addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			_ = c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("nothing listens on %s after %s", addr, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// startGateway starts nginx in front of the services.
func (s *Stack) startGateway(ctx context.Context, g gateway.Options) (err error) {
	g.Dir = s.opts.WorkDir
	g.Upstreams = map[string]string{}
	for name, p := range s.procs {
		g.Upstreams[name] = "127.0.0.1:" + strconv.Itoa(p.Port)
	}
	env := gateway.NoRateLimits()
	for k, v := range g.Env {
		env[k] = v
	}
	g.Env = env
	s.Gateway, err = gateway.Start(ctx, g)
	return err
}

// APIURL is the base URL a client uses for a service's API: the gateway's
// when there is one, else the service's own.
func (s *Stack) APIURL(name string) string {
	if s.Gateway != nil {
		return s.Gateway.URL
	}
	return s.URL(name)
}

// Proc returns a service process.
func (s *Stack) Proc(name string) *Proc { return s.procs[name] }

// URL is a service's base URL.
func (s *Stack) URL(name string) string {
	return "http://127.0.0.1:" + strconv.Itoa(s.procs[name].Port)
}

// Run runs a one-off command of a service binary (e.g. "seed") with its
// environment and returns its output.
func (s *Stack) Run(name string, args ...string) (string, error) {
	p := s.procs[name]
	cmd := exec.Command(filepath.Join(s.opts.BinDir, name), args...)
	cmd.Env = append(os.Environ(), p.env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %v: %w", name, args, err)
	}
	return string(out), nil
}

// Seed loads the demo data with each service's `seed` command, as `make up`
// does: identity first, since the demo catalog belongs to the demo seller.
func (s *Stack) Seed() error {
	for _, name := range config.ServiceNames {
		if out, err := s.Run(name, "seed"); err != nil {
			return fmt.Errorf("%w\n%s", err, out)
		}
	}
	return nil
}

// StartService starts a service process (again).
func (s *Stack) StartService(name string) error {
	p := s.procs[name]
	f, err := os.OpenFile(s.logPath(name), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(filepath.Join(s.opts.BinDir, p.Name))
	cmd.Env = append(os.Environ(), p.env...)
	cmd.SysProcAttr = gateway.StopWithParent()
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		_ = f.Close()
		return fmt.Errorf("start %s: %w", name, err)
	}
	p.cmd, p.log, p.done = cmd, f, make(chan struct{})
	go func() { _ = cmd.Wait(); close(p.done) }()
	return nil
}

// WaitReady waits until the service's /readyz answers 200.
func (s *Stack) WaitReady(name string, timeout time.Duration) error {
	if err := gateway.WaitOK(s.URL(name)+"/readyz", s.procs[name].done, timeout); err != nil {
		return fmt.Errorf("%s %w; log:\n%s", name, err, s.Tail(name, 40))
	}
	return nil
}

// StopService sends SIGTERM and waits up to 30s for a clean exit; it
// reports a non-zero exit or a kill as an error.
func (s *Stack) StopService(name string) error {
	p := s.procs[name]
	if p == nil || p.cmd == nil {
		return nil
	}
	defer func() { p.cmd = nil; _ = p.log.Close() }()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("%s did not stop within 30s of SIGTERM", name)
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		return fmt.Errorf("%s exited with %d after SIGTERM; log:\n%s", name, code, s.Tail(name, 20))
	}
	return nil
}

// Close stops every service, Redis and the broker, and drops the databases.
// It returns the shutdown failures.
func (s *Stack) Close() error {
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
	)
	if err := s.Gateway.Stop(); err != nil {
		errs = append(errs, fmt.Errorf("gateway: %w", err))
	}
	for name := range s.procs {
		wg.Go(func() {
			if err := s.StopService(name); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	s.StopRedis()
	s.StopBroker(false)
	if len(s.dbs) > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if conn, err := pgx.Connect(ctx, s.opts.AdminURL); err == nil {
			for _, db := range s.dbs {
				_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+db+" WITH (FORCE)")
			}
			_ = conn.Close(ctx)
		}
	}
	return errors.Join(errs...)
}

// StopRedis kills the stack's Redis (an outage); the services keep running.
func (s *Stack) StopRedis() {
	if s.redis != nil && s.redis.Process != nil {
		_ = s.redis.Process.Kill()
		_ = s.redis.Wait()
		s.redis = nil
	}
}

// Tail returns the last n lines of a service's log ("gateway": nginx's
// error log).
func (s *Stack) Tail(name string, n int) string {
	return gateway.Tail(s.logPath(name), n)
}

func (s *Stack) logPath(name string) string { return filepath.Join(s.opts.WorkDir, name+".log") }

// LogPath is the file a service logs to.
func (s *Stack) LogPath(name string) string { return s.logPath(name) }

// Signal sends sig to a running service (SIGSTOP and SIGCONT make a slow
// service, for the gateway's timeout tests).
func (s *Stack) Signal(name string, sig os.Signal) error {
	p := s.procs[name]
	if p == nil || p.cmd == nil {
		return fmt.Errorf("%s is not running", name)
	}
	return p.cmd.Process.Signal(sig)
}

func (s *Stack) startRedis() error {
	port, err := freeport.Get()
	if err != nil {
		return err
	}
	s.redisPort = port
	return s.StartRedis()
}

// StartRedis starts the stack's Redis again (empty, on its port) after
// StopRedis.
func (s *Stack) StartRedis() error {
	if s.redis != nil {
		return nil
	}
	port := s.redisPort
	dir := filepath.Join(s.opts.WorkDir, "redis")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	s.redis = exec.Command("redis-server", "--bind", "127.0.0.1", "--port", strconv.Itoa(port),
		"--save", "", "--appendonly", "no", "--dir", dir, "--loglevel", "warning")
	s.redis.SysProcAttr = gateway.StopWithParent()
	if err := s.redis.Start(); err != nil {
		return fmt.Errorf("start redis-server (make deps installs it): %w", err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	if err := waitListening(addr, 10*time.Second); err != nil {
		return fmt.Errorf("redis-server: %w", err)
	}
	s.RedisURL = "redis://" + addr + "/0"
	return nil
}

func (s *Stack) createDatabase(ctx context.Context, service string) (string, error) {
	conn, err := pgx.Connect(ctx, s.opts.AdminURL)
	if err != nil {
		return "", fmt.Errorf("PostgreSQL (make deps starts it): %w", err)
	}
	defer conn.Close(ctx)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "stack_" + service + "_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", fmt.Errorf("create database %s: %w", name, err)
	}
	s.dbs = append(s.dbs, name)
	u, _ := url.Parse(s.opts.AdminURL)
	u.Path = "/" + name
	if s.opts.PGSocketDir != "" {
		q := u.Query()
		q.Set("host", s.opts.PGSocketDir) // overrides the URL's host
		u.RawQuery = q.Encode()
	}
	return u.String(), nil
}

// LocalPGSocketDir is the directory of the local PostgreSQL's Unix socket
// for port 5432 (the Debian package's, or /tmp), or "" when there is none.
func LocalPGSocketDir() string {
	for _, dir := range []string{"/var/run/postgresql", "/tmp"} {
		if fi, err := os.Stat(filepath.Join(dir, ".s.PGSQL.5432")); err == nil && fi.Mode()&os.ModeSocket != 0 {
			return dir
		}
	}
	return ""
}
