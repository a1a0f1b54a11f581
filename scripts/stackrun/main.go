// Command stackrun starts a private Shop for browser tests and developers:
// the five services on free ports (fresh databases on the local PostgreSQL,
// a private Redis and broker; scripts/internal/procstack) with the nginx
// gateway in front on a free port, rendered from the same template as
// `make up`'s. When everything answers it prints one line on stdout,
//
//	ready http://127.0.0.1:PORT
//
// and runs until SIGTERM or SIGINT (or until the process that started it
// dies: a SIGTERM to `go run`, which the go command does not pass on, stops
// it too), then stops everything cleanly and drops its databases.
// Everything else it says goes to stderr.
//
//	go run ./scripts/stackrun -seed
//	go run ./scripts/stackrun -storefront frontend/storefront/dist -admin frontend/admin/dist
//
// The apps' directories default to SHOP_GATEWAY_STOREFRONT_ROOT and
// SHOP_GATEWAY_ADMIN_ROOT, then to each app's build when it exists, then to
// the placeholder pages.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/shop-oss/shop/pkg/config"
	"github.com/shop-oss/shop/scripts/internal/gateway"
	"github.com/shop-oss/shop/scripts/internal/history"
	"github.com/shop-oss/shop/scripts/internal/procstack"
)

type options struct {
	port               int
	seed, history      bool
	storefront, admin  string
	edgeAuth           bool
	logLevel           string
	keep               bool
	gatewayEnv, svcEnv stringList
}

// stringList is a repeatable NAME=VALUE flag.
type stringList []string

func (l *stringList) String() string     { return fmt.Sprint(*l) }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	var o options
	flag.IntVar(&o.port, "port", 0, "the gateway's port on 127.0.0.1 (0: a free one)")
	flag.BoolVar(&o.seed, "seed", false, "load the demo data (users, catalog, past orders, stock), as make up does")
	flag.BoolVar(&o.history, "history", true, "with -seed: the demo history of past orders too")
	flag.StringVar(&o.storefront, "storefront", os.Getenv("SHOP_GATEWAY_STOREFRONT_ROOT"), "the storefront's built directory (default: frontend/storefront/dist when built, else a placeholder)")
	flag.StringVar(&o.admin, "admin", os.Getenv("SHOP_GATEWAY_ADMIN_ROOT"), "the admin app's built directory (default: frontend/admin/dist when built, else a placeholder)")
	flag.BoolVar(&o.edgeAuth, "edge-auth", true, "the gateway checks access tokens before protected routes")
	flag.StringVar(&o.logLevel, "log-level", "info", "the services' log level")
	flag.BoolVar(&o.keep, "keep", false, "keep the work directory (logs) after stopping, and say where it is")
	flag.Var(&o.gatewayEnv, "gateway-env", "NAME=VALUE: a SHOP_GATEWAY_* setting for the gateway (repeatable)")
	flag.Var(&o.svcEnv, "env", "SERVICE:NAME=VALUE: a setting for one service, e.g. identity:SHOP_IDENTITY_BCRYPT_COST=4 (repeatable)")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "stackrun:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	stopWithParent()
	root, err := procstack.RepoRoot()
	if err != nil {
		return err
	}
	gwEnv, err := parseEnv(o.gatewayEnv)
	if err != nil {
		return fmt.Errorf("-gateway-env: %w", err)
	}
	services, err := parseServiceEnv(o.svcEnv)
	if err != nil {
		return fmt.Errorf("-env: %w", err)
	}
	for _, dir := range []*string{&o.storefront, &o.admin} {
		if *dir != "" {
			if *dir, err = filepath.Abs(*dir); err != nil {
				return err
			}
		}
	}
	work, err := os.MkdirTemp("", "shop-stackrun-")
	if err != nil {
		return err
	}
	if o.keep {
		defer fmt.Fprintln(os.Stderr, "stackrun: logs kept in", work)
	} else {
		defer os.RemoveAll(work)
	}
	bin := filepath.Join(work, "bin")
	fmt.Fprintln(os.Stderr, "stackrun: building the services...")
	if err := procstack.Build(root, bin); err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "stackrun: starting the services and the gateway...")
	st, err := procstack.Start(ctx, procstack.Options{
		BinDir: bin, WorkDir: work, LogLevel: o.logLevel, Env: services,
		Gateway: &gateway.Options{Root: root, Port: o.port, StorefrontRoot: o.storefront, AdminRoot: o.admin,
			EdgeAuthOff: !o.edgeAuth, Env: gwEnv},
	})
	if err != nil {
		return err
	}
	defer func() {
		fmt.Fprintln(os.Stderr, "stackrun: stopping")
		if err := st.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "stackrun: shutdown:", err)
		}
	}()
	if o.seed {
		// Identity first: the demo catalog belongs to the demo seller. The
		// demo history goes in before inventory's seed, as in make up.
		for _, name := range config.ServiceNames {
			if name == "inventory" && o.history {
				if err := seedHistory(ctx, root, st, services); err != nil {
					return err
				}
			}
			if out, err := st.Run(name, "seed"); err != nil {
				return fmt.Errorf("%w\n%s", err, out)
			}
		}
	}
	for _, name := range config.ServiceNames {
		fmt.Fprintf(os.Stderr, "stackrun: %-9s %s (log %s)\n", name, st.URL(name), filepath.Join(work, name+".log"))
	}
	fmt.Fprintf(os.Stderr, "stackrun: broker    %s\n", st.Broker.Addr())
	fmt.Fprintf(os.Stderr, "stackrun: gateway   %s (access log %s)\n", st.Gateway.URL, st.Gateway.AccessLog)
	fmt.Printf("ready %s\n", st.Gateway.URL)
	<-ctx.Done()
	return nil
}

// seedHistory writes the demo history into the stack's databases, with
// the reservation TTL and saga timeout the stack's services run with.
func seedHistory(ctx context.Context, root string, st *procstack.Stack, env map[string]map[string]string) error {
	dsns := map[string]string{}
	for _, name := range config.ServiceNames {
		dsns[name] = st.Proc(name).DSN
	}
	o, err := history.LoadDemo(ctx, filepath.Join(root, "deploy", "demo", "catalog.json"), dsns["identity"])
	if err != nil {
		return err
	}
	o.Now = time.Now()
	for _, d := range []struct {
		service, name string
		into          *time.Duration
	}{{"inventory", "SHOP_INVENTORY_RESERVATION_TTL", &o.ReservationTTL}, {"order", "SHOP_ORDER_CREATED_TIMEOUT", &o.CreatedTimeout}} {
		if v := env[d.service][d.name]; v != "" {
			if *d.into, err = time.ParseDuration(v); err != nil {
				return fmt.Errorf("%s: %w", d.name, err)
			}
		}
	}
	summary, err := history.DemoSeed(ctx, dsns, o)
	if err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "stackrun:", summary)
	return nil
}

// stopWithParent asks Linux for a SIGTERM when the process that started
// this one dies. Under `go run` that is the go command, which does not pass
// a SIGTERM on: the launcher then still stops, and stops its stack.
func stopWithParent() {
	ppid := os.Getppid()
	_, _, _ = syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_SET_PDEATHSIG, uintptr(syscall.SIGTERM), 0)
	if os.Getppid() != ppid { // the parent died before the request took effect
		_ = syscall.Kill(os.Getpid(), syscall.SIGTERM)
	}
}

// parseEnv reads NAME=VALUE pairs.
func parseEnv(pairs []string) (map[string]string, error) {
	out := map[string]string{}
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("%q: want NAME=VALUE", p)
		}
		out[k] = v
	}
	return out, nil
}

// parseServiceEnv reads SERVICE:NAME=VALUE settings.
func parseServiceEnv(items []string) (map[string]map[string]string, error) {
	out := map[string]map[string]string{}
	for _, item := range items {
		svc, pair, _ := strings.Cut(item, ":")
		k, v, ok := strings.Cut(pair, "=")
		if !ok || k == "" || !slices.Contains(config.ServiceNames, svc) {
			return nil, fmt.Errorf("%q: want SERVICE:NAME=VALUE with a service of %v", item, config.ServiceNames)
		}
		if out[svc] == nil {
			out[svc] = map[string]string{}
		}
		out[svc][k] = v
	}
	return out, nil
}
