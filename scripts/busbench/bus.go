package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/segmentio/kafka-go"
	"gorm.io/gorm"

	"github.com/shop-oss/shop/pkg/consumer"
	"github.com/shop-oss/shop/pkg/event"
	"github.com/shop-oss/shop/pkg/outbox"
	"github.com/shop-oss/shop/proto-events/eventsv1"
)

// runBus commits each event with a business row through the outbox, and
// applies its effect in an idempotent consumer; latency runs from the
// producer's commit to the consumer's commit.
func runBus(ctx context.Context, l load) (result, error) {
	e, err := newEnv(ctx, true)
	if err != nil {
		return result{}, err
	}
	defer e.close()
	log := newLatencyLog()
	joined := make(chan struct{}, 1)

	w := e.cfg.Writer()
	defer w.Close()
	relay := outbox.NewRelay(e.db, e.dsn, timedPublisher{w, log}, outbox.RelayConfig{}, quiet, nil)
	c := consumer.New(e.db, e.cfg, consumer.Config{
		Group: "busbench", Topics: []string{eventsv1.TopicOrder},
		OnCommitted: func(_ context.Context, handled []event.Event) {
			now := time.Now()
			for _, ev := range handled {
				if ev.Key == warmUpKey {
					signal(joined)
					continue
				}
				log.markReceived(ev.ID.String(), now)
			}
		},
	}, quiet, nil)
	c.Handle(eventsv1.TypeOrderCreated, func(ctx context.Context, tx *gorm.DB, ev event.Event) error {
		msg, err := event.DecodeAs[*eventsv1.OrderCreated](ev)
		if err != nil {
			return err
		}
		return tx.Exec(`INSERT INTO effects (event_id, order_id) VALUES (?, ?)
			ON CONFLICT (event_id) DO UPDATE SET applied = effects.applied + 1`, ev.ID, msg.OrderId).Error
	})
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{}, 2)
	go func() { _ = relay.Run(runCtx); done <- struct{}{} }()
	go func() { _ = c.Run(runCtx); done <- struct{}{} }()
	defer func() { stop(); <-done; <-done }()

	// commit writes n business rows and their events in one transaction.
	commit := func(ctx context.Context, key func(int64) string, seq int64, n int) ([]event.Event, error) {
		evs := make([]event.Event, n)
		for i := range n {
			ev, err := event.New(ctx, key(seq+int64(i)), orderCreated(seq+int64(i)))
			if err != nil {
				return nil, err
			}
			evs[i] = ev
		}
		err := e.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			for i, ev := range evs {
				if err := tx.Exec("INSERT INTO orders (id, seq) VALUES (?, ?)", ev.ID.String(), seq+int64(i)).Error; err != nil {
					return err
				}
			}
			return outbox.Add(ctx, tx, evs...)
		})
		return evs, err
	}
	warm := func(int64) string { return warmUpKey }
	if err := warmUp(ctx, joined, func() error { _, err := commit(ctx, warm, 0, 1); return err }); err != nil {
		return result{}, err
	}

	orderKey := func(n int64) string { return "order-" + strconv.FormatInt(n%1000, 10) }
	sent, err := l.drive(ctx, func(ctx context.Context, seq int64) error {
		evs, err := commit(ctx, orderKey, seq, l.perTx)
		if err != nil {
			return err
		}
		now := time.Now()
		for _, ev := range evs {
			log.markSent(ev.ID.String(), now)
		}
		return nil
	})
	if err != nil {
		return result{}, err
	}
	r := log.wait(sent, 120*time.Second)

	// Loss and duplicate effects, as the database sees them.
	var db struct{ Effects, Doubled int64 }
	err = e.db.Raw(`SELECT count(*) FILTER (WHERE order_id <> ?) AS effects, count(*) FILTER (WHERE applied > 1) AS doubled FROM effects`,
		"order-0").Scan(&db).Error
	if err != nil {
		return r, fmt.Errorf("count effects: %w", err)
	}
	r.lost = max(r.lost, sent-db.Effects)
	r.doubled = max(r.doubled, db.Doubled)
	return r, nil
}

// timedPublisher marks each event published when the broker acknowledged
// it, which splits the latency between the relay and the consumer.
type timedPublisher struct {
	outbox.Publisher
	log *latencyLog
}

func (p timedPublisher) WriteMessages(ctx context.Context, msgs ...kafka.Message) error {
	if err := p.Publisher.WriteMessages(ctx, msgs...); err != nil {
		return err
	}
	now := time.Now()
	for _, m := range msgs {
		for _, h := range m.Headers {
			if h.Key == eventsv1.HeaderEventID {
				p.log.markPublished(string(h.Value), now)
			}
		}
	}
	return nil
}
