package consumer_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/segmentio/kafka-go"
	"gorm.io/gorm"

	"github.com/shop-oss/shop/pkg/bustest"
	"github.com/shop-oss/shop/pkg/consumer"
	"github.com/shop-oss/shop/pkg/dlq"
	"github.com/shop-oss/shop/pkg/event"
	"github.com/shop-oss/shop/pkg/testkit"
	"github.com/shop-oss/shop/proto-events/eventsv1"
)

// start runs a consumer of order.events in group "test" with h for
// ORDER_CREATED, and returns its metrics registry and a stop function.
func start(t *testing.T, env *bustest.Env, h consumer.Handler, tune func(*consumer.Config)) (*prometheus.Registry, func()) {
	t.Helper()
	return startPrepared(t, env, h, tune, nil)
}

// startPrepared is start with a batch preparer (nil: none).
func startPrepared(t *testing.T, env *bustest.Env, h consumer.Handler, tune func(*consumer.Config),
	prepare consumer.Preparer) (*prometheus.Registry, func()) {
	t.Helper()
	cfg := consumer.Config{
		Group: bustest.Group, Topics: []string{eventsv1.TopicOrder},
		MaxAttempts: 3, RetryBase: 20 * time.Millisecond, RetryMax: 200 * time.Millisecond,
	}
	if tune != nil {
		tune(&cfg)
	}
	reg := prometheus.NewRegistry()
	c := consumer.New(env.DB, env.Config, cfg, testkit.Logger(t), reg)
	c.Handle(eventsv1.TypeOrderCreated, h)
	if prepare != nil {
		c.PrepareBatches(prepare)
	}
	return reg, env.Run(t, "consumer", c.Run)
}

func outcome(t *testing.T, reg *prometheus.Registry, outcome string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != "consumer_events_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "outcome" && l.GetValue() == outcome {
					sum += m.GetCounter().GetValue()
				}
			}
		}
	}
	return sum
}

func TestRedeliveredEventHasItsEffectOnce(t *testing.T) {
	env := bustest.New(t)
	reg, _ := start(t, env, bustest.ApplyEffect, nil)

	e := bustest.OrderEvent(t, "order-1", 1)
	// Twice in one write (likely one batch), then again later (another batch).
	env.Produce(t, e.Message(), e.Message())
	testkit.Eventually(t, 30*time.Second, "first two deliveries", func() bool { return outcome(t, reg, "handled")+outcome(t, reg, "duplicate") >= 2 })
	env.Produce(t, e.Message())
	testkit.Eventually(t, 30*time.Second, "third delivery", func() bool { return outcome(t, reg, "duplicate") >= 2 })

	rows, doubled := env.Effects(t)
	if rows != 1 || doubled != 0 {
		t.Fatalf("effects: %d rows, %d applied more than once; want 1 and 0", rows, doubled)
	}
	if h := outcome(t, reg, "handled"); h != 1 {
		t.Fatalf("handled %v times, want 1", h)
	}
}

func TestTransientFailureIsRetriedWithGrowingDelays(t *testing.T) {
	env := bustest.New(t)
	var (
		mu       sync.Mutex
		attempts []time.Time
	)
	flaky := func(ctx context.Context, tx *gorm.DB, e event.Event) error {
		mu.Lock()
		attempts = append(attempts, time.Now())
		n := len(attempts)
		mu.Unlock()
		if n <= 3 {
			return errors.New("transient: lock timeout")
		}
		return bustest.ApplyEffect(ctx, tx, e)
	}
	reg, _ := start(t, env, flaky, func(c *consumer.Config) {
		c.MaxAttempts = 5
		c.RetryBase = 100 * time.Millisecond
		c.RetryMax = 2 * time.Second
	})
	env.Produce(t, bustest.OrderEvent(t, "order-1", 1).Message())
	env.WaitEffects(t, 1, 30*time.Second)

	mu.Lock()
	defer mu.Unlock()
	// The batch fails, the event is tried alone at once and fails, then
	// waits about 100ms and fails, then about 200ms (±50% jitter) and succeeds.
	if len(attempts) != 4 {
		t.Fatalf("%d attempts, want 4 (batch, solo, two retries)", len(attempts))
	}
	first := attempts[2].Sub(attempts[1])
	second := attempts[3].Sub(attempts[2])
	if first < 50*time.Millisecond || second < 100*time.Millisecond {
		t.Errorf("retry delays %s then %s: want at least 50ms then at least 100ms (100ms and 200ms ±50%%)", first, second)
	}
	if testutil.ToFloat64(counter(t, reg, "consumer_retries_total")) < 2 {
		t.Errorf("retries not counted")
	}
	if d := outcome(t, reg, "dead_lettered"); d != 0 {
		t.Errorf("%v dead-lettered, want 0", d)
	}
}

// After a PostgreSQL restart the pool hands out its dead idle connections
// one by one while a ping already gets a fresh one: tries that lost their
// connection are the server's fault, not the event's, and must not use up
// its retry budget (the fault suite saw a healthy event dead-lettered so).
func TestLostConnectionsDoNotDeadLetter(t *testing.T) {
	env := bustest.New(t)
	var tries atomic.Int32
	stale := func(ctx context.Context, tx *gorm.DB, e event.Event) error {
		if tries.Add(1) <= 6 { // more than MaxAttempts (3)
			return fmt.Errorf("apply: %w", &pgconn.PgError{Severity: "FATAL", Code: "57P01",
				Message: "terminating connection due to administrator command"})
		}
		return bustest.ApplyEffect(ctx, tx, e)
	}
	reg, _ := start(t, env, stale, nil)
	env.Produce(t, bustest.OrderEvent(t, "order-1", 1).Message())
	env.WaitEffects(t, 1, 60*time.Second)
	if d := outcome(t, reg, "dead_lettered"); d != 0 {
		t.Fatalf("%v dead-lettered, want 0", d)
	}
}

func counter(t *testing.T, reg *prometheus.Registry, name string) prometheus.Collector {
	t.Helper()
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() == name {
			c := prometheus.NewCounter(prometheus.CounterOpts{Name: name})
			c.Add(mf.GetMetric()[0].GetCounter().GetValue())
			return c
		}
	}
	t.Fatalf("metric %s not found", name)
	return nil
}

func TestPoisonMessagesAreDeadLetteredAndThePartitionMovesOn(t *testing.T) {
	env := bustest.New(t)
	var fixed atomic.Bool
	handler := func(ctx context.Context, tx *gorm.DB, e event.Event) error {
		if msg, err := event.DecodeAs[*eventsv1.OrderCreated](e); err == nil && msg.OrderId == "order-bug" && !fixed.Load() {
			return fmt.Errorf("bug: cannot handle %s", msg.OrderId)
		}
		return bustest.ApplyEffect(ctx, tx, e)
	}
	reg, _ := start(t, env, handler, nil)

	// All on one key, so on one partition, in this order.
	garbage := bustest.OrderEvent(t, "order-p", 1)
	garbage.Payload = []byte{0xff, 0xff, 0xff, 0xff}
	noHeaders := kafka.Message{Topic: eventsv1.TopicOrder, Key: []byte("order-p"), Value: []byte("hello")}
	future := bustest.OrderEvent(t, "order-p", 2)
	future.SchemaVersion = eventsv1.SchemaVersion + 1
	unknownType := bustest.OrderEvent(t, "order-p", 3)
	unknownType.Type = "ORDER_TELEPORTED"
	failing := bustest.OrderEvent(t, "order-bug", 4)
	failing.Key = "order-p"
	after := bustest.OrderEvent(t, "order-p", 5)
	env.Produce(t, garbage.Message(), noHeaders, future.Message(), unknownType.Message(), failing.Message(), after.Message())

	env.WaitEffects(t, 1, 30*time.Second) // "after" was handled despite the poison before it
	msgs := env.ReadTopic(t, bustest.DLQTopic, 4, 30*time.Second, 500*time.Millisecond)
	if len(msgs) != 4 {
		t.Fatalf("%d messages in the DLQ, want 4 (garbage, no headers, future schema, failing)", len(msgs))
	}
	want := []struct {
		attempts string
		eventID  string
		cause    string
	}{
		{"1", garbage.ID.String(), consumer.CauseMalformed},
		{"0", "", consumer.CauseMalformed},
		{"0", future.ID.String(), consumer.CauseUnknownSchema},
		{"3", failing.ID.String(), consumer.CauseRetriesExhausted},
	}
	for i, m := range msgs {
		h := headers(m)
		if h[consumer.HeaderDLQTopic] != eventsv1.TopicOrder || h[consumer.HeaderDLQPartition] == "" ||
			h[consumer.HeaderDLQOffset] == "" || h[consumer.HeaderDLQError] == "" || h[consumer.HeaderDLQConsumer] != bustest.Group {
			t.Errorf("DLQ message %d lacks origin headers: %v", i, h)
		}
		if h[consumer.HeaderDLQAttempts] != want[i].attempts || h["event-id"] != want[i].eventID || h[consumer.HeaderDLQCause] != want[i].cause {
			t.Errorf("DLQ message %d: attempts %q event %q cause %q, want %q %q %q", i, h[consumer.HeaderDLQAttempts], h["event-id"],
				h[consumer.HeaderDLQCause], want[i].attempts, want[i].eventID, want[i].cause)
		}
	}
	if s := outcome(t, reg, "skipped"); s != 1 {
		t.Errorf("skipped %v, want 1 (the unknown type)", s)
	}

	// Listing shows the entries; replaying the failing one after the fix
	// applies it.
	d := dlq.New(env.DB, env.Config, dlq.Options{Topic: bustest.DLQTopic, Groups: map[string][]string{bustest.Group: {eventsv1.TopicOrder}}})
	defer d.Close()
	page, err := d.List(context.Background(), "", 10, dlq.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Entries) != 4 || page.Entries[3].EventID != failing.ID.String() || page.Entries[3].Attempts != 3 ||
		page.Entries[3].OriginalTopic != eventsv1.TopicOrder || page.Entries[3].Error == "" {
		t.Fatalf("DLQ listing: %+v", page)
	}
	fixed.Store(true)
	r, err := d.ReplayOne(context.Background(), page.Entries[3].Offset, false, "admin-1", "req-1")
	if err != nil || r.Status != dlq.StatusReplayed {
		t.Fatalf("replay: %+v, %v", r, err)
	}
	entry, err := d.Get(context.Background(), page.Entries[3].Offset)
	if err != nil || len(entry.Replays) != 1 || entry.Replays[0].By != "admin-1" || entry.Replays[0].Outcome != "published" {
		t.Errorf("replay not recorded: %+v, %v", entry, err)
	}
	env.WaitEffects(t, 2, 30*time.Second)
	var applied int
	env.DB.Raw("SELECT applied FROM effects WHERE event_id = ?", failing.ID).Scan(&applied)
	if applied != 1 {
		t.Fatalf("replayed event applied %d times, want 1", applied)
	}
	// A second replay is harmless: the consumer skips it by event ID.
	if _, err := d.ReplayOne(context.Background(), page.Entries[3].Offset, false, "admin-1", "req-2"); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 30*time.Second, "second replay skipped", func() bool { return outcome(t, reg, "duplicate") >= 1 })
	if _, doubled := env.Effects(t); doubled != 0 {
		t.Fatalf("a replay applied an effect twice")
	}
}

func headers(m kafka.Message) map[string]string {
	h := map[string]string{}
	for _, x := range m.Headers {
		h[x.Key] = string(x.Value)
	}
	return h
}

// Events committed through the outbox while the broker stops and restarts on
// the same data directory: all arrive, none is applied twice.
func TestBrokerRestartLosesNothingAndAppliesNothingTwice(t *testing.T) {
	env := bustest.New(t)
	env.Relay(t)
	start(t, env, bustest.ApplyEffect, func(c *consumer.Config) { c.MaxAttempts = 5 })

	const total = 300
	produced := make(chan struct{})
	go func() {
		defer close(produced)
		for i := range total {
			env.Commit(t, bustest.OrderEvent(t, fmt.Sprintf("order-%d", i%20), int64(i)))
			time.Sleep(3 * time.Millisecond)
		}
	}()
	env.WaitEffects(t, 50, 30*time.Second)
	env.Broker.Stop()
	time.Sleep(1500 * time.Millisecond) // events keep being committed meanwhile
	if err := env.Broker.Start(); err != nil {
		t.Fatal(err)
	}
	<-produced
	env.WaitEffects(t, total, 90*time.Second)
	time.Sleep(500 * time.Millisecond) // let any redelivery land
	rows, doubled := env.Effects(t)
	if rows != total || doubled != 0 {
		t.Fatalf("effects: %d rows (want %d), %d applied twice (want 0)", rows, total, doubled)
	}
}

// A consumer that shuts down commits its offsets: the next member of the
// group starts after them.
func TestShutdownCommitsOffsets(t *testing.T) {
	env := bustest.New(t)
	_, stop := start(t, env, bustest.ApplyEffect, nil)
	for i := range 10 {
		env.Produce(t, bustest.OrderEvent(t, fmt.Sprintf("order-%d", i), int64(i)).Message())
	}
	env.WaitEffects(t, 10, 30*time.Second)
	stop()

	reg, _ := start(t, env, bustest.ApplyEffect, nil)
	env.Produce(t, bustest.OrderEvent(t, "order-late", 99).Message())
	env.WaitEffects(t, 11, 30*time.Second)
	if d := outcome(t, reg, "duplicate"); d != 0 {
		t.Fatalf("the second consumer saw %v already-handled events: offsets were not committed at shutdown", d)
	}
}

// AfterCommit hooks run after the commit, and never for a rolled-back try.
func TestAfterCommitRunsOnlyForCommittedEffects(t *testing.T) {
	env := bustest.New(t)
	var (
		mu    sync.Mutex
		ran   []string
		tries atomic.Int32
	)
	handler := func(ctx context.Context, tx *gorm.DB, e event.Event) error {
		n := tries.Add(1)
		consumer.AfterCommit(ctx, func() {
			mu.Lock()
			ran = append(ran, fmt.Sprintf("try %d", n))
			mu.Unlock()
		})
		if n == 1 {
			return errors.New("transient")
		}
		return bustest.ApplyEffect(ctx, tx, e)
	}
	start(t, env, handler, nil)
	env.Produce(t, bustest.OrderEvent(t, "order-1", 1).Message())
	env.WaitEffects(t, 1, 30*time.Second)
	testkit.Eventually(t, 10*time.Second, "the hook", func() bool { mu.Lock(); defer mu.Unlock(); return len(ran) > 0 })
	mu.Lock()
	defer mu.Unlock()
	if len(ran) != 1 || ran[0] != "try 2" {
		t.Fatalf("hooks ran for %v, want only the committed try 2", ran)
	}
}

// A batch's events are handled in key order (equal keys keep their order),
// after Prepare has seen them in that order, all in one transaction: batches
// on several workers then lock rows keyed like their events in one global
// order and never deadlock on each other.
func TestBatchIsHandledInKeyOrderAfterPrepare(t *testing.T) {
	env := bustest.New(t)
	type call struct {
		tx    int64
		order string
		seq   int64
	}
	var (
		mu        sync.Mutex
		handled   []call
		prepared  [][]call
		gateStart = make(chan struct{})
		gateOpen  = make(chan struct{})
	)
	txid := func(tx *gorm.DB) int64 {
		var id int64
		if err := tx.Raw(`SELECT txid_current()`).Scan(&id).Error; err != nil {
			t.Errorf("txid: %v", err)
		}
		return id
	}
	decode := func(e event.Event) (string, int64) {
		msg, err := event.DecodeAs[*eventsv1.OrderCreated](e)
		if err != nil {
			t.Errorf("decode: %v", err)
		}
		return msg.GetOrderId(), msg.GetTotal().GetAmountMinor()
	}
	type preparedKey struct{}
	handler := func(ctx context.Context, tx *gorm.DB, e event.Event) error {
		order, seq := decode(e)
		if order == "gate" {
			close(gateStart)
			<-gateOpen
		}
		id := txid(tx)
		// The preparer's context reaches the handlers of its batch only.
		if got, _ := ctx.Value(preparedKey{}).(int64); got != id {
			t.Errorf("handler in transaction %d got the context prepared in %d", id, got)
		}
		mu.Lock()
		handled = append(handled, call{id, order, seq})
		mu.Unlock()
		return bustest.ApplyEffect(ctx, tx, e)
	}
	prepare := func(ctx context.Context, tx *gorm.DB, batch []event.Event) (context.Context, error) {
		id := txid(tx)
		calls := make([]call, len(batch))
		for i, e := range batch {
			order, seq := decode(e)
			calls[i] = call{id, order, seq}
		}
		mu.Lock()
		prepared = append(prepared, calls)
		mu.Unlock()
		return context.WithValue(ctx, preparedKey{}, id), nil
	}
	// One worker takes every partition, so one batch holds many keys.
	startPrepared(t, env, handler, func(c *consumer.Config) { c.Workers = 1 }, prepare)

	// The gate's handler holds the worker while the rest arrive: they then
	// form the next batch together.
	env.Produce(t, bustest.OrderEvent(t, "gate", 0).Message())
	select {
	case <-gateStart:
	case <-time.After(30 * time.Second):
		t.Fatal("the gate event was not handled")
	}
	var msgs []kafka.Message
	for _, order := range []string{"k9", "k5", "k7", "k1", "k3", "k8", "k2", "k6", "k0", "k4"} {
		msgs = append(msgs, bustest.OrderEvent(t, order, 1).Message())
	}
	msgs = append(msgs, bustest.OrderEvent(t, "k5", 2).Message()) // same key, later
	env.Produce(t, msgs...)
	time.Sleep(2 * time.Second) // let the reader fetch them into the worker's queue
	close(gateOpen)
	env.WaitEffects(t, int64(len(msgs)+1), 30*time.Second)

	mu.Lock()
	defer mu.Unlock()
	byTx := map[int64][]call{}
	var txs []int64
	for _, c := range handled {
		if _, ok := byTx[c.tx]; !ok {
			txs = append(txs, c.tx)
		}
		byTx[c.tx] = append(byTx[c.tx], c)
	}
	batched := false
	for _, id := range txs {
		calls := byTx[id]
		batched = batched || len(calls) > 1
		for i := 1; i < len(calls); i++ {
			a, b := calls[i-1], calls[i]
			if a.order > b.order || (a.order == b.order && a.seq > b.seq) {
				t.Errorf("transaction %d handled %v before %v: %v", id, a, b, calls)
			}
		}
		found := false
		for _, p := range prepared {
			if p[0].tx == id {
				found = true
				if fmt.Sprint(p) != fmt.Sprint(calls) {
					t.Errorf("prepare saw %v, the handlers ran %v", p, calls)
				}
			}
		}
		if !found {
			t.Errorf("transaction %d ran handlers without prepare", id)
		}
	}
	if !batched {
		t.Fatalf("no transaction handled more than one event (%d transactions): the test proves nothing", len(txs))
	}
}

// A handler that drops the error of a failed statement returns nil from an
// aborted transaction, whose COMMIT PostgreSQL answers with a rollback: the
// batch must fail (and the event be retried), never count as handled with
// its inbox claim and effects gone.
func TestCommitThatRolledBackIsAFailure(t *testing.T) {
	env := bustest.New(t)
	var tries atomic.Int32
	handler := func(ctx context.Context, tx *gorm.DB, e event.Event) error {
		if tries.Add(1) == 1 {
			_ = tx.WithContext(ctx).Exec("SELECT 1/0").Error // dropped on purpose
			return nil
		}
		return bustest.ApplyEffect(ctx, tx, e)
	}
	reg, _ := start(t, env, handler, nil)
	env.Produce(t, bustest.OrderEvent(t, "order-1", 1).Message())
	env.WaitEffects(t, 1, 30*time.Second)
	if n := tries.Load(); n != 2 {
		t.Fatalf("handler ran %d times, want 2 (the rolled-back try, then the retry)", n)
	}
	if h := outcome(t, reg, "handled"); h != 1 {
		t.Fatalf("handled %v times, want 1", h)
	}
}

// Prune deletes the group's rows of events created before the cutoff (read
// from their UUIDv7 IDs), in batches, and nothing else: not the newer
// events, not another group's, not an ID that is not a UUIDv7.
func TestPruneDeletesTheGroupsOldEventsOnly(t *testing.T) {
	env := bustest.New(t)
	c := consumer.New(env.DB, env.Config, consumer.Config{Group: "g", Topics: []string{eventsv1.TopicOrder}},
		testkit.Logger(t), prometheus.NewRegistry())
	old := time.Now().Add(-48 * time.Hour)
	// n UUIDv7s of the millisecond at (random tails) for consumer.
	insert := func(consumer string, at time.Time, n int) {
		t.Helper()
		err := env.DB.Exec(`INSERT INTO processed_events (consumer, event_id)
			SELECT ?, (lpad(to_hex(?::bigint), 12, '0') || '7' || substr(md5(i::text || ?), 1, 3)
				|| '8' || substr(md5(i::text || ?), 4, 15))::uuid
			FROM generate_series(1, ?) AS i`, consumer, at.UnixMilli(), consumer, consumer, n).Error
		if err != nil {
			t.Fatal(err)
		}
	}
	insert("g", old, 5003) // more than one batch
	insert("g", time.Now(), 2)
	insert("h", old, 3)
	if err := env.DB.Exec(`INSERT INTO processed_events (consumer, event_id)
		VALUES ('g', '00000000-0000-4000-8000-000000000001')`).Error; err != nil { // a UUIDv4, sorting first
		t.Fatal(err)
	}
	n, err := c.Prune(context.Background(), time.Now().Add(-24*time.Hour))
	if err != nil || n != 5003 {
		t.Fatalf("pruned %d (%v), want 5003", n, err)
	}
	var left []struct {
		Consumer string
		N        int
	}
	if err := env.DB.Raw(`SELECT consumer, count(*) AS n FROM processed_events GROUP BY consumer ORDER BY consumer`).Scan(&left).Error; err != nil {
		t.Fatal(err)
	}
	if len(left) != 2 || left[0].Consumer != "g" || left[0].N != 3 || left[1].Consumer != "h" || left[1].N != 3 {
		t.Fatalf("left %+v; want g: the 2 new events and the UUIDv4, h: its 3", left)
	}
	// The rows are found by a range of the primary key.
	var plan []string
	err = env.DB.Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec("SET LOCAL enable_seqscan = off").Error; err != nil {
			return err
		}
		return tx.Raw(`EXPLAIN SELECT ctid FROM processed_events WHERE consumer = 'g'
			AND event_id < '01000000-0000-7000-8000-000000000000' AND get_byte(uuid_send(event_id), 6) >> 4 = 7 LIMIT 5000`).Scan(&plan).Error
	})
	if text := strings.Join(plan, "\n"); err != nil || !strings.Contains(text, "processed_events_pkey") {
		t.Fatalf("prune's plan (%v):\n%s", err, text)
	}
}
