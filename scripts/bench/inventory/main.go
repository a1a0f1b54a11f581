// Command inventory-bench measures the inventory service from outside, as
// it is deployed: its binary as a process on a fresh database, driven
// through the broker with the saga's events (ORDER_CREATED on order.events,
// PAYMENT_SUCCESS on payment.events) and timed until its answer arrives on
// inventory.events (INVENTORY_RESERVED or INVENTORY_REJECTED,
// INVENTORY_CONFIRMED), and through its HTTP API. The figures print beside
// the database's own limit measured in the same run, pgbench's TPC-B-like
// transactions per second, with their ratio.
//
// Scenarios: orders of 1 and 5 lines spread over many products, the same
// with a hot product in every order, orders reserved and then paid, and
// availability reads over HTTP. Then a sell-out: more orders than units of
// one product, which must reserve exactly its stock; and every product's
// ledger must sum to its figures, with reserved equal to the lines of the
// active reservations.
//
// It builds the inventory of this checkout (-tree: of another source tree;
// -bin: a binary already built), so an A/B pair runs the same bench against
// two versions of the service. It creates its databases on the local
// PostgreSQL server (dropped at the end), runs a private redis-server and an
// in-process broker, and needs pgbench on PATH.
//
//	go run ./scripts/bench/inventory [-tree DIR | -bin FILE] [-duration 10s] [-workers 64] [-only hot]
package main

import (
	"context"
	"flag"
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/shop-oss/shop/scripts/bench/internal/benchenv"
)

type options struct {
	target         *benchenv.Target
	duration       time.Duration
	warmup         time.Duration
	workers        int
	products       int
	pgbenchSeconds int
	only           string
}

func main() {
	var o options
	o.target = benchenv.TargetFlags("inventory")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "measured time per scenario")
	flag.DurationVar(&o.warmup, "warmup", 2*time.Second, "unmeasured time before each scenario")
	flag.IntVar(&o.workers, "workers", 64, "orders in flight: each worker publishes an event and waits for inventory's answer")
	flag.IntVar(&o.products, "products", 10000, "products of the spread load")
	flag.IntVar(&o.pgbenchSeconds, "pgbench-seconds", 10, "length of the pgbench baseline run")
	flag.StringVar(&o.only, "only", "", "run only the scenarios whose name contains this")
	benchenv.Main("inventory-bench", func(ctx context.Context) error { return run(ctx, o) })
}

func run(ctx context.Context, o options) error {
	env, inventory, err := benchenv.ForService(ctx, "inventory", *o.target)
	if err != nil {
		return err
	}
	defer env.Close()
	bin, dsn := inventory.Bin, inventory.DatabaseURL
	svc, err := env.StartService(bin, map[string]string{"SHOP_DATABASE_URL": dsn})
	if err != nil {
		return err
	}
	db, err := openStock(ctx, dsn)
	if err != nil {
		return err
	}
	defer db.close()
	fsync, syncCommit, err := db.settings(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("inventory benchmark: %s\n  %d CPUs, %d orders in flight, %s per scenario after %s warm-up, %d spread products; PostgreSQL fsync=%s synchronous_commit=%s; load average %s\n",
		bin, runtime.NumCPU(), o.workers, o.duration, o.warmup, o.products, fsync, syncCommit, benchenv.LoadAverage())

	tps, err := env.PGBench(ctx, o.pgbenchSeconds)
	if err != nil {
		return err
	}
	fmt.Printf("baseline: pgbench TPC-B-like, scale 10, -c 8 -j 2 -T %d: %.0f TPS\n", o.pgbenchSeconds, tps)

	ids, err := db.addProducts(ctx, "BENCH-", o.products+1, plenty)
	if err != nil {
		return err
	}
	b := newBus(env.Broker.Addr())
	defer b.close()
	l := &load{bus: b, api: svc.URL, hot: ids[0], spread: ids[1:]}
	if err := l.warmUp(ctx); err != nil {
		return err
	}

	fmt.Printf("\n%-30s %10s %9s %9s %11s %13s %9s %7s\n", "scenario", "per second", "p50", "p99", "vs pgbench", "CPU/op (inv)", "rejected", "errors")
	failed := false
	for _, sc := range l.scenarios(o.workers) {
		if !strings.Contains(sc.name, o.only) {
			continue
		}
		benchenv.Run(ctx, o.workers, 0, o.warmup, sc.op) // unmeasured
		cpu0 := svc.CPU()
		res := benchenv.Run(ctx, o.workers, 0, o.duration, sc.op)
		cpu := svc.CPU() - cpu0
		perOp := "-"
		if n := len(res.Lat) + res.Rejected; n > 0 {
			perOp = fmt.Sprintf("%.2f ms", float64(cpu.Microseconds())/1000/float64(n))
		}
		ratio := fmt.Sprintf("%.0f%%", 100*res.Rate()/tps)
		if sc.read {
			ratio = "-"
		}
		fmt.Printf("%-30s %10.0f %9s %9s %11s %13s %9d %7d\n", sc.name, res.Rate(), ms(res.P(50)), ms(res.P(99)),
			ratio, perOp, res.Rejected, res.Errors)
		if res.Errors > 0 {
			fmt.Printf("  last error: %v\n", res.LastErr)
			failed = true
		}
	}

	sell, err := l.sellOut(ctx, db, o.workers, 2000)
	if err != nil {
		return err
	}
	ledger, err := db.checkLedger(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("\nsell-out: %d units of one product, %d in flight, %d orders of 1 unit: %d reserved, %d rejected, oversold %d (%.0f reservations/s)\n",
		sell.stock, o.workers, sell.attempts, sell.reserved, sell.rejected, max(sell.reserved-sell.stock, 0), sell.rate)
	fmt.Printf("  then the API says %d available; the database %d on hand, %d reserved: %s\n",
		sell.available, sell.onHand, sell.onHold, okText(sell.ok()))
	fmt.Printf("ledger: %d products, %d movements; ledger sums = stock figures, reserved = active lines, 0 <= reserved <= on_hand: %s\n",
		ledger.products, ledger.movements, okText(ledger.bad == 0))
	fmt.Printf("load average at the end: %s\n", benchenv.LoadAverage())
	fmt.Println("\nLatency: the event published → inventory's answer read from inventory.events (its consumer, transaction, outbox relay and the broker both ways).")
	fmt.Println("CPU/op: the inventory process's CPU time per answered operation.")
	if failed || !sell.ok() || ledger.bad != 0 {
		return fmt.Errorf("correctness check failed (see above)")
	}
	return nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d.Microseconds())/1000) }

func okText(ok bool) string {
	if ok {
		return "ok"
	}
	return "VIOLATED"
}
