package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/shop-oss/shop/pkg/event"
	"github.com/shop-oss/shop/proto-events/eventsv1"
)

// runRaw produces the same event messages with kafka-go (one synchronous
// write per message, as the services' writer is configured) and consumes
// them in a consumer group, with no database: the ceiling of the bus.
func runRaw(ctx context.Context, l load) (result, error) {
	e, err := newEnv(ctx, false)
	if err != nil {
		return result{}, err
	}
	defer e.close()
	w := e.cfg.Writer()
	defer w.Close()
	log := newLatencyLog()

	consumeCtx, stop := context.WithCancel(ctx)
	defer stop()
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers: e.cfg.Brokers, GroupID: "raw", GroupTopics: []string{eventsv1.TopicOrder},
		MinBytes: 1, MaxBytes: 10 << 20, MaxWait: 500 * time.Millisecond, StartOffset: kafka.FirstOffset,
		CommitInterval: 100 * time.Millisecond, HeartbeatInterval: time.Second, QueueCapacity: 1000,
	})
	defer r.Close()
	joined := make(chan struct{}, 1)
	go func() {
		for {
			m, err := r.FetchMessage(consumeCtx)
			if err != nil {
				return
			}
			now := time.Now()
			if string(m.Key) == warmUpKey {
				signal(joined)
			} else if ev, err := event.FromMessage(m); err == nil {
				log.markReceived(ev.ID.String(), now)
			}
			_ = r.CommitMessages(consumeCtx, m)
		}
	}()
	err = warmUp(ctx, joined, func() error {
		ev, _ := event.New(ctx, warmUpKey, orderCreated(0))
		return w.WriteMessages(ctx, ev.Message())
	})
	if err != nil {
		return result{}, err
	}

	sent, err := l.drive(ctx, func(ctx context.Context, seq int64) error {
		msgs := make([]kafka.Message, l.perTx)
		ids := make([]string, l.perTx)
		for i := range l.perTx {
			n := seq + int64(i)
			ev, err := event.New(ctx, "order-"+strconv.FormatInt(n%1000, 10), orderCreated(n))
			if err != nil {
				return err
			}
			msgs[i], ids[i] = ev.Message(), ev.ID.String()
		}
		if err := w.WriteMessages(ctx, msgs...); err != nil {
			return err
		}
		now := time.Now()
		for _, id := range ids {
			log.markSent(id, now)
		}
		return nil
	})
	if err != nil {
		return result{}, err
	}
	return log.wait(sent, 60*time.Second), nil
}

// warmUpKey marks messages sent until the consumer has joined its group,
// so that joining is not measured.
const warmUpKey = "warm-up"

// warmUp sends until joined is signalled.
func warmUp(ctx context.Context, joined <-chan struct{}, send func() error) error {
	deadline := time.After(60 * time.Second)
	for {
		if err := send(); err != nil {
			return err
		}
		select {
		case <-joined:
			return nil
		case <-deadline:
			return fmt.Errorf("consumer did not receive anything within 60s")
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

func orderCreated(seq int64) *eventsv1.OrderCreated {
	return &eventsv1.OrderCreated{
		OrderId: "order-" + strconv.FormatInt(seq, 10),
		UserId:  "0190f5a8-0000-7000-8000-000000000001",
		Lines: []*eventsv1.OrderLine{
			{ProductId: "0190f5a8-0000-7000-8000-00000000000a", Quantity: 2, UnitPrice: &eventsv1.Money{AmountMinor: 1999, Currency: "EUR"}},
		},
		Total: &eventsv1.Money{AmountMinor: 3998, Currency: "EUR"},
	}
}
