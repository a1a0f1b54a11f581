package outbox_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"gorm.io/gorm"

	"github.com/shop-oss/shop/pkg/bustest"
	"github.com/shop-oss/shop/pkg/database"
	"github.com/shop-oss/shop/pkg/event"
	"github.com/shop-oss/shop/pkg/outbox"
	"github.com/shop-oss/shop/pkg/testkit"
	"github.com/shop-oss/shop/proto-events/eventsv1"
)

func eventIDs(t *testing.T, msgs []kafka.Message) map[string]int {
	t.Helper()
	ids := map[string]int{}
	for _, m := range msgs {
		e, err := event.FromMessage(m)
		if err != nil {
			t.Fatalf("published message has a bad envelope: %v", err)
		}
		ids[e.ID.String()]++
	}
	return ids
}

func pending(t *testing.T, db *gorm.DB) int64 {
	var n int64
	if err := db.Raw("SELECT count(*) FROM outbox").Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func TestCommittedEventsArePublishedOnceRolledBackNever(t *testing.T) {
	env := bustest.New(t)
	committed := []event.Event{bustest.OrderEvent(t, "order-a", 1), bustest.OrderEvent(t, "order-b", 2), bustest.OrderEvent(t, "order-c", 3)}
	env.Commit(t, committed...)
	rolledBack := []event.Event{bustest.OrderEvent(t, "order-x", 4), bustest.OrderEvent(t, "order-y", 5)}
	errBoom := errors.New("boom")
	err := env.DB.Transaction(func(tx *gorm.DB) error {
		if err := outbox.Add(context.Background(), tx, rolledBack...); err != nil {
			return err
		}
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("rollback: %v", err)
	}

	env.Relay(t)
	msgs := env.ReadTopic(t, eventsv1.TopicOrder, len(committed), 20*time.Second, time.Second)

	ids := eventIDs(t, msgs)
	if len(msgs) != len(committed) {
		t.Fatalf("published %d messages, want %d", len(msgs), len(committed))
	}
	for _, e := range committed {
		if ids[e.ID.String()] != 1 {
			t.Errorf("committed event %s published %d times", e.ID, ids[e.ID.String()])
		}
	}
	for _, e := range rolledBack {
		if ids[e.ID.String()] != 0 {
			t.Errorf("rolled-back event %s was published", e.ID)
		}
	}
	for _, m := range msgs {
		if !strings.HasPrefix(string(m.Key), "order-") {
			t.Errorf("message key %q is not the order ID", m.Key)
		}
	}
	if n := pending(t, env.DB); n != 0 {
		t.Errorf("%d events left in the outbox after publishing", n)
	}
}

func TestAddOutsideATransactionIsRefused(t *testing.T) {
	env := bustest.New(t)
	err := outbox.Add(context.Background(), env.DB, bustest.OrderEvent(t, "o", 1))
	if !errors.Is(err, outbox.ErrNoTransaction) {
		t.Fatalf("want ErrNoTransaction, got %v", err)
	}
}

// Two relays share the lanes; the events of each key still arrive in the
// order they were written.
func TestTwoRelaysKeepPerKeyOrder(t *testing.T) {
	env := bustest.New(t)
	env.Relay(t)
	env.Relay(t)
	const keys, perKey = 8, 40
	for i := range perKey {
		for k := range keys {
			env.Commit(t, bustest.OrderEvent(t, fmt.Sprintf("order-%d", k), int64(i)))
		}
	}
	msgs := env.ReadTopic(t, eventsv1.TopicOrder, keys*perKey, 30*time.Second, 500*time.Millisecond)
	if len(msgs) != keys*perKey {
		t.Fatalf("got %d messages, want %d", len(msgs), keys*perKey)
	}
	// Within a partition, messages arrive in offset order; check each key's
	// sequence numbers rise.
	last := map[string]int64{}
	for _, m := range msgs {
		e, _ := event.FromMessage(m)
		oc, err := event.DecodeAs[*eventsv1.OrderCreated](e)
		if err != nil {
			t.Fatal(err)
		}
		seq := oc.GetTotal().GetAmountMinor()
		if prev, ok := last[oc.OrderId]; ok && seq != prev+1 {
			t.Fatalf("key %s: seq %d after %d", oc.OrderId, seq, prev)
		}
		last[oc.OrderId] = seq
	}
}

// While a relay publishes a batch it holds the lanes it took: a second
// relay publishes nothing of them, not even events committed meanwhile,
// until the first commits; then it publishes those. The lanes are held in
// the database (advisory locks), not in the process, so this holds across
// replicas.
func TestARelayPublishingHoldsItsLanes(t *testing.T) {
	env := bustest.New(t)
	ctx := context.Background()
	env.Commit(t, bustest.OrderEvent(t, "order-a", 1))

	first := &gatedPublisher{entered: make(chan struct{}), release: make(chan struct{})}
	a := outbox.NewRelay(env.DB, env.DSN, first, outbox.RelayConfig{}, testkit.Logger(t), nil)
	t.Cleanup(a.Close)
	var once sync.Once
	unblock := func() { once.Do(func() { close(first.release) }) }
	t.Cleanup(unblock) // a failed check must not leave the first relay blocked
	done := make(chan error, 1)
	go func() {
		_, err := a.RelayOnce(ctx)
		done <- err
	}()
	select {
	case <-first.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the first relay never published")
	}

	later := []event.Event{bustest.OrderEvent(t, "order-a", 2), bustest.OrderEvent(t, "order-b", 1)}
	env.Commit(t, later...)
	second := &flakyPublisher{}
	b := outbox.NewRelay(env.DB, env.DSN, second, outbox.RelayConfig{}, testkit.Logger(t), nil)
	t.Cleanup(b.Close)
	// Were the lanes free, the second relay would take the new events, or
	// wait for the rows the first one deletes: bounded, so that fails too.
	bounded, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if n, err := b.RelayOnce(bounded); err != nil || n != 0 {
		t.Fatalf("second relay, while the first publishes: %d events, %v; want 0, nil", n, err)
	}

	unblock()
	if err := <-done; err != nil {
		t.Fatalf("first relay: %v", err)
	}
	if n, err := b.RelayOnce(ctx); err != nil || n != len(later) {
		t.Fatalf("second relay, after the first committed: %d events, %v; want %d, nil", n, err, len(later))
	}
	ids := eventIDs(t, second.got)
	for _, e := range later {
		if ids[e.ID.String()] != 1 {
			t.Errorf("event %s published %d times by the second relay; want once", e.ID, ids[e.ID.String()])
		}
	}
	if len(first.got) != 1 {
		t.Errorf("first relay published %d events; want 1", len(first.got))
	}
}

// gatedPublisher signals entered when asked to publish, and publishes once
// release is closed.
type gatedPublisher struct {
	entered, release chan struct{}
	got              []kafka.Message
}

func (p *gatedPublisher) WriteMessages(ctx context.Context, msgs ...kafka.Message) error {
	close(p.entered)
	select {
	case <-p.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	p.got = append(p.got, msgs...)
	return nil
}

// A process that committed events and was killed (SIGKILL) while publishing
// them leaves them in the outbox; the next relay publishes them.
func TestKilledBetweenCommitAndPublishPublishesOnRestart(t *testing.T) {
	env := bustest.New(t)

	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcessCommitsThenHangs$", "-test.v")
	cmd.Env = append(os.Environ(), "OUTBOX_HELPER_DSN="+env.DSN)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	publishing := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if sc.Text() == "PUBLISHING" {
				close(publishing)
				return
			}
		}
	}()
	select {
	case <-publishing:
	case <-time.After(60 * time.Second):
		t.Fatal("helper process never started publishing")
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if n := pending(t, env.DB); n != 5 {
		t.Fatalf("after the kill: %d events in the outbox, want 5", n)
	}

	env.Relay(t)
	msgs := env.ReadTopic(t, eventsv1.TopicOrder, 5, 20*time.Second, time.Second)
	if len(msgs) != 5 {
		t.Fatalf("published %d, want 5", len(msgs))
	}
	for id, n := range eventIDs(t, msgs) {
		if n != 1 {
			t.Errorf("event %s published %d times", id, n)
		}
	}
}

// blockingPublisher stands for a broker write that never finishes: the
// process is killed during it.
type blockingPublisher struct{}

func (blockingPublisher) WriteMessages(ctx context.Context, _ ...kafka.Message) error {
	fmt.Println("PUBLISHING")
	<-ctx.Done()
	return ctx.Err()
}

// TestHelperProcessCommitsThenHangs is the process killed by the test above.
func TestHelperProcessCommitsThenHangs(t *testing.T) {
	dsn := os.Getenv("OUTBOX_HELPER_DSN")
	if dsn == "" {
		t.Skip("helper process for TestKilledBetweenCommitAndPublishPublishesOnRestart; runs only when started by it")
	}
	db, err := database.Open(context.Background(), dsn, database.Pool{MaxOpen: 4}, testkit.Discard())
	if err != nil {
		t.Fatal(err)
	}
	var events []event.Event
	for i := range 5 {
		events = append(events, bustest.OrderEvent(t, fmt.Sprintf("order-%d", i), int64(i)))
	}
	if err := db.Transaction(func(tx *gorm.DB) error { return outbox.Add(context.Background(), tx, events...) }); err != nil {
		t.Fatal(err)
	}
	relay := outbox.NewRelay(db, dsn, blockingPublisher{}, outbox.RelayConfig{}, testkit.Discard(), nil)
	_ = relay.Run(context.Background())
}

// flakyPublisher fails its first calls, then records what it publishes.
type flakyPublisher struct {
	failures int
	got      []kafka.Message
}

func (p *flakyPublisher) WriteMessages(_ context.Context, msgs ...kafka.Message) error {
	if p.failures > 0 {
		p.failures--
		return errors.New("broker unavailable")
	}
	p.got = append(p.got, msgs...)
	return nil
}

// A failed publish leaves the batch in the outbox (its delete rolls back
// with the relay's connection), and the next round, on a new connection,
// publishes every event exactly once.
func TestFailedPublishKeepsTheBatchForTheNextRound(t *testing.T) {
	env := bustest.New(t)
	events := []event.Event{bustest.OrderEvent(t, "order-a", 1), bustest.OrderEvent(t, "order-b", 2)}
	env.Commit(t, events...)
	pub := &flakyPublisher{failures: 2}
	relay := outbox.NewRelay(env.DB, env.DSN, pub, outbox.RelayConfig{}, testkit.Discard(), nil)
	t.Cleanup(relay.Close)
	ctx := context.Background()
	for range 2 {
		if _, err := relay.RelayOnce(ctx); err == nil {
			t.Fatal("RelayOnce reported success while the broker failed")
		}
		if n := pending(t, env.DB); n != int64(len(events)) {
			t.Fatalf("%d events in the outbox after a failed publish; want %d", n, len(events))
		}
	}
	n, err := relay.RelayOnce(ctx)
	if err != nil || n != len(events) {
		t.Fatalf("RelayOnce after the broker recovered: %d, %v; want %d, nil", n, err, len(events))
	}
	if n, err := relay.RelayOnce(ctx); err != nil || n != 0 {
		t.Fatalf("a further round published %d (%v); want 0", n, err)
	}
	ids := eventIDs(t, pub.got)
	for _, e := range events {
		if ids[e.ID.String()] != 1 {
			t.Errorf("event %s published %d times; want once", e.ID, ids[e.ID.String()])
		}
	}
	if n := pending(t, env.DB); n != 0 {
		t.Errorf("%d events left in the outbox", n)
	}
}

// The relay vacuums the outbox after every VacuumAfter rows it deleted, so
// that its polls do not step over a minute of dead rows before autovacuum
// comes; a negative VacuumAfter leaves the table to autovacuum.
func TestRelayVacuumsTheOutboxAfterVacuumAfterRows(t *testing.T) {
	ctx := context.Background()
	vacuums := func(env *bustest.Env) int64 {
		var n int64
		if err := env.DB.Raw("SELECT vacuum_count FROM pg_stat_user_tables WHERE relname = 'outbox'").Scan(&n).Error; err != nil {
			t.Fatal(err)
		}
		return n
	}
	publish := func(env *bustest.Env, vacuumAfter, events int) {
		for i := range events {
			env.Commit(t, bustest.OrderEvent(t, fmt.Sprintf("order-%d", i), int64(i+1)))
		}
		relay := outbox.NewRelay(env.DB, env.DSN, &flakyPublisher{}, outbox.RelayConfig{BatchSize: 2, VacuumAfter: vacuumAfter}, testkit.Logger(t), nil)
		defer relay.Close()
		for published := 0; published < events; {
			n, err := relay.RelayOnce(ctx)
			if err != nil || n == 0 {
				t.Fatalf("RelayOnce: %d, %v after %d of %d events", n, err, published, events)
			}
			published += n
		}
	}

	env := bustest.New(t)
	publish(env, 4, 10) // 5 rounds of 2: vacuums after the 2nd and the 4th
	if got := vacuums(env); got != 2 {
		t.Errorf("vacuum_count of outbox = %d after 10 rows with VacuumAfter 4; want 2", got)
	}

	off := bustest.New(t)
	publish(off, -1, 10)
	if got := vacuums(off); got != 0 {
		t.Errorf("vacuum_count of outbox = %d with VacuumAfter -1; want 0", got)
	}
}

// Withdrawn events are never published, and withdrawing reads no row of the
// outbox but its own: the outbox grows while the broker is down, and a
// producer withdraws with its locks held.
func TestWithdrawnEventsAreNeverPublished(t *testing.T) {
	env := bustest.New(t)
	ctx := context.Background()
	// A backlog of 20,000 unpublished events, as after a while without a broker.
	if err := env.DB.Exec(`INSERT INTO outbox (lane, topic, message_key, event_id, event_type, schema_version, occurred_at, correlation_id, payload)
		SELECT 0, 'backlog', 'k', gen_random_uuid(), 'T', 1, now(), 'c', '\x00'::bytea FROM generate_series(1, 20000)`).Error; err != nil {
		t.Fatal(err)
	}
	if err := env.DB.Exec("ANALYZE outbox").Error; err != nil {
		t.Fatal(err)
	}
	kept := bustest.OrderEvent(t, "order-kept", 1)
	taken := []event.Event{bustest.OrderEvent(t, "order-a", 2), bustest.OrderEvent(t, "order-b", 3)}
	var scans struct{ SeqScan, IdxScan int64 }
	err := env.DB.Transaction(func(tx *gorm.DB) error {
		w, err := outbox.AddWithdrawable(ctx, tx, taken...)
		if err != nil {
			return err
		}
		if len(w) != len(taken) {
			return fmt.Errorf("AddWithdrawable returned %d rows for %d events", len(w), len(taken))
		}
		if err := outbox.Add(ctx, tx, kept); err != nil {
			return err
		}
		if err := outbox.Withdraw(ctx, tx, w); err != nil {
			return err
		}
		return tx.Raw("SELECT seq_scan, idx_scan FROM pg_stat_xact_user_tables WHERE relname = 'outbox'").Scan(&scans).Error
	})
	if err != nil {
		t.Fatal(err)
	}
	if scans.SeqScan != 0 || scans.IdxScan == 0 {
		t.Errorf("Withdraw scanned the outbox %d times and probed an index %d times; want no scan", scans.SeqScan, scans.IdxScan)
	}

	if err := env.DB.Exec("DELETE FROM outbox WHERE topic = 'backlog'").Error; err != nil {
		t.Fatal(err)
	}
	pub := &flakyPublisher{}
	relay := outbox.NewRelay(env.DB, env.DSN, pub, outbox.RelayConfig{}, testkit.Discard(), nil)
	t.Cleanup(relay.Close)
	if n, err := relay.RelayOnce(ctx); err != nil || n != 1 {
		t.Fatalf("RelayOnce: %d, %v; want the one event kept", n, err)
	}
	if ids := eventIDs(t, pub.got); len(ids) != 1 || ids[kept.ID.String()] != 1 {
		t.Errorf("published %v; want only %s", ids, kept.ID)
	}
	if err := outbox.Withdraw(ctx, env.DB, outbox.Written{1}); !errors.Is(err, outbox.ErrNoTransaction) {
		t.Errorf("Withdraw outside a transaction: %v; want ErrNoTransaction", err)
	}
}
