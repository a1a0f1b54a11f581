package dlq_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"gorm.io/gorm"

	"github.com/shop-oss/shop/pkg/broker"
	"github.com/shop-oss/shop/pkg/bustest"
	"github.com/shop-oss/shop/pkg/consumer"
	"github.com/shop-oss/shop/pkg/dlq"
	"github.com/shop-oss/shop/pkg/event"
	"github.com/shop-oss/shop/pkg/testkit"
	"github.com/shop-oss/shop/pkg/tracing"
	"github.com/shop-oss/shop/proto-events/eventsv1"
)

// otherGroup is a second consumer group of order.events, standing for
// another service that consumes the same topic.
const otherGroup = "other"

func newDLQ(env *bustest.Env, tune func(*dlq.Options)) *dlq.DLQ {
	opts := dlq.Options{Topic: bustest.DLQTopic, Groups: map[string][]string{bustest.Group: {eventsv1.TopicOrder}}}
	if tune != nil {
		tune(&opts)
	}
	return dlq.New(env.DB, env.Config, opts)
}

// runGroup runs a consumer group of order.events with h for ORDER_CREATED.
func runGroup(t *testing.T, env *bustest.Env, group string, h consumer.Handler) {
	t.Helper()
	c := consumer.New(env.DB, env.Config, consumer.Config{
		Group: group, Topics: []string{eventsv1.TopicOrder},
		MaxAttempts: 2, RetryBase: 10 * time.Millisecond, RetryMax: 50 * time.Millisecond,
	}, testkit.Logger(t), nil)
	c.Handle(eventsv1.TypeOrderCreated, h)
	env.Run(t, group, c.Run)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func headers(m kafka.Message) map[string]string {
	h := map[string]string{}
	for _, x := range m.Headers {
		h[x.Key] = string(x.Value)
	}
	return h
}

// endOffsets returns the end offset of every partition of topic.
func endOffsets(t *testing.T, env *bustest.Env, topic string) map[int]int64 {
	t.Helper()
	out, err := broker.EndOffsets(context.Background(), env.Config.Client(), topic)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// A replay goes to the failing group's retry topic only: that group handles
// the event (with its ID kept, once), while another group of the same
// source topic never sees it again and the source topic does not grow.
// Only the envelope headers travel, with the replay's own; the audit log
// says who replayed what, when, where to.
func TestReplayReachesOnlyTheConsumerThatFailed(t *testing.T) {
	env := bustest.New(t) // other.retry does not exist: its group creates it
	var fixed atomic.Bool
	runGroup(t, env, bustest.Group, func(ctx context.Context, tx *gorm.DB, e event.Event) error {
		if msg, err := event.DecodeAs[*eventsv1.OrderCreated](e); err == nil && msg.OrderId == "order-bug" && !fixed.Load() {
			return errors.New("bug: cannot handle it yet")
		}
		return bustest.ApplyEffect(ctx, tx, e)
	})
	var (
		mu   sync.Mutex
		seen = map[string]int{}
	)
	runGroup(t, env, otherGroup, func(ctx context.Context, tx *gorm.DB, e event.Event) error {
		mu.Lock()
		defer mu.Unlock()
		seen[e.ID.String()]++
		return nil
	})

	failing := bustest.OrderEvent(t, "order-bug", 1)
	failing.Traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" // the trace it failed in
	m := failing.Message()
	m.Headers = append(m.Headers, kafka.Header{Key: "x-smuggled", Value: []byte("not in the envelope")})
	env.Produce(t, m)
	dead := env.ReadTopic(t, bustest.DLQTopic, 1, 30*time.Second, 0)
	waitFor(t, "the other group to handle the event", func() bool { mu.Lock(); defer mu.Unlock(); return seen[failing.ID.String()] == 1 })
	sourceBefore := endOffsets(t, env, eventsv1.TopicOrder)

	d := newDLQ(env, nil)
	defer d.Close()
	fixed.Store(true)
	// The admin's request is traced: the replay goes on in its trace.
	const request = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	r, err := d.ReplayOne(tracing.WithRemoteParent(context.Background(), request), dead[0].Offset, false, "admin-7", "req-7")
	if err != nil || r.Status != dlq.StatusReplayed || r.TargetTopic != bustest.RetryTopic || r.EventID != failing.ID.String() {
		t.Fatalf("replay: %+v, %v", r, err)
	}
	env.WaitEffects(t, 1, 30*time.Second)
	var effect struct {
		EventID string
		Applied int
	}
	env.DB.Raw("SELECT event_id::text, applied FROM effects").Scan(&effect)
	if effect.EventID != failing.ID.String() || effect.Applied != 1 {
		t.Fatalf("effect %+v, want event %s applied once (the event ID is kept)", effect, failing.ID)
	}

	retried := env.ReadTopic(t, bustest.RetryTopic, 1, 30*time.Second, 300*time.Millisecond)
	if len(retried) != 1 {
		t.Fatalf("%d messages on the retry topic, want 1", len(retried))
	}
	h := headers(retried[0])
	want := map[string]string{
		consumer.HeaderReplayedFrom:  bustest.DLQTopic + "@" + strconv.FormatInt(dead[0].Offset, 10),
		consumer.HeaderReplayedTopic: eventsv1.TopicOrder,
		consumer.HeaderReplayID:      r.ReplayID,
	}
	for _, eh := range failing.Headers() {
		want[eh.Key] = string(eh.Value)
	}
	// The replay's own span, in the request's trace, and the original
	// trace for the link.
	want[consumer.HeaderReplayedTraceparent] = failing.Traceparent
	if sc, ok := tracing.Parse(h[eventsv1.HeaderTraceparent]); !ok || sc.TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" ||
		sc.SpanID().String() == "00f067aa0ba902b7" {
		t.Errorf("replayed traceparent %q: want a span of its own in the request's trace", h[eventsv1.HeaderTraceparent])
	}
	want[eventsv1.HeaderTraceparent] = h[eventsv1.HeaderTraceparent]
	if len(h) != len(want) {
		t.Errorf("replayed headers %v, want exactly %v", h, want)
	}
	for k, v := range want {
		if h[k] != v {
			t.Errorf("replayed header %s = %q, want %q", k, h[k], v)
		}
	}
	if string(retried[0].Key) != failing.Key || string(retried[0].Value) != string(failing.Payload) {
		t.Errorf("replayed key %q or payload changed", retried[0].Key)
	}

	if after := endOffsets(t, env, eventsv1.TopicOrder); fmt.Sprint(after) != fmt.Sprint(sourceBefore) {
		t.Fatalf("the source topic grew with the replay: %v -> %v", sourceBefore, after)
	}
	time.Sleep(500 * time.Millisecond) // room for a wrongly delivered replay to arrive
	mu.Lock()
	if n := seen[failing.ID.String()]; n != 1 {
		t.Fatalf("the other group saw the event %d times, want 1 (the replay is not for it)", n)
	}
	mu.Unlock()

	var audit struct {
		ReplayID, DLQTopic, ReplayedBy, EventID, EventType, TargetTopic, RequestID, Outcome string
		DLQOffset                                                                           int64
		ReplayedAt                                                                          time.Time
	}
	env.DB.Raw(`SELECT replay_id::text, dlq_topic, dlq_offset, replayed_by, event_id, event_type, target_topic, request_id, outcome, replayed_at
		FROM dead_letter_replays`).Scan(&audit)
	if audit.ReplayID != r.ReplayID || audit.DLQTopic != bustest.DLQTopic || audit.DLQOffset != dead[0].Offset || audit.ReplayedBy != "admin-7" ||
		audit.EventID != failing.ID.String() || audit.EventType != eventsv1.TypeOrderCreated || audit.TargetTopic != bustest.RetryTopic ||
		audit.RequestID != "req-7" || audit.Outcome != "published" || time.Since(audit.ReplayedAt) > time.Minute {
		t.Fatalf("audit row %+v", audit)
	}
}

// deadLetter writes a message to the DLQ topic as a consumer of topic
// would have dead-lettered it, with cause (none when empty) and extra
// headers.
func deadLetter(t *testing.T, env *bustest.Env, e event.Event, topic, cause string, extra ...kafka.Header) {
	t.Helper()
	m := e.Message()
	m.Topic = bustest.DLQTopic
	m.Headers = append(m.Headers,
		kafka.Header{Key: consumer.HeaderDLQTopic, Value: []byte(topic)},
		kafka.Header{Key: consumer.HeaderDLQPartition, Value: []byte("0")},
		kafka.Header{Key: consumer.HeaderDLQOffset, Value: []byte("42")},
		kafka.Header{Key: consumer.HeaderDLQError, Value: []byte("it failed")},
		kafka.Header{Key: consumer.HeaderDLQAttempts, Value: []byte("5")},
		kafka.Header{Key: consumer.HeaderDLQConsumer, Value: []byte(bustest.Group)},
		kafka.Header{Key: consumer.HeaderDLQFailedAt, Value: []byte(time.Now().UTC().Format(time.RFC3339Nano))},
	)
	if cause != "" {
		m.Headers = append(m.Headers, kafka.Header{Key: consumer.HeaderDLQCause, Value: []byte(cause)})
	}
	m.Headers = append(m.Headers, extra...)
	env.Produce(t, m)
}

// Entries that replay can never fix are refused (ErrNotReplayable, 422 in
// the API), singly and in a bulk replay, whose other entries still go; a
// dry run publishes nothing and records nothing. An entry of a schema
// version the consumer has since learned is replayable again.
func TestReplayRefusesWhatItCannotFix(t *testing.T) {
	env := bustest.New(t)
	good := bustest.OrderEvent(t, "order-good", 1)
	garbage := bustest.OrderEvent(t, "order-garbage", 2)
	garbage.Payload = []byte{0xff, 0xff, 0xff}
	future := bustest.OrderEvent(t, "order-future", 3)
	future.SchemaVersion = eventsv1.SchemaVersion + 1
	cut := bustest.OrderEvent(t, "order-cut", 4)
	foreign := bustest.OrderEvent(t, "order-foreign", 5)
	replayedForeign := bustest.OrderEvent(t, "order-replayed-foreign", 6)
	unknownType := bustest.OrderEvent(t, "order-unknown-type", 7)
	unknownType.Type = "ORDER_TELEPORTED"

	deadLetter(t, env, good, eventsv1.TopicOrder, consumer.CauseRetriesExhausted) // 0
	deadLetter(t, env, garbage, eventsv1.TopicOrder, "")                          // 1: before causes were recorded
	deadLetter(t, env, future, eventsv1.TopicOrder, consumer.CauseUnknownSchema)  // 2
	deadLetter(t, env, cut, eventsv1.TopicOrder, consumer.CauseRejected,          // 3
		kafka.Header{Key: consumer.HeaderDLQTruncated, Value: []byte("2000000")})
	deadLetter(t, env, foreign, eventsv1.TopicPayment, consumer.CauseRetriesExhausted) // 4: payment.events is not consumed
	deadLetter(t, env, replayedForeign, bustest.RetryTopic, consumer.CauseRejected,    // 5: a replay naming identity.events
		kafka.Header{Key: consumer.HeaderReplayedTopic, Value: []byte(eventsv1.TopicIdentity)})
	deadLetter(t, env, unknownType, eventsv1.TopicOrder, consumer.CauseMalformed) // 6
	otherGroups := bustest.OrderEvent(t, "order-other-group", 8)
	deadLetter(t, env, otherGroups, eventsv1.TopicOrder, consumer.CauseRetriesExhausted, // 7: failed by a group not of this DLQ
		kafka.Header{Key: consumer.HeaderDLQConsumer, Value: []byte(otherGroup)})

	d := newDLQ(env, nil)
	defer d.Close()
	ctx := context.Background()
	refused := []int64{1, 2, 3, 4, 5, 6, 7}
	for _, o := range refused {
		r, err := d.ReplayOne(ctx, o, false, "admin", "")
		if !errors.Is(err, dlq.ErrNotReplayable) || r.Status != dlq.StatusRefused {
			t.Errorf("entry %d: %+v, %v; want refused with ErrNotReplayable", o, r, err)
		}
		e, err := d.Get(ctx, o)
		if err != nil || e.Replayable || e.NotReplayable == "" {
			t.Errorf("entry %d listed as replayable %v (%q), %v", o, e.Replayable, e.NotReplayable, err)
		}
	}
	if _, err := d.ReplayOne(ctx, 99, false, "admin", ""); !errors.Is(err, dlq.ErrNotFound) {
		t.Errorf("replay of a missing offset: %v, want ErrNotFound", err)
	}

	dry, err := d.Replay(ctx, dlq.Request{Offsets: []int64{0, 1, 2, 99}, DryRun: true, By: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	statuses := func(out dlq.Outcome) []string {
		var s []string
		for _, r := range out.Results {
			s = append(s, fmt.Sprintf("%d:%s", r.Offset, r.Status))
		}
		return s
	}
	if got, want := statuses(dry), []string{"0:would_replay", "1:refused", "2:refused", "99:not_found"}; !slices.Equal(got, want) {
		t.Fatalf("dry run %v, want %v", got, want)
	}
	var rows int64
	env.DB.Raw("SELECT count(*) FROM dead_letter_replays").Scan(&rows)
	if rows != 0 {
		t.Fatalf("%d audit rows after refusals and a dry run, want 0", rows)
	}

	out, err := d.Replay(ctx, dlq.Request{Offsets: []int64{6, 5, 4, 3, 2, 1, 0, 0}, By: "admin", RequestID: "bulk-1"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := statuses(out), []string{"0:replayed", "1:refused", "2:refused", "3:refused", "4:refused", "5:refused", "6:refused"}; !slices.Equal(got, want) {
		t.Fatalf("bulk replay %v, want %v", got, want)
	}
	if out.Counts[dlq.StatusReplayed] != 1 || out.Counts[dlq.StatusRefused] != 6 {
		t.Fatalf("counts %v", out.Counts)
	}
	retried := env.ReadTopic(t, bustest.RetryTopic, 1, 30*time.Second, 300*time.Millisecond)
	if len(retried) != 1 || headers(retried[0])[eventsv1.HeaderEventID] != good.ID.String() {
		t.Fatalf("retry topic holds %d messages, want only the good one", len(retried))
	}

	// The consumer learned the newer version: its entry may go again.
	upgraded := newDLQ(env, func(o *dlq.Options) { o.MaxSchemaVersion = eventsv1.SchemaVersion + 1 })
	defer upgraded.Close()
	if r, err := upgraded.ReplayOne(ctx, 2, true, "admin", ""); err != nil || r.Status != dlq.StatusWouldReplay {
		t.Fatalf("an entry of a version now understood: %+v, %v", r, err)
	}
	// Each entry goes to the retry topic of the group that failed it.
	twoGroups := newDLQ(env, func(o *dlq.Options) { o.Groups[otherGroup] = []string{eventsv1.TopicOrder} })
	defer twoGroups.Close()
	if r, err := twoGroups.ReplayOne(ctx, 7, true, "admin", ""); err != nil || r.TargetTopic != consumer.RetryTopic(otherGroup) {
		t.Fatalf("an entry of the service's second group: %+v, %v; want it bound for %s", r, err, consumer.RetryTopic(otherGroup))
	}
	// A service that consumes nothing replays nothing.
	none := newDLQ(env, func(o *dlq.Options) { o.Groups = nil })
	defer none.Close()
	if _, err := none.ReplayOne(ctx, 0, false, "admin", ""); !errors.Is(err, dlq.ErrNotReplayable) {
		t.Fatalf("replay in a service without a consumer: %v", err)
	}
}

// The listing decodes each payload from the event contract, shows every
// header, and filters by cause, event type, order, topic and replays, a
// page at a time.
func TestListFiltersAndDecodes(t *testing.T) {
	env := bustest.New(t)
	var events []event.Event
	for i := range 6 {
		e := bustest.OrderEvent(t, fmt.Sprintf("order-%d", i%3), int64(100+i))
		events = append(events, e)
		cause := consumer.CauseRetriesExhausted
		if i%2 == 1 {
			cause = consumer.CauseRejected
		}
		deadLetter(t, env, e, eventsv1.TopicOrder, cause)
	}
	d := newDLQ(env, nil)
	defer d.Close()
	ctx := context.Background()

	page, err := d.List(ctx, "", 50, dlq.Filter{})
	if err != nil || len(page.Entries) != 6 || page.NextCursor != "" {
		t.Fatalf("list: %d entries, next %q, %v", len(page.Entries), page.NextCursor, err)
	}
	e := page.Entries[4]
	var payload struct {
		OrderID string `json:"order_id"`
		Total   struct {
			AmountMinor string `json:"amount_minor"`
		} `json:"total"`
	}
	if err := json.Unmarshal(e.Payload.JSON, &payload); err != nil || payload.OrderID != "order-1" || payload.Total.AmountMinor != "104" {
		t.Fatalf("decoded payload %s (%v)", e.Payload.JSON, err)
	}
	if e.EventID != events[4].ID.String() || e.SourceTopic != eventsv1.TopicOrder || e.Cause != consumer.CauseRetriesExhausted ||
		!e.Replayable || len(e.Headers) != len(events[4].Headers())+8 || e.Headers[0].Key != eventsv1.HeaderEventID {
		t.Fatalf("entry %+v", e)
	}

	count := func(f dlq.Filter) int {
		t.Helper()
		p, err := d.List(ctx, "", 50, f)
		if err != nil {
			t.Fatal(err)
		}
		return len(p.Entries)
	}
	yes, no := true, false
	for _, c := range []struct {
		name string
		f    dlq.Filter
		want int
	}{
		{"cause", dlq.Filter{Cause: consumer.CauseRejected}, 3},
		{"order", dlq.Filter{OrderID: "order-2"}, 2},
		{"order and cause", dlq.Filter{OrderID: "order-1", Cause: consumer.CauseRejected}, 1},
		{"event type", dlq.Filter{EventType: eventsv1.TypeOrderCreated}, 6},
		{"other event type", dlq.Filter{EventType: eventsv1.TypePaymentSuccess}, 0},
		{"topic", dlq.Filter{Topic: eventsv1.TopicPayment}, 0},
		{"not replayed", dlq.Filter{Replayed: &no}, 6},
		{"replayed", dlq.Filter{Replayed: &yes}, 0},
	} {
		if got := count(c.f); got != c.want {
			t.Errorf("filter %s: %d entries, want %d", c.name, got, c.want)
		}
	}

	// Replay all that match a filter, then the replayed filter sees them.
	out, err := d.Replay(ctx, dlq.Request{Filter: dlq.Filter{Cause: consumer.CauseRejected}, By: "admin"})
	if err != nil || out.Counts[dlq.StatusReplayed] != 3 || len(out.Results) != 3 {
		t.Fatalf("replay by filter: %+v, %v", out, err)
	}
	if got := count(dlq.Filter{Replayed: &yes}); got != 3 {
		t.Fatalf("%d replayed entries, want 3", got)
	}

	// Pages of two, by cursor.
	var offsets []int64
	cursor := ""
	for range 10 {
		p, err := d.List(ctx, cursor, 2, dlq.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range p.Entries {
			offsets = append(offsets, e.Offset)
		}
		if cursor = p.NextCursor; cursor == "" {
			break
		}
	}
	if !slices.Equal(offsets, []int64{0, 1, 2, 3, 4, 5}) {
		t.Fatalf("paged offsets %v", offsets)
	}
	if _, err := d.List(ctx, "x", 2, dlq.Filter{}); !errors.Is(err, dlq.ErrBadCursor) {
		t.Fatalf("bad cursor: %v", err)
	}
}
