// Command loadgen measures the whole saga on this machine: it starts all
// five services as real processes behind the nginx gateway
// (scripts/internal/procstack; -direct bypasses the gateway), then N
// concurrent customers log in, order 1–3 products and pay, for a while. It
// reports orders/s that reach PAID, the latency of POST /orders and of the
// saga from CREATED to PAID, the CPU time each program (each service, the
// gateway, PostgreSQL, Redis, itself) spent per order, the WAL per order,
// where the saga's time goes between services (each relay's and consumer's
// means, from the services' own metrics), and checks against the databases
// that nothing was oversold, charged twice or left stuck. A baseline
// measured in the same run (the same clients reading an order, straight at
// the order service and through the gateway) shows the HTTP ceiling and
// the gateway's cost.
//
//	go run ./scripts/loadgen -customers 64 -duration 30s
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/shop-oss/shop/pkg/config"
	"github.com/shop-oss/shop/pkg/service"
	"github.com/shop-oss/shop/scripts/internal/gateway"
	"github.com/shop-oss/shop/scripts/internal/history"
	"github.com/shop-oss/shop/scripts/internal/otlpsink"
	"github.com/shop-oss/shop/scripts/internal/procstack"
)

type options struct {
	customers   int
	duration    time.Duration
	products    int
	scarceStock int64
	history     int
	bcryptCost  int
	pprofPort   int
	pgSocket    string
	logLevel    string
	keep        bool
	direct      bool
	faults      string // "", short or long: the fault suite instead of the load run
	seed        uint64 // the mixed faults' seed (0: from the clock)
	only        string // run only the faults whose name contains this
	capacity    bool   // the capacity ramp and flash sale instead of the load run
	rampStep    time.Duration
	trace       bool
}

// validate refuses flags the run cannot use, before anything is built or
// started.
func (o options) validate() error {
	var errs []error
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	check(o.customers >= 1, "-customers %d: at least 1", o.customers)
	check(o.duration > 0, "-duration %s: must be positive", o.duration)
	check(o.products >= 1, "-products %d: at least 1", o.products)
	check(o.scarceStock >= 0, "-scarce-stock %d: must not be negative", o.scarceStock)
	check(o.history >= 0, "-history %d: must not be negative", o.history)
	check(o.bcryptCost >= 4 && o.bcryptCost <= 31, "-bcrypt-cost %d: between 4 and 31 (bcrypt's bounds)", o.bcryptCost)
	check(o.pprofPort >= 0 && o.pprofPort <= 65535-4, "-pprof-port %d: 0 (off) or a port with room for five", o.pprofPort)
	return errors.Join(errs...)
}

func main() {
	var o options
	// Customers are a closed loop: each has one order in flight, and a round
	// (place, long-poll for the payment, confirm) took 60 ms at 16 customers
	// and 100 ms at 32 on a 2-core VM, so 32 customers can offer no more than
	// about 320 orders/s: near the 300/s target, where the run measures its
	// own loop rather than the saga's capacity.
	flag.IntVar(&o.customers, "customers", 64, "concurrent customers (each has one order in flight at a time)")
	flag.DurationVar(&o.duration, "duration", 30*time.Second, "how long customers keep ordering")
	flag.IntVar(&o.products, "products", 20, "products with plenty of stock")
	flag.Int64Var(&o.scarceStock, "scarce-stock", 100, "units of one product that many orders compete for")
	flag.IntVar(&o.history, "history", 50000, "past orders the saga's databases hold before the load, as a running shop's do (0: start from empty tables)")
	flag.IntVar(&o.bcryptCost, "bcrypt-cost", 10, "identity's bcrypt cost for the run")
	flag.StringVar(&o.pgSocket, "pg-socket-dir", procstack.LocalPGSocketDir(),
		"services reach PostgreSQL through its Unix socket in this directory (default: the local one when there is one); empty for TCP")
	flag.StringVar(&o.logLevel, "log-level", "warn", "the services' log level")
	flag.BoolVar(&o.keep, "keep", false, "keep the work directory (the services' logs) and print where it is")
	flag.BoolVar(&o.direct, "direct", false, "customers call the services on their own ports instead of through the nginx gateway")
	flag.BoolVar(&o.trace, "trace", false, "the services record every span (OTEL_TRACES_SAMPLER=always_on) and export them over OTLP/HTTP to a receiver in this process; without it tracing is off (no OTEL_* set)")
	flag.IntVar(&o.pprofPort, "pprof-port", 0, "when set, service i serves pprof on 127.0.0.1:port+i (identity, catalog, inventory, order, payment)")
	flag.StringVar(&o.faults, "faults", "", "short or long: run the fault suite (faults injected under load, invariants checked; exits 1 on a violation)")
	flag.Uint64Var(&o.seed, "seed", 0, "seed of the fault suite's mixed faults (printed; 0 draws one)")
	flag.StringVar(&o.only, "only", "", "with -faults: only the faults whose name contains this (e.g. \"broker\"; the mixed phase draws from them)")
	flag.BoolVar(&o.capacity, "capacity", false, "run the capacity ramp (customers until saga p99 passes 1 s), the flash sale and pgbench, and write a report with plots under .local/reports/")
	flag.DurationVar(&o.rampStep, "ramp-step", 20*time.Second, "how long each step of the capacity ramp lasts")
	flag.Parse()
	// The load generator hosts the broker and the customers' clients, which
	// allocate per message and per request like a service does: the same
	// GC target. Two A/B pairs with GOGC=400 set for this process: the CPU
	// line's "other" (mostly this process, when it runs as a built binary)
	// went 1.44, 1.02 → 1.23, 0.92 ms per order.
	if err := o.validate(); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(2)
	}
	service.TuneRuntime()
	runner := run
	switch {
	case o.faults != "":
		runner = runFaults
	case o.capacity:
		runner = runCapacity
	}
	if err := runner(o); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	ctx := context.Background()
	work, err := os.MkdirTemp("", "shop-loadgen-")
	if err != nil {
		return err
	}
	if o.keep {
		defer fmt.Println("work directory with the services' logs:", work)
	} else {
		defer os.RemoveAll(work)
	}
	bin := filepath.Join(work, "bin")
	root, err := procstack.RepoRoot()
	if err != nil {
		return err
	}
	fmt.Printf("loadgen: %d CPUs; building and starting the five services...\n", runtime.NumCPU())
	if err := procstack.Build(root, bin); err != nil {
		return err
	}
	env := map[string]map[string]string{
		"identity": {
			"SHOP_IDENTITY_BCRYPT_COST":         fmt.Sprint(o.bcryptCost),
			"SHOP_IDENTITY_LOGIN_PER_MINUTE":    "100000",
			"SHOP_IDENTITY_REGISTER_PER_MINUTE": "100000",
		},
	}
	if o.pprofPort > 0 {
		for i, name := range config.ServiceNames {
			if env[name] == nil {
				env[name] = map[string]string{}
			}
			env[name]["SHOP_PPROF_ADDR"] = fmt.Sprintf("127.0.0.1:%d", o.pprofPort+i)
		}
	}
	var sink *otlpsink.Sink
	if o.trace {
		if sink, err = otlpsink.Start(false); err != nil {
			return err
		}
		defer sink.Close()
		for _, name := range config.ServiceNames {
			if env[name] == nil {
				env[name] = map[string]string{}
			}
			env[name]["OTEL_EXPORTER_OTLP_ENDPOINT"] = sink.URL
			env[name]["OTEL_TRACES_SAMPLER"] = "always_on"
		}
	}
	opts := procstack.Options{BinDir: bin, WorkDir: work, LogLevel: o.logLevel, Env: env, PGSocketDir: o.pgSocket}
	if !o.direct {
		// As deployed: edge authentication on, a worker per CPU.
		opts.Gateway = &gateway.Options{Root: root, Env: map[string]string{"SHOP_GATEWAY_WORKERS": "auto"}}
	}
	st, err := procstack.Start(ctx, opts)
	if err != nil {
		return err
	}
	defer func() {
		if err := st.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "loadgen: shutdown:", err)
		}
	}()
	if out, err := st.Run("identity", "seed"); err != nil {
		return fmt.Errorf("%w\n%s", err, out)
	}

	if o.history > 0 {
		began := time.Now()
		dsns := map[string]string{}
		for _, name := range history.Services {
			dsns[name] = st.Proc(name).DSN
		}
		if err := history.Seed(ctx, dsns, o.history, began); err != nil {
			return err
		}
		fmt.Printf("history: %d past orders in order, inventory and payment (%.1fs)\n", o.history, time.Since(began).Seconds())
	}

	shop := newShop(st)
	if err := shop.setUp(ctx, o); err != nil {
		return err
	}
	fmt.Printf("set up: %d customers logged in, %d products (+1 scarce with %d units)\n", o.customers, o.products, o.scarceStock)

	base, err := shop.baseline(ctx, o.customers, 5*time.Second)
	if err != nil {
		return err
	}
	cpu0, cpuErr := sampleCPU()
	wal0, walErr := shop.walStats(ctx)
	hops0, hopErr := shop.hopStats(ctx)
	res, err := shop.load(ctx, o)
	if err != nil {
		return err
	}
	cpu1, err := sampleCPU()
	cpuErr = errors.Join(cpuErr, err)
	wal1, err := shop.walStats(ctx)
	walErr = errors.Join(walErr, err)
	hops1, err := shop.hopStats(ctx)
	hopErr = errors.Join(hopErr, err)
	if err := shop.settle(ctx, res.start, 90*time.Second); err != nil {
		return err
	}
	rep, err := shop.report(ctx, res)
	if err != nil {
		return err
	}
	rep.print(o, base)
	if cpuErr != nil {
		fmt.Println("  CPU per order placed: not measured:", cpuErr)
	} else {
		fmt.Println("  CPU per order placed (ms):", cpu0.until(cpu1).perOrder(res.placed))
	}
	if walErr != nil {
		fmt.Println("  WAL per order placed: not measured:", walErr)
	} else {
		fmt.Println("  WAL per order placed:", wal0.perOrder(wal1, res.placed))
	}
	if hopErr != nil {
		fmt.Println("  saga hops: not measured:", hopErr)
	} else {
		fmt.Println("  saga hops, means over the load (relay: outbox row → broker ack; event age: written → handled; in brackets, events slower than the bound):")
		for _, h := range hopReports(hops0, hops1) {
			fmt.Println("    " + h.String())
		}
	}
	if sink != nil {
		fmt.Printf("  tracing: on (always_on), %d spans received over OTLP/HTTP, %.1f per order placed\n",
			sink.Count(), float64(sink.Count())/float64(max(res.placed, 1)))
	} else {
		fmt.Println("  tracing: off (no OTEL_* set)")
	}
	fmt.Println("\n" + rep.target())
	if !rep.ok() {
		return fmt.Errorf("the run broke an invariant (see above)")
	}
	return nil
}
