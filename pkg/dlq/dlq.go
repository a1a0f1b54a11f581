// Package dlq lists and replays a service's dead-lettered events.
//
// The dead-letter topic (<service>.dlq, one partition) is the record of
// failures: each message is the original, with headers naming where it came
// from and why it failed (see package consumer). Replay publishes it again
// to its original topic with the same event ID and key, so it lands on the
// same partition as the rest of its aggregate's events, and consumers that
// already handled it skip it.
package dlq

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"
	"gorm.io/gorm"

	"github.com/shop-oss/shop/pkg/broker"
	"github.com/shop-oss/shop/pkg/consumer"
	"github.com/shop-oss/shop/pkg/database"
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

// HeaderReplayedFrom marks a replayed message with the DLQ position it came from.
const HeaderReplayedFrom = "dlq-replayed-from"

// ErrNotFound is returned for an offset that is not in the DLQ.
var ErrNotFound = errors.New("no dead-lettered message at that offset")

// Entry is one dead-lettered message.
type Entry struct {
	Offset            int64        `json:"offset"`
	Key               string       `json:"key"`
	EventID           string       `json:"event_id"`
	EventType         string       `json:"event_type"`
	CorrelationID     string       `json:"correlation_id"`
	OriginalTopic     string       `json:"original_topic"`
	OriginalPartition int          `json:"original_partition"`
	OriginalOffset    int64        `json:"original_offset"`
	Error             string       `json:"error"`
	Attempts          int          `json:"attempts"`
	Consumer          string       `json:"consumer"`
	FailedAt          time.Time    `json:"failed_at"`
	Replays           []ReplayInfo `json:"replays"`
}

// ReplayInfo records one replay of an entry.
type ReplayInfo struct {
	At time.Time `json:"at"`
	By string    `json:"by"`
}

// Page is a slice of the DLQ; NextCursor is empty at the end.
type Page struct {
	Entries    []Entry `json:"entries"`
	NextCursor string  `json:"next_cursor,omitempty"`
}

// DLQ reads and replays one dead-letter topic.
type DLQ struct {
	db     *gorm.DB
	broker broker.Config
	topic  string
	writer *kafka.Writer
}

// New returns a DLQ over topic.
func New(db *gorm.DB, bc broker.Config, topic string) *DLQ {
	return &DLQ{db: db, broker: bc, topic: topic, writer: bc.Writer()}
}

// Close releases the replay producer.
func (d *DLQ) Close() error { return d.writer.Close() }

// Topic is the dead-letter topic.
func (d *DLQ) Topic() string { return d.topic }

// List returns up to limit entries from cursor (an offset; "" is the start).
func (d *DLQ) List(ctx context.Context, cursor string, limit int) (Page, error) {
	from := int64(0)
	if cursor != "" {
		n, err := strconv.ParseInt(cursor, 10, 64)
		if err != nil || n < 0 {
			return Page{}, fmt.Errorf("%w: cursor %q", ErrBadCursor, cursor)
		}
		from = n
	}
	msgs, last, err := d.read(ctx, from, limit)
	if err != nil {
		return Page{}, err
	}
	page := Page{Entries: make([]Entry, 0, len(msgs))}
	for _, m := range msgs {
		page.Entries = append(page.Entries, toEntry(m))
	}
	if err := d.attachReplays(ctx, page.Entries); err != nil {
		return Page{}, err
	}
	if n := len(msgs); n > 0 && msgs[n-1].Offset+1 < last {
		page.NextCursor = strconv.FormatInt(msgs[n-1].Offset+1, 10)
	}
	return page, nil
}

// ErrBadCursor is returned for a cursor that is not an offset.
var ErrBadCursor = errors.New("invalid cursor")

// Replay publishes the entry at offset to its original topic and records who
// did it. It returns the replayed entry.
func (d *DLQ) Replay(ctx context.Context, offset int64, by string) (Entry, error) {
	msgs, _, err := d.read(ctx, offset, 1)
	if err != nil {
		return Entry{}, err
	}
	if len(msgs) == 0 || msgs[0].Offset != offset {
		return Entry{}, fmt.Errorf("replay %s@%d: %w", d.topic, offset, ErrNotFound)
	}
	m := msgs[0]
	entry := toEntry(m)
	if entry.OriginalTopic == "" {
		return Entry{}, fmt.Errorf("replay %s@%d: message has no %s header", d.topic, offset, consumer.HeaderDLQTopic)
	}
	headers := make([]kafka.Header, 0, len(m.Headers))
	for _, h := range m.Headers {
		if !strings.HasPrefix(h.Key, "dlq-") {
			headers = append(headers, h)
		}
	}
	headers = append(headers, kafka.Header{Key: HeaderReplayedFrom, Value: []byte(d.topic + "@" + strconv.FormatInt(offset, 10))})
	if err := d.writer.WriteMessages(ctx, kafka.Message{Topic: entry.OriginalTopic, Key: m.Key, Value: m.Value, Headers: headers}); err != nil {
		return Entry{}, fmt.Errorf("replay %s@%d to %s: %w", d.topic, offset, entry.OriginalTopic, err)
	}
	err = d.db.WithContext(ctx).Exec("INSERT INTO dead_letter_replays (dlq_topic, dlq_offset, replayed_by) VALUES (?, ?, ?)",
		d.topic, offset, by).Error
	if err != nil {
		// The replay happened; only its record is missing. Say so.
		return entry, fmt.Errorf("replayed %s@%d but could not record it: %w", d.topic, offset, err)
	}
	entries := []Entry{entry}
	if err := d.attachReplays(ctx, entries); err != nil {
		return entry, nil // the replay and its record are done; only the history is missing
	}
	return entries[0], nil
}

func (d *DLQ) attachReplays(ctx context.Context, entries []Entry) error {
	if len(entries) == 0 {
		return nil
	}
	offsets := make(database.Int64Array, len(entries))
	byOffset := make(map[int64]*Entry, len(entries))
	for i := range entries {
		offsets[i] = entries[i].Offset
		entries[i].Replays = []ReplayInfo{}
		byOffset[entries[i].Offset] = &entries[i]
	}
	var rows []struct {
		DLQOffset  int64
		ReplayedAt time.Time
		ReplayedBy string
	}
	err := d.db.WithContext(ctx).Raw(`SELECT dlq_offset, replayed_at, replayed_by FROM dead_letter_replays
		WHERE dlq_topic = ? AND dlq_offset = ANY(?::bigint[]) ORDER BY replayed_at`, d.topic, offsets).Scan(&rows).Error
	if err != nil {
		return fmt.Errorf("load replays: %w", err)
	}
	for _, r := range rows {
		e := byOffset[r.DLQOffset]
		e.Replays = append(e.Replays, ReplayInfo{At: r.ReplayedAt, By: r.ReplayedBy})
	}
	return nil
}

// read returns up to limit messages from offset, and the partition's end
// offset. It reads the leader of partition 0 directly, without a group.
func (d *DLQ) read(ctx context.Context, from int64, limit int) ([]kafka.Message, int64, error) {
	conn, err := d.dial(ctx)
	if err != nil {
		return nil, 0, err
	}
	defer conn.Close()
	deadline := time.Now().Add(10 * time.Second)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	_ = conn.SetDeadline(deadline)
	first, last, err := conn.ReadOffsets()
	if err != nil {
		return nil, 0, fmt.Errorf("read %s offsets: %w", d.topic, err)
	}
	from = max(from, first)
	if from >= last || limit <= 0 {
		return nil, last, nil
	}
	if _, err := conn.Seek(from, kafka.SeekAbsolute); err != nil {
		return nil, 0, fmt.Errorf("seek %s to %d: %w", d.topic, from, err)
	}
	batch := conn.ReadBatch(1, 10<<20)
	defer batch.Close()
	var out []kafka.Message
	for len(out) < limit {
		m, err := batch.ReadMessage()
		if err != nil {
			break // end of this fetch; the cursor continues from here
		}
		if m.Offset < from {
			continue
		}
		out = append(out, m)
		if m.Offset+1 >= last {
			break
		}
	}
	return out, last, nil
}

func (d *DLQ) dial(ctx context.Context) (*kafka.Conn, error) {
	dialer := d.broker.Dialer(5 * time.Second)
	var errs []error
	for _, addr := range d.broker.Brokers {
		conn, err := dialer.DialLeader(ctx, "tcp", addr, d.topic, 0)
		if err == nil {
			return conn, nil
		}
		errs = append(errs, err)
	}
	return nil, fmt.Errorf("connect to the leader of %s: %w", d.topic, errors.Join(errs...))
}

func toEntry(m kafka.Message) Entry {
	h := map[string]string{}
	for _, hd := range m.Headers {
		h[hd.Key] = string(hd.Value)
	}
	e := Entry{
		Offset:        m.Offset,
		Key:           string(m.Key),
		EventID:       h["event-id"],
		EventType:     h["event-type"],
		CorrelationID: h["correlation-id"],
		OriginalTopic: h[consumer.HeaderDLQTopic],
		Error:         h[consumer.HeaderDLQError],
		Consumer:      h[consumer.HeaderDLQConsumer],
	}
	e.OriginalPartition, _ = strconv.Atoi(h[consumer.HeaderDLQPartition])
	e.OriginalOffset, _ = strconv.ParseInt(h[consumer.HeaderDLQOffset], 10, 64)
	e.Attempts, _ = strconv.Atoi(h[consumer.HeaderDLQAttempts])
	e.FailedAt, _ = time.Parse(time.RFC3339Nano, h[consumer.HeaderDLQFailedAt])
	return e
}
