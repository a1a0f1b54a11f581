package dlq

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/segmentio/kafka-go"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/shop-oss/shop/pkg/consumer"
	"github.com/shop-oss/shop/pkg/event"
	"github.com/shop-oss/shop/proto-events/eventsv1"
)

// CauseUnknown is the cause of an entry dead-lettered before causes were
// recorded (no consumer.HeaderDLQCause).
const CauseUnknown = "unknown"

// Entry is one dead-lettered message, as the admin API shows it.
type Entry struct {
	Offset        int64      `json:"offset"`
	Key           string     `json:"key"`
	EventID       string     `json:"event_id"`
	EventType     string     `json:"event_type"`
	SchemaVersion int        `json:"schema_version"`
	OccurredAt    *time.Time `json:"occurred_at,omitempty"`
	CorrelationID string     `json:"correlation_id"`
	CausationID   string     `json:"causation_id,omitempty"`
	// OriginalTopic, -Partition and -Offset are where the consumer read
	// the message: an event topic, or the retry topic for a replay that
	// failed again.
	OriginalTopic     string `json:"original_topic"`
	OriginalPartition int    `json:"original_partition"`
	OriginalOffset    int64  `json:"original_offset"`
	// SourceTopic is the topic the event was published to: OriginalTopic,
	// or for a replay the topic its event first came from.
	SourceTopic string    `json:"source_topic"`
	Cause       string    `json:"cause"`
	Error       string    `json:"error"`
	Attempts    int       `json:"attempts"`
	Consumer    string    `json:"consumer"`
	FailedAt    time.Time `json:"failed_at"`
	// Truncated says the payload was cut to fit the message size limit;
	// PayloadBytes is then the original payload's size.
	Truncated    bool     `json:"truncated"`
	PayloadBytes int      `json:"payload_bytes"`
	Headers      []Header `json:"headers"`
	Payload      Payload  `json:"payload"`
	// Replayable says whether Replay would publish the entry, and
	// ReplayTopic where to (the retry topic of the group that failed it);
	// when not, NotReplayable says why.
	Replayable    bool         `json:"replayable"`
	ReplayTopic   string       `json:"replay_topic,omitempty"`
	NotReplayable string       `json:"not_replayable,omitempty"`
	Replays       []ReplayInfo `json:"replays"`

	msg kafka.Message
}

// Header is one Kafka header of the message, in order.
type Header struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Payload is the message's value decoded from the event contract
// (proto-events) as JSON, with the proto field names; when it does not
// decode, Error says why and Base64 is the raw value.
type Payload struct {
	JSON   json.RawMessage `json:"json,omitempty"`
	Error  string          `json:"error,omitempty"`
	Base64 []byte          `json:"base64,omitempty"`
}

// ReplayInfo records one replay of an entry.
type ReplayInfo struct {
	ID          string    `json:"id,omitempty"`
	At          time.Time `json:"at"`
	By          string    `json:"by"`
	TargetTopic string    `json:"target_topic,omitempty"`
	RequestID   string    `json:"request_id,omitempty"`
	// Outcome is published, failed, or pending (the process stopped
	// between writing the row and hearing from the broker).
	Outcome string `json:"outcome"`
}

// Filter selects entries; a zero field matches everything.
type Filter struct {
	// Cause is a consumer.Cause* value, or CauseUnknown.
	Cause     string `json:"cause,omitempty" form:"cause" validate:"omitempty,oneof=malformed unknown-schema rejected retries-exhausted unknown"`
	EventType string `json:"event_type,omitempty" form:"event_type" validate:"omitempty,max=100"`
	// OrderID matches the message key or the correlation ID (an order's
	// ID through the saga).
	OrderID string `json:"order_id,omitempty" form:"order_id" validate:"omitempty,max=100"`
	// Topic matches the source topic.
	Topic string `json:"topic,omitempty" form:"topic" validate:"omitempty,max=249"`
	// Replayed: true, only entries replayed before; false, only the others.
	Replayed *bool `json:"replayed,omitempty" form:"replayed"`
}

func (f Filter) match(e Entry) bool {
	switch {
	case f.Cause != "" && e.Cause != f.Cause,
		f.EventType != "" && e.EventType != f.EventType,
		f.OrderID != "" && e.Key != f.OrderID && e.CorrelationID != f.OrderID,
		f.Topic != "" && e.SourceTopic != f.Topic,
		f.Replayed != nil && *f.Replayed != (len(e.Replays) > 0):
		return false
	}
	return true
}

// toEntry reads a DLQ message: its headers, its payload decoded, and
// whether it can be replayed.
func (d *DLQ) toEntry(m kafka.Message) Entry {
	h := map[string]string{}
	e := Entry{Offset: m.Offset, Key: string(m.Key), Headers: make([]Header, 0, len(m.Headers)), Replays: []ReplayInfo{}, msg: m}
	for _, hd := range m.Headers {
		h[hd.Key] = string(hd.Value)
		e.Headers = append(e.Headers, Header{Key: hd.Key, Value: string(hd.Value)})
	}
	e.EventID = h[eventsv1.HeaderEventID]
	e.EventType = h[eventsv1.HeaderEventType]
	e.SchemaVersion, _ = strconv.Atoi(h[eventsv1.HeaderSchemaVersion])
	if t, err := time.Parse(time.RFC3339Nano, h[eventsv1.HeaderOccurredAt]); err == nil {
		e.OccurredAt = &t
	}
	e.CorrelationID = h[eventsv1.HeaderCorrelationID]
	e.CausationID = h[eventsv1.HeaderCausationID]
	e.OriginalTopic = h[consumer.HeaderDLQTopic]
	e.OriginalPartition, _ = strconv.Atoi(h[consumer.HeaderDLQPartition])
	e.OriginalOffset, _ = strconv.ParseInt(h[consumer.HeaderDLQOffset], 10, 64)
	e.SourceTopic = e.OriginalTopic
	if t := h[consumer.HeaderReplayedTopic]; t != "" {
		e.SourceTopic = t
	}
	e.Cause = h[consumer.HeaderDLQCause]
	if e.Cause == "" {
		e.Cause = CauseUnknown
	}
	e.Error = h[consumer.HeaderDLQError]
	e.Attempts, _ = strconv.Atoi(h[consumer.HeaderDLQAttempts])
	e.Consumer = h[consumer.HeaderDLQConsumer]
	e.FailedAt, _ = time.Parse(time.RFC3339Nano, h[consumer.HeaderDLQFailedAt])
	e.PayloadBytes = len(m.Value)
	if n, ok := h[consumer.HeaderDLQTruncated]; ok {
		e.Truncated = true
		e.PayloadBytes, _ = strconv.Atoi(n)
	}
	e.Payload = decodePayload(e.EventType, m.Value, e.Truncated)
	if err := d.check(e); err != nil {
		e.NotReplayable = err.Error()
	} else {
		e.Replayable, e.ReplayTopic = true, consumer.RetryTopic(e.Consumer)
	}
	return e
}

// decodePayload renders a payload of eventType as JSON with the proto
// field names.
func decodePayload(eventType string, value []byte, truncated bool) Payload {
	fail := func(why string) Payload { return Payload{Error: why, Base64: value} }
	if truncated {
		return fail("the payload was cut to fit the message size limit")
	}
	msg, err := event.Event{Type: eventType, Payload: value}.Decode()
	if err != nil {
		return fail(err.Error())
	}
	out, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(msg)
	if err != nil {
		return fail(fmt.Sprintf("render %s as JSON: %v", eventType, err))
	}
	return Payload{JSON: out}
}

// check says why replay cannot fix the entry, or nil when it can: the
// checks the consumer makes, run now, and what the dead letter records.
func (d *DLQ) check(e Entry) error {
	refuse := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrNotReplayable}, args...)...)
	}
	topics, ours := d.opts.Groups[e.Consumer]
	switch {
	case len(d.opts.Groups) == 0:
		return refuse("this service consumes no topic")
	case !ours:
		return refuse("it was dead-lettered by %q, not by a consumer group of this service", e.Consumer)
	case e.Truncated:
		return refuse("its payload was cut to fit the message size limit (%d bytes were dead-lettered of %d)", len(e.msg.Value), e.PayloadBytes)
	case e.Cause == consumer.CauseMalformed:
		return refuse("it is malformed: %s", e.Error)
	}
	ev, err := event.FromMessage(kafka.Message{Topic: e.SourceTopic, Key: e.msg.Key, Value: e.msg.Value, Headers: envelope(e.msg.Headers)})
	if err != nil {
		return refuse("%v", err)
	}
	if ev.SchemaVersion > d.opts.MaxSchemaVersion {
		return refuse("its schema version %d is newer than this service understands (%d)", ev.SchemaVersion, d.opts.MaxSchemaVersion)
	}
	if _, err := ev.Decode(); err != nil {
		return refuse("%v", err)
	}
	if !slices.Contains(topics, e.SourceTopic) {
		return refuse("its topic %q is not one that %s consumes", e.SourceTopic, e.Consumer)
	}
	return nil
}

// envelope returns the envelope headers among hs (pkg/event): the only ones
// a replay carries.
func envelope(hs []kafka.Header) []kafka.Header {
	out := make([]kafka.Header, 0, 8)
	for _, h := range hs {
		if event.IsEnvelopeHeader(h.Key) {
			out = append(out, h)
		}
	}
	return out
}
