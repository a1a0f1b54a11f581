package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/shop-oss/shop/pkg/config"
	"github.com/shop-oss/shop/scripts/internal/gateway"
	"github.com/shop-oss/shop/scripts/internal/history"
	"github.com/shop-oss/shop/scripts/internal/invariants"
	"github.com/shop-oss/shop/scripts/internal/procstack"
)

// The capacity run (-capacity): pgbench TPC-B on the same PostgreSQL server
// as a yardstick, then a ramp of concurrent customers until the saga's p99
// passes 1 s, then a flash sale (1,000 customers, one product, 100 units),
// then the invariants. It writes a Markdown report with plots under
// .local/reports/ and prints the summary.

// rampLevels are the customers of each ramp step.
var rampLevels = []int{4, 8, 16, 32, 64, 128, 256}

const (
	sagaP99Limit   = time.Second
	flashCustomers = 1000
	flashUnits     = 100
)

// step is one level of the ramp.
type step struct {
	customers          int
	attempted, failed  int64
	paid               int
	paidPerSec         float64
	p50, p95, p99      time.Duration
	cpu                cpuUse
	wal                walStats // deltas
	xacts, deadlocks   int64
	lockWaitMean       float64 // backends waiting for a lock, mean of samples
	lockWaitMax        int
	brokerBytes        int64
	brokerMsgs, maxLag int64
}

// dbStats are the stack's databases' pg_stat_database counters.
type dbStats struct{ xacts, deadlocks int64 }

func (s *shop) dbNames() []string {
	var names []string
	for _, svc := range config.ServiceNames {
		names = append(names, dbName(s.st.Proc(svc).DSN))
	}
	return names
}

func dbName(dsn string) string {
	path := dsn[strings.LastIndex(dsn, "/")+1:]
	name, _, _ := strings.Cut(path, "?")
	return name
}

func (s *shop) dbStats(ctx context.Context) (dbStats, error) {
	var d dbStats
	err := s.queryRow(ctx, "order", `SELECT coalesce(sum(xact_commit + xact_rollback), 0)::bigint, coalesce(sum(deadlocks), 0)::bigint
		FROM pg_stat_database WHERE datname = ANY($1)`, []any{s.dbNames()}, &d.xacts, &d.deadlocks)
	return d, err
}

// brokerTotals is the messages in the saga's topics and the bytes of the
// broker's data directory.
func (s *shop) brokerTotals(ctx context.Context, dataDir string) (msgs, bytes int64) {
	_ = filepath.Walk(dataDir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			bytes += fi.Size()
		}
		return nil
	})
	msgs, _ = topicEnds(ctx, s.st.BrokerAddr())
	return msgs, bytes
}

func runCapacity(o options) error {
	ctx := context.Background()
	work, err := os.MkdirTemp("", "shop-capacity-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	bin := filepath.Join(work, "bin")
	root, err := procstack.RepoRoot()
	if err != nil {
		return err
	}
	fmt.Printf("capacity: %d CPUs; building and starting the five services...\n", runtime.NumCPU())
	if err := procstack.Build(root, bin); err != nil {
		return err
	}
	env := map[string]map[string]string{"identity": {
		// Logging in is not what the ramp measures: a cheap hash lets 1,000
		// customers register quickly.
		"SHOP_IDENTITY_BCRYPT_COST": "4", "SHOP_IDENTITY_LOGIN_PER_MINUTE": "1000000", "SHOP_IDENTITY_REGISTER_PER_MINUTE": "1000000",
	}}
	opts := procstack.Options{BinDir: bin, WorkDir: work, LogLevel: o.logLevel, Env: env, PGSocketDir: o.pgSocket}
	if !o.direct {
		opts.Gateway = &gateway.Options{Root: root, Env: map[string]string{"SHOP_GATEWAY_WORKERS": "auto"}}
	}
	st, err := procstack.Start(ctx, opts)
	if err != nil {
		return err
	}
	defer func() { _ = st.Close() }()
	if out, err := st.Run("identity", "seed"); err != nil {
		return fmt.Errorf("%w\n%s", err, out)
	}
	if o.history > 0 {
		dsns := map[string]string{}
		for _, name := range history.Services {
			dsns[name] = st.Proc(name).DSN
		}
		if err := history.Seed(ctx, dsns, o.history, time.Now()); err != nil {
			return err
		}
	}
	sh := newShop(st)
	o.customers = flashCustomers
	if err := sh.setUp(ctx, o); err != nil {
		return err
	}
	// Every ramp product has plenty of stock: the ramp measures the saga,
	// not a sell-out (the flash sale does).
	sh.scarce = sh.products[0]
	fmt.Printf("set up: %d customers, %d products; %d past orders\n", len(sh.tokens), len(sh.products), o.history)

	tps, pgbenchOut, err := pgbench(ctx, opts.PGSocketDir)
	if err != nil {
		fmt.Println("pgbench: not measured:", err)
	} else {
		fmt.Printf("pgbench TPC-B (-c 8 -j 2 -T 15, scale 10) on the same server: %.0f TPS\n", tps)
	}

	var steps []step
	for _, n := range rampLevels {
		stp, err := sh.rampStep(ctx, n, o.rampStep, filepath.Join(work, "broker"))
		if err != nil {
			return err
		}
		steps = append(steps, stp)
		fmt.Printf("  %4d customers: %6.1f orders/s to PAID, saga p50 %s p95 %s p99 %s, CPU %.1f ms/order, machine busy %.0f%%\n",
			n, stp.paidPerSec, stp.p50, stp.p95, stp.p99, cpuPerOrder(stp), busyPct(stp.cpu))
		if stp.p99 > sagaP99Limit || stp.paid == 0 {
			break
		}
	}
	best := -1
	for i, s := range steps {
		if s.p99 <= sagaP99Limit && s.paid > 0 && (best < 0 || s.paidPerSec > steps[best].paidPerSec) {
			best = i
		}
	}

	flash, err := sh.flashSale(ctx, o)
	if err != nil {
		return err
	}
	fmt.Println("  flash sale: " + flash.String())

	if err := sh.quiet(ctx, 120*time.Second); err != nil {
		fmt.Println("  not quiet before the checks:", err)
	}
	dsns := map[string]string{}
	for _, svc := range config.ServiceNames {
		dsns[svc] = st.Proc(svc).DSN
	}
	snap, err := invariants.Load(ctx, dsns, st.BrokerAddr())
	if err != nil {
		return err
	}
	// The history seeded before the load left no open order, and the
	// reservations of the run last 15 minutes: nothing may be open now.
	violations := invariants.Check(snap, invariants.Expect{MaxOpen: 15 * time.Minute})
	for _, v := range violations {
		fmt.Println("    VIOLATION", v)
	}

	summary := capacitySummary(steps, best, tps, flash, violations, o)
	images, err := capacityPlots(steps)
	if err != nil {
		fmt.Println("plots:", err)
	}
	md := "# Capacity report\n\n" + summary + "\n" + stepTables(steps) + "\n## Plots\n\n![orders/s](throughput.png)\n\n![saga latency](latency.png)\n\n![CPU per order](cpu.png)\n\n## pgbench\n\n```\n" + pgbenchOut + "\n```\n"
	if path, err := writeReport(root, "capacity", md, images); err == nil {
		fmt.Println("\nreport:", path)
	} else {
		fmt.Println("report:", err)
	}
	fmt.Println("\n" + summary)
	if len(violations) > 0 || !flash.ok() {
		return fmt.Errorf("the capacity run broke an invariant (see above)")
	}
	return nil
}

func cpuPerOrder(s step) float64 {
	if s.paid == 0 {
		return 0
	}
	var total time.Duration
	for p, d := range s.cpu.byProgram {
		if p != "other" { // the rest of a shared machine
			total += d
		}
	}
	return float64(total) / float64(time.Millisecond) / float64(s.paid)
}

func busyPct(u cpuUse) float64 {
	all := u.busy + u.idle + u.steal
	if all == 0 {
		return 0
	}
	return 100 * float64(u.busy) / float64(all)
}

// rampStep runs n customers for d and measures.
func (s *shop) rampStep(ctx context.Context, n int, d time.Duration, brokerDir string) (step, error) {
	stp := step{customers: n}
	cpu0, err := sampleCPU()
	if err != nil {
		return stp, err
	}
	wal0, err := s.walStats(ctx)
	if err != nil {
		return stp, err
	}
	db0, err := s.dbStats(ctx)
	if err != nil {
		return stp, err
	}
	msgs0, bytes0 := s.brokerTotals(ctx, brokerDir)

	start := time.Now()
	end := start.Add(d)
	var attempted, failed atomic.Int64
	var wg sync.WaitGroup
	for _, token := range s.tokens[:n] {
		wg.Go(func() {
			for time.Now().Before(end) {
				attempted.Add(1)
				if _, _, _, _, err := s.customerRound(ctx, token); err != nil {
					failed.Add(1)
				}
			}
		})
	}
	// Lock waits and consumer lag, sampled while the customers run.
	var samples, waiting int
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	tick := time.NewTicker(500 * time.Millisecond)
sampling:
	for {
		select {
		case <-done:
			break sampling
		case <-tick.C:
			var w int
			if err := s.queryRow(ctx, "order", `SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database
				WHERE NOT l.granted AND d.datname = ANY($1)`, []any{s.dbNames()}, &w); err == nil {
				samples++
				waiting += w
				stp.lockWaitMax = max(stp.lockWaitMax, w)
			}
			if lag, err := groupLag(ctx, s.st.BrokerAddr(), sagaServices); err == nil {
				stp.maxLag = max(stp.maxLag, lag)
			}
		}
	}
	tick.Stop()
	if samples > 0 {
		stp.lockWaitMean = float64(waiting) / float64(samples)
	}
	stp.attempted, stp.failed = attempted.Load(), failed.Load()
	cpu1, err := sampleCPU()
	if err != nil {
		return stp, err
	}
	stp.cpu = cpu0.until(cpu1)
	wal1, err := s.walStats(ctx)
	if err != nil {
		return stp, err
	}
	stp.wal = walStats{bytes: wal1.bytes - wal0.bytes, records: wal1.records - wal0.records, syncs: wal1.syncs - wal0.syncs}
	db1, err := s.dbStats(ctx)
	if err != nil {
		return stp, err
	}
	stp.xacts, stp.deadlocks = db1.xacts-db0.xacts, db1.deadlocks-db0.deadlocks
	msgs1, bytes1 := s.brokerTotals(ctx, brokerDir)
	stp.brokerMsgs, stp.brokerBytes = msgs1-msgs0, bytes1-bytes0

	// The step's orders, from the order service's own history.
	rows, err := s.queryAll(ctx, `SELECT extract(epoch FROM h.at - o.created_at)::float8
		FROM orders o JOIN order_history h ON h.order_id = o.id AND h.kind = 'TRANSITION' AND h.to_status = 'PAID'
		WHERE o.created_at >= $1 AND o.created_at < $2`, start, end)
	if err != nil {
		return stp, err
	}
	lat := make([]time.Duration, len(rows))
	for i, sec := range rows {
		lat[i] = time.Duration(sec * float64(time.Second))
	}
	stp.paid = len(lat)
	stp.paidPerSec = float64(stp.paid) / d.Seconds()
	stp.p50, stp.p95, stp.p99 = percentile(lat, .5), percentile(lat, .95), percentile(lat, .99)
	// Let the step's last sagas finish before the next step counts.
	_ = s.quiet(ctx, 30*time.Second)
	return stp, nil
}

func (s *shop) queryAll(ctx context.Context, sql string, args ...any) ([]float64, error) {
	conn, err := pgx.Connect(ctx, s.st.Proc("order").DSN)
	if err != nil {
		return nil, err
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[float64])
}

// flashResult is what the flash sale did.
type flashResult struct {
	units, paid, onHand int64
	cancelled           map[string]int
	placeErrors         int64
	soldOut             time.Duration // first order placed → last of the 100 PAID
	violations          []invariants.Violation
}

func (f flashResult) ok() bool { return f.paid == flashUnits && f.onHand == 0 }

func (f flashResult) String() string {
	var reasons []string
	for k, v := range f.cancelled {
		reasons = append(reasons, fmt.Sprintf("%s %d", k, v))
	}
	sort.Strings(reasons)
	verdict := "no oversell"
	if !f.ok() {
		verdict = "WRONG"
	}
	return fmt.Sprintf("%d customers for %d units: %d PAID, %d left on hand, cancelled: %s, %d placement errors; sold out in %s: %s",
		flashCustomers, f.units, f.paid, f.onHand, strings.Join(reasons, ", "), f.placeErrors, f.soldOut.Round(10*time.Millisecond), verdict)
}

// flashSale has every customer race for one unit of one product with 100.
func (s *shop) flashSale(ctx context.Context, o options) (flashResult, error) {
	r := flashResult{units: flashUnits, cancelled: map[string]int{}}
	product, err := s.product(ctx, "Flash sale "+uuid.NewString()[:6], 4999, flashUnits)
	if err != nil {
		return r, err
	}
	start := time.Now()
	gate := make(chan struct{})
	var wg sync.WaitGroup
	var placeErrors atomic.Int64
	for _, token := range s.tokens[:flashCustomers] {
		wg.Go(func() {
			<-gate
			if _, _, placed, _, err := s.orderAndPay(ctx, token, []map[string]any{{"product_id": product, "quantity": 1}}); err != nil && !placed {
				placeErrors.Add(1)
			}
		})
	}
	close(gate)
	wg.Wait()
	r.placeErrors = placeErrors.Load()
	_ = s.quiet(ctx, 60*time.Second)
	conn, err := pgx.Connect(ctx, s.st.Proc("order").DSN)
	if err != nil {
		return r, err
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT CASE WHEN o.status IN ('PAID','SHIPPED','DELIVERED') THEN 'PAID' ELSE coalesce(o.cancel_reason, o.status) END, count(*)
		FROM orders o JOIN order_items i ON i.order_id = o.id WHERE i.product_id = $1 GROUP BY 1`, product)
	if err != nil {
		return r, err
	}
	var k string
	var n int
	if _, err := pgx.ForEachRow(rows, []any{&k, &n}, func() error {
		if k == "PAID" {
			r.paid = int64(n)
		} else {
			r.cancelled[k] = n
		}
		return nil
	}); err != nil {
		return r, err
	}
	var last *time.Time
	if err := conn.QueryRow(ctx, `SELECT max(h.at) FROM order_history h JOIN order_items i ON i.order_id = h.order_id
		WHERE i.product_id = $1 AND h.kind = 'TRANSITION' AND h.to_status = 'PAID'`, product).Scan(&last); err != nil {
		return r, err
	}
	if last != nil {
		r.soldOut = last.Sub(start)
	}
	if err := s.queryRow(ctx, "inventory", `SELECT on_hand FROM stock WHERE product_id = $1`, []any{product}, &r.onHand); err != nil {
		return r, err
	}
	return r, nil
}

var tpsLine = regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`)

// pgbench measures TPC-B on a scratch database of the same server the
// services use, and drops it.
func pgbench(ctx context.Context, socketDir string) (float64, string, error) {
	bin, err := exec.LookPath("pgbench")
	if err != nil {
		dir, derr := pgBinDir()
		if derr != nil {
			return 0, "", errors.Join(err, derr)
		}
		bin = filepath.Join(dir, "pgbench")
	}
	host := "127.0.0.1"
	if socketDir != "" {
		host = socketDir // as the services reach it
	}
	name := "pgbench_" + strings.ReplaceAll(uuid.NewString()[:8], "-", "")
	admin, err := pgx.Connect(ctx, "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable")
	if err != nil {
		return 0, "", err
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return 0, "", err
	}
	defer func() { _, _ = admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)") }()
	base := []string{"-h", host, "-p", "5432", "-U", "postgres"}
	if out, err := exec.CommandContext(ctx, bin, append(base, "-i", "-q", "-s", "10", name)...).CombinedOutput(); err != nil {
		return 0, string(out), fmt.Errorf("pgbench -i: %w", err)
	}
	out, err := exec.CommandContext(ctx, bin, append(base, "-c", "8", "-j", "2", "-T", "15", name)...).CombinedOutput()
	if err != nil {
		return 0, string(out), fmt.Errorf("pgbench: %w", err)
	}
	m := tpsLine.FindSubmatch(out)
	if m == nil {
		return 0, string(out), fmt.Errorf("no tps line in pgbench's output")
	}
	tps, _ := strconv.ParseFloat(string(m[1]), 64)
	return tps, strings.TrimSpace(string(out)), nil
}

func capacitySummary(steps []step, best int, tps float64, flash flashResult, vs []invariants.Violation, o options) string {
	var b bytes.Buffer
	route := "through the gateway"
	if o.direct {
		route = "straight at the services"
	}
	fmt.Fprintf(&b, "Capacity on %d CPUs (%s, %d past orders, %s per step; the machine is shared, so compare the ratio):\n\n", runtime.NumCPU(), route, o.history, o.rampStep)
	b.WriteString("| figure | value |\n|---|---|\n")
	if best >= 0 {
		s := steps[best]
		fmt.Fprintf(&b, "| highest sustained orders/s to PAID with saga p99 ≤ 1 s | **%.1f** (%d customers, p99 %s) |\n", s.paidPerSec, s.customers, s.p99)
	} else {
		b.WriteString("| highest sustained orders/s to PAID with saga p99 ≤ 1 s | none (p99 above 1 s from the first step) |\n")
	}
	if tps > 0 {
		fmt.Fprintf(&b, "| pgbench TPC-B, same server, same run | %.0f TPS |\n", tps)
		if best >= 0 {
			fmt.Fprintf(&b, "| orders/s ÷ pgbench TPS | **%.3f** |\n", steps[best].paidPerSec/tps)
		}
	}
	if best >= 0 {
		s := steps[best]
		fmt.Fprintf(&b, "| CPU per order at that step (Shop's processes, PostgreSQL, Redis, the gateway, the load generator) | %.1f ms (%s) |\n", cpuPerOrder(s), cpuShares(s))
		if s.paid > 0 {
			fmt.Fprintf(&b, "| database per order | %.1f KB WAL (server-wide), %.1f transactions; lock waiters %.2f mean, %d max; %d deadlocks |\n",
				float64(s.wal.bytes)/1024/float64(s.paid), float64(s.xacts)/float64(s.paid), s.lockWaitMean, s.lockWaitMax, s.deadlocks)
			fmt.Fprintf(&b, "| broker per order | %.1f messages, %.1f KB on disk; consumer lag max %d events |\n",
				float64(s.brokerMsgs)/float64(s.paid), float64(s.brokerBytes)/1024/float64(s.paid), s.maxLag)
		}
	}
	fmt.Fprintf(&b, "| flash sale | %s |\n", flash.String())
	fmt.Fprintf(&b, "| invariant violations after the run | %s |\n", invariants.Summary(vs))
	return b.String()
}

func cpuShares(s step) string {
	type share struct {
		name string
		d    time.Duration
	}
	var all []share
	for n, d := range s.cpu.byProgram {
		all = append(all, share{n, d})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].d > all[j].d })
	var parts []string
	for _, sh := range all {
		parts = append(parts, fmt.Sprintf("%s %.2f", sh.name, float64(sh.d)/float64(time.Millisecond)/float64(max(s.paid, 1))))
	}
	return strings.Join(parts, ", ")
}

func stepTables(steps []step) string {
	var b strings.Builder
	b.WriteString("\n## The ramp\n\n| customers | rounds (failed) | PAID | orders/s | saga p50 | p95 | p99 | CPU ms/order | machine busy | WAL KB/order | xacts/order | lock waiters mean/max | deadlocks | broker msgs/order | broker KB/order | max lag |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, s := range steps {
		per := func(v int64) float64 { return float64(v) / float64(max(s.paid, 1)) }
		fmt.Fprintf(&b, "| %d | %d (%d) | %d | %.1f | %s | %s | %s | %.1f | %.0f%% | %.1f | %.1f | %.2f / %d | %d | %.1f | %.1f | %d |\n",
			s.customers, s.attempted, s.failed, s.paid, s.paidPerSec, s.p50, s.p95, s.p99, cpuPerOrder(s), busyPct(s.cpu),
			per(s.wal.bytes)/1024, per(s.xacts), s.lockWaitMean, s.lockWaitMax, s.deadlocks, per(s.brokerMsgs), per(s.brokerBytes)/1024, s.maxLag)
	}
	b.WriteString("\nCPU per order by process (ms, from /proc): `loadgen` is this run (the customers' clients); `other` is every other process on the machine, which is shared with other people's work, and is left out of the CPU ms/order column above. WAL is `pg_stat_wal`, the whole server's (shared too); transactions, deadlocks and lock waiters are the stack's own databases'.\n\n| customers | per process |\n|---:|---|\n")
	for _, s := range steps {
		fmt.Fprintf(&b, "| %d | %s |\n", s.customers, cpuShares(s))
	}
	return b.String()
}
