package outbox_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/shop-oss/shop/pkg/bustest"
	"github.com/shop-oss/shop/pkg/event"
	"github.com/shop-oss/shop/pkg/outbox"
	"github.com/shop-oss/shop/proto-events/eventsv1"
)

// The two ways in of the package documentation: Add in a transaction,
// InsertFrom and Values in the statement of the change.

// recordWithEvent is a change made in one statement with its event, as the
// package documentation shows: the effect row, and the event once for each
// row the change wrote (none when the effect was there already). It
// returns the rows changed.
func recordWithEvent(db *gorm.DB, effect event.Event, seq any, e event.Event) (int64, error) {
	sql := "WITH changed AS (INSERT INTO effects (event_id, order_id, seq) VALUES (?, ?, ?) " +
		"ON CONFLICT (event_id) DO NOTHING RETURNING order_id), ev AS (" + outbox.InsertFrom("changed") + ") " +
		"SELECT count(*) FROM changed"
	args := append([]any{effect.ID, effect.Key, seq}, outbox.Values(e)...)
	var n int64
	err := db.Raw(sql, args...).Scan(&n).Error
	return n, err
}

func TestInsertFromWritesTheEventOnlyWithItsChange(t *testing.T) {
	env := bustest.New(t)
	effect := bustest.OrderEvent(t, "order-s", 1)

	first := bustest.OrderEvent(t, "order-s", 1)
	if n, err := recordWithEvent(env.DB, effect, 1, first); err != nil || n != 1 {
		t.Fatalf("first statement: %d rows changed, %v; want 1", n, err)
	}
	if n := pending(t, env.DB); n != 1 {
		t.Fatalf("%d events in the outbox after the change, want 1", n)
	}

	// The same change again changes nothing, so it writes no event.
	again := bustest.OrderEvent(t, "order-s", 2)
	if n, err := recordWithEvent(env.DB, effect, 1, again); err != nil || n != 0 {
		t.Fatalf("repeated statement: %d rows changed, %v; want 0", n, err)
	}
	// A statement that fails writes neither the change nor the event.
	failed := bustest.OrderEvent(t, "order-f", 3)
	if _, err := recordWithEvent(env.DB, failed, nil, failed); err == nil {
		t.Fatal("a NULL seq was accepted; the test needs a failing change")
	}
	if n := pending(t, env.DB); n != 1 {
		t.Fatalf("%d events in the outbox, want only the first", n)
	}

	env.Relay(t)
	msgs := env.ReadTopic(t, eventsv1.TopicOrder, 1, 20*time.Second, time.Second)
	if ids := eventIDs(t, msgs); len(msgs) != 1 || ids[first.ID.String()] != 1 {
		t.Errorf("published %v; want only %s", ids, first.ID)
	}
}

// Add and InsertFrom write the same row: a consumer cannot tell which way
// an event came in.
func TestBothWaysPublishTheSameEnvelope(t *testing.T) {
	env := bustest.New(t)
	ctx := context.Background()
	viaAdd := bustest.OrderEvent(t, "order-w", 1)
	viaStatement := bustest.OrderEvent(t, "order-w", 2)
	viaStatement.CausationID, viaStatement.Traceparent = "cause", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	if err := env.DB.Transaction(func(tx *gorm.DB) error { return outbox.Add(ctx, tx, viaAdd) }); err != nil {
		t.Fatal(err)
	}
	if n, err := recordWithEvent(env.DB, viaStatement, 2, viaStatement); err != nil || n != 1 {
		t.Fatalf("statement: %d rows changed, %v", n, err)
	}
	var lanes []int16
	if err := env.DB.Raw(`SELECT DISTINCT lane FROM outbox`).Scan(&lanes).Error; err != nil {
		t.Fatal(err)
	}
	if len(lanes) != 1 {
		t.Errorf("one key's events are in lanes %v; want one lane", lanes)
	}

	env.Relay(t)
	msgs := env.ReadTopic(t, eventsv1.TopicOrder, 2, 20*time.Second, time.Second)
	if len(msgs) != 2 {
		t.Fatalf("published %d messages, want 2", len(msgs))
	}
	for i, want := range []event.Event{viaAdd, viaStatement} { // one key: in the order written
		got, err := event.FromMessage(msgs[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := sameEvent(got, want); err != nil {
			t.Errorf("message %d: %v", i, err)
		}
	}
}

func sameEvent(got, want event.Event) error {
	switch {
	case got.ID != want.ID, got.Type != want.Type, got.SchemaVersion != want.SchemaVersion,
		got.Topic != want.Topic, got.Key != want.Key:
		return errors.New("identity differs: got " + got.ID.String() + " " + got.Type + " " + got.Key + ", want " + want.ID.String() + " " + want.Type + " " + want.Key)
	case got.CorrelationID != want.CorrelationID, got.CausationID != want.CausationID, got.Traceparent != want.Traceparent:
		return errors.New("correlation, causation or traceparent differs: got " + got.CorrelationID + " " + got.CausationID + " " + got.Traceparent)
	case !bytes.Equal(got.Payload, want.Payload):
		return errors.New("payload differs")
	case got.OccurredAt.Sub(want.OccurredAt).Abs() > time.Microsecond: // the column keeps microseconds
		return errors.New("occurred-at differs: got " + got.OccurredAt.String() + ", want " + want.OccurredAt.String())
	}
	return nil
}
