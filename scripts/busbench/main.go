// Command busbench measures the event bus end to end on this machine:
// commit-to-handled throughput and latency of outbox → relay → Kafka →
// idempotent consumer, each event's effect committed in PostgreSQL with the
// server's own durability settings, printed beside a baseline measured in
// the same run: raw kafka-go produce → consume of the same messages, with no
// database (the ceiling).
//
// It creates its own databases on the local PostgreSQL server (dropped at the
// end) and runs an in-process broker (the same kfake broker as `make up`)
// with a data directory. Run it with `make bench`.
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
	rate := flag.Int("rate", 1000, "offered events/s of the latency runs")
	producers := flag.Int("producers", 32, "concurrent producers in the throughput runs")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	only := flag.String("only", "", "run only the scenarios whose name contains this")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err == nil && pprof.StartCPUProfile(f) == nil {
			defer pprof.StopCPUProfile()
		}
	}
	if err := run(*dur, *rate, *producers, *only); err != nil {
		fmt.Fprintln(os.Stderr, "busbench:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

func run(dur time.Duration, rate, producers int, only string) error {
	ctx := context.Background()
	settings, err := pgSettings(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("event bus benchmark: %d CPUs, %s each run; PostgreSQL fsync=%s synchronous_commit=%s\n\n",
		runtime.NumCPU(), dur, settings["fsync"], settings["synchronous_commit"])

	type row struct {
		name string
		r    result
	}
	var rows []row
	scenarios := []struct {
		name string
		fn   func(context.Context, load) (result, error)
	}{
		{"raw kafka-go (baseline)", runRaw},
		{"outbox → consumer", runBus},
	}
	for _, sc := range scenarios {
		loads := []load{
			{duration: dur, producers: producers, perTx: 1},
			{duration: dur, producers: producers, perTx: 10},
			{duration: dur, producers: 4, perTx: 1, rate: rate},
		}
		for _, l := range loads {
			if !strings.Contains(sc.name+" "+l.String(), only) {
				continue
			}
			r, err := sc.fn(ctx, l)
			if err != nil {
				return fmt.Errorf("%s: %w", sc.name, err)
			}
			rows = append(rows, row{sc.name + " " + l.String(), r})
			fmt.Printf("  done: %-48s %s\n", sc.name+" "+l.String(), r)
			if st := r.stages(); st != "" {
				fmt.Printf("        %s\n", st)
			}
		}
	}
	fmt.Printf("\n%-50s %12s %10s %10s %10s %8s %8s\n", "run", "events/s", "p50", "p99", "max", "lost", "doubled")
	for _, r := range rows {
		fmt.Printf("%-50s %12.0f %10s %10s %10s %8d %8d\n", r.name, r.r.throughput(), r.r.p(50), r.r.p(99), r.r.p(100), r.r.lost, r.r.doubled)
	}
	fmt.Println("\nLatency: raw = produce acknowledged → message fetched by the consumer;")
	fmt.Println("bus = producer's transaction committed → consumer's transaction (effect + inbox row) committed.")
	return nil
}
