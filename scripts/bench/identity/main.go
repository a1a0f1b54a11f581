// Command identity-bench measures what bounds the identity service:
//
//   - login throughput over HTTP (POST /api/v1/auth/login on a real
//     identity with PostgreSQL, Redis and a broker), which bcrypt bounds,
//     beside raw bcrypt.CompareHashAndPassword at the same cost;
//   - the time of a login with an unknown email beside one with a wrong
//     password (they should match: no account enumeration by timing);
//   - access-token verification through pkg/auth's gin middleware, with its
//     verified-token cache and without, beside raw ed25519.Verify and the
//     same gin chain without authentication.
//
// Every figure is measured in the same run; per-core figures divide by
// GOMAXPROCS. It builds the identity service of this checkout (-tree: of
// another source tree; -bin: a binary already built) and starts it
// as a process on a fresh database (dropped at the end), beside a private
// redis-server and an in-process broker, so it runs beside `make up`.
//
//	go run ./scripts/bench/identity [-tree DIR | -bin FILE] [-cost 12] [-duration 5s]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"time"

	"github.com/shop-oss/shop/scripts/bench/internal/benchenv"
)

func main() {
	cost := flag.Int("cost", 12, "bcrypt cost of the service (its production default is 12)")
	duration := flag.Duration("duration", 5*time.Second, "total time of each measurement, spread over interleaved rounds")
	target := benchenv.TargetFlags("identity")
	benchenv.Main("identity-bench", func(ctx context.Context) error { return run(ctx, os.Stdout, *target, *cost, *duration) })
}

func run(ctx context.Context, out io.Writer, target benchenv.Target, cost int, d time.Duration) error {
	procs := runtime.GOMAXPROCS(0)
	fmt.Fprintf(out, "identity-bench: GOMAXPROCS=%d, bcrypt cost %d, %s per measurement\n\n", procs, cost, d)

	env, base, err := startIdentity(ctx, target, cost)
	if err != nil {
		return err
	}
	defer env.Close()

	if err := benchLogin(out, base, cost, d, procs); err != nil {
		return err
	}
	fmt.Fprintln(out)
	return benchVerify(ctx, out, base, d, procs)
}
