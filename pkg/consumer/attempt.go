package consumer

import (
	"context"
	"slices"

	"github.com/segmentio/kafka-go"
)

// Attempt handles msgs once, as a worker handles a batch (the envelopes
// read, one transaction claiming the events, Prepare, the handlers in key
// order), and returns what decides their fate instead of acting on it: nil
// when every event was handled, skipped or seen before, else the first
// error. Nothing is retried, dead-lettered or committed to the broker; the
// group would dead-letter at once an error whose CauseOf is not
// CauseRetriesExhausted, and retry any other. It is for tests that check
// how a consumer's handlers classify what they are given (fuzzing).
func (c *Consumer) Attempt(ctx context.Context, msgs ...kafka.Message) error {
	run := make([]item, 0, len(msgs))
	for _, m := range msgs {
		e, err := c.envelope(m)
		if err != nil {
			return err
		}
		run = append(run, item{msg: m, e: e, h: c.handlers[e.Type]})
	}
	return c.applyBatch(ctx, run)
}

// Types lists the event types the consumer has handlers for, sorted.
func (c *Consumer) Types() []string {
	types := make([]string, 0, len(c.handlers))
	for t := range c.handlers {
		types = append(types, t)
	}
	slices.Sort(types)
	return types
}
