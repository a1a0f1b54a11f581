package consumer

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/jackc/pgx/v5"
	"github.com/segmentio/kafka-go"
	"gorm.io/gorm"

	"github.com/shop-oss/shop/pkg/database"
	"github.com/shop-oss/shop/pkg/event"
)

// item is a message to handle; h is nil for event types this consumer does
// not handle (they are skipped, and their offsets committed).
type item struct {
	msg kafka.Message
	e   event.Event
	h   Handler
}

// process handles batch in order and returns how many leading messages are
// done (handled, skipped or dead-lettered): all of them, unless ctx ended.
func (c *Consumer) process(ctx context.Context, batch []kafka.Message) int {
	done := 0
	run := make([]item, 0, len(batch))
	flush := func() bool {
		n := c.applyRun(ctx, run)
		done += n
		ok := n == len(run)
		run = run[:0]
		return ok
	}
	for _, m := range batch {
		e, err := c.envelope(m)
		if err != nil {
			// Handle what came before it first: order within a partition holds.
			if !flush() || !c.deadLetter(ctx, m, err, 0) {
				return done
			}
			done++
			continue
		}
		run = append(run, item{msg: m, e: e, h: c.handlers[e.Type]})
	}
	flush()
	return done
}

// envelope reads m's envelope as this consumer handles it: a replay as an
// event of its original topic. An error (malformed, newer schema) means the
// message is dead-lettered at once.
func (c *Consumer) envelope(m kafka.Message) (event.Event, error) {
	e, err := event.FromMessage(m)
	if err == nil && e.SchemaVersion > c.cfg.MaxSchemaVersion {
		err = fmt.Errorf("%w: event has version %d, this consumer understands up to %d", ErrNewerSchema, e.SchemaVersion, c.cfg.MaxSchemaVersion)
	}
	if err == nil && m.Topic == c.cfg.RetryTopic {
		e, err = c.fromRetry(m, e)
	}
	return e, err
}

// applyRun handles items in one transaction; when that fails it falls back
// to one transaction per event, so one failing event delays only itself.
func (c *Consumer) applyRun(ctx context.Context, run []item) int {
	if len(run) == 0 {
		return 0
	}
	start := time.Now()
	err := c.applyBatch(ctx, run)
	if err == nil {
		c.m.batchSeconds.Observe(time.Since(start).Seconds())
		return len(run)
	}
	if ctx.Err() != nil {
		return 0
	}
	c.log.Debug("batch failed; handling its events one by one", "events", len(run), "error", err.Error())
	for i, it := range run {
		if it.h == nil {
			c.m.events.WithLabelValues(it.e.Type, "skipped").Inc()
			continue
		}
		if !c.applyOne(ctx, it) {
			return i
		}
	}
	return len(run)
}

// applyBatch claims the batch's event IDs and runs the handlers of the newly
// claimed ones, in one transaction.
func (c *Consumer) applyBatch(ctx context.Context, run []item) error {
	ids := make(database.UUIDArray, 0, len(run))
	for _, it := range run {
		if it.h != nil {
			ids = append(ids, it.e.ID)
		}
	}
	if len(ids) == 0 {
		for _, it := range run {
			c.m.events.WithLabelValues(it.e.Type, "skipped").Inc()
		}
		return nil
	}
	outcomes := make([]string, len(run))
	// One line per handled event, written once its transaction committed:
	// the consumer's access log, which `make logs ORDER=<id>` follows.
	logHandled := c.log.Enabled(ctx, slog.LevelInfo)
	var handledCtx []context.Context
	if logHandled {
		handledCtx = make([]context.Context, len(run))
	}
	hooks := &afterCommit{}
	ctx = context.WithValue(ctx, afterCommitKey{}, hooks)
	var claimed []string
	// The claim is the transaction's first statement: BEGIN travels with
	// it, one round trip for both.
	claim := database.First{
		SQL: `INSERT INTO processed_events (consumer, event_id)
			SELECT $1, id FROM unnest($2::uuid[]) AS id
			ON CONFLICT DO NOTHING
			RETURNING event_id::text`,
		Args: []any{c.cfg.Group, ids},
		Scan: func(rows pgx.Rows) (err error) {
			claimed, err = pgx.CollectRows(rows, pgx.RowTo[string])
			return err
		},
	}
	err := database.TxStartingWith(ctx, c.db.WithContext(ctx), claim, func(tx *gorm.DB) error {
		isNew := make(map[string]bool, len(claimed))
		for _, id := range claimed {
			isNew[id] = true
		}
		var todo []int
		for _, i := range keyOrder(run) {
			it := run[i]
			id := it.e.ID.String()
			switch {
			case it.h == nil:
				outcomes[i] = "skipped"
			case !isNew[id]:
				outcomes[i] = "duplicate"
			default:
				delete(isNew, id) // the same event twice in one batch runs once
				todo = append(todo, i)
			}
		}
		hctx := ctx // the handlers' context: the preparer's, if any
		if c.prepare != nil && len(todo) > 0 {
			batch := make([]event.Event, len(todo))
			for j, i := range todo {
				batch[j] = run[i].e
			}
			prepared, err := c.prepare(ctx, tx, batch)
			if err != nil {
				return fmt.Errorf("prepare batch of %d events: %w", len(batch), err)
			}
			hctx = prepared
		}
		for _, i := range todo {
			it := run[i]
			ectx, span := c.startSpan(hctx, it)
			err := it.h(ectx, tx, it.e)
			endSpan(span, err)
			if err != nil {
				return fmt.Errorf("handle %s %s: %w", it.e.Type, it.e.ID, err)
			}
			outcomes[i] = "handled"
			if logHandled {
				handledCtx[i] = ectx
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, fn := range hooks.fns {
		fn()
	}
	if logHandled {
		for _, ectx := range handledCtx {
			if ectx != nil {
				c.log.LogAttrs(ectx, slog.LevelInfo, "event handled")
			}
		}
	}
	now := time.Now()
	var handled []event.Event
	for i, it := range run {
		c.m.events.WithLabelValues(it.e.Type, outcomes[i]).Inc()
		if outcomes[i] == "handled" {
			c.m.age.Observe(now.Sub(it.e.OccurredAt).Seconds())
			handled = append(handled, it.e)
		}
	}
	if c.cfg.OnCommitted != nil && len(handled) > 0 {
		c.cfg.OnCommitted(ctx, handled)
	}
	return nil
}

// keyOrder returns the indices of run sorted by message key, keeping the
// order of messages with equal keys. A batch transaction holds the row locks
// of all its events until it commits, and several workers run batches at
// once (an order's events arrive on several topics, so on several
// workers): handlers that lock rows by the event's key (the order, the
// product) then take them in the same global order in every batch, and
// batches never deadlock on each other. Reordering is safe because order
// is only guaranteed per key.
func keyOrder(run []item) []int {
	idx := make([]int, len(run))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return bytes.Compare(run[a].msg.Key, run[b].msg.Key) })
	return idx
}

// applyOne handles one event in its own transaction, retrying with backoff.
// It returns false only when ctx ended before the event was done.
func (c *Consumer) applyOne(ctx context.Context, it item) bool {
	bo := &backoff.ExponentialBackOff{InitialInterval: c.cfg.RetryBase, RandomizationFactor: 0.5, Multiplier: 2, MaxInterval: c.cfg.RetryMax}
	for attempt := 1; ; attempt++ {
		err := c.applyBatch(ctx, []item{it})
		if err == nil {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		if IsPermanent(err) {
			return c.deadLetter(ctx, it.msg, err, attempt)
		}
		if attempt >= c.cfg.MaxAttempts {
			// Not this event's fault when the database is down, or when the
			// last try lost its connection (after a restart the pool hands
			// out its dead idle connections one by one, while a ping may
			// already get a fresh one): wait, keep the event, dead-letter
			// nothing.
			pingErr := database.Ping(ctx, c.db)
			if pingErr == nil && database.IsConnectionLost(err) {
				pingErr = err
			}
			if pingErr != nil {
				c.log.WarnContext(c.eventContext(ctx, it), "database unreachable; partition waits",
					"error", pingErr.Error())
				attempt--
				if !sleep(ctx, c.cfg.RetryMax) {
					return false
				}
				continue
			}
			return c.deadLetter(ctx, it.msg, err, attempt)
		}
		wait := bo.NextBackOff()
		c.m.retries.Inc()
		c.log.WarnContext(c.eventContext(ctx, it), "event handler failed; retrying",
			"attempt", attempt, "retry_in", wait, "error", err.Error())
		if !sleep(ctx, wait) {
			return false
		}
	}
}

func headerValue(hs []kafka.Header, key string) string {
	for _, h := range hs {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}

// sleep waits d or until ctx ends; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

type afterCommitKey struct{}

type afterCommit struct{ fns []func() }

// AfterCommit registers fn to run once the handler's transaction has
// committed (never if it rolls back): for work that must not run earlier,
// such as dropping a cache entry that a concurrent reader could otherwise
// fill again with the old state. Outside a handler it runs fn at once.
func AfterCommit(ctx context.Context, fn func()) {
	if h, ok := ctx.Value(afterCommitKey{}).(*afterCommit); ok {
		h.fns = append(h.fns, fn)
		return
	}
	fn()
}
