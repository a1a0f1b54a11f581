package outbox

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"gorm.io/gorm"

	"github.com/shop-oss/shop/pkg/event"
	"github.com/shop-oss/shop/pkg/tracing"
)

// Publisher writes messages to Kafka and returns once all are acknowledged.
// *kafka.Writer is one.
type Publisher interface {
	WriteMessages(ctx context.Context, msgs ...kafka.Message) error
}

// RelayConfig tunes the relay; zero values take the defaults.
type RelayConfig struct {
	// BatchSize is the most events published in one round (default 500).
	BatchSize int
	// PollInterval is the fallback when a notification is missed, e.g.
	// while the listening connection reconnects (default 1s).
	PollInterval time.Duration
	// BusyPoll is the pause between polls while events keep coming
	// (default 500µs); after IdleAfter empty polls in a row (default 5) the
	// relay goes idle and waits for a notification.
	BusyPoll  time.Duration
	IdleAfter int
	// DrainTimeout bounds the final publishing round at shutdown (default 5s).
	DrainTimeout time.Duration
	// VacuumAfter is how many rows the relay deletes before it vacuums the
	// outbox itself (default 1,000; negative: never, autovacuum alone).
	VacuumAfter int
	// Tracer starts a producer span per published event whose trace is
	// sampled (package tracing); nil records none.
	Tracer trace.Tracer
}

func (c *RelayConfig) setDefaults() {
	if c.BatchSize <= 0 {
		c.BatchSize = 500
	}
	if c.PollInterval <= 0 {
		c.PollInterval = time.Second
	}
	if c.DrainTimeout <= 0 {
		c.DrainTimeout = 5 * time.Second
	}
	if c.BusyPoll <= 0 {
		c.BusyPoll = 500 * time.Microsecond
	}
	if c.IdleAfter <= 0 {
		c.IdleAfter = 5
	}
	if c.VacuumAfter == 0 {
		c.VacuumAfter = 1000
	}
}

// Relay publishes committed outbox rows. It is safe to run in every replica.
//
// While events keep coming it polls between batches (every BusyPoll), which
// costs a cheap read; when idle it registers in outbox_listeners and sleeps
// until a producer's NOTIFY, or PollInterval, wakes it.
type Relay struct {
	id  uuid.UUID
	db  *gorm.DB
	dsn string
	// conn is the relay's own connection for publishing rounds (see
	// relayOnce), opened on first use and again after a failure; connMu
	// keeps rounds one at a time.
	connMu sync.Mutex
	conn   *pgx.Conn
	pub    Publisher
	log    *slog.Logger
	cfg    RelayConfig
	m      *relayMetrics
	wake   chan struct{}
	// deleted counts the rows deleted since the last vacuum (under connMu).
	deleted int
}

// NewRelay returns a relay over db (whose DSN is dsn, for the LISTEN
// connection) publishing with pub. reg may be nil.
func NewRelay(db *gorm.DB, dsn string, pub Publisher, cfg RelayConfig, log *slog.Logger, reg prometheus.Registerer) *Relay {
	cfg.setDefaults()
	return &Relay{
		id: uuid.New(), db: db, dsn: dsn, pub: pub, cfg: cfg,
		log:  log.With("component", "outbox-relay"),
		m:    newRelayMetrics(reg),
		wake: make(chan struct{}, 1),
	}
}

// Run publishes until ctx ends, then makes one last bounded round so that
// events committed by requests that finished during shutdown still go out.
func (r *Relay) Run(ctx context.Context) error {
	listenCtx, stopListen := context.WithCancel(ctx)
	defer stopListen()
	go r.listen(listenCtx)
	defer r.unregister(context.WithoutCancel(ctx))

	bo := newBackoff(100*time.Millisecond, 5*time.Second)
	empty, busy := 0, false
	for ctx.Err() == nil {
		n, err := r.relayOnce(ctx, !busy)
		busy = err == nil && n > 0
		switch {
		case err != nil:
			if ctx.Err() != nil {
				break
			}
			wait := bo.NextBackOff()
			r.log.Warn("publish outbox batch failed; retrying", "error", err.Error(), "retry_in", wait)
			sleep(ctx, wait)
		case n > 0:
			bo.Reset()
			empty = 0
		case empty+1 < r.cfg.IdleAfter:
			empty++
			sleep(ctx, r.cfg.BusyPoll)
		default:
			r.idle(ctx)
			empty = 0
		}
	}
	err := r.drain()
	r.Close()
	return err
}

// Close closes the relay's connection (Run does when it returns); a later
// round opens a new one.
func (r *Relay) Close() {
	r.connMu.Lock()
	defer r.connMu.Unlock()
	r.closeConn()
}

// idle registers the relay as waiting, so that producers notify, and sleeps
// until a notification, or a poll, finds work. A producer whose trigger ran
// just before the registration committed does not notify; the short first
// poll catches its event.
func (r *Relay) idle(ctx context.Context) {
	if err := r.register(ctx); err != nil {
		if ctx.Err() != nil {
			return // shutting down
		}
		r.log.Warn("register idle relay; polling instead", "error", err.Error())
		sleep(ctx, r.cfg.PollInterval)
		return
	}
	defer r.unregister(context.WithoutCancel(ctx))
	select { // a notification from before the registration is stale
	case <-r.wake:
	default:
	}
	waits := []time.Duration{0, 50 * time.Millisecond}
	for i := 0; ctx.Err() == nil; i++ {
		wait := r.cfg.PollInterval
		if i < len(waits) {
			wait = waits[i]
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-r.wake:
			t.Stop()
			return
		case <-t.C:
		}
		if pending, err := r.pending(ctx); err != nil || pending {
			return
		}
		if i >= len(waits) {
			_ = r.register(ctx) // keep the registration from expiring
		}
	}
}

func (r *Relay) register(ctx context.Context) error {
	ttl := 3 * r.cfg.PollInterval
	return r.db.WithContext(ctx).Exec(`INSERT INTO outbox_listeners (relay_id, until) VALUES (?, now() + ?::interval)
		ON CONFLICT (relay_id) DO UPDATE SET until = EXCLUDED.until`, r.id, ttl.String()).Error
}

func (r *Relay) unregister(ctx context.Context) {
	if err := r.db.WithContext(ctx).Exec("DELETE FROM outbox_listeners WHERE relay_id = ?", r.id).Error; err != nil {
		r.log.Warn("unregister relay", "error", err.Error())
	}
}

// pending reports whether any event waits, without taking locks, on the
// relay's connection.
func (r *Relay) pending(ctx context.Context) (bool, error) {
	var ok bool
	err := r.onConn(ctx, func(conn *pgx.Conn) (err error) {
		ok, err = anyPending(ctx, conn)
		return err
	})
	return ok, err
}

func anyPending(ctx context.Context, conn *pgx.Conn) (bool, error) {
	var ok bool
	err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM outbox)").Scan(&ok)
	return ok, err
}

// drain publishes what is pending, for at most DrainTimeout.
func (r *Relay) drain() error {
	ctx, cancel := context.WithTimeout(context.Background(), r.cfg.DrainTimeout)
	defer cancel()
	for {
		n, err := r.RelayOnce(ctx)
		if err != nil {
			return fmt.Errorf("outbox: final publish at shutdown: %w", err)
		}
		if n == 0 {
			return nil
		}
	}
}

// RelayOnce publishes one batch from the lanes no other relay holds and
// returns how many events it published.
func (r *Relay) RelayOnce(ctx context.Context) (int, error) { return r.relayOnce(ctx, true) }

// takeBatch locks the free lanes and deletes their oldest rows, in one
// statement. A lane is locked with a transaction-scoped advisory lock
// (laneLockClass, lane), tried without waiting: a lane another relay holds
// is skipped, as FOR UPDATE SKIP LOCKED on outbox_lanes did, but nothing is
// written. Row locks on the lanes cost a WAL record and a dirty page per
// lane per round: measured under the saga load, 7.7 of the 150 WAL records
// per order. ARRAY(...) tries each lane once, before the scan. Its snapshot
// may predate the commit of another relay that just published rows of a
// lane and released it; DELETE re-checks each row, so rows that relay
// deleted are skipped, never sent twice. Deleting before publishing is
// safe: a failed publish rolls back.
const takeBatch = `DELETE FROM outbox WHERE id IN (
		SELECT id FROM outbox
		WHERE lane = ANY (ARRAY(SELECT lane FROM outbox_lanes WHERE pg_try_advisory_xact_lock($2, lane)))
		ORDER BY id LIMIT $1)
	RETURNING id, lane, topic, message_key, event_id, event_type, schema_version,
		occurred_at, correlation_id, causation_id, traceparent, payload, created_at`

// laneLockClass is the first key of the relays' lane locks; the other
// advisory locks of a service's database use other classes.
const laneLockClass = 0x0b0c

// relayOnce is RelayOnce; look makes it check for pending rows first, in
// one round trip instead of the round's two, which is worth it only when
// the last round found nothing.
//
// A round runs on the relay's own connection, in two database round trips:
// BEGIN and the batch's DELETE sent together, then COMMIT after the broker
// acknowledged. The connection runs with synchronous_commit off: the delete
// need not wait for its WAL flush, because if a crash loses it the events
// are published again, which consumers skip by event ID. A failed round
// rolls its transaction back (when the connection still answers) and
// closes the connection; the next opens a new one.
func (r *Relay) relayOnce(ctx context.Context, look bool) (int, error) {
	var n int
	err := r.onConn(ctx, func(conn *pgx.Conn) (err error) {
		if n, err = r.round(ctx, conn, look); err != nil {
			return err
		}
		r.deleted += n
		if r.cfg.VacuumAfter > 0 && r.deleted >= r.cfg.VacuumAfter {
			r.deleted = 0
			r.vacuum(ctx, conn)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	r.m.published.Add(float64(n))
	return n, nil
}

// vacuum removes the rows the relay deleted. The outbox is a queue: rows
// are inserted at the end and deleted from the front, so every poll and
// every batch starts by stepping over the dead rows before the first live
// one. Autovacuum visits a database at most once a minute (autovacuum_naptime),
// and by then a busy outbox holds ten thousand dead rows or more: measured
// here under load, the relay's poll and batch DELETE read 350–600 pages each
// (up to 1.7 ms) within a minute. Vacuuming every VacuumAfter rows (about
// 2 ms each) keeps them at 20–75 pages.
//
// TRUNCATE false: giving back the empty tail would take an exclusive lock
// that stalls producers, and the space is reused anyway. SKIP_LOCKED: a
// vacuum already running elsewhere does the job. A relay whose role does not
// own the table gets a warning (logged through the connection's notice
// handler), not an error, and autovacuum stays the only cleaner.
func (r *Relay) vacuum(ctx context.Context, conn *pgx.Conn) {
	start := time.Now()
	if _, err := conn.Exec(ctx, "VACUUM (SKIP_LOCKED, TRUNCATE false) outbox, outbox_listeners"); err != nil {
		// Not worth failing a round that published: the next threshold
		// tries again.
		if ctx.Err() == nil {
			r.log.Warn("vacuum the outbox", "error", err.Error())
		}
		return
	}
	r.m.vacuumSeconds.Observe(time.Since(start).Seconds())
}

func (r *Relay) round(ctx context.Context, conn *pgx.Conn, look bool) (int, error) {
	if look {
		if ok, err := anyPending(ctx, conn); err != nil || !ok {
			return 0, err
		}
	}
	b := &pgx.Batch{}
	b.Queue("BEGIN")
	b.Queue(takeBatch, r.cfg.BatchSize, laneLockClass)
	br := conn.SendBatch(ctx, b)
	rows, err := takeRows(br)
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, fmt.Errorf("take outbox batch: %w", err)
	}
	if len(rows) > 0 {
		slices.SortFunc(rows, func(a, b row) int { return cmp.Compare(a.ID, b.ID) })
		msgs := make([]kafka.Message, len(rows))
		var spans []trace.Span
		for i, rw := range rows {
			e := rw.toEvent()
			if span := r.publishSpan(ctx, &e, rw.CreatedAt); span != nil {
				spans = append(spans, span)
			}
			msgs[i] = e.Message()
		}
		start := time.Now()
		err := r.pub.WriteMessages(ctx, msgs...)
		for _, span := range spans {
			if err != nil {
				span.SetStatus(codes.Error, err.Error())
			}
			span.End()
		}
		if err != nil {
			r.m.errors.Inc()
			return 0, fmt.Errorf("publish %d events: %w", len(msgs), err)
		}
		r.m.publishSeconds.Observe(time.Since(start).Seconds())
		now := time.Now()
		for _, rw := range rows {
			r.m.lag.Observe(now.Sub(rw.CreatedAt).Seconds())
		}
	}
	if _, err := conn.Exec(ctx, "COMMIT"); err != nil {
		return 0, fmt.Errorf("commit published batch: %w", err)
	}
	return len(rows), nil
}

// publishSpan starts the producer span of e when its trace is sampled, from
// the time its row was written to its broker acknowledgement (so the trace
// shows the time an event spent in the outbox), and makes e carry that
// span's traceparent. An event of an unsampled trace (or none) keeps the
// traceparent it was written with, and costs no span.
func (r *Relay) publishSpan(ctx context.Context, e *event.Event, written time.Time) trace.Span {
	parent, ok := tracing.Parse(e.Traceparent)
	if !ok || !parent.IsSampled() || r.cfg.Tracer == nil {
		return nil
	}
	_, span := r.cfg.Tracer.Start(trace.ContextWithRemoteSpanContext(ctx, parent), e.Topic+" publish",
		trace.WithSpanKind(trace.SpanKindProducer), trace.WithTimestamp(written),
		trace.WithAttributes(
			attribute.String("messaging.system", "kafka"),
			attribute.String("messaging.operation.type", "send"),
			attribute.String("messaging.destination.name", e.Topic),
			attribute.String("messaging.message.id", e.ID.String()),
			attribute.String("shop.event_type", e.Type),
		))
	e.Traceparent = tracing.Format(span.SpanContext())
	return span
}

func takeRows(br pgx.BatchResults) ([]row, error) {
	if _, err := br.Exec(); err != nil { // BEGIN
		return nil, err
	}
	res, err := br.Query()
	if err != nil {
		return nil, err
	}
	var out []row
	for res.Next() {
		var rw row
		if err := res.Scan(&rw.ID, &rw.Lane, &rw.Topic, &rw.MessageKey, &rw.EventID, &rw.EventType, &rw.SchemaVersion,
			&rw.OccurredAt, &rw.CorrelationID, &rw.CausationID, &rw.Traceparent, &rw.Payload, &rw.CreatedAt); err != nil {
			res.Close()
			return nil, err
		}
		out = append(out, rw)
	}
	return out, res.Err()
}

// onConn runs fn on the relay's connection, one caller at a time; a
// failure closes the connection (aborting any transaction on it), and the
// next call opens a new one.
func (r *Relay) onConn(ctx context.Context, fn func(*pgx.Conn) error) error {
	r.connMu.Lock()
	defer r.connMu.Unlock()
	conn, err := r.connection(ctx)
	if err != nil {
		return err
	}
	if err := fn(conn); err != nil {
		r.rollback(conn)
		r.closeConn()
		return err
	}
	return nil
}

// rollback ends the transaction a failed round left open on conn, if the
// connection still answers: that frees the round's lane locks at once. A
// closed connection's backend frees them only when it has exited, and until
// then the next round, on a new connection, finds its own lanes taken and
// skips them.
func (r *Relay) rollback(conn *pgx.Conn) {
	if conn.IsClosed() || conn.PgConn().TxStatus() == 'I' {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, _ = conn.Exec(ctx, "ROLLBACK")
}

// connection returns the relay's connection, opening it when needed.
func (r *Relay) connection(ctx context.Context) (*pgx.Conn, error) {
	if r.conn != nil && !r.conn.IsClosed() {
		return r.conn, nil
	}
	cfg, err := pgx.ParseConfig(r.dsn)
	if err != nil {
		return nil, fmt.Errorf("relay connection: %w", err)
	}
	cfg.RuntimeParams["synchronous_commit"] = "off"
	cfg.OnNotice = func(_ *pgconn.PgConn, n *pgconn.Notice) {
		r.log.Warn("outbox relay: notice from PostgreSQL", "severity", n.Severity, "message", n.Message)
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("relay connection: %w", err)
	}
	r.conn = conn
	return conn, nil
}

func (r *Relay) closeConn() {
	if r.conn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = r.conn.Close(ctx)
		r.conn = nil
	}
}

// listen holds a connection LISTENing on the outbox channel and wakes the
// relay on each notification, reconnecting with backoff when it drops.
func (r *Relay) listen(ctx context.Context) {
	bo := newBackoff(100*time.Millisecond, 5*time.Second)
	for ctx.Err() == nil {
		start := time.Now()
		err := r.listenOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		if time.Since(start) > time.Minute {
			bo.Reset() // it was up for a while: this is a new outage
		}
		wait := bo.NextBackOff()
		r.log.Warn("outbox listener lost; polling until it reconnects", "error", err.Error(), "retry_in", wait)
		sleep(ctx, wait)
	}
}

func (r *Relay) listenOnce(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, r.dsn)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+notifyChannel); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	r.signal() // rows may have been committed while we were not listening
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return fmt.Errorf("wait for notification: %w", err)
		}
		r.signal()
	}
}

func (r *Relay) signal() {
	select {
	case r.wake <- struct{}{}:
	default: // a wake-up is already pending; the relay will see these rows too
	}
}

type relayMetrics struct {
	published      prometheus.Counter
	errors         prometheus.Counter
	lag            prometheus.Histogram
	publishSeconds prometheus.Histogram
	vacuumSeconds  prometheus.Histogram
}

func newRelayMetrics(reg prometheus.Registerer) *relayMetrics {
	m := &relayMetrics{
		published: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "outbox_published_total", Help: "Events published from the outbox.",
		}),
		errors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "outbox_publish_errors_total", Help: "Failed outbox publishing rounds (retried).",
		}),
		lag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "outbox_commit_to_publish_seconds",
			Help:    "Time from writing an event to the outbox to its acknowledgement by the broker.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}),
		publishSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "outbox_publish_seconds",
			Help:    "Duration of one broker write of an outbox batch.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
		vacuumSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "outbox_vacuum_seconds",
			Help:    "Duration of the relay's own VACUUM of the outbox (see RelayConfig.VacuumAfter).",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
	}
	if reg != nil {
		reg.MustRegister(m.published, m.errors, m.lag, m.publishSeconds, m.vacuumSeconds)
	}
	return m
}

// newBackoff is exponential with ±50% jitter, capped at max.
func newBackoff(base, max time.Duration) *backoff.ExponentialBackOff {
	return &backoff.ExponentialBackOff{InitialInterval: base, RandomizationFactor: 0.5, Multiplier: 2, MaxInterval: max}
}

// sleep waits d or until ctx ends; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
