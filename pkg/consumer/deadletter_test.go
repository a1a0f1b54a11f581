package consumer_test

import (
	"bytes"
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"

	"github.com/shop-oss/shop/pkg/bustest"
	"github.com/shop-oss/shop/pkg/consumer"
	"github.com/shop-oss/shop/pkg/testkit"
	"github.com/shop-oss/shop/proto-events/eventsv1"
)

// brokerLimit is the local broker's message.max.bytes (kfake's default, as
// Kafka's): the largest record batch it accepts.
const brokerLimit = 1048588

// A message just under the size limit cannot be dead-lettered whole once
// the dead-letter headers are added: it goes with its payload cut and a
// header saying so, and the partition moves on. Whether the writer's limit
// (the setting) or the broker's is the one it would exceed.
func TestOversizedDeadLetterIsCutAndThePartitionMovesOn(t *testing.T) {
	for _, c := range []struct {
		name    string
		setting int // broker.Config.MaxMessageBytes
		payload int // the poison message's payload, just under the limit that binds
	}{
		{"just under the setting", 300_000, 300_000 - 200},
		{"just under the broker's limit, the setting above it", 4 << 20, brokerLimit - 330},
	} {
		t.Run(c.name, func(t *testing.T) {
			env := bustest.New(t)
			env.Config.MaxMessageBytes = c.setting
			cons := consumer.New(env.DB, env.Config, consumer.Config{
				Group: bustest.Group, Topics: []string{eventsv1.TopicOrder},
				MaxAttempts: 2, RetryBase: 10 * time.Millisecond, RetryMax: 50 * time.Millisecond,
			}, testkit.Logger(t), prometheus.NewRegistry())
			cons.Handle(eventsv1.TypeOrderCreated, bustest.ApplyEffect)
			env.Run(t, "consumer", cons.Run)

			// Both on one key, so on one partition, the poison first. Its
			// payload is no protobuf: malformed, dead-lettered at once.
			poison := bustest.OrderEvent(t, "order-big", 1)
			poison.Payload = bytes.Repeat([]byte{0xff}, c.payload)
			after := bustest.OrderEvent(t, "order-big", 2)
			w := env.Config.Writer()
			w.BatchBytes = 8 << 20 // a producer with a larger limit than ours
			defer w.Close()
			for _, m := range []kafka.Message{poison.Message(), after.Message()} {
				if err := w.WriteMessages(context.Background(), m); err != nil {
					t.Fatalf("produce: %v", err)
				}
			}

			env.WaitEffects(t, 1, 60*time.Second) // "after" was handled: the partition moved on
			msgs := env.ReadTopic(t, bustest.DLQTopic, 1, 30*time.Second, 300*time.Millisecond)
			if len(msgs) != 1 {
				t.Fatalf("%d dead letters, want 1", len(msgs))
			}
			dl := msgs[0]
			h := headers(dl)
			if h[consumer.HeaderDLQTruncated] != strconv.Itoa(c.payload) {
				t.Fatalf("%s = %q, want the original size %d", consumer.HeaderDLQTruncated, h[consumer.HeaderDLQTruncated], c.payload)
			}
			if len(dl.Value) >= c.payload || !bytes.Equal(dl.Value, poison.Payload[:len(dl.Value)]) {
				t.Fatalf("dead-lettered payload: %d bytes, want a prefix of the %d-byte original", len(dl.Value), c.payload)
			}
			if h[eventsv1.HeaderEventID] != poison.ID.String() || h[consumer.HeaderDLQCause] != consumer.CauseMalformed ||
				h[consumer.HeaderDLQTopic] != eventsv1.TopicOrder {
				t.Fatalf("dead letter headers %v", h)
			}
		})
	}
}

// A message on the retry topic that names a topic the group does not read
// is malformed for it: dead-lettered at once, never handled, and the
// partition moves on.
func TestRetryMessageForAnotherTopicIsRefused(t *testing.T) {
	env := bustest.New(t)
	reg, _ := start(t, env, bustest.ApplyEffect, nil)

	stray := bustest.OrderEvent(t, "order-r", 1)
	m := stray.Message()
	m.Topic = bustest.RetryTopic
	m.Headers = append(m.Headers, kafka.Header{Key: consumer.HeaderReplayedTopic, Value: []byte(eventsv1.TopicPayment)})
	fine := bustest.OrderEvent(t, "order-r", 2)
	ok := fine.Message()
	ok.Topic = bustest.RetryTopic
	ok.Headers = append(ok.Headers, kafka.Header{Key: consumer.HeaderReplayedTopic, Value: []byte(eventsv1.TopicOrder)})
	env.Produce(t, m, ok)

	env.WaitEffects(t, 1, 30*time.Second)
	var handled string
	env.DB.Raw("SELECT event_id::text FROM effects").Scan(&handled)
	if handled != fine.ID.String() {
		t.Fatalf("handled %s, want only the replay for order.events %s", handled, fine.ID)
	}
	msgs := env.ReadTopic(t, bustest.DLQTopic, 1, 30*time.Second, 300*time.Millisecond)
	if len(msgs) != 1 {
		t.Fatalf("%d dead letters, want 1", len(msgs))
	}
	if h := headers(msgs[0]); h[eventsv1.HeaderEventID] != stray.ID.String() || h[consumer.HeaderDLQCause] != consumer.CauseMalformed ||
		h[consumer.HeaderDLQTopic] != bustest.RetryTopic || h[consumer.HeaderReplayedTopic] != eventsv1.TopicPayment {
		t.Fatalf("dead letter headers %v", h)
	}
	if n := outcome(t, reg, "dead_lettered"); n != 1 {
		t.Fatalf("dead_lettered %v, want 1", n)
	}
}
