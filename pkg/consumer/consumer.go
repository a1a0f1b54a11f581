// Package consumer runs an idempotent Kafka consumer group.
//
// Each event is handled in a database transaction that also records
// (consumer, event ID) in processed_events, so an event delivered twice has
// its effect once. Partitions are spread over a few workers; each worker
// handles what has arrived for its partitions in one transaction (batches
// grow with load, so the commit cost is shared), in order within a
// partition.
// A failing event is retried alone with exponential backoff and jitter; after
// the retry budget, or at once when it can never succeed (malformed, a value
// the database refuses, a newer schema version, Permanent), it goes to the
// dead-letter topic with headers saying where it came from, why
// (HeaderDLQCause) and the error, and the partition moves on, whatever the message's size: one too large to be
// dead-lettered whole goes with its payload cut (HeaderDLQTruncated). While
// the database is unreachable nothing is dead-lettered: the partition waits.
// Offsets are committed only past events that were handled or dead-lettered.
//
// A service that applies the usual case of a batch's events at once (locks
// taken up front in one order, statements pipelined) describes it as a
// Batch (the key of an event, how to lock, plan and apply) and sets its
// Prepare with PrepareBatches; its handlers then finish each event from
// Batch.Outcome.
//
// The group also reads its retry topic (<group>.retry), which no other group
// reads: pkg/dlq replays the group's dead letters there, so a replay reaches
// the consumer that failed and no other. A replayed event is handled as one
// of its original topic, which must be one the group reads.
package consumer

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"
	"go.opentelemetry.io/otel/trace"
	"gorm.io/gorm"

	"github.com/shop-oss/shop/pkg/broker"
	"github.com/shop-oss/shop/pkg/event"
	"github.com/shop-oss/shop/pkg/tracing"
	"github.com/shop-oss/shop/proto-events/eventsv1"
)

//go:embed migrations/*.sql
var migrations embed.FS

// MigrationsTable records which inbox migrations ran.
const MigrationsTable = "consumer_schema_migrations"

// Migrations returns the SQL migrations of the processed_events table, to
// run with database.Migrate under MigrationsTable.
func Migrations() fs.FS {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		panic(err) // the embedded directory is fixed at compile time
	}
	return sub
}

// Handler applies one event inside tx. It must do all its database work
// through tx (including outbox.Add for the events it emits) and return an
// error to roll it all back. Wrap errors that retrying cannot fix with
// Permanent.
type Handler func(ctx context.Context, tx *gorm.DB, e event.Event) error

// permanentError marks an error that retrying cannot fix.
type permanentError struct{ err error }

func (p permanentError) Error() string { return p.err.Error() }
func (p permanentError) Unwrap() error { return p.err }

// Permanent wraps err so that the event is dead-lettered without retries.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanentError{err}
}

// IsPermanent reports whether err (or one it wraps) was marked Permanent, is
// a malformed event, or is PostgreSQL refusing the event's data.
func IsPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p) || errors.Is(err, event.ErrMalformed) || unstorable(err)
}

// unstorable reports whether err is a PostgreSQL data exception (SQLSTATE
// class 22: text with a NUL, a number out of range, ...): the event
// carries a value the database cannot take, which no retry changes.
func unstorable(err error) bool {
	var pg *pgconn.PgError
	return errors.As(err, &pg) && strings.HasPrefix(pg.Code, "22")
}

// Config configures a consumer; zero values take the defaults.
type Config struct {
	// Group is the consumer group and the consumer name in processed_events,
	// normally the service name.
	Group  string
	Topics []string
	// DLQTopic receives events that cannot be handled (default Group+".dlq").
	DLQTopic string
	// RetryTopic is read with Topics, by this group only: pkg/dlq replays
	// this group's dead letters there, so that a replay reaches the
	// consumer that failed and no other (default RetryTopic(Group)).
	RetryTopic string
	// MaxAttempts bounds the tries of a failing event (default 5).
	MaxAttempts int
	// RetryBase and RetryMax shape the backoff between tries (100ms, 5s).
	RetryBase, RetryMax time.Duration
	// BatchSize is the most events handled in one transaction (default 100).
	BatchSize int
	// Workers handle partitions in parallel, each partition always by the
	// same worker (default 8). More workers isolate partitions better (a
	// failing event delays only its worker's partitions) at the cost of
	// more, smaller transactions.
	Workers int
	// MaxSchemaVersion is the newest envelope version understood
	// (default eventsv1.SchemaVersion); newer events are dead-lettered.
	MaxSchemaVersion int
	// SessionTimeout and HeartbeatInterval of the group membership (10s, 1s).
	SessionTimeout, HeartbeatInterval time.Duration
	// CommitInterval batches offset commits (default 100ms); Close commits
	// what is pending.
	CommitInterval time.Duration
	// Retention of processed_events rows, counted from each event's
	// creation (its UUIDv7 ID; default 30 days); it must exceed the topics'
	// retention so no redelivery can outlive its record.
	Retention time.Duration
	// OnCommitted, when set, is called after each transaction commits with
	// the events whose effects it applied: for work that must follow the
	// commit (invalidating a cache, measuring latency). It must be quick.
	OnCommitted func(ctx context.Context, handled []event.Event)
	// Tracer starts a span per handled event (package tracing); nil gives
	// spans IDs and records nothing.
	Tracer trace.Tracer
}

func (c *Config) setDefaults() {
	if c.DLQTopic == "" {
		c.DLQTopic = c.Group + ".dlq"
	}
	if c.RetryTopic == "" {
		c.RetryTopic = RetryTopic(c.Group)
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 5
	}
	if c.RetryBase <= 0 {
		c.RetryBase = 100 * time.Millisecond
	}
	if c.RetryMax <= 0 {
		c.RetryMax = 5 * time.Second
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 100
	}
	if c.Workers <= 0 {
		c.Workers = 8
	}
	if c.MaxSchemaVersion <= 0 {
		c.MaxSchemaVersion = eventsv1.SchemaVersion
	}
	if c.SessionTimeout <= 0 {
		c.SessionTimeout = 10 * time.Second
	}
	if c.HeartbeatInterval <= 0 {
		c.HeartbeatInterval = time.Second
	}
	if c.CommitInterval <= 0 {
		c.CommitInterval = 100 * time.Millisecond
	}
	if c.Retention <= 0 {
		c.Retention = 30 * 24 * time.Hour
	}
}

// Consumer is an idempotent consumer group member. Register handlers with
// Handle, then call Run.
type Consumer struct {
	db       *gorm.DB
	broker   broker.Config
	cfg      Config
	handlers map[string]Handler
	prepare  Preparer
	dlq      *kafka.Writer
	log      *slog.Logger
	m        *metrics
	tracer   trace.Tracer
}

// New returns a consumer of cfg.Topics for cfg.Group. reg may be nil.
func New(db *gorm.DB, bc broker.Config, cfg Config, log *slog.Logger, reg prometheus.Registerer) *Consumer {
	cfg.setDefaults()
	c := &Consumer{
		db: db, broker: bc, cfg: cfg,
		handlers: map[string]Handler{},
		dlq:      bc.Writer(),
		log:      log.With("component", "consumer", "group", cfg.Group),
		m:        newMetrics(reg, cfg.Group),
		tracer:   tracing.TracerOr(cfg.Tracer),
	}
	if reg != nil && len(cfg.Topics) > 0 {
		reg.MustRegister(newLagCollector(bc.Client(), cfg.Group, append(slices.Clip(cfg.Topics), cfg.RetryTopic), c.log))
	}
	return c
}

// Handle registers h for an event type. Types without a handler are skipped.
func (c *Consumer) Handle(eventType string, h Handler) {
	c.handlers[eventType] = h
}

// Preparer runs in a batch transaction before its handlers, with the events
// about to be handled, in the order they will be. The context it returns is
// the one the batch's handlers get (each event's values added), so that it
// can hand them what it did for them; it lives and dies with the batch.
type Preparer func(ctx context.Context, tx *gorm.DB, batch []event.Event) (context.Context, error)

// PrepareBatches sets fn to prepare every batch: for locks that several
// events of a batch need, taken at once in one global order (see keyOrder),
// or work done for all of them at once. A service's fn is its
// Batch.Prepare. An error fails the batch, which is
// then handled event by event, each in a transaction of its own that fn
// also prepares. Call it before Run.
func (c *Consumer) PrepareBatches(fn Preparer) {
	c.prepare = fn
}

// DLQTopic is the consumer's dead-letter topic.
func (c *Consumer) DLQTopic() string { return c.cfg.DLQTopic }

// RetryTopic is the topic the consumer's replays arrive on.
func (c *Consumer) RetryTopic() string { return c.cfg.RetryTopic }

// Run consumes until ctx ends, then finishes the batches in hand, commits
// their offsets and leaves the group.
func (c *Consumer) Run(ctx context.Context) error {
	if len(c.cfg.Topics) == 0 || c.cfg.Group == "" {
		return errors.New("consumer: Group and Topics are required")
	}
	if !c.ensureRetryTopic(ctx) {
		return nil // stopped before it could start
	}
	reader := kafka.NewReader(kafka.ReaderConfig{
		Brokers:           c.broker.Brokers,
		Dialer:            c.broker.Dialer(10 * time.Second),
		GroupID:           c.cfg.Group,
		GroupTopics:       append(slices.Clip(c.cfg.Topics), c.cfg.RetryTopic),
		MinBytes:          1,
		MaxBytes:          c.broker.MessageLimit(),
		MaxWait:           500 * time.Millisecond,
		QueueCapacity:     1000,
		StartOffset:       kafka.FirstOffset,
		CommitInterval:    c.cfg.CommitInterval,
		HeartbeatInterval: c.cfg.HeartbeatInterval,
		SessionTimeout:    c.cfg.SessionTimeout,
		RebalanceTimeout:  c.cfg.SessionTimeout,
		JoinGroupBackoff:  500 * time.Millisecond,
		ReadBackoffMin:    50 * time.Millisecond,
		ReadBackoffMax:    time.Second,
		Logger: kafka.LoggerFunc(func(msg string, args ...any) {
			c.log.Debug(fmt.Sprintf(msg, args...))
		}),
		ErrorLogger: kafka.LoggerFunc(func(msg string, args ...any) {
			c.log.Warn(fmt.Sprintf(msg, args...))
		}),
	})

	var wg sync.WaitGroup
	wg.Go(func() { c.pruneLoop(ctx) })
	workers := make([]chan kafka.Message, c.cfg.Workers)
	for i := range workers {
		workers[i] = make(chan kafka.Message, 2*c.cfg.BatchSize)
		wg.Go(func() { c.work(ctx, reader, workers[i]) })
	}
	for {
		m, err := reader.FetchMessage(ctx)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			c.log.Warn("fetch failed", "error", err.Error())
			continue
		}
		select {
		case workers[workerOf(m, len(workers))] <- m:
		case <-ctx.Done():
		}
	}
	for _, ch := range workers {
		close(ch)
	}
	wg.Wait()
	var errs []error
	if err := reader.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close reader: %w", err))
	}
	if err := c.dlq.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close dead-letter writer: %w", err))
	}
	return errors.Join(errs...)
}

// workerOf maps a message's partition to a worker, always the same one, so
// that a partition's events are handled in order.
func workerOf(m kafka.Message, n int) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(m.Topic))
	return int((h.Sum32() + uint32(m.Partition)) % uint32(n))
}

// work handles its partitions' messages in order, in batches of what has
// already arrived, and commits their offsets after each batch.
func (c *Consumer) work(ctx context.Context, reader *kafka.Reader, ch chan kafka.Message) {
	for m := range ch {
		batch := []kafka.Message{m}
	fill:
		for len(batch) < c.cfg.BatchSize {
			select {
			case next, ok := <-ch:
				if !ok {
					break fill
				}
				batch = append(batch, next)
			default:
				break fill
			}
		}
		done := c.process(ctx, batch)
		if done > 0 {
			// kafka-go commits the highest offset per partition. Commit with
			// a context that outlives shutdown: these events are handled,
			// and committing spares a redelivery.
			if err := reader.CommitMessages(context.WithoutCancel(ctx), batch[:done]...); err != nil {
				c.log.Warn("commit offsets failed; the events will be redelivered and skipped", "error", err.Error())
			}
		}
		if done < len(batch) {
			// Shutting down in the middle of the batch: nothing past the
			// unfinished event may be committed. The rest is redelivered.
			for range ch {
			}
			return
		}
	}
}

// pruneLoop deletes processed_events rows older than Retention, hourly.
func (c *Consumer) pruneLoop(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := c.Prune(ctx, time.Now().Add(-c.cfg.Retention)); err != nil && ctx.Err() == nil {
			c.log.Warn("prune processed events", "error", err.Error())
		}
	}
}

// pruneBatch bounds each prune statement, so that no long transaction
// holds the table.
const pruneBatch = 5000

// Prune deletes this group's processed_events rows of events created
// before before, in batches, and returns how many it deleted. An event ID
// is a UUIDv7 (the contract), whose first 48 bits are its creation time in
// milliseconds, so the rows to delete are a range of the primary key:
// the table needs no index of its own for them, and every handled event
// writes one index entry fewer. A row whose ID is not a UUIDv7 (a producer
// off the contract) is never deleted, rather than guessed at.
func (c *Consumer) Prune(ctx context.Context, before time.Time) (int64, error) {
	bound := v7Floor(before)
	var total int64
	for {
		res := c.db.WithContext(ctx).Exec(`DELETE FROM processed_events WHERE ctid IN (
				SELECT ctid FROM processed_events
				WHERE consumer = ? AND event_id < ? AND get_byte(uuid_send(event_id), 6) >> 4 = 7
				LIMIT ?)`, c.cfg.Group, bound, pruneBatch)
		if res.Error != nil {
			return total, fmt.Errorf("prune processed events: %w", res.Error)
		}
		total += res.RowsAffected
		if res.RowsAffected < pruneBatch {
			return total, nil
		}
	}
}

// v7Floor is the smallest UUIDv7 of the millisecond t: every UUIDv7 made
// before t sorts below it.
func v7Floor(t time.Time) uuid.UUID {
	var u uuid.UUID
	ms := uint64(t.UnixMilli())
	for i := range 6 {
		u[i] = byte(ms >> (8 * (5 - i)))
	}
	u[6] = 0x70
	return u
}
