// Command catalog-bench measures the catalog service from outside, through
// its HTTP API, beside baselines measured in the same run:
//
//   - the HTTP ceiling: GET /healthz through the same server and middleware;
//   - the SQL alone: a product read by ID in plain SQL, with the same
//     concurrency, without HTTP and cache;
//   - GET /products/{id} served from the Redis cache (hot set) and with no
//     cache (a second process with SHOP_CATALOG_CACHE_TTL=0);
//   - search, GET /products?q=... (a rotation of terms, some misspelt),
//     uncached (every query distinct) and cached;
//   - a category listing by price, uncached.
//
// It builds the catalog of this checkout (-tree: of another source tree;
// -bin: a binary already built) and runs it as two processes on one fresh
// database (dropped at the end), which it fills with -products products by
// COPY against the migrated schema, beside a private redis-server and an
// in-process broker; N goroutines drive it over keep-alive connections.
// Figures are requests/s and latency percentiles. Nothing here asserts a
// figure; it reports them.
//
//	go run ./scripts/bench/catalog [-tree DIR | -bin FILE] [-products 100000] [-duration 5s] [-c 32] [-search-c 8]
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/shop-oss/shop/pkg/database"
	"github.com/shop-oss/shop/scripts/bench/internal/benchenv"
)

type options struct {
	target      *benchenv.Target
	products    int
	duration    time.Duration
	warmup      time.Duration
	concurrency int
	searchConc  int
	hotSet      int
	only        string
}

func main() {
	var o options
	o.target = benchenv.TargetFlags("catalog")
	flag.IntVar(&o.products, "products", 100_000, "products to seed")
	flag.DurationVar(&o.duration, "duration", 5*time.Second, "measured time per scenario")
	flag.DurationVar(&o.warmup, "warmup", time.Second, "unmeasured time before each scenario")
	flag.IntVar(&o.concurrency, "c", 32, "concurrent clients for reads by ID and the baselines")
	flag.IntVar(&o.searchConc, "search-c", 8, "concurrent clients for search")
	flag.IntVar(&o.hotSet, "hot", 1000, "products in the cached hot set")
	flag.StringVar(&o.only, "only", "", "run only the scenarios whose name contains this")
	benchenv.Main("catalog-bench", func(ctx context.Context) error { return run(ctx, o) })
}

// dbConns is the connection pool of each process and of the SQL baseline:
// two processes and the baseline share PostgreSQL's connections with
// whatever else runs here; 8 each is more than 2 cores can keep busy.
const dbConns = 8

func run(ctx context.Context, o options) error {
	env, svc, err := benchenv.ForService(ctx, "catalog", *o.target)
	if err != nil {
		return err
	}
	defer env.Close()
	bin, dsn := svc.Bin, svc.DatabaseURL
	start := func(cacheTTL string) (*benchenv.Proc, error) {
		return env.StartService(bin, map[string]string{
			"SHOP_DATABASE_URL":      dsn,
			"SHOP_CATALOG_CACHE_TTL": cacheTTL,
			"SHOP_DB_MAX_OPEN_CONNS": strconv.Itoa(dbConns),
			"SHOP_DB_MAX_IDLE_CONNS": strconv.Itoa(dbConns),
		})
	}

	fmt.Printf("catalog benchmark: %s\n  %d products, GOMAXPROCS %d, %s per scenario after %s warm-up; load average %s\n",
		bin, o.products, runtime.GOMAXPROCS(0), o.duration, o.warmup, benchenv.LoadAverage())
	defer func() {
		fmt.Printf("load average at the end: %s (other work on this machine competes for the same cores)\n", benchenv.LoadAverage())
	}()
	cached, err := start("60s") // migrates the database
	if err != nil {
		return err
	}
	began := time.Now()
	data, err := seed(ctx, dsn, o.products)
	if err != nil {
		return err
	}
	fmt.Printf("seeded %d products (%d active) in %s by COPY\n", o.products, len(data.active), time.Since(began).Round(100*time.Millisecond))
	uncached, err := start("0s")
	if err != nil {
		return err
	}
	db, err := database.Open(ctx, dsn, database.Pool{MaxOpen: dbConns, MaxIdle: dbConns}, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer database.Close(db)

	hot := data.active[:min(o.hotSet, len(data.active))]
	var next uuid.UUID
	fill := benchenv.Get(1, func(*rand.Rand) string { return cached.URL + "/api/v1/products/" + next.String() })
	for _, next = range hot { // into the cache
		if _, err := fill(ctx, nil); err != nil {
			return err
		}
	}
	pick := func(ids []uuid.UUID) func(*rand.Rand) uuid.UUID {
		return func(r *rand.Rand) uuid.UUID { return ids[r.IntN(len(ids))] }
	}
	hotID, anyID := pick(hot), pick(data.active)
	term := func(r *rand.Rand) string { return searchTerms[r.IntN(len(searchTerms))] }

	type scenario struct {
		name   string
		conc   int
		target string // the result the targets line reports, if any
		op     benchenv.Op
	}
	get := func(conc int, url func(*rand.Rand) string) benchenv.Op { return benchenv.Get(conc, url) }
	scenarios := []scenario{
		{name: "baseline: GET /healthz (HTTP ceiling)", conc: o.concurrency,
			op: get(o.concurrency, func(*rand.Rand) string { return cached.URL + "/healthz" })},
		{name: "baseline: read by ID (plain SQL, no HTTP)", conc: o.concurrency,
			op: func(ctx context.Context, r *rand.Rand) (time.Duration, error) {
				t0 := time.Now()
				err := productByID(ctx, db, anyID(r))
				return time.Since(t0), err
			}},
		{name: "GET /products/{id} cached (hot set in Redis)", conc: o.concurrency, target: "cached",
			op: get(o.concurrency, func(r *rand.Rand) string { return cached.URL + "/api/v1/products/" + hotID(r).String() })},
		{name: "GET /products/{id} uncached (no cache)", conc: o.concurrency,
			op: get(o.concurrency, func(r *rand.Rand) string { return uncached.URL + "/api/v1/products/" + anyID(r).String() })},
		// A max_price above every price filters nothing but makes each query
		// distinct, so that single flight shares no work between them.
		{name: "GET /products?q= search uncached", conc: o.searchConc, target: "search",
			op: get(o.searchConc, func(r *rand.Rand) string {
				return uncached.URL + "/api/v1/products?q=" + url.QueryEscape(term(r)) + "&max_price=" + strconv.Itoa(10_000_000+r.IntN(1_000_000))
			})},
		{name: "GET /products?q= search cached pages", conc: o.searchConc,
			op: get(o.searchConc, func(r *rand.Rand) string { return cached.URL + "/api/v1/products?q=" + url.QueryEscape(term(r)) })},
		{name: "GET /products?category=&sort=price_asc uncached", conc: o.concurrency,
			op: get(o.concurrency, func(r *rand.Rand) string {
				return uncached.URL + "/api/v1/products?sort=price_asc&category=" + data.categories[r.IntN(len(data.categories))]
			})},
	}
	fmt.Printf("\n%-48s %5s %10s %9s %9s %9s %7s\n", "scenario", "conc", "req/s", "p50", "p99", "max", "errors")
	results := map[string]benchenv.Result{}
	for _, s := range scenarios {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !strings.Contains(s.name, o.only) {
			continue
		}
		res := benchenv.Run(ctx, s.conc, o.warmup, o.duration, s.op)
		if s.target != "" {
			results[s.target] = res
		}
		fmt.Printf("%-48s %5d %10.0f %9s %9s %9s %7d\n", s.name, s.conc, res.Rate(), ms(res.P(50)), ms(res.P(99)), ms(res.P(100)), res.Errors)
		if res.LastErr != nil {
			fmt.Printf("  last error: %v\n", res.LastErr)
		}
	}
	fmt.Printf("\ntargets: cached product reads %.0f req/s (target >= 15,000 on 2 cores): %s; search p99 %s (target < 50 ms): %s\n",
		results["cached"].Rate(), verdict(results["cached"].Rate() >= 15000),
		ms(results["search"].P(99)), verdict(results["search"].P(99) < 50*time.Millisecond))
	return nil
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d.Microseconds())/1000) }
