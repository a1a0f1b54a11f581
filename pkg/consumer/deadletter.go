package consumer

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/segmentio/kafka-go"

	"github.com/shop-oss/shop/pkg/event"
	"github.com/shop-oss/shop/proto-events/eventsv1"
)

// Dead-letter headers, added to the original message's headers.
const (
	HeaderDLQTopic     = "dlq-original-topic"
	HeaderDLQPartition = "dlq-original-partition"
	HeaderDLQOffset    = "dlq-original-offset"
	HeaderDLQError     = "dlq-error"
	HeaderDLQAttempts  = "dlq-attempts"
	HeaderDLQConsumer  = "dlq-consumer"
	HeaderDLQFailedAt  = "dlq-failed-at"
	// HeaderDLQCause classifies the failure: one of the Cause constants.
	HeaderDLQCause = "dlq-cause"
	// HeaderDLQTruncated is set on a dead letter whose payload was cut to
	// fit the message size limit; its value is the original payload's
	// length in bytes. Such an entry cannot be replayed.
	HeaderDLQTruncated = "dlq-payload-truncated"
)

// Causes of a dead letter, as HeaderDLQCause carries them.
const (
	// CauseMalformed: the envelope or the payload cannot be read, or the
	// database cannot store a value of it (or a replay names a topic this
	// consumer does not read). Replay cannot fix it.
	CauseMalformed = "malformed"
	// CauseUnknownSchema: the schema version is newer than the consumer
	// understands. Replay cannot fix it until the consumer learns the version.
	CauseUnknownSchema = "unknown-schema"
	// CauseRejected: the handler refused the event for good (Permanent),
	// e.g. its numbers disagree with the consumer's records.
	CauseRejected = "rejected"
	// CauseRetriesExhausted: the handler kept failing past the retry budget.
	CauseRetriesExhausted = "retries-exhausted"
)

// ErrNewerSchema is the dead-letter reason for an event whose schema version
// is newer than this code understands.
var ErrNewerSchema = errors.New("schema version newer than this consumer understands")

// CauseOf classifies the error an event was dead-lettered for.
func CauseOf(err error) string {
	var p permanentError
	switch {
	case errors.Is(err, ErrNewerSchema):
		return CauseUnknownSchema
	case errors.Is(err, event.ErrMalformed), unstorable(err):
		return CauseMalformed
	case errors.As(err, &p):
		return CauseRejected
	}
	return CauseRetriesExhausted
}

// maxErrorHeader bounds the error text carried in a dead-letter header.
const maxErrorHeader = 1024

// deadLetter publishes m to the DLQ topic with headers naming its origin and
// the failure, retrying until the broker takes it. It returns false only when
// ctx ended first (the message is then redelivered, not lost).
//
// A dead letter never stalls its partition for its size: one that would
// exceed the message size limit once the headers are added (or that the
// broker refuses as too large) goes with its payload cut, and marked so
// (HeaderDLQTruncated).
func (c *Consumer) deadLetter(ctx context.Context, m kafka.Message, cause error, attempts int) bool {
	dl := c.deadLetterMessage(m, cause, attempts)
	limit := c.broker.MessageLimit()
	if messageSize(dl) > limit {
		dl = truncated(dl, len(m.Value), limit)
	}
	bo := &backoff.ExponentialBackOff{InitialInterval: c.cfg.RetryBase, RandomizationFactor: 0.5, Multiplier: 2, MaxInterval: c.cfg.RetryMax}
	for {
		err := c.dlq.WriteMessages(ctx, dl)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return false
		}
		if tooLarge(err) && len(dl.Value) > 0 {
			// The broker's limit is below ours: send the diagnosis without
			// the payload.
			c.log.WarnContext(ctx, "the broker refused the dead letter as too large; sending it without its payload",
				"dlq", c.cfg.DLQTopic, "bytes", messageSize(dl), "limit", limit)
			dl = truncated(dl, len(m.Value), 0)
			continue
		}
		wait := bo.NextBackOff()
		c.log.Error("dead-letter publish failed; retrying", "dlq", c.cfg.DLQTopic, "retry_in", wait, "error", err.Error())
		if !sleep(ctx, wait) {
			return false
		}
	}
	eventType := headerValue(m.Headers, eventsv1.HeaderEventType)
	c.m.events.WithLabelValues(eventType, "dead_lettered").Inc()
	c.log.ErrorContext(messageContext(ctx, m), "event dead-lettered", "dlq", c.cfg.DLQTopic, "attempts", attempts, "cause", headerValue(dl.Headers, HeaderDLQCause),
		"truncated", headerValue(dl.Headers, HeaderDLQTruncated) != "", "error", headerValue(dl.Headers, HeaderDLQError))
	return true
}

// deadLetterMessage is m for the DLQ topic: its key, payload and headers,
// and the headers that say where it came from and why it failed.
func (c *Consumer) deadLetterMessage(m kafka.Message, cause error, attempts int) kafka.Message {
	reason := cause.Error()
	if len(reason) > maxErrorHeader {
		reason = reason[:maxErrorHeader]
	}
	headers := make([]kafka.Header, 0, len(m.Headers)+8)
	headers = append(headers, m.Headers...)
	headers = append(headers,
		kafka.Header{Key: HeaderDLQTopic, Value: []byte(m.Topic)},
		kafka.Header{Key: HeaderDLQPartition, Value: []byte(strconv.Itoa(m.Partition))},
		kafka.Header{Key: HeaderDLQOffset, Value: []byte(strconv.FormatInt(m.Offset, 10))},
		kafka.Header{Key: HeaderDLQError, Value: []byte(reason)},
		kafka.Header{Key: HeaderDLQCause, Value: []byte(CauseOf(cause))},
		kafka.Header{Key: HeaderDLQAttempts, Value: []byte(strconv.Itoa(attempts))},
		kafka.Header{Key: HeaderDLQConsumer, Value: []byte(c.cfg.Group)},
		kafka.Header{Key: HeaderDLQFailedAt, Value: []byte(time.Now().UTC().Format(time.RFC3339Nano))},
	)
	return kafka.Message{Topic: c.cfg.DLQTopic, Key: m.Key, Value: m.Value, Headers: headers}
}

// truncationSlack is room left under the limit when a payload is cut, for
// the truncation header and the writer's own accounting.
const truncationSlack = 256

// truncated returns dl with its payload cut so that the whole message fits
// in limit bytes (to nothing when limit is 0 or the rest alone does not
// fit), marked with HeaderDLQTruncated. When even that does not fit (the
// original's headers are that large), only the envelope and the dead-letter
// headers are kept.
func truncated(dl kafka.Message, original, limit int) kafka.Message {
	headers := make([]kafka.Header, 0, len(dl.Headers)+1)
	for _, h := range dl.Headers {
		if h.Key != HeaderDLQTruncated {
			headers = append(headers, h)
		}
	}
	dl.Headers = append(headers, kafka.Header{Key: HeaderDLQTruncated, Value: []byte(strconv.Itoa(original))})
	room := limit - (messageSize(dl) - len(dl.Value)) - truncationSlack
	dl.Value = dl.Value[:min(len(dl.Value), max(room, 0))]
	if limit > 0 && messageSize(dl) > limit {
		kept := dl.Headers[:0:0]
		for _, h := range dl.Headers {
			if event.IsEnvelopeHeader(h.Key) || isDeadLetterHeader(h.Key) {
				kept = append(kept, h)
			}
		}
		dl.Headers, dl.Value = kept, nil
	}
	return dl
}

// messageSize is a message's size as a writer counts it against its batch
// limit, rounded up: its key, value and headers with their length fields
// and the record's fixed fields.
func messageSize(m kafka.Message) int {
	n := 4 + 1 + 1 + 8 + (4 + len(m.Key)) + (4 + len(m.Value)) + 5
	for _, h := range m.Headers {
		n += 5 + len(h.Key) + 5 + len(h.Value)
	}
	return n
}

// tooLarge reports whether a write failed because the message is larger
// than the writer's or the broker's limit.
func tooLarge(err error) bool {
	var mtl kafka.MessageTooLargeError
	if errors.As(err, &mtl) || errors.Is(err, kafka.MessageSizeTooLarge) {
		return true
	}
	var we kafka.WriteErrors
	if errors.As(err, &we) {
		for _, e := range we {
			if e != nil && tooLarge(e) {
				return true
			}
		}
	}
	return false
}

// isDeadLetterHeader reports whether key is one of the headers a dead
// letter or a replay adds.
func isDeadLetterHeader(key string) bool {
	return strings.HasPrefix(key, "dlq-")
}
