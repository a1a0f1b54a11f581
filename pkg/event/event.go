// Package event is the envelope every message on the bus carries: an ID
// (UUIDv7), type, schema version, time, correlation and causation IDs and a
// W3C traceparent, in Kafka headers, around a protobuf payload from
// proto-events. It converts between the envelope and kafka-go messages.
package event

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/segmentio/kafka-go"
	"google.golang.org/protobuf/proto"

	"github.com/shop-oss/shop/pkg/logging"
	"github.com/shop-oss/shop/pkg/tracing"
	"github.com/shop-oss/shop/proto-events/eventsv1"
)

// Event is one message of the bus.
type Event struct {
	ID            uuid.UUID
	Type          string
	SchemaVersion int
	OccurredAt    time.Time
	CorrelationID string
	CausationID   string
	Traceparent   string

	Topic   string
	Key     string // the aggregate whose events must stay in order
	Payload []byte // protobuf encoding of the message for Type
}

// ErrMalformed marks a message that can never be handled: a header is
// missing or wrong, or the payload does not decode. Consumers dead-letter it
// at once instead of retrying.
var ErrMalformed = errors.New("malformed event")

// New wraps msg, an event message of proto-events, for key. The correlation
// ID comes from ctx (the HTTP request's or the event being handled), else it
// is the key; the causation ID is the event being handled, if any; the
// traceparent is the span in ctx (the request's or the handler's). An
// order's event also tells ctx's log scope which order the request is about
// (logging.SetOrderID).
func New(ctx context.Context, key string, msg proto.Message) (Event, error) {
	typ, topic, ok := eventsv1.TypeOf(msg)
	if !ok {
		return Event{}, fmt.Errorf("new event: %T is not a registered event message", msg)
	}
	if key == "" {
		return Event{}, fmt.Errorf("new event %s: empty key", typ)
	}
	payload, err := proto.Marshal(msg)
	if err != nil {
		return Event{}, fmt.Errorf("new event %s: marshal: %w", typ, err)
	}
	id, err := uuid.NewV7()
	if err != nil {
		return Event{}, fmt.Errorf("new event %s: id: %w", typ, err)
	}
	if eventsv1.KeyedByOrder(typ) {
		logging.SetOrderID(ctx, key)
	}
	corr := logging.CorrelationID(ctx)
	if corr == "" {
		corr = key
	}
	return Event{
		ID:            id,
		Type:          typ,
		SchemaVersion: eventsv1.SchemaVersion,
		OccurredAt:    time.Now().UTC(),
		CorrelationID: corr,
		CausationID:   logging.CausationID(ctx),
		Traceparent:   tracing.Traceparent(ctx),
		Topic:         topic,
		Key:           key,
		Payload:       payload,
	}, nil
}

// Decode unmarshals the payload into a new message of the event's type.
func (e Event) Decode() (proto.Message, error) {
	msg, ok := eventsv1.New(e.Type)
	if !ok {
		return nil, fmt.Errorf("%w: unknown event type %q", ErrMalformed, e.Type)
	}
	if err := proto.Unmarshal(e.Payload, msg); err != nil {
		return nil, fmt.Errorf("%w: decode %s payload: %v", ErrMalformed, e.Type, err)
	}
	return msg, nil
}

// DecodeAs unmarshals the payload into a message of type M.
func DecodeAs[M proto.Message](e Event) (M, error) {
	var zero M
	msg, err := e.Decode()
	if err != nil {
		return zero, err
	}
	m, ok := msg.(M)
	if !ok {
		return zero, fmt.Errorf("%w: %s carries %T, not %T", ErrMalformed, e.Type, msg, zero)
	}
	return m, nil
}

// Context returns ctx carrying the event's correlation ID, its ID as the
// causation of whatever the handler emits, its order ID (for an event keyed
// by order) and its traceparent as the remote parent of the spans started
// from ctx. The consumer starts the handler's span from it; without one,
// emitted events carry the event's own traceparent on.
func (e Event) Context(ctx context.Context) context.Context {
	ctx = logging.WithCorrelationID(ctx, e.CorrelationID)
	ctx = logging.WithCausationID(ctx, e.ID.String())
	if eventsv1.KeyedByOrder(e.Type) {
		ctx = logging.WithOrderID(ctx, e.Key)
	}
	return tracing.WithRemoteParent(ctx, e.Traceparent)
}

// Headers returns the envelope as Kafka headers.
func (e Event) Headers() []kafka.Header {
	h := []kafka.Header{
		{Key: eventsv1.HeaderEventID, Value: []byte(e.ID.String())},
		{Key: eventsv1.HeaderEventType, Value: []byte(e.Type)},
		{Key: eventsv1.HeaderSchemaVersion, Value: []byte(strconv.Itoa(e.SchemaVersion))},
		{Key: eventsv1.HeaderOccurredAt, Value: []byte(e.OccurredAt.UTC().Format(time.RFC3339Nano))},
		{Key: eventsv1.HeaderCorrelationID, Value: []byte(e.CorrelationID)},
	}
	if e.CausationID != "" {
		h = append(h, kafka.Header{Key: eventsv1.HeaderCausationID, Value: []byte(e.CausationID)})
	}
	if e.Traceparent != "" {
		h = append(h, kafka.Header{Key: eventsv1.HeaderTraceparent, Value: []byte(e.Traceparent)})
	}
	return h
}

// IsEnvelopeHeader reports whether key is one of the envelope's headers
// (those Headers writes).
func IsEnvelopeHeader(key string) bool {
	switch key {
	case eventsv1.HeaderEventID, eventsv1.HeaderEventType, eventsv1.HeaderSchemaVersion, eventsv1.HeaderOccurredAt,
		eventsv1.HeaderCorrelationID, eventsv1.HeaderCausationID, eventsv1.HeaderTraceparent:
		return true
	}
	return false
}

// Message returns the event as a kafka-go message for its topic.
func (e Event) Message() kafka.Message {
	return kafka.Message{Topic: e.Topic, Key: []byte(e.Key), Value: e.Payload, Headers: e.Headers()}
}

// FromMessage reads the envelope of a consumed message. A message without a
// valid event ID, type or schema version is ErrMalformed.
func FromMessage(m kafka.Message) (Event, error) {
	e := Event{Topic: m.Topic, Key: string(m.Key), Payload: m.Value}
	var idSeen, versionSeen bool
	for _, h := range m.Headers {
		v := string(h.Value)
		switch h.Key {
		case eventsv1.HeaderEventID:
			id, err := uuid.Parse(v)
			if err != nil {
				return e, fmt.Errorf("%w: event-id %q: %v", ErrMalformed, v, err)
			}
			e.ID, idSeen = id, true
		case eventsv1.HeaderEventType:
			e.Type = v
		case eventsv1.HeaderSchemaVersion:
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return e, fmt.Errorf("%w: schema-version %q", ErrMalformed, v)
			}
			e.SchemaVersion, versionSeen = n, true
		case eventsv1.HeaderOccurredAt:
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return e, fmt.Errorf("%w: occurred-at %q", ErrMalformed, v)
			}
			e.OccurredAt = t
		case eventsv1.HeaderCorrelationID:
			e.CorrelationID = v
		case eventsv1.HeaderCausationID:
			e.CausationID = v
		case eventsv1.HeaderTraceparent:
			e.Traceparent = v
		}
	}
	switch {
	case !idSeen:
		return e, fmt.Errorf("%w: no event-id header", ErrMalformed)
	case e.Type == "":
		return e, fmt.Errorf("%w: no event-type header", ErrMalformed)
	case !versionSeen:
		return e, fmt.Errorf("%w: no schema-version header", ErrMalformed)
	}
	if e.CorrelationID == "" {
		e.CorrelationID = e.Key
	}
	return e, nil
}
