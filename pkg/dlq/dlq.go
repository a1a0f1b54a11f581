// Package dlq lists and replays a service's dead-lettered events.
//
// The dead-letter topic (<service>.dlq, one partition) is the record of
// failures: each message is the original, with headers naming where it came
// from and why it failed (see package consumer). An entry is shown with its
// headers and its payload decoded from the event contract, and can be found
// by cause, event type, order or topic.
//
// Replay publishes an entry again to the service's retry topic
// (<service>.retry), which only the service's own consumer group reads: the
// consumer that failed gets the event again, and no other consumer does.
// The event keeps its ID, key and envelope, so a consumer that handled it
// meanwhile skips it; only the envelope headers travel (see Replay). An
// entry that replay cannot fix is refused (ErrNotReplayable): a malformed
// event, a schema version the consumer does not understand, a payload cut
// to fit the size limit, an event of a topic the service does not read.
// Every replay is recorded in dead_letter_replays (who, which entry and
// event, where to, when, within which request, and whether the broker took
// it).
package dlq

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"time"

	"github.com/segmentio/kafka-go"
	"go.opentelemetry.io/otel/trace"
	"gorm.io/gorm"

	"github.com/shop-oss/shop/pkg/broker"
	"github.com/shop-oss/shop/pkg/tracing"
	"github.com/shop-oss/shop/proto-events/eventsv1"
)

//go:embed migrations/*.sql
var migrations embed.FS

// MigrationsTable records which DLQ migrations ran.
const MigrationsTable = "dlq_schema_migrations"

// Migrations returns the SQL migrations of the replay log.
func Migrations() fs.FS {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		panic(err) // the embedded directory is fixed at compile time
	}
	return sub
}

// Errors of the DLQ.
var (
	// ErrNotFound is returned for an offset that is not in the DLQ.
	ErrNotFound = errors.New("no dead-lettered message at that offset")
	// ErrBadCursor is returned for a cursor that is not an offset.
	ErrBadCursor = errors.New("invalid cursor")
	// ErrNotReplayable is returned for an entry that replay cannot fix.
	ErrNotReplayable = errors.New("dead letter cannot be replayed")
)

// Options describe the service whose dead letters a DLQ holds.
type Options struct {
	// Topic is the dead-letter topic (<service>.dlq).
	Topic string
	// Groups are the service's consumer groups that dead-letter to Topic,
	// each with the topics it reads. An entry is replayed to the retry
	// topic of the group that dead-lettered it (its dlq-consumer header),
	// consumer.RetryTopic(group), which only that group reads; an entry of
	// another group, or whose event came from a topic its group does not
	// read, is refused. None (a service that consumes nothing): nothing
	// can be replayed.
	Groups map[string][]string
	// MaxSchemaVersion is the newest envelope version the consumer
	// understands (default eventsv1.SchemaVersion).
	MaxSchemaVersion int
	// Tracer starts a producer span per replayed entry (package tracing),
	// linked to the event's original trace; nil records none.
	Tracer trace.Tracer
}

// DLQ reads and replays one service's dead-letter topic.
type DLQ struct {
	db     *gorm.DB
	broker broker.Config
	opts   Options
	writer *kafka.Writer
}

// New returns the DLQ of the service opts describe.
func New(db *gorm.DB, bc broker.Config, opts Options) *DLQ {
	if opts.MaxSchemaVersion <= 0 {
		opts.MaxSchemaVersion = eventsv1.SchemaVersion
	}
	opts.Tracer = tracing.TracerOr(opts.Tracer)
	return &DLQ{db: db, broker: bc, opts: opts, writer: bc.Writer()}
}

// Close releases the replay producer.
func (d *DLQ) Close() error { return d.writer.Close() }

// Topic is the dead-letter topic.
func (d *DLQ) Topic() string { return d.opts.Topic }

// Page is a slice of the DLQ: the entries that match a filter, oldest
// first. NextCursor is where the next page starts, empty at the end of the
// topic; a page may hold fewer entries than asked (none, even) when the
// scan stopped at its bound before the end.
type Page struct {
	Entries    []Entry `json:"entries"`
	NextCursor string  `json:"next_cursor,omitempty"`
}

// maxScan bounds the messages one List or filtered Replay reads, so that a
// filter that matches little cannot make a request read the whole topic:
// the caller continues from NextCursor.
const maxScan = 5000

// List returns up to limit entries that match f, from cursor (an offset;
// "" is the start).
func (d *DLQ) List(ctx context.Context, cursor string, limit int, f Filter) (Page, error) {
	entries, next, err := d.find(ctx, cursor, limit, f)
	if err != nil {
		return Page{}, err
	}
	return Page{Entries: entries, NextCursor: next}, nil
}

// Get returns the entry at offset.
func (d *DLQ) Get(ctx context.Context, offset int64) (Entry, error) {
	msgs, err := d.readOffsets(ctx, []int64{offset})
	if err != nil {
		return Entry{}, err
	}
	m, ok := msgs[offset]
	if !ok {
		return Entry{}, fmt.Errorf("%s@%d: %w", d.opts.Topic, offset, ErrNotFound)
	}
	entries := []Entry{d.toEntry(m)}
	if err := d.attachReplays(ctx, entries); err != nil {
		return Entry{}, err
	}
	return entries[0], nil
}

// find scans the topic from cursor for up to limit entries that match f,
// reading at most maxScan messages, and returns them with the cursor to
// continue from ("" at the end). The entries carry their replays.
func (d *DLQ) find(ctx context.Context, cursor string, limit int, f Filter) ([]Entry, string, error) {
	from, err := parseCursor(cursor)
	if err != nil {
		return nil, "", err
	}
	conn, first, last, err := d.open(ctx)
	if err != nil {
		return nil, "", err
	}
	defer conn.Close()
	from = max(from, first)
	out := []Entry{}
	scanned := 0
	for from < last && len(out) < limit && scanned < maxScan {
		msgs, err := d.fetch(conn, from)
		if err != nil {
			return nil, "", err
		}
		if len(msgs) == 0 {
			break
		}
		chunk := make([]Entry, 0, len(msgs))
		for _, m := range msgs {
			chunk = append(chunk, d.toEntry(m))
		}
		if err := d.attachReplays(ctx, chunk); err != nil {
			return nil, "", err
		}
		for _, e := range chunk {
			scanned++
			from = e.Offset + 1
			if f.match(e) {
				out = append(out, e)
			}
			if len(out) == limit || scanned == maxScan {
				break
			}
		}
	}
	next := ""
	if from < last {
		next = strconv.FormatInt(from, 10)
	}
	return out, next, nil
}

func parseCursor(cursor string) (int64, error) {
	if cursor == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(cursor, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%w: %q is not an offset", ErrBadCursor, cursor)
	}
	return n, nil
}

// readOffsets returns the messages at offsets, by offset; an offset not in
// the topic is absent from the map.
func (d *DLQ) readOffsets(ctx context.Context, offsets []int64) (map[int64]kafka.Message, error) {
	conn, first, last, err := d.open(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	want := make(map[int64]bool, len(offsets))
	for _, o := range offsets {
		if o >= first && o < last {
			want[o] = true
		}
	}
	found := make(map[int64]kafka.Message, len(want))
	for _, o := range offsets {
		if !want[o] {
			continue
		}
		if _, done := found[o]; done {
			continue
		}
		msgs, err := d.fetch(conn, o)
		if err != nil {
			return nil, err
		}
		for _, m := range msgs {
			if want[m.Offset] {
				found[m.Offset] = m
			}
		}
	}
	return found, nil
}

// open connects to the leader of the topic's partition 0 (DLQ topics have
// one) and returns its first and end offsets. The connection's deadline is
// ctx's, or 10 s.
func (d *DLQ) open(ctx context.Context) (*kafka.Conn, int64, int64, error) {
	dialer := d.broker.Dialer(5 * time.Second)
	var errs []error
	var conn *kafka.Conn
	for _, addr := range d.broker.Brokers {
		c, err := dialer.DialLeader(ctx, "tcp", addr, d.opts.Topic, 0)
		if err == nil {
			conn = c
			break
		}
		errs = append(errs, err)
	}
	if conn == nil {
		return nil, 0, 0, fmt.Errorf("connect to the leader of %s: %w", d.opts.Topic, errors.Join(errs...))
	}
	deadline := time.Now().Add(10 * time.Second)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	_ = conn.SetDeadline(deadline)
	first, last, err := conn.ReadOffsets()
	if err != nil {
		_ = conn.Close()
		return nil, 0, 0, fmt.Errorf("read %s offsets: %w", d.opts.Topic, err)
	}
	return conn, first, last, nil
}

// fetch reads one fetch's worth of messages from offset from: at least
// the message there (a fetch returns the first batch whatever its size).
func (d *DLQ) fetch(conn *kafka.Conn, from int64) ([]kafka.Message, error) {
	if _, err := conn.Seek(from, kafka.SeekAbsolute); err != nil {
		return nil, fmt.Errorf("seek %s to %d: %w", d.opts.Topic, from, err)
	}
	batch := conn.ReadBatch(1, d.broker.MessageLimit())
	var out []kafka.Message
	for {
		m, err := batch.ReadMessage()
		if err != nil {
			break // the end of this fetch
		}
		if m.Offset >= from {
			out = append(out, m)
		}
	}
	if err := batch.Close(); err != nil && len(out) == 0 {
		return nil, fmt.Errorf("read %s from %d: %w", d.opts.Topic, from, err)
	}
	return out, nil
}
