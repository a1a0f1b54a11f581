package e2e

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/shop-oss/shop/pkg/config"
	"github.com/shop-oss/shop/pkg/localbroker"
	"github.com/shop-oss/shop/pkg/testkit"
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
	for _, s := range config.ServiceNames {
		cmd := exec.Command("go", "build", "-o", filepath.Join(dir, s), "./services/"+s+"/cmd/"+s)
		cmd.Dir = repoRoot()
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintf(os.Stderr, "build %s: %v\n", s, err)
			os.Exit(1)
		}
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

func repoRoot() string {
	wd, _ := os.Getwd()
	return filepath.Clean(filepath.Join(wd, "../.."))
}

// stack is the five services as real processes on free ports, each with its
// own fresh database, sharing a private Redis and a broker.
type stack struct {
	t      *testing.T
	redis  *testkit.RedisServer
	broker *localbroker.Broker
	procs  map[string]*proc
	logDir string
}

type proc struct {
	name string
	env  []string
	port int
	dsn  string
	cmd  *exec.Cmd
	done chan struct{}
	log  *os.File
}

// newStack starts every service; extra sets additional variables per service.
func newStack(t *testing.T, extra map[string]map[string]string) *stack {
	t.Helper()
	s := &stack{t: t, redis: testkit.Redis(t), broker: testkit.Broker(t), procs: map[string]*proc{}, logDir: t.TempDir()}
	ports := map[string]int{}
	for _, name := range config.ServiceNames {
		ports[name] = testkit.FreePort(t)
	}
	for _, name := range config.ServiceNames {
		p := &proc{name: name, port: ports[name], dsn: testkit.PostgresURL(t)}
		vars := map[string]string{
			"SHOP_HTTP_ADDR":             "127.0.0.1:" + strconv.Itoa(p.port),
			"SHOP_DATABASE_URL":          p.dsn,
			"SHOP_REDIS_URL":             s.redis.URL(),
			"SHOP_KAFKA_BROKERS":         s.broker.Addr(),
			"SHOP_JWKS_URL":              fmt.Sprintf("http://127.0.0.1:%d/.well-known/jwks.json", ports["identity"]),
			"SHOP_LOG_LEVEL":             "info",
			"SHOP_RATE_LIMIT_PER_MINUTE": "100000",
		}
		for k, v := range extra[name] {
			vars[k] = v
		}
		for k, v := range vars {
			p.env = append(p.env, k+"="+v)
		}
		s.procs[name] = p
	}
	t.Cleanup(s.stopAll)
	for _, name := range config.ServiceNames {
		s.start(name)
	}
	for _, name := range config.ServiceNames {
		s.waitReady(name)
	}
	return s
}

func (s *stack) url(service string) string {
	return "http://127.0.0.1:" + strconv.Itoa(s.procs[service].port)
}

// run runs a one-off command of a service binary (e.g. "seed") with its env.
func (s *stack) run(service string, args ...string) string {
	s.t.Helper()
	p := s.procs[service]
	cmd := exec.Command(filepath.Join(binDir, service), args...)
	cmd.Env = append(os.Environ(), p.env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		s.t.Fatalf("%s %v: %v\n%s", service, args, err, out)
	}
	return string(out)
}

func (s *stack) start(name string) {
	s.t.Helper()
	p := s.procs[name]
	f, err := os.OpenFile(filepath.Join(s.logDir, name+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		s.t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(binDir, name))
	cmd.Env = append(os.Environ(), p.env...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("start %s: %v", name, err)
	}
	p.cmd, p.log, p.done = cmd, f, make(chan struct{})
	go func() { _ = cmd.Wait(); close(p.done) }()
}

func (s *stack) waitReady(name string) {
	s.t.Helper()
	p := s.procs[name]
	deadline := time.Now().Add(60 * time.Second)
	for {
		res, err := http.Get(s.url(name) + "/readyz")
		if err == nil {
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode == 200 {
				return
			}
		}
		select {
		case <-p.done:
			s.t.Fatalf("%s exited during start-up; log:\n%s", name, s.tail(name))
		default:
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("%s not ready after 60s; log:\n%s", name, s.tail(name))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// stop sends SIGTERM and waits for a graceful exit (fails the test if the
// process does not stop within 30s).
func (s *stack) stop(name string) {
	s.t.Helper()
	p := s.procs[name]
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
		s.t.Errorf("%s did not stop within 30s of SIGTERM", name)
	}
	_ = p.log.Close()
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		s.t.Errorf("%s exited with %d after SIGTERM; log:\n%s", name, code, s.tail(name))
	}
	p.cmd = nil
}

func (s *stack) restart(name string) {
	s.t.Helper()
	s.stop(name)
	s.start(name)
	s.waitReady(name)
}

func (s *stack) stopAll() {
	var wg sync.WaitGroup
	for _, name := range config.ServiceNames {
		wg.Go(func() { s.stop(name) })
	}
	wg.Wait()
	if s.t.Failed() {
		for _, name := range config.ServiceNames {
			s.t.Logf("--- %s log (last lines):\n%s", name, s.tail(name))
		}
	}
}

// tail returns the last lines of a service's log.
func (s *stack) tail(name string) string {
	f, err := os.Open(filepath.Join(s.logDir, name+".log"))
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > 40 {
			lines = lines[1:]
		}
	}
	out := ""
	for _, l := range lines {
		out += l + "\n"
	}
	return out
}
