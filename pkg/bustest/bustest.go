// Package bustest is the shared fixture of the event-bus tests: a fresh
// database with the outbox, inbox and replay tables and an "effects" table,
// a broker with the topics, and helpers to publish through the outbox, apply
// effects and read topics back.
package bustest

import (
	"context"
	"io/fs"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/segmentio/kafka-go"
	"gorm.io/gorm"

	"github.com/shop-oss/shop/pkg/broker"
	"github.com/shop-oss/shop/pkg/consumer"
	"github.com/shop-oss/shop/pkg/database"
	"github.com/shop-oss/shop/pkg/dlq"
	"github.com/shop-oss/shop/pkg/event"
	"github.com/shop-oss/shop/pkg/localbroker"
	"github.com/shop-oss/shop/pkg/outbox"
	"github.com/shop-oss/shop/pkg/testkit"
	"github.com/shop-oss/shop/proto-events/eventsv1"
)

// Env is one test's database and broker.
type Env struct {
	DB     *gorm.DB
	DSN    string
	Broker *localbroker.Broker
	Config broker.Config
}

// Group is the test consumer group; DLQTopic its dead-letter topic and
// RetryTopic the topic its DLQ replays go to.
const (
	Group      = "test"
	DLQTopic   = "test.dlq"
	RetryTopic = "test.retry"
)

// New migrates a fresh database and creates order.events (6 partitions),
// the DLQ topic and the retry topic on a fresh broker.
func New(t testing.TB) *Env {
	t.Helper()
	db, dsn := testkit.Postgres(t)
	MigrateBus(t, dsn)
	if err := db.Exec(`CREATE TABLE effects (
		event_id uuid PRIMARY KEY,
		order_id text NOT NULL,
		seq      bigint NOT NULL,
		applied  int NOT NULL DEFAULT 1,
		at       timestamptz NOT NULL DEFAULT clock_timestamp())`).Error; err != nil {
		t.Fatal(err)
	}
	b := testkit.Broker(t)
	cfg := broker.Config{Brokers: []string{b.Addr()}, Partitions: 6, Replicas: 1, ClientID: "test"}
	err := broker.EnsureTopics(context.Background(), cfg.Client(), 1,
		broker.Topic{Name: eventsv1.TopicOrder, Partitions: 6},
		broker.Topic{Name: DLQTopic, Partitions: 1},
		broker.Topic{Name: RetryTopic, Partitions: 6})
	if err != nil {
		t.Fatalf("create topics: %v", err)
	}
	return &Env{DB: db, DSN: dsn, Broker: b, Config: cfg}
}

// MigrateBus runs the outbox, inbox and DLQ migrations on dsn.
func MigrateBus(t testing.TB, dsn string) {
	t.Helper()
	sets := []struct {
		table string
		fsys  fs.FS
	}{
		{outbox.MigrationsTable, outbox.Migrations()},
		{consumer.MigrationsTable, consumer.Migrations()},
		{dlq.MigrationsTable, dlq.Migrations()},
	}
	for _, s := range sets {
		if err := database.Migrate(context.Background(), dsn, s.fsys, s.table); err != nil {
			t.Fatalf("migrate %s: %v", s.table, err)
		}
	}
}

// OrderEvent returns an ORDER_CREATED event for order whose total carries seq,
// so tests can check order and identity of what arrives.
func OrderEvent(t testing.TB, order string, seq int64) event.Event {
	t.Helper()
	e, err := event.New(context.Background(), order, &eventsv1.OrderCreated{
		OrderId: order, UserId: "u", Total: &eventsv1.Money{AmountMinor: seq, Currency: "EUR"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// Commit writes events through the outbox in one committed transaction.
func (env *Env) Commit(t testing.TB, events ...event.Event) {
	t.Helper()
	err := env.DB.Transaction(func(tx *gorm.DB) error {
		return outbox.Add(context.Background(), tx, events...)
	})
	if err != nil {
		t.Fatalf("commit events: %v", err)
	}
}

// Relay starts an outbox relay publishing to the env's broker until the test
// ends.
func (env *Env) Relay(t testing.TB) {
	t.Helper()
	w := env.Config.Writer()
	r := outbox.NewRelay(env.DB, env.DSN, w, outbox.RelayConfig{PollInterval: 200 * time.Millisecond}, testkit.Logger(t), nil)
	t.Cleanup(func() { _ = w.Close() }) // registered first: runs after the relay stopped
	env.Run(t, "relay", r.Run)
}

// Run runs fn until the test ends (then cancels it and waits for it to
// return); stop does so earlier.
func (env *Env) Run(t testing.TB, name string, fn func(context.Context) error) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- fn(ctx) }()
	var stopped bool
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Logf("%s stopped: %v", name, err)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("%s did not stop within 30s", name)
		}
	}
	t.Cleanup(stop)
	return stop
}

// ApplyEffect is a handler that records the event's effect; applying one
// event twice shows as applied = 2.
func ApplyEffect(ctx context.Context, tx *gorm.DB, e event.Event) error {
	msg, err := event.DecodeAs[*eventsv1.OrderCreated](e)
	if err != nil {
		return err
	}
	return tx.Exec(`INSERT INTO effects (event_id, order_id, seq) VALUES (?, ?, ?)
		ON CONFLICT (event_id) DO UPDATE SET applied = effects.applied + 1`,
		e.ID, msg.GetOrderId(), msg.GetTotal().GetAmountMinor()).Error
}

// Effects counts effect rows and the rows applied more than once.
func (env *Env) Effects(t testing.TB) (rows, doubled int64) {
	t.Helper()
	var r struct{ Rows, Doubled int64 }
	if err := env.DB.Raw(`SELECT count(*) AS rows, count(*) FILTER (WHERE applied > 1) AS doubled FROM effects`).Scan(&r).Error; err != nil {
		t.Fatal(err)
	}
	return r.Rows, r.Doubled
}

// WaitEffects waits until at least n effects exist, failing after timeout.
func (env *Env) WaitEffects(t testing.TB, n int64, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		rows, _ := env.Effects(t)
		if rows >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %d effects, want %d", timeout, rows, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ReadTopic reads topic with a fresh consumer group until want messages have
// arrived (failing after timeout), then for settle more to catch extras.
func (env *Env) ReadTopic(t testing.TB, topic string, want int, timeout, settle time.Duration) []kafka.Message {
	t.Helper()
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers: env.Config.Brokers, GroupID: "reader-" + uuid.NewString(), Topic: topic,
		StartOffset: kafka.FirstOffset, MaxWait: 100 * time.Millisecond, HeartbeatInterval: time.Second,
	})
	defer r.Close()
	var out []kafka.Message
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for len(out) < want {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			t.Fatalf("read %s: got %d of %d messages: %v", topic, len(out), want, err)
		}
		out = append(out, m)
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), settle)
	defer cancel2()
	for {
		m, err := r.FetchMessage(ctx2)
		if err != nil {
			return out
		}
		out = append(out, m)
	}
}

// Produce writes raw messages straight to the broker (bypassing the outbox),
// to simulate redeliveries and poison messages.
func (env *Env) Produce(t testing.TB, msgs ...kafka.Message) {
	t.Helper()
	w := env.Config.Writer()
	defer w.Close()
	if err := w.WriteMessages(context.Background(), msgs...); err != nil {
		t.Fatalf("produce: %v", err)
	}
}
