package consumer

import (
	"fmt"
	"slices"

	"github.com/segmentio/kafka-go"

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
