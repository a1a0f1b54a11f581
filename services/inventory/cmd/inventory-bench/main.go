// Command inventory-bench measures reservations on this machine at the
// domain/store level (direct calls of the inventory rules from N goroutines,
// each reservation one transaction with its ledger entries and outbox event,
// as the service does), printed beside the database's own limit measured in
// the same run: pgbench's TPC-B-like transactions per second.
//
// Scenarios: single-line and 5-line orders, spread over many products and on
// one hot product. Afterwards it checks that nothing was oversold: a
// sell-out run on a small stock reserves exactly that stock, and every
// product's ledger sums to its figures with reserved = the lines of active
// reservations.
//
// It creates scratch databases on the local PostgreSQL server (dropped at the
// end) and needs pgbench on PATH (it comes with PostgreSQL).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"
)

func main() {
	dur := flag.Duration("duration", 10*time.Second, "length of each measured run")
	workers := flag.Int("workers", 16, "concurrent goroutines reserving")
	pool := flag.Int("pool", 12, "database connections (the services' default SHOP_DB_MAX_OPEN_CONNS)")
	products := flag.Int("products", 10000, "products of the spread load")
	pgbenchSeconds := flag.Int("pgbench-seconds", 10, "length of the pgbench baseline run")
	only := flag.String("only", "", "run only the scenarios whose name contains this")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the run to this file")
	adminURL := flag.String("database", adminURL(), "maintenance database URL of the PostgreSQL server")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "inventory-bench:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	cfg := benchConfig{duration: *dur, workers: *workers, pool: *pool, products: *products, pgbenchSeconds: *pgbenchSeconds, only: *only, adminURL: *adminURL}
	if err := run(context.Background(), cfg); err != nil {
		fmt.Fprintln(os.Stderr, "inventory-bench:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

type benchConfig struct {
	duration       time.Duration
	workers        int
	pool           int
	products       int
	pgbenchSeconds int
	only           string
	adminURL       string
}

func adminURL() string {
	if u := os.Getenv("SHOP_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

func run(ctx context.Context, cfg benchConfig) error {
	b, err := newBench(ctx, cfg)
	if err != nil {
		return err
	}
	defer b.close()
	fmt.Printf("inventory reservation benchmark: %d CPUs, %d workers on %d connections, %s per run, %d spread products; PostgreSQL fsync=%s synchronous_commit=%s\n",
		runtime.NumCPU(), cfg.workers, cfg.pool, cfg.duration, cfg.products, b.settings["fsync"], b.settings["synchronous_commit"])

	tps, err := pgbenchTPS(ctx, cfg)
	if err != nil {
		return err
	}
	fmt.Printf("baseline: pgbench TPC-B-like, scale 10, -c 8 -j 2 -T %d: %.0f TPS\n\n", cfg.pgbenchSeconds, tps)

	var results []result
	for _, sc := range b.scenarios() {
		if !strings.Contains(sc.name, cfg.only) {
			continue
		}
		r, err := b.measure(ctx, sc)
		if err != nil {
			return fmt.Errorf("%s: %w", sc.name, err)
		}
		results = append(results, r)
		fmt.Printf("  done: %s\n", r.name)
	}
	sell, err := b.sellOut(ctx, 2000)
	if err != nil {
		return err
	}
	inv, err := b.invariants(ctx)
	if err != nil {
		return err
	}

	fmt.Printf("\n%-26s %14s %10s %10s %11s %9s %7s\n", "scenario", "reservations/s", "p50", "p99", "vs pgbench", "rejected", "errors")
	for _, r := range results {
		fmt.Printf("%-26s %14.0f %10s %10s %10.0f%% %9d %7d\n", r.name, r.rate(), r.p(0.50), r.p(0.99), 100*r.rate()/tps, r.rejected, r.errors)
	}
	fmt.Printf("\nsell-out: %d units of one product, %d workers, %d attempts: %d reserved, %d rejected, oversold %d (%.0f reservations/s)\n",
		sell.stock, cfg.workers, sell.attempts, sell.reserved, sell.rejected, max(sell.reserved-sell.stock, 0), sell.rate)
	fmt.Printf("ledger: %d products, %d movements; ledger sums = stock figures, reserved = active lines, 0 <= reserved <= on_hand: %s\n",
		inv.Products, inv.Movements, okText(inv.Bad == 0))

	fmt.Println("\ntargets:")
	for _, r := range results {
		switch {
		case strings.HasPrefix(r.name, "spread"):
			fmt.Printf("  %-24s >= 50%% of pgbench TPS (%.0f/s): %.0f/s  %s\n", r.name, tps/2, r.rate(), pass(r.rate() >= tps/2))
		case strings.HasPrefix(r.name, "hot"):
			fmt.Printf("  %-24s >= 1000/s with zero oversell: %.0f/s  %s\n", r.name, r.rate(), pass(r.rate() >= 1000 && sell.reserved == sell.stock && inv.Bad == 0))
		}
	}
	if sell.reserved != sell.stock || inv.Bad != 0 || failed(results) {
		return fmt.Errorf("correctness check failed (see above)")
	}
	return nil
}

func failed(rs []result) bool {
	for _, r := range rs {
		if r.errors > 0 {
			return true
		}
	}
	return false
}

func okText(ok bool) string {
	if ok {
		return "ok"
	}
	return "VIOLATED"
}

func pass(ok bool) string {
	if ok {
		return "PASS"
	}
	return "MISS"
}
