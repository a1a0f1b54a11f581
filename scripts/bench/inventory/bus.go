package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
	"google.golang.org/protobuf/proto"

	"github.com/shop-oss/shop/pkg/broker"
	"github.com/shop-oss/shop/pkg/event"
	"github.com/shop-oss/shop/proto-events/eventsv1"
)

// bus talks to the inventory service as the other services do: it
// produces the saga's events (ORDER_CREATED on order.events,
// PAYMENT_SUCCESS on payment.events) with the event envelope, and reads
// inventory.events in a consumer group of its own, handing each answer to
// the caller waiting for that order.
type bus struct {
	w       *kafka.Writer
	r       *kafka.Reader
	mu      sync.Mutex
	waiting map[string]chan answer // by order ID
	stop    context.CancelFunc
	done    chan struct{}
}

// answer is inventory's event about one order and when it arrived.
type answer struct {
	eventType string
	at        time.Time
}

// errNoAnswer is a request inventory did not answer in time.
var errNoAnswer = errors.New("no answer from inventory within 30s")

func newBus(brokerAddr string) *bus {
	cfg := broker.Config{Brokers: []string{brokerAddr}, ClientID: "inventory-bench"}
	ctx, stop := context.WithCancel(context.Background())
	b := &bus{
		w: cfg.Writer(), // as the services' relays write
		r: kafka.NewReader(kafka.ReaderConfig{
			Brokers: cfg.Brokers, GroupID: "inventory-bench", GroupTopics: []string{eventsv1.TopicInventory},
			MinBytes: 1, MaxBytes: 10 << 20, MaxWait: 50 * time.Millisecond, StartOffset: kafka.FirstOffset,
			HeartbeatInterval: time.Second, QueueCapacity: 1000, Dialer: cfg.Dialer(10 * time.Second),
		}),
		waiting: map[string]chan answer{},
		stop:    stop,
		done:    make(chan struct{}),
	}
	go b.route(ctx)
	return b
}

func (b *bus) close() {
	b.stop()
	<-b.done
	_ = b.r.Close()
	_ = b.w.Close()
}

// route hands every event of inventory.events to the caller waiting for
// its order; events nobody waits for (STOCK_LOW, keyed by product) are
// dropped.
func (b *bus) route(ctx context.Context) {
	defer close(b.done)
	for {
		m, err := b.r.FetchMessage(ctx)
		if err != nil {
			return
		}
		at := time.Now()
		ev, err := event.FromMessage(m)
		if err != nil {
			continue
		}
		b.mu.Lock()
		ch := b.waiting[ev.Key]
		delete(b.waiting, ev.Key)
		b.mu.Unlock()
		if ch != nil {
			ch <- answer{eventType: ev.Type, at: at}
		}
	}
}

// ask publishes msg (an event keyed by orderID) and waits for inventory's
// answer about that order. It returns the answer's type and the time from
// just before the publish to the answer's arrival.
func (b *bus) ask(ctx context.Context, orderID string, msg proto.Message) (string, time.Duration, error) {
	ev, err := event.New(ctx, orderID, msg)
	if err != nil {
		return "", 0, err
	}
	ch := make(chan answer, 1)
	b.mu.Lock()
	b.waiting[orderID] = ch
	b.mu.Unlock()
	start := time.Now()
	if err := b.w.WriteMessages(ctx, ev.Message()); err != nil {
		b.forget(orderID)
		return "", 0, fmt.Errorf("publish %s: %w", ev.Type, err)
	}
	select {
	case a := <-ch:
		return a.eventType, a.at.Sub(start), nil
	case <-time.After(30 * time.Second):
		b.forget(orderID)
		return "", 0, fmt.Errorf("%s of order %s: %w", ev.Type, orderID, errNoAnswer)
	case <-ctx.Done():
		b.forget(orderID)
		return "", 0, ctx.Err()
	}
}

func (b *bus) forget(orderID string) {
	b.mu.Lock()
	delete(b.waiting, orderID)
	b.mu.Unlock()
}
