package consumer

import (
	"context"
	"fmt"
	"slices"

	"github.com/segmentio/kafka-go"

	"github.com/shop-oss/shop/pkg/broker"
	"github.com/shop-oss/shop/pkg/event"
)

// Headers of a replayed message (pkg/dlq writes them): where it was
// dead-lettered, the topic its event was first published to, and the
// replay's ID in the audit log (dead_letter_replays).
const (
	HeaderReplayedFrom  = "dlq-replayed-from"
	HeaderReplayedTopic = "dlq-replayed-topic"
	HeaderReplayID      = "dlq-replay-id"
)

// RetryTopic is the topic that only group's consumer reads, where pkg/dlq
// replays the events it dead-lettered: <group>.retry.
func RetryTopic(group string) string { return group + ".retry" }

// fromRetry reads a message of the retry topic: a replay of an event this
// group dead-lettered. The event is handled as one of its original topic,
// which must be a topic the group reads; a message naming another (a
// replay aimed elsewhere, or written by hand) is malformed for this
// consumer and is dead-lettered at once.
func (c *Consumer) fromRetry(m kafka.Message, e event.Event) (event.Event, error) {
	topic := headerValue(m.Headers, HeaderReplayedTopic)
	if !slices.Contains(c.cfg.Topics, topic) {
		return e, fmt.Errorf("%w: a replay for topic %q, which %s does not read", event.ErrMalformed, topic, c.cfg.Group)
	}
	e.Topic = topic
	return e, nil
}

// ensureRetryTopic creates the group's retry topic unless it exists, so
// that replays have somewhere to go on a broker that does not create topics
// on demand (production's), retrying while the broker does not answer. It
// reports false when ctx ended first.
func (c *Consumer) ensureRetryTopic(ctx context.Context) bool {
	topic := broker.Topic{Name: c.cfg.RetryTopic, Partitions: max(1, c.broker.Partitions), MinInSyncReplicas: c.broker.MinInSyncReplicas}
	client := c.broker.Client()
	for wait := c.cfg.RetryBase; ; wait = min(2*wait, c.cfg.RetryMax) {
		err := broker.EnsureTopics(ctx, client, max(1, c.broker.Replicas), topic)
		if err == nil {
			return true
		}
		c.log.WarnContext(ctx, "cannot create the retry topic yet; retrying", "topic", topic.Name, "error", err.Error())
		if !sleep(ctx, wait) {
			return false
		}
	}
}
