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
// GOMAXPROCS. It builds the identity service of this checkout and starts it
// as a process on a fresh database (dropped at the end), beside an
// in-process broker, and uses Redis database 15 of SHOP_REDIS_URL's
// server (default 127.0.0.1:6379), so it runs beside `make up`.
//
//	go run ./scripts/bench/identity [-cost 12] [-duration 5s]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"syscall"
	"time"

	"github.com/shop-oss/shop/pkg/freeport"
)

func main() {
	cost := flag.Int("cost", 12, "bcrypt cost of the service (its production default is 12)")
	duration := flag.Duration("duration", 5*time.Second, "total time of each measurement, spread over interleaved rounds")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Stdout, *cost, *duration); err != nil {
		fmt.Fprintln(os.Stderr, "identity-bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer, cost int, d time.Duration) error {
	procs := runtime.GOMAXPROCS(0)
	fmt.Fprintf(out, "identity-bench: GOMAXPROCS=%d, bcrypt cost %d, %s per measurement\n\n", procs, cost, d)

	env, err := startIdentity(ctx, cost)
	if err != nil {
		return err
	}
	defer env.stop()

	if err := benchLogin(out, env, cost, d, procs); err != nil {
		return err
	}
	fmt.Fprintln(out)
	return benchVerify(ctx, out, env, d, procs)
}

// freeAddr returns a loopback address that was free a moment ago.
func freeAddr() (string, error) {
	port, err := freeport.Get()
	if err != nil {
		return "", err
	}
	return "127.0.0.1:" + strconv.Itoa(port), nil
}

// waitReady polls url until it answers 200.
func waitReady(ctx context.Context, url string) error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		res, err := http.Get(url)
		if err == nil {
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after 60s (last error: %v)", url, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}
