// Command catalog-bench measures the catalog service through HTTP on this
// machine, beside baselines measured in the same run:
//
//   - the HTTP ceiling: GET /healthz through the same server and middleware;
//   - the SQL alone: the service's own store (catalogdb) reading by ID and
//     searching, with the same concurrency, without HTTP and cache;
//   - GET /products/{id} served from the Redis cache (hot set) and with no
//     cache (a second instance with SHOP_CATALOG_CACHE_TTL=0);
//   - search, GET /products?q=... (a rotation of terms, some misspelt),
//     uncached (every query distinct) and cached;
//   - a category listing by price, uncached.
//
// It seeds a fresh database (dropped and created) with -products products
// by COPY, starts a private redis-server and an in-process broker, runs the
// service in-process, and drives it with an in-process load generator: N
// goroutines over net/http keep-alive connections. Figures are requests/s
// and latency percentiles. Nothing here asserts a figure; it reports them.
//
//	go run ./services/catalog/cmd/catalog-bench [-products 100000] [-duration 5s] [-c 32] [-search-c 8]
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/google/uuid"

	"github.com/shop-oss/shop/pkg/config"
	"github.com/shop-oss/shop/pkg/service"
	"github.com/shop-oss/shop/services/catalog/internal/app"
)

type options struct {
	products    int
	duration    time.Duration
	warmup      time.Duration
	concurrency int
	searchConc  int
	hotSet      int
	databaseURL string
	only        string
	cpuProfile  string
}

func main() {
	var o options
	flag.IntVar(&o.products, "products", 100_000, "products to seed")
	flag.DurationVar(&o.duration, "duration", 5*time.Second, "measured time per scenario")
	flag.DurationVar(&o.warmup, "warmup", time.Second, "unmeasured time before each scenario")
	flag.IntVar(&o.concurrency, "c", 32, "concurrent clients for reads by ID and the baselines")
	flag.IntVar(&o.searchConc, "search-c", 8, "concurrent clients for search")
	flag.IntVar(&o.hotSet, "hot", 1000, "products in the cached hot set")
	flag.StringVar(&o.databaseURL, "database-url", "postgres://postgres@127.0.0.1:5432/catalog_bench?sslmode=disable",
		"database to (re)create for the run; it is dropped first")
	flag.StringVar(&o.only, "only", "", "run only the scenarios whose name contains this")
	flag.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the measured scenarios to this file")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "catalog-bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	infra, err := startInfra(ctx, o.databaseURL)
	if err != nil {
		return err
	}
	defer infra.close()

	fmt.Printf("catalog benchmark: %d products, GOMAXPROCS %d, %s per scenario after %s warm-up; load average %s\n",
		o.products, runtime.GOMAXPROCS(0), o.duration, o.warmup, loadAverage())
	defer func() {
		fmt.Printf("load average at the end: %s (other work on this machine competes for the same cores)\n", loadAverage())
	}()
	cached, err := startService(ctx, infra, "60s")
	if err != nil {
		return err
	}
	defer cached.stop()
	start := time.Now()
	data, err := seed(ctx, o.databaseURL, o.products)
	if err != nil {
		return err
	}
	fmt.Printf("seeded %d products (%d active) in %s by COPY\n", o.products, len(data.active), time.Since(start).Round(100*time.Millisecond))
	uncached, err := startService(ctx, infra, "0s")
	if err != nil {
		return err
	}
	defer uncached.stop()

	sql, err := newSQLBaseline(ctx, o.databaseURL, log)
	if err != nil {
		return err
	}
	defer sql.close()
	fmt.Println("search plans (EXPLAIN ANALYZE of the store's query, one run each):")
	for _, t := range searchTerms {
		plan, err := sql.searchPlan(ctx, t)
		if err != nil {
			return err
		}
		fmt.Printf("  %-22q %s\n", t, plan)
	}

	hot := data.active[:min(o.hotSet, len(data.active))]
	for _, id := range hot { // warm the cache
		if err := get(ctx, cached.base+"/api/v1/products/"+id.String()); err != nil {
			return err
		}
	}
	pick := func(ids []uuid.UUID) func(*rand.Rand) uuid.UUID {
		return func(r *rand.Rand) uuid.UUID { return ids[r.IntN(len(ids))] }
	}
	hotID, anyID := pick(hot), pick(data.active)
	term := func(r *rand.Rand) string { return searchTerms[r.IntN(len(searchTerms))] }

	scenarios := []scenario{
		{name: "baseline: GET /healthz (HTTP ceiling)", conc: o.concurrency,
			http: func(*rand.Rand) string { return cached.base + "/healthz" }},
		{name: "baseline: store read by ID (SQL, no HTTP)", conc: o.concurrency,
			direct: func(ctx context.Context, r *rand.Rand) error { return sql.productByID(ctx, anyID(r)) }},
		{name: "GET /products/{id} cached (hot set in Redis)", conc: o.concurrency, target: "cached",
			http: func(r *rand.Rand) string { return cached.base + "/api/v1/products/" + hotID(r).String() }},
		{name: "GET /products/{id} uncached (no cache)", conc: o.concurrency,
			http: func(r *rand.Rand) string { return uncached.base + "/api/v1/products/" + anyID(r).String() }},
		{name: "baseline: store search (SQL, no HTTP)", conc: o.searchConc,
			direct: func(ctx context.Context, r *rand.Rand) error { return sql.search(ctx, term(r)) }},
		// A max_price above every price filters nothing but makes each query
		// distinct, so that single flight shares no work between them.
		{name: "GET /products?q= search uncached", conc: o.searchConc, target: "search",
			http: func(r *rand.Rand) string {
				return uncached.base + "/api/v1/products?q=" + url.QueryEscape(term(r)) + "&max_price=" + strconv.Itoa(10_000_000+r.IntN(1_000_000))
			}},
		{name: "GET /products?q= search cached pages", conc: o.searchConc,
			http: func(r *rand.Rand) string { return cached.base + "/api/v1/products?q=" + url.QueryEscape(term(r)) }},
		{name: "GET /products?category=&sort=price_asc uncached", conc: o.concurrency,
			http: func(r *rand.Rand) string {
				return uncached.base + "/api/v1/products?sort=price_asc&category=" + data.categories[r.IntN(len(data.categories))]
			}},
	}
	fmt.Printf("\n%-48s %5s %10s %9s %9s %9s %7s\n", "scenario", "conc", "req/s", "p50", "p99", "max", "errors")
	results := map[string]result{}
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	for _, s := range scenarios {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !strings.Contains(s.name, o.only) {
			continue
		}
		res := s.run(ctx, o.warmup, o.duration)
		if s.target != "" {
			results[s.target] = res
		}
		fmt.Printf("%-48s %5d %10.0f %9s %9s %9s %7d\n", s.name, s.conc, res.rate(), ms(res.p(50)), ms(res.p(99)), ms(res.max()), res.errors)
	}
	fmt.Printf("\ntargets: cached product reads %.0f req/s (target >= 15,000 on 2 cores): %s; search p99 %s (target < 50 ms): %s\n",
		results["cached"].rate(), verdict(results["cached"].rate() >= 15000),
		ms(results["search"].p(99)), verdict(results["search"].p(99) < 50*time.Millisecond))
	return nil
}

// loadAverage is the 1, 5 and 15 minute load of the machine ("?" off Linux).
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d.Microseconds())/1000) }

// dbConns is the connection pool of each instance and of the SQL baseline.
const dbConns = 8

// instance is a catalog service running in this process.
type instance struct {
	base string
	stop func()
}

// startService runs the catalog with the given cache TTL ("0s" = no cache)
// against the infrastructure, with rate limits off (one client IP drives
// all the load) and warn-level logs (an access log line per request would
// measure the logger).
func startService(ctx context.Context, infra *infra, cacheTTL string) (*instance, error) {
	var cfg app.Config
	err := config.Load(&cfg, "catalog", map[string]string{
		"SHOP_HTTP_ADDR":             "127.0.0.1:0",
		"SHOP_DATABASE_URL":          infra.databaseURL,
		"SHOP_REDIS_URL":             infra.redisURL,
		"SHOP_KAFKA_BROKERS":         infra.brokerAddr,
		"SHOP_JWKS_URL":              infra.jwksURL,
		"SHOP_RATE_LIMIT_PER_MINUTE": "0",
		"SHOP_LOG_LEVEL":             "warn",
		"SHOP_CATALOG_CACHE_TTL":     cacheTTL,
		// Two instances and the SQL baseline share PostgreSQL's 100
		// connections with whatever else runs here; 8 each is more than 2
		// cores can keep busy.
		"SHOP_DB_MAX_OPEN_CONNS": strconv.Itoa(dbConns),
		"SHOP_DB_MAX_IDLE_CONNS": strconv.Itoa(dbConns),
	})
	if err != nil {
		return nil, err
	}
	svc, err := app.New(ctx, cfg, app.Options{LogOutput: os.Stderr})
	if err != nil {
		return nil, err
	}
	return serve(svc), nil
}

func serve(svc *service.Service) *instance {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		if err := svc.Run(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "catalog:", err)
		}
		close(done)
	}()
	return &instance{base: "http://" + svc.Addr(), stop: func() {
		cancel()
		<-done
		svc.Close()
	}}
}
