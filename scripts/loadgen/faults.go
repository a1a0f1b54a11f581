package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/segmentio/kafka-go"

	"github.com/shop-oss/shop/pkg/broker"
	"github.com/shop-oss/shop/proto-events/eventsv1"
	"github.com/shop-oss/shop/scripts/internal/invariants"
	"github.com/shop-oss/shop/scripts/internal/procstack"
)

// The fault suite (-faults short|long): while customers order and pay, it
// injects one fault at a time, heals it, waits until the shop is quiet and
// checks every invariant against the databases (scripts/internal/invariants);
// then the long suite injects faults mixed at random from a printed seed.

// faultLen is how a suite is timed.
type faultLen struct {
	warm, hold, after time.Duration // load before the fault, the fault's length, load after recovery
	ttl, created      time.Duration // the inventory reservation's TTL, the order's CREATED timeout
	mixed             int           // faults in the mixed phase
	customers         int
}

var faultSuites = map[string]faultLen{
	"short": {warm: 1500 * time.Millisecond, hold: 2 * time.Second, after: time.Second, ttl: 10 * time.Second, created: 15 * time.Second, customers: 12},
	"long":  {warm: 5 * time.Second, hold: 8 * time.Second, after: 5 * time.Second, ttl: 20 * time.Second, created: 30 * time.Second, mixed: 12, customers: 24},
}

// faultEnv is what the faults act on.
type faultEnv struct {
	st         *procstack.Stack
	pg         *privatePG
	proxy      *delayProxy
	bin        string
	poisonKeys []string
}

// fault injects itself and returns how to heal it.
type fault struct {
	name string
	what string // for the report
	// hold is the fault's own length when it needs one (a paused consumer
	// must outlive the group's session timeout).
	hold   time.Duration
	inject func(ctx context.Context, e *faultEnv) (heal func() error, err error)
}

func restartService(e *faultEnv, name string) func() error {
	return func() error {
		if err := e.st.StartService(name); err != nil {
			return err
		}
		return e.st.WaitReady(name, 90*time.Second)
	}
}

func noHeal() error { return nil }

// replica starts a second process of service (if not running) and gives the
// group a moment to rebalance onto it.
func (e *faultEnv) replica(service string) (string, error) {
	name := service + "-2"
	if e.st.Proc(name) == nil {
		if err := e.st.AddReplica(service, name); err != nil {
			return "", err
		}
	}
	if err := e.st.StartService(name); err != nil {
		return "", err
	}
	if err := e.st.WaitReady(name, 90*time.Second); err != nil {
		return "", err
	}
	time.Sleep(3 * time.Second)
	return name, nil
}

func allFaults() []fault {
	var fs []fault
	for _, svc := range []string{"identity", "catalog", "inventory", "order", "payment"} {
		fs = append(fs, fault{name: "kill -9 " + svc, what: "SIGKILL of the " + svc + " process, then a restart",
			inject: func(_ context.Context, e *faultEnv) (func() error, error) {
				return restartService(e, svc), e.st.KillService(svc)
			}})
	}
	fs = append(fs,
		fault{name: "replica of order killed", what: "a second order process joins the group, then is SIGKILLed; the first takes its partitions back",
			inject: func(_ context.Context, e *faultEnv) (func() error, error) {
				name, err := e.replica("order")
				if err != nil {
					return noHeal, err
				}
				return noHeal, e.st.KillService(name)
			}},
		fault{name: "broker stop", what: "the broker closes cleanly and starts again on its data directory",
			inject: func(_ context.Context, e *faultEnv) (func() error, error) {
				e.st.StopBroker(false)
				return e.st.StartBroker, nil
			}},
		fault{name: "kill -9 broker", what: "SIGKILL of the broker process, then a start on its data directory",
			inject: func(_ context.Context, e *faultEnv) (func() error, error) {
				e.st.StopBroker(true)
				return e.st.StartBroker, nil
			}},
		fault{name: "PostgreSQL restart", what: "the private PostgreSQL server stops (fast: open transactions roll back, connections drop) and starts",
			inject: func(_ context.Context, e *faultEnv) (func() error, error) {
				return e.pg.start, e.pg.stop("fast")
			}},
		fault{name: "Redis down", what: "the private redis-server is killed and started again, empty",
			inject: func(_ context.Context, e *faultEnv) (func() error, error) {
				e.st.StopRedis()
				return e.st.StartRedis, nil
			}},
		fault{name: "slow consumer (payment)", hold: 12 * time.Second,
			what: "a second payment process joins the group and is paused (SIGSTOP) past the 10 s session timeout: the group rebalances without it, and again when it resumes",
			inject: func(_ context.Context, e *faultEnv) (func() error, error) {
				name, err := e.replica("payment")
				if err != nil {
					return noHeal, err
				}
				if err := e.st.Signal(name, syscall.SIGSTOP); err != nil {
					return noHeal, err
				}
				return func() error {
					if err := e.st.Signal(name, syscall.SIGCONT); err != nil {
						return err
					}
					time.Sleep(2 * time.Second)
					return e.st.StopService(name)
				}, nil
			}},
		fault{name: "duplicated deliveries", what: "every saga event so far (up to 3,000) is produced again, unchanged",
			inject: func(ctx context.Context, e *faultEnv) (func() error, error) {
				_, err := redeliver(ctx, e.st.BrokerAddr(), 3000, eventsv1.TopicOrder, eventsv1.TopicInventory, eventsv1.TopicPayment)
				return noHeal, err
			}},
		fault{name: "poison message", what: "scripts/poison writes a malformed event and a payment success for an unknown order to payment.events",
			inject: func(_ context.Context, e *faultEnv) (func() error, error) {
				return noHeal, e.poison()
			}},
		fault{name: "inventory↔PostgreSQL delay", what: "a TCP proxy between inventory and PostgreSQL holds every query packet 25 ms",
			inject: func(_ context.Context, e *faultEnv) (func() error, error) {
				e.proxy.setDelay(25 * time.Millisecond)
				return func() error { e.proxy.setDelay(0); return nil }, nil
			}},
	)
	return fs
}

// poison runs scripts/poison against the broker and remembers its keys.
func (e *faultEnv) poison() error {
	out, err := exec.Command(filepath.Join(e.bin, "poison"), "-broker", e.st.BrokerAddr()).Output()
	if err != nil {
		return fmt.Errorf("poison: %w", err)
	}
	var keys struct {
		OrderID      string `json:"order_id"`
		MalformedKey string `json:"malformed_key"`
	}
	if err := json.Unmarshal(out, &keys); err != nil || keys.MalformedKey == "" {
		return fmt.Errorf("poison printed %q: %v", out, err)
	}
	e.poisonKeys = append(e.poisonKeys, keys.MalformedKey, keys.OrderID)
	return nil
}

// redeliver produces the first max messages of topics once more (same keys,
// values and headers, so the same event IDs).
func redeliver(ctx context.Context, addr string, max int, topics ...string) (int, error) {
	var all []kafka.Message
	for _, topic := range topics {
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{addr}, GroupID: "chaos-redeliver-" + uuid.NewString(),
			Topic: topic, StartOffset: kafka.FirstOffset, MaxWait: 200 * time.Millisecond})
		for len(all) < max {
			rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			m, err := r.FetchMessage(rctx)
			cancel()
			if err != nil {
				break
			}
			all = append(all, kafka.Message{Topic: m.Topic, Key: m.Key, Value: m.Value, Headers: m.Headers})
		}
		_ = r.Close()
	}
	w := broker.Config{Brokers: []string{addr}, ClientID: "chaos"}.Writer()
	defer w.Close()
	return len(all), w.WriteMessages(ctx, all...)
}

// phaseRow is one line of the fault table.
type phaseRow struct {
	fault               string
	attempted, paid     int
	cancelled           map[string]int
	recovery            time.Duration // -1: none within the wait
	violations          []invariants.Violation
	injectErr, settleOK string
	took                time.Duration // the whole phase, quiet and checks included
}

// loadCounters are the customers' counts while a phase runs.
type loadCounters struct{ attempted, failed atomic.Int64 }

// runLoad keeps every customer ordering until stop is closed.
func (s *shop) runLoad(ctx context.Context, stop <-chan struct{}, c *loadCounters) *sync.WaitGroup {
	var wg sync.WaitGroup
	for _, token := range s.tokens {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				c.attempted.Add(1)
				if _, _, _, _, err := s.customerRound(ctx, token); err != nil {
					c.failed.Add(1)
					time.Sleep(200 * time.Millisecond) // a failing shop is not hammered
				}
			}
		})
	}
	return &wg
}

func runFaults(o options) error {
	suite, ok := faultSuites[o.faults]
	if !ok {
		return fmt.Errorf("-faults %q: short or long", o.faults)
	}
	seed := o.seed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	ctx := context.Background()
	work, err := os.MkdirTemp("", "shop-chaos-")
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
	fmt.Printf("faults (%s suite, seed %d: replay with -seed %d): building; a private PostgreSQL, Redis and broker...\n", o.faults, seed, seed)
	if err := procstack.Build(root, bin); err != nil {
		return err
	}
	for _, b := range []struct{ out, pkg string }{{"localbroker", "./deploy/localbroker"}, {"poison", "./scripts/poison"}} {
		cmd := exec.Command("go", "build", "-o", filepath.Join(bin, b.out), b.pkg)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("build %s: %v\n%s", b.out, err, out)
		}
	}
	pg, err := startPrivatePG(work)
	if err != nil {
		return err
	}
	defer func() { _ = pg.stop("fast") }()
	pgAddr := fmt.Sprintf("127.0.0.1:%d", pg.port)
	proxy, err := startDelayProxy(pgAddr)
	if err != nil {
		return err
	}
	defer proxy.close()
	env := map[string]map[string]string{
		"identity":  {"SHOP_IDENTITY_BCRYPT_COST": "4", "SHOP_IDENTITY_LOGIN_PER_MINUTE": "100000", "SHOP_IDENTITY_REGISTER_PER_MINUTE": "100000"},
		"inventory": {"SHOP_INVENTORY_RESERVATION_TTL": suite.ttl.String(), "SHOP_INVENTORY_SWEEP_INTERVAL": "500ms"},
		"order":     {"SHOP_ORDER_CREATED_TIMEOUT": suite.created.String(), "SHOP_ORDER_STUCK_INTERVAL": "1s"},
	}
	st, err := procstack.Start(ctx, procstack.Options{BinDir: bin, WorkDir: work, LogLevel: "warn", Env: env,
		AdminURL: pg.adminURL(), BrokerBin: filepath.Join(bin, "localbroker"),
		DSNFor: func(service, dsn string) string {
			if service == "inventory" {
				return strings.Replace(dsn, pgAddr, proxy.addr(), 1)
			}
			return dsn
		}})
	if err != nil {
		return err
	}
	defer func() { _ = st.Close() }()
	if out, err := st.Run("identity", "seed"); err != nil {
		return fmt.Errorf("%w\n%s", err, out)
	}
	o.customers = suite.customers
	sh := newShop(st)
	if err := sh.setUp(ctx, o); err != nil {
		return err
	}
	e := &faultEnv{st: st, pg: pg, proxy: proxy, bin: bin}
	maxOpen := suite.ttl + suite.created + 15*time.Second
	fmt.Printf("%d customers; reservation TTL %s, CREATED timeout %s\n", suite.customers, suite.ttl, suite.created)

	all := allFaults()
	if o.only != "" {
		var some []fault
		for _, f := range all {
			if strings.Contains(f.name, o.only) {
				some = append(some, f)
			}
		}
		if len(some) == 0 {
			return fmt.Errorf("-only %q names no fault", o.only)
		}
		all = some
	}
	var rows []phaseRow
	for _, f := range all {
		rows = append(rows, sh.phase(ctx, e, suite, maxOpen, f.name, []fault{f}, nil))
		fmt.Println(rows[len(rows)-1].line())
	}
	if suite.mixed > 0 {
		rnd := rand.New(rand.NewPCG(seed, seed^0x5eed))
		var plan []fault
		for range suite.mixed {
			plan = append(plan, all[rnd.IntN(len(all))])
		}
		rows = append(rows, sh.phase(ctx, e, suite, maxOpen, fmt.Sprintf("mixed, seed %d", seed), plan, rnd))
		fmt.Println(rows[len(rows)-1].line())
	}
	table := faultTable(rows)
	fmt.Println("\n" + table)
	if path, err := writeReport(root, "chaos", "# Fault suite ("+o.faults+")\n\n"+
		fmt.Sprintf("Seed %d (replay: `go run ./scripts/loadgen -faults %s -seed %d`). Each fault alone, then mixed.\n\n", seed, o.faults, seed)+
		faultDescriptions(all)+"\n"+table, nil); err == nil {
		fmt.Println("report:", path)
	}
	bad := 0
	for _, r := range rows {
		bad += len(r.violations)
		if r.injectErr != "" || r.settleOK != "" {
			bad++
		}
	}
	if bad > 0 {
		return fmt.Errorf("%d invariant violations or failed faults", bad)
	}
	return nil
}

// phase runs the load, injects plan (one fault, or several at random gaps
// drawn from rnd), heals, waits for recovery and quiet, and checks.
func (s *shop) phase(ctx context.Context, e *faultEnv, suite faultLen, maxOpen time.Duration, name string, plan []fault, rnd *rand.Rand) phaseRow {
	row := phaseRow{fault: name, cancelled: map[string]int{}, recovery: -1}
	start := time.Now()
	var c loadCounters
	stop := make(chan struct{})
	loadCtx, cancelLoad := context.WithCancel(ctx)
	defer cancelLoad()
	wg := s.runLoad(loadCtx, stop, &c)
	time.Sleep(suite.warm)
	var healed time.Time
	for i, f := range plan {
		hold := suite.hold
		if f.hold > 0 {
			hold = f.hold
		}
		if rnd != nil {
			hold = time.Duration(1+rnd.IntN(4)) * time.Second
			if f.hold > hold {
				hold = f.hold
			}
			fmt.Printf("  mixed %d/%d: %s for %s\n", i+1, len(plan), f.name, hold)
		}
		heal, err := f.inject(ctx, e)
		if err != nil {
			row.injectErr = f.name + ": " + err.Error()
		}
		time.Sleep(hold)
		if err := heal(); err != nil {
			row.injectErr = f.name + " heal: " + err.Error()
		}
		healed = time.Now()
		if rnd != nil && i < len(plan)-1 {
			time.Sleep(time.Duration(rnd.IntN(3000)) * time.Millisecond)
		}
	}
	row.recovery = s.recovery(ctx, healed, 60*time.Second)
	time.Sleep(suite.after)
	close(stop)
	// Customers finish the round they are in (place, pay) for a moment;
	// then their calls are ended, and what they leave open, the saga's
	// timers close (RESERVATION_EXPIRED).
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-time.After(3 * time.Second):
		cancelLoad()
		<-finished
	}
	end := time.Now()
	row.attempted = int(c.attempted.Load())
	if err := s.quiet(ctx, maxOpen+30*time.Second); err != nil {
		row.settleOK = err.Error()
	}
	if err := s.phaseCounts(ctx, start, end, &row); err != nil {
		row.settleOK += " " + err.Error()
	}
	dsns := map[string]string{}
	for _, svc := range []string{"identity", "catalog", "inventory", "order", "payment"} {
		dsns[svc] = s.st.Proc(svc).DSN
	}
	snap, err := invariants.Load(ctx, dsns, s.st.BrokerAddr())
	if err != nil {
		row.settleOK += " load: " + err.Error()
		return row
	}
	row.violations = invariants.Check(snap, invariants.Expect{PoisonKeys: e.poisonKeys, MaxOpen: maxOpen})
	row.took = time.Since(start)
	for i, v := range row.violations {
		if i == 10 {
			fmt.Printf("    ... %d more\n", len(row.violations)-10)
			break
		}
		fmt.Println("    VIOLATION", v)
	}
	return row
}

// recovery is how long after healed the first order placed after it reached
// PAID (-1 when none did within wait).
func (s *shop) recovery(ctx context.Context, healed time.Time, wait time.Duration) time.Duration {
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		var at *time.Time
		err := s.queryRow(ctx, "order", `SELECT min(h.at) FROM orders o JOIN order_history h ON h.order_id = o.id
			AND h.kind = 'TRANSITION' AND h.to_status = 'PAID' WHERE o.created_at >= $1`, []any{healed}, &at)
		if err == nil && at != nil {
			return at.Sub(healed)
		}
		time.Sleep(200 * time.Millisecond)
	}
	return -1
}

// quiet waits until no order is open, every outbox is empty and the saga's
// consumer groups have caught up, twice in a row.
func (s *shop) quiet(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	calm, why := 0, ""
	for time.Now().Before(deadline) {
		why = s.busy(ctx)
		if why == "" {
			if calm++; calm == 2 {
				return nil
			}
		} else {
			calm = 0
		}
		time.Sleep(500 * time.Millisecond)
	}
	return fmt.Errorf("not quiet after %s: %s", timeout, why)
}

func (s *shop) busy(ctx context.Context) string {
	var open int
	if err := s.queryRow(ctx, "order", `SELECT count(*) FROM orders WHERE status IN ('CREATED','PAYMENT_PENDING')`, nil, &open); err != nil {
		return err.Error()
	}
	if open > 0 {
		return fmt.Sprintf("%d orders open", open)
	}
	for _, svc := range []string{"identity", "catalog", "inventory", "order", "payment"} {
		var n int
		if err := s.queryRow(ctx, svc, `SELECT count(*) FROM outbox`, nil, &n); err != nil {
			return err.Error()
		}
		if n > 0 {
			return fmt.Sprintf("%s outbox holds %d", svc, n)
		}
	}
	lag, err := groupLag(ctx, s.st.BrokerAddr(), sagaServices)
	if err != nil {
		return err.Error()
	}
	if lag > 0 {
		return fmt.Sprintf("consumers %d events behind", lag)
	}
	return ""
}

// groupLag is how many events the groups have yet to commit, over the
// topics where they have committed anything.
func groupLag(ctx context.Context, addr string, groups []string) (int64, error) {
	client := &kafka.Client{Addr: kafka.TCP(addr), Timeout: 10 * time.Second}
	topics := []string{eventsv1.TopicIdentity, eventsv1.TopicCatalog, eventsv1.TopicOrder, eventsv1.TopicInventory, eventsv1.TopicPayment}
	md, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: topics})
	if err != nil {
		return 0, err
	}
	req := &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{}}
	parts := map[string][]int{}
	for _, t := range md.Topics {
		for _, p := range t.Partitions {
			req.Topics[t.Name] = append(req.Topics[t.Name], kafka.LastOffsetOf(p.ID))
			parts[t.Name] = append(parts[t.Name], p.ID)
		}
	}
	ends, err := client.ListOffsets(ctx, req)
	if err != nil {
		return 0, err
	}
	var lag int64
	for _, g := range groups {
		committed, err := client.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: g, Topics: parts})
		if err != nil {
			return 0, err
		}
		if committed.Error != nil {
			return 0, committed.Error
		}
		for topic, ps := range ends.Topics {
			at := map[int]int64{}
			any := false
			for _, c := range committed.Topics[topic] {
				at[c.Partition] = c.CommittedOffset
				any = any || c.CommittedOffset >= 0
			}
			if !any {
				continue // the group does not read the topic
			}
			for _, p := range ps {
				if c := max(at[p.Partition], 0); p.LastOffset > c {
					lag += p.LastOffset - c
				}
			}
		}
	}
	return lag, nil
}

// phaseCounts reads what became of the orders placed in the phase.
func (s *shop) phaseCounts(ctx context.Context, start, end time.Time, row *phaseRow) error {
	conn, err := pgx.Connect(ctx, s.st.Proc("order").DSN)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT CASE WHEN status IN ('PAID','SHIPPED','DELIVERED') THEN 'PAID' ELSE status END,
			coalesce(cancel_reason, ''), count(*) FROM orders WHERE created_at >= $1 AND created_at < $2 GROUP BY 1, 2`, start, end)
	if err != nil {
		return err
	}
	var status, reason string
	var n int
	_, err = pgx.ForEachRow(rows, []any{&status, &reason, &n}, func() error {
		switch status {
		case "PAID":
			row.paid += n
		case "CANCELLED":
			row.cancelled[reason] += n
		default:
			row.cancelled["still "+status] += n
		}
		return nil
	})
	return err
}

func (r phaseRow) cancelledText() string {
	if len(r.cancelled) == 0 {
		return "0"
	}
	var parts []string
	for k, v := range r.cancelled {
		parts = append(parts, fmt.Sprintf("%s %d", k, v))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

func (r phaseRow) recoveryText() string {
	if r.recovery < 0 {
		return "none in 60 s"
	}
	return r.recovery.Round(10 * time.Millisecond).String()
}

func (r phaseRow) line() string {
	s := fmt.Sprintf("  %-32s attempted %4d, PAID %4d, cancelled: %s; recovery %s; violations %s (phase %s)",
		r.fault, r.attempted, r.paid, r.cancelledText(), r.recoveryText(), invariants.Summary(r.violations), r.took.Round(time.Second))
	if r.injectErr != "" {
		s += "; FAULT FAILED: " + r.injectErr
	}
	if r.settleOK != "" {
		s += "; " + r.settleOK
	}
	return s
}

func faultTable(rows []phaseRow) string {
	var b strings.Builder
	b.WriteString("| fault | orders attempted | reached PAID | cancelled by reason | recovery time | invariant violations |\n|---|---:|---:|---|---:|---|\n")
	for _, r := range rows {
		v := invariants.Summary(r.violations)
		if r.injectErr != "" {
			v += " (fault failed: " + r.injectErr + ")"
		}
		if r.settleOK != "" {
			v += " (" + strings.TrimSpace(r.settleOK) + ")"
		}
		fmt.Fprintf(&b, "| %s | %d | %d | %s | %s | %s |\n", r.fault, r.attempted, r.paid, r.cancelledText(), r.recoveryText(), v)
	}
	return b.String()
}

func faultDescriptions(fs []fault) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "- **%s**: %s\n", f.name, f.what)
	}
	return b.String()
}

// writeReport writes a Markdown report (and its images) under
// .local/reports/ and returns its path.
func writeReport(root, kind, markdown string, images map[string][]byte) (string, error) {
	dir := filepath.Join(root, ".local", "reports")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	stamp := time.Now().Format("20060102-150405")
	for name, data := range images {
		if err := os.WriteFile(filepath.Join(dir, kind+"-"+stamp+"-"+name), data, 0o644); err != nil {
			return "", err
		}
		markdown = strings.ReplaceAll(markdown, "]("+name+")", "]("+kind+"-"+stamp+"-"+name+")")
	}
	path := filepath.Join(dir, kind+"-"+stamp+".md")
	return path, errors.Join(os.WriteFile(path, []byte(markdown), 0o644))
}

// topicEnds is the number of messages ever written to the five event
// topics (the sum of their partitions' end offsets).
func topicEnds(ctx context.Context, addr string) (int64, error) {
	client := &kafka.Client{Addr: kafka.TCP(addr), Timeout: 10 * time.Second}
	topics := []string{eventsv1.TopicIdentity, eventsv1.TopicCatalog, eventsv1.TopicOrder, eventsv1.TopicInventory, eventsv1.TopicPayment}
	md, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: topics})
	if err != nil {
		return 0, err
	}
	req := &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{}}
	for _, t := range md.Topics {
		for _, p := range t.Partitions {
			req.Topics[t.Name] = append(req.Topics[t.Name], kafka.LastOffsetOf(p.ID))
		}
	}
	ends, err := client.ListOffsets(ctx, req)
	if err != nil {
		return 0, err
	}
	var n int64
	for _, ps := range ends.Topics {
		for _, p := range ps {
			n += max(p.LastOffset, 0)
		}
	}
	return n, nil
}
