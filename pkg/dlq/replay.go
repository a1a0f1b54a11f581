package dlq

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/segmentio/kafka-go"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/shop-oss/shop/pkg/consumer"
	"github.com/shop-oss/shop/pkg/database"
	"github.com/shop-oss/shop/pkg/tracing"
	"github.com/shop-oss/shop/proto-events/eventsv1"
)

// Statuses of a Result.
const (
	StatusReplayed    = "replayed"     // published to the retry topic
	StatusWouldReplay = "would_replay" // a dry run found it replayable
	StatusRefused     = "refused"      // replay cannot fix it (ErrNotReplayable)
	StatusNotFound    = "not_found"    // no entry at that offset
	StatusFailed      = "failed"       // the broker did not take it
)

// MaxReplay bounds the entries one Replay handles.
const MaxReplay = 500

// Request says which entries to replay: those at Offsets, or (Offsets
// empty) up to Limit entries matching Filter from Cursor.
type Request struct {
	Offsets []int64
	Filter  Filter
	Cursor  string
	Limit   int
	// DryRun checks the entries and publishes nothing.
	DryRun bool
	// By is who asks (the admin's user ID); RequestID is the HTTP
	// request's ID, to find the replays of one request in the audit log.
	By, RequestID string
}

// Result is what became of one entry.
type Result struct {
	Offset      int64  `json:"offset"`
	EventID     string `json:"event_id,omitempty"`
	EventType   string `json:"event_type,omitempty"`
	Status      string `json:"status"`
	Reason      string `json:"reason,omitempty"`
	TargetTopic string `json:"target_topic,omitempty"`
	ReplayID    string `json:"replay_id,omitempty"`
}

// Outcome is a Replay's results, in offset order, with their count by
// status; NextCursor continues a replay by filter ("" at the end).
type Outcome struct {
	DryRun     bool           `json:"dry_run"`
	Results    []Result       `json:"results"`
	Counts     map[string]int `json:"counts"`
	NextCursor string         `json:"next_cursor,omitempty"`
}

// Replay publishes the requested entries to the retry topic of the group
// that failed each (see the package comment), or with DryRun says what it would do. An entry that
// cannot be replayed, or is not there, is reported in its Result; the
// others are published. Each published entry has an audit row, written
// before it is published and completed after.
//
// Only the envelope headers travel again (event-id, event-type,
// schema-version, occurred-at, correlation-id, causation-id, traceparent),
// with three of the replay's own: consumer.HeaderReplayedFrom (the DLQ
// position), consumer.HeaderReplayedTopic (the event's topic) and
// consumer.HeaderReplayID (its audit row). The traceparent becomes the
// replay's (a span in the trace of the request that asked), and the
// event's own travels in consumer.HeaderReplayedTraceparent: the replay's
// spans link to the original trace. Dropped: the dlq-* headers of
// the failure (they describe an attempt that is over, and a replay that
// failed again would carry two sets), the marks of an earlier replay, and
// any header outside the envelope, which no consumer reads and which a
// producer off the contract could otherwise pass on.
func (d *DLQ) Replay(ctx context.Context, req Request) (Outcome, error) {
	var (
		entries []Entry
		next    string
		results = []Result{}
	)
	if len(req.Offsets) > 0 {
		if len(req.Offsets) > MaxReplay {
			return Outcome{}, fmt.Errorf("replay %d entries: at most %d at once", len(req.Offsets), MaxReplay)
		}
		offsets := slices.Clone(req.Offsets)
		slices.Sort(offsets)
		offsets = slices.Compact(offsets)
		msgs, err := d.readOffsets(ctx, offsets)
		if err != nil {
			return Outcome{}, err
		}
		for _, o := range offsets {
			m, ok := msgs[o]
			if !ok {
				results = append(results, Result{Offset: o, Status: StatusNotFound, Reason: ErrNotFound.Error()})
				continue
			}
			entries = append(entries, d.toEntry(m))
		}
	} else {
		limit := req.Limit
		if limit <= 0 || limit > MaxReplay {
			limit = MaxReplay
		}
		var err error
		if entries, next, err = d.find(ctx, req.Cursor, limit, req.Filter); err != nil {
			return Outcome{}, err
		}
	}

	var todo []Entry
	for _, e := range entries {
		r := Result{Offset: e.Offset, EventID: e.EventID, EventType: e.EventType}
		switch {
		case !e.Replayable:
			r.Status, r.Reason = StatusRefused, e.NotReplayable
		case req.DryRun:
			r.Status, r.TargetTopic = StatusWouldReplay, e.ReplayTopic
		default:
			todo = append(todo, e)
			continue
		}
		results = append(results, r)
	}
	published, err := d.publish(ctx, todo, req.By, req.RequestID)
	if err != nil {
		return Outcome{}, err
	}
	results = append(results, published...)
	slices.SortFunc(results, func(a, b Result) int { return int(a.Offset - b.Offset) })
	out := Outcome{DryRun: req.DryRun, Results: results, Counts: map[string]int{}, NextCursor: next}
	for _, r := range results {
		out.Counts[r.Status]++
	}
	return out, nil
}

// ReplayOne replays the entry at offset (see Replay). It returns an error
// wrapping ErrNotFound or ErrNotReplayable when the entry is not there or
// cannot be replayed, and one that says so when the broker did not take it.
func (d *DLQ) ReplayOne(ctx context.Context, offset int64, dryRun bool, by, requestID string) (Result, error) {
	out, err := d.Replay(ctx, Request{Offsets: []int64{offset}, DryRun: dryRun, By: by, RequestID: requestID})
	if err != nil {
		return Result{}, err
	}
	r := out.Results[0]
	switch r.Status {
	case StatusNotFound:
		return r, fmt.Errorf("%s@%d: %w", d.opts.Topic, offset, ErrNotFound)
	case StatusRefused:
		return r, refusal{reason: r.Reason}
	case StatusFailed:
		return r, fmt.Errorf("replay %s@%d to %s: %s", d.opts.Topic, offset, r.TargetTopic, r.Reason)
	}
	return r, nil
}

// refusal is the error of a refused single replay: its reason (which
// begins with ErrNotReplayable's text), matching ErrNotReplayable.
type refusal struct{ reason string }

func (r refusal) Error() string        { return r.reason }
func (r refusal) Is(target error) bool { return target == ErrNotReplayable }

// publish writes the audit rows of entries (pending), publishes them to
// the retry topic in one call, and completes the rows with what the broker
// said.
func (d *DLQ) publish(ctx context.Context, entries []Entry, by, requestID string) ([]Result, error) {
	if len(entries) == 0 {
		return nil, nil
	}
	results := make([]Result, len(entries))
	msgs := make([]kafka.Message, len(entries))
	rows := make([]auditRow, len(entries))
	spans := make([]trace.Span, 0, len(entries))
	defer func() {
		for _, span := range spans {
			span.End()
		}
	}()
	for i, e := range entries {
		id, err := uuid.NewV7()
		if err != nil {
			return nil, fmt.Errorf("replay id: %w", err)
		}
		original := headerValue(e.msg.Headers, eventsv1.HeaderTraceparent)
		span := d.replaySpan(ctx, e, original, id.String())
		spans = append(spans, span)
		headers := append(withTraceparent(envelope(e.msg.Headers), tracing.Format(span.SpanContext())),
			kafka.Header{Key: consumer.HeaderReplayedFrom, Value: []byte(d.opts.Topic + "@" + strconv.FormatInt(e.Offset, 10))},
			kafka.Header{Key: consumer.HeaderReplayedTopic, Value: []byte(e.SourceTopic)},
			kafka.Header{Key: consumer.HeaderReplayID, Value: []byte(id.String())},
		)
		if original != "" {
			headers = append(headers, kafka.Header{Key: consumer.HeaderReplayedTraceparent, Value: []byte(original)})
		}
		msgs[i] = kafka.Message{Topic: e.ReplayTopic, Key: e.msg.Key, Value: e.msg.Value, Headers: headers}
		rows[i] = auditRow{ReplayID: id.String(), DLQTopic: d.opts.Topic, DLQOffset: e.Offset, ReplayedBy: by,
			EventID: e.EventID, EventType: e.EventType, TargetTopic: e.ReplayTopic, RequestID: requestID, Outcome: "pending"}
		results[i] = Result{Offset: e.Offset, EventID: e.EventID, EventType: e.EventType, TargetTopic: e.ReplayTopic, ReplayID: id.String()}
	}
	if err := d.db.WithContext(ctx).Table("dead_letter_replays").Create(&rows).Error; err != nil {
		return nil, fmt.Errorf("record %d replays before publishing them: %w", len(rows), err)
	}

	// The writer's context outlives the request: once asked, the replay
	// and its row's completion go through even if the client leaves.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	err := d.writer.WriteMessages(wctx, msgs...)
	var perMessage kafka.WriteErrors
	if !errors.As(err, &perMessage) || len(perMessage) != len(msgs) {
		perMessage = make(kafka.WriteErrors, len(msgs))
		for i := range perMessage {
			perMessage[i] = err // nil, or one error for the whole call
		}
	}
	var published, failed database.TextArray
	var failures database.TextArray
	for i, werr := range perMessage {
		if werr != nil {
			results[i].Status, results[i].Reason = StatusFailed, werr.Error()
			failed = append(failed, rows[i].ReplayID)
			failures = append(failures, werr.Error())
			continue
		}
		results[i].Status = StatusReplayed
		published = append(published, rows[i].ReplayID)
	}
	db := d.db.WithContext(wctx)
	if len(published) > 0 {
		if err := db.Exec(`UPDATE dead_letter_replays SET outcome = 'published' WHERE replay_id = ANY(?::uuid[])`, published).Error; err != nil {
			return results, fmt.Errorf("replayed %d entries but could not record it (their rows say pending): %w", len(published), err)
		}
	}
	if len(failed) > 0 {
		err := db.Exec(`UPDATE dead_letter_replays AS r SET outcome = 'failed', error = f.error
			FROM unnest(?::uuid[], ?::text[]) AS f(id, error) WHERE r.replay_id = f.id`, failed, failures).Error
		if err != nil {
			return results, fmt.Errorf("record %d failed replays: %w", len(failed), err)
		}
	}
	return results, nil
}

// replaySpan starts the producer span of one replay, in the trace of the
// request that asked for it, linked to the trace the event was first
// handled in (original, its traceparent when it was dead-lettered). The
// replayed message carries this span's traceparent, and the original in
// consumer.HeaderReplayedTraceparent, so the handling links to both.
func (d *DLQ) replaySpan(ctx context.Context, e Entry, original, replayID string) trace.Span {
	var opts []trace.SpanStartOption
	if sc, ok := tracing.Parse(original); ok {
		opts = append(opts, trace.WithLinks(trace.Link{SpanContext: sc, Attributes: []attribute.KeyValue{
			attribute.String("shop.link", "the dead-lettered event's trace")}}))
	}
	opts = append(opts, trace.WithSpanKind(trace.SpanKindProducer))
	_, span := d.opts.Tracer.Start(ctx, e.ReplayTopic+" publish", opts...)
	if span.IsRecording() {
		span.SetAttributes(
			attribute.String("messaging.system", "kafka"),
			attribute.String("messaging.destination.name", e.ReplayTopic),
			attribute.String("messaging.message.id", e.EventID),
			attribute.String("shop.event_type", e.EventType),
			attribute.String("shop.dlq", d.opts.Topic+"@"+strconv.FormatInt(e.Offset, 10)),
			attribute.String("shop.replay_id", replayID),
		)
	}
	return span
}

// withTraceparent is hs with its traceparent replaced by tp.
func withTraceparent(hs []kafka.Header, tp string) []kafka.Header {
	out := hs[:0]
	for _, h := range hs {
		if h.Key != eventsv1.HeaderTraceparent {
			out = append(out, h)
		}
	}
	return append(out, kafka.Header{Key: eventsv1.HeaderTraceparent, Value: []byte(tp)})
}

func headerValue(hs []kafka.Header, key string) string {
	for _, h := range hs {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}

// auditRow is a row of dead_letter_replays.
type auditRow struct {
	ReplayID    string `gorm:"column:replay_id"`
	DLQTopic    string `gorm:"column:dlq_topic"`
	DLQOffset   int64  `gorm:"column:dlq_offset"`
	ReplayedBy  string `gorm:"column:replayed_by"`
	EventID     string `gorm:"column:event_id"`
	EventType   string `gorm:"column:event_type"`
	TargetTopic string `gorm:"column:target_topic"`
	RequestID   string `gorm:"column:request_id"`
	Outcome     string `gorm:"column:outcome"`
}

// attachReplays sets each entry's Replays from the audit log.
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
		DLQOffset   int64
		ReplayID    *string
		ReplayedAt  time.Time
		ReplayedBy  string
		TargetTopic string
		RequestID   string
		Outcome     string
	}
	err := d.db.WithContext(ctx).Raw(`SELECT dlq_offset, replay_id::text, replayed_at, replayed_by, target_topic, request_id, outcome
		FROM dead_letter_replays WHERE dlq_topic = ? AND dlq_offset = ANY(?::bigint[]) ORDER BY replayed_at, replay_id`,
		d.opts.Topic, offsets).Scan(&rows).Error
	if err != nil {
		return fmt.Errorf("load replays: %w", err)
	}
	for _, r := range rows {
		info := ReplayInfo{At: r.ReplayedAt, By: r.ReplayedBy, TargetTopic: r.TargetTopic, RequestID: r.RequestID, Outcome: r.Outcome}
		if r.ReplayID != nil {
			info.ID = *r.ReplayID
		}
		e := byOffset[r.DLQOffset]
		e.Replays = append(e.Replays, info)
	}
	return nil
}
