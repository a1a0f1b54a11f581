// Package gateway runs Shop's nginx gateway (deploy/gateway) as a process,
// for the stack launcher, the end-to-end tests and the benchmarks. It renders
// the configuration with deploy/gateway/render.sh, the only renderer that
// `make up` and the container image use too, so what runs here is what runs
// everywhere; it only chooses the SHOP_GATEWAY_* values.
package gateway

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/shop-oss/shop/pkg/freeport"
)

// ProxyAddress is the address the gateway connects to the services from,
// locally (proxy_bind; Linux routes all of 127.0.0.0/8 to loopback). The
// services trust forwarded headers from that address only, so a client on
// 127.0.0.1 that sends X-Forwarded-For straight to a service is ignored.
const ProxyAddress = "127.0.0.2"

// Options configures Start.
type Options struct {
	// Root is the repository (deploy/gateway, services/*/api, frontend).
	Root string
	// Dir holds the rendered configuration, nginx's state and the logs.
	Dir string
	// Port to listen on, on 127.0.0.1; 0 picks a free one.
	Port int
	// Upstreams maps each service name to its host:port.
	Upstreams map[string]string
	// StorefrontRoot and AdminRoot are the apps' built directories; empty
	// means DefaultAppRoot's choice.
	StorefrontRoot, AdminRoot string
	// EdgeAuthOff turns the edge authentication off (it is on by default).
	EdgeAuthOff bool
	// Env sets further SHOP_GATEWAY_* variables (rates, timeouts, ...);
	// it wins over everything above.
	Env map[string]string
}

// Gateway is a running nginx.
type Gateway struct {
	// URL is the base URL, e.g. http://127.0.0.1:41234.
	URL string
	// AccessLog and ErrorLog are nginx's log files.
	AccessLog, ErrorLog string
	opts                Options
	env                 []string
	cmd                 *exec.Cmd
	done                chan struct{}
	conf                string
	state               string
}

// NoRateLimits are the SHOP_GATEWAY_* settings that lift the per-client
// rate limits, for a stack whose clients all come from one address (tests,
// load generators, benchmarks).
func NoRateLimits() map[string]string {
	return map[string]string{
		"SHOP_GATEWAY_API_RATE": "1000000r/s", "SHOP_GATEWAY_API_BURST": "1000000",
		"SHOP_GATEWAY_AUTH_RATE": "1000000r/s", "SHOP_GATEWAY_AUTH_BURST": "1000000",
	}
}

// DefaultAppRoot is where an app is served from when none is given: the
// app's build (frontend/<app>/dist) when it has been built, else the
// placeholder page (deploy/gateway/placeholder/<app>). `make up` makes the
// same choice.
func DefaultAppRoot(root, app string) string {
	dist := filepath.Join(root, "frontend", app, "dist")
	if _, err := os.Stat(filepath.Join(dist, "index.html")); err == nil {
		return dist
	}
	return filepath.Join(root, "deploy", "gateway", "placeholder", app)
}

// Start builds the /docs/ directory, renders the configuration and starts
// nginx, and returns once it answers.
func Start(ctx context.Context, opts Options) (_ *Gateway, err error) {
	if opts.Port == 0 {
		if opts.Port, err = freeport.Get(); err != nil {
			return nil, err
		}
	}
	if opts.StorefrontRoot == "" {
		opts.StorefrontRoot = DefaultAppRoot(opts.Root, "storefront")
	}
	if opts.AdminRoot == "" {
		opts.AdminRoot = DefaultAppRoot(opts.Root, "admin")
	}
	g := &Gateway{
		URL:       "http://127.0.0.1:" + strconv.Itoa(opts.Port),
		AccessLog: filepath.Join(opts.Dir, "gateway-access.log"),
		ErrorLog:  filepath.Join(opts.Dir, "gateway.log"),
		opts:      opts,
		conf:      filepath.Join(opts.Dir, "gateway", "conf"),
		state:     filepath.Join(opts.Dir, "gateway", "state"),
	}
	docs := filepath.Join(opts.Dir, "gateway", "docs")
	if out, err := exec.CommandContext(ctx, filepath.Join(opts.Root, "deploy/gateway/docs.sh"), docs).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("gateway docs: %v\n%s", err, out)
	}
	vars := map[string]string{
		"SHOP_GATEWAY_LISTEN":          "127.0.0.1:" + strconv.Itoa(opts.Port),
		"SHOP_GATEWAY_STOREFRONT_ROOT": opts.StorefrontRoot,
		"SHOP_GATEWAY_ADMIN_ROOT":      opts.AdminRoot,
		"SHOP_GATEWAY_DOCS_ROOT":       docs,
		"SHOP_GATEWAY_EDGE_AUTH":       "on",
		"SHOP_GATEWAY_PROXY_BIND":      ProxyAddress,
		"SHOP_GATEWAY_STATE_DIR":       g.state,
		"SHOP_GATEWAY_ACCESS_LOG":      g.AccessLog,
		"SHOP_GATEWAY_ERROR_LOG":       g.ErrorLog,
		"SHOP_GATEWAY_WORKERS":         "1",
		"SHOP_GATEWAY_USER":            workerUser(),
	}
	if opts.EdgeAuthOff {
		vars["SHOP_GATEWAY_EDGE_AUTH"] = "off"
	}
	for name, addr := range opts.Upstreams {
		vars["SHOP_GATEWAY_"+strings.ToUpper(name)+"_ADDR"] = addr
	}
	for k, v := range opts.Env {
		vars[k] = v
	}
	for k, v := range vars {
		g.env = append(g.env, k+"="+v)
	}
	if err := g.render(ctx); err != nil {
		return nil, err
	}
	if err := g.test(ctx); err != nil {
		return nil, err
	}
	if err := g.start(); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			_ = g.Stop()
		}
	}()
	if err := WaitOK(g.URL+"/healthz", g.done, 30*time.Second); err != nil {
		return nil, fmt.Errorf("nginx %w; log:\n%s", err, Tail(g.ErrorLog, 20))
	}
	return g, nil
}

// StopWithParent makes a child process get SIGTERM when the process that
// started it dies (Linux), so that a test or launcher killed outright
// leaves no services, Redis or nginx running behind it.
func StopWithParent() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}

// workerUser is the user nginx's workers run as when nginx starts as root:
// the same user, as the services run (nginx's default, nobody, could not
// read the test's private directories). Empty (nginx's default) otherwise.
func workerUser() string {
	if os.Geteuid() != 0 {
		return ""
	}
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return "root"
}

// render runs deploy/gateway/render.sh with the gateway's variables.
func (g *Gateway) render(ctx context.Context) error {
	cmd := exec.CommandContext(ctx, filepath.Join(g.opts.Root, "deploy/gateway/render.sh"), g.conf)
	cmd.Env = append(withoutGatewayVars(os.Environ()), g.env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("render the gateway's configuration: %v\n%s", err, out)
	}
	return nil
}

// withoutGatewayVars drops SHOP_GATEWAY_* from env: what runs here is set
// by Options alone, not by the caller's shell.
func withoutGatewayVars(env []string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, "SHOP_GATEWAY_") {
			out = append(out, kv)
		}
	}
	return out
}

func (g *Gateway) start() error {
	f, err := os.OpenFile(g.ErrorLog, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	// -e: the error log before the configuration is read, too.
	cmd := exec.Command("nginx", "-e", g.ErrorLog, "-p", g.state, "-c", filepath.Join(g.conf, "nginx.conf"))
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = StopWithParent()
	if err := cmd.Start(); err != nil {
		_ = f.Close()
		return fmt.Errorf("start nginx (make deps installs it): %w", err)
	}
	g.cmd, g.done = cmd, make(chan struct{})
	go func() { _ = cmd.Wait(); _ = f.Close(); close(g.done) }()
	return nil
}

// Errors of WaitOK.
var (
	ErrExited   = errors.New("exited during start-up")
	ErrNotReady = errors.New("did not answer 200 in time")
)

// WaitOK polls url until it answers 200. It gives up with ErrExited when
// exited is closed (the process has died), or with ErrNotReady after
// timeout.
func WaitOK(url string, exited <-chan struct{}, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		res, err := client.Get(url)
		if err == nil {
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-exited:
			return ErrExited
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w (%s)", ErrNotReady, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// StateDir is nginx's own directory (pid, temporary files, caches).
func (g *Gateway) StateDir() string { return g.state }

// test checks the rendered configuration with nginx -t.
func (g *Gateway) test(ctx context.Context) error {
	cmd := exec.CommandContext(ctx, "nginx", "-t", "-q", "-e", "/dev/stderr", "-p", g.state, "-c", filepath.Join(g.conf, "nginx.conf"))
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("nginx -t: %v\n%s", err, out)
	}
	return nil
}

// Stop shuts nginx down gracefully (SIGQUIT: open requests finish) and
// waits; after 10 s it kills it.
func (g *Gateway) Stop() error {
	if g == nil || g.cmd == nil {
		return nil
	}
	select {
	case <-g.done:
		return errors.New("nginx had exited already; log:\n" + Tail(g.ErrorLog, 20))
	default:
	}
	_ = g.cmd.Process.Signal(syscall.SIGQUIT)
	select {
	case <-g.done:
		return nil
	case <-time.After(10 * time.Second):
		_ = g.cmd.Process.Kill()
		<-g.done
		return errors.New("nginx did not stop within 10s of SIGQUIT")
	}
}

// Tail returns the last n lines of a file.
func Tail(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	return strings.Join(lines, "\n")
}
