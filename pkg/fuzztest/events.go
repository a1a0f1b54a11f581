package fuzztest

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/segmentio/kafka-go"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/shop-oss/shop/pkg/consumer"
	"github.com/shop-oss/shop/pkg/event"
	"github.com/shop-oss/shop/proto-events/eventsv1"
)

// Event is one seed of Events.
type Event struct {
	// Name is the seed's file name: "ok-…" must be handled, "bad-…"
	// dead-lettered at once.
	Name    string
	Type    string
	Key     string
	Payload []byte
}

// Consumer is a running service's consumer, for Events.
type Consumer struct {
	Consumer *consumer.Consumer
	// Values replace "$name" placeholders in the key and in the string
	// fields of a payload that decodes: IDs of what the setup created.
	Values map[string]string
	// Log receives the service's log; its tail is shown with a failure.
	Log *Tail
}

// Events fuzzes the consumer that setup starts with any payload and key
// for every event type it handles, in a well-formed envelope. Each input
// is attempted alone (consumer.Attempt), and then in one batch with the
// first ok- seed of its type (so that the consumer's batch preparation
// decodes it among others). Neither may panic, and alone it must be
// handled or dead-lettered at once: an event that can never be handled,
// retried until the budget is spent, holds its partition for nothing and
// is dead-lettered under the wrong cause. setup runs once per process
// that runs inputs.
func Events(f *testing.F, seeds []Event, setup func(testing.TB) Consumer) {
	f.Helper()
	files := map[string][]any{}
	for _, s := range seeds {
		files[s.Name] = []any{s.Type, s.Key, s.Payload}
	}
	syncSeeds(f, files)
	if coordinating(f) {
		f.Fuzz(func(*testing.T, string, string, []byte) {})
		return
	}
	if fuzzing() {
		keepFuzzPipesToItself()
	}
	c := setup(f)
	types := c.Consumer.Types()
	if len(types) == 0 {
		f.Fatal("the consumer handles no event type")
	}
	companions := map[string]Event{}
	for _, s := range seeds {
		if _, seen := companions[s.Type]; !seen && strings.HasPrefix(s.Name, okPrefix) {
			companions[s.Type] = s
		}
	}
	for _, typ := range types {
		if _, ok := companions[typ]; !ok {
			f.Errorf("no ok- seed for %s: every event type the consumer handles needs one it handles", typ)
		}
	}

	fill := replacer(c.Values)
	f.Fuzz(func(t *testing.T, typ, key string, payload []byte) {
		typ = pick(types, typ)
		key = fill(key)
		payload = fillPayload(typ, payload, fill)
		ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
		defer cancel()
		if c.Log != nil {
			c.Log.Reset()
		}
		what := func(err error) string {
			log := ""
			if c.Log != nil {
				log = c.Log.String()
			}
			return typ + " key " + strconv.Quote(key) + " payload " + strconv.Quote(truncate(payload)) +
				"\nerror: " + errString(err) + "\nservice log:\n" + log
		}
		err := c.Consumer.Attempt(ctx, message(typ, key, payload))
		switch {
		case ctx.Err() != nil:
			t.Fatalf("took longer than %s: %s", requestTimeout, what(err))
		case err != nil && consumer.CauseOf(err) == consumer.CauseRetriesExhausted:
			t.Fatalf("an event that fails is retried unless its error says it never can succeed (consumer.Permanent, event.ErrMalformed): %s", what(err))
		}
		switch expectation(t) {
		case okPrefix:
			if err != nil {
				t.Errorf("seed must be handled: %s", what(err))
			}
		case badPrefix:
			if err == nil {
				t.Errorf("seed must be dead-lettered: %s", what(err))
			}
		}
		// In a batch: the outcome may be anything (a failed batch is
		// handled event by event), but nothing may panic or hang.
		comp := companions[typ]
		err = c.Consumer.Attempt(ctx, message(typ, key, payload), message(comp.Type, fill(comp.Key), fillPayload(typ, comp.Payload, fill)))
		if ctx.Err() != nil {
			t.Fatalf("a batch took longer than %s: %s", requestTimeout, what(err))
		}
	})
}

// fillPayload replaces the placeholders in the string fields of payload,
// when it decodes as an event of typ; other payloads are returned as they
// are (a placeholder's length differs from its value's, so the bytes
// cannot be edited in place).
func fillPayload(typ string, payload []byte, fill func(string) string) []byte {
	msg, ok := eventsv1.New(typ)
	if !ok || proto.Unmarshal(payload, msg) != nil {
		return payload
	}
	if !fillStrings(msg.ProtoReflect(), fill) {
		return payload
	}
	b, err := proto.Marshal(msg)
	if err != nil {
		return payload
	}
	return b
}

// fillStrings fills the string fields of m and of the messages in it, and
// reports whether one changed.
func fillStrings(m protoreflect.Message, fill func(string) string) bool {
	changed := false
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsMap():
		case fd.IsList() && fd.Kind() == protoreflect.MessageKind:
			for i := 0; i < v.List().Len(); i++ {
				changed = fillStrings(v.List().Get(i).Message(), fill) || changed
			}
		case fd.IsList() && fd.Kind() == protoreflect.StringKind:
			for i := 0; i < v.List().Len(); i++ {
				if s := v.List().Get(i).String(); fill(s) != s {
					v.List().Set(i, protoreflect.ValueOfString(fill(s)))
					changed = true
				}
			}
		case fd.Kind() == protoreflect.MessageKind:
			changed = fillStrings(v.Message(), fill) || changed
		case fd.Kind() == protoreflect.StringKind:
			if s := v.String(); fill(s) != s {
				m.Set(fd, protoreflect.ValueOfString(fill(s)))
				changed = true
			}
		}
		return true
	})
	return changed
}

// message is an event of typ in a well-formed envelope with a fresh ID, as
// its producer's relay would publish it.
func message(typ, key string, payload []byte) kafka.Message {
	e := event.Event{
		ID: uuid.Must(uuid.NewV7()), Type: typ, SchemaVersion: eventsv1.SchemaVersion,
		OccurredAt: time.Now().UTC(), CorrelationID: key, Topic: "unknown.events", Key: key, Payload: payload,
	}
	if m, ok := eventsv1.New(typ); ok {
		_, e.Topic, _ = eventsv1.TypeOf(m)
	}
	return e.Message()
}

func errString(err error) string {
	if err == nil {
		return "none"
	}
	return err.Error()
}
