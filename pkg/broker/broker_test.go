package broker_test

import (
	"context"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/shop-oss/shop/pkg/broker"
	"github.com/shop-oss/shop/pkg/testkit"
)

func TestEnsureTopicsIsIdempotentAndPingFollowsTheBroker(t *testing.T) {
	b := testkit.Broker(t)
	cfg := broker.Config{Brokers: []string{b.Addr()}, Partitions: 6, Replicas: 1}
	client := cfg.Client()
	ctx := context.Background()

	for range 2 {
		err := broker.EnsureTopics(ctx, client, 1, broker.Topic{Name: "a.events", Partitions: 6},
			broker.Topic{Name: "a.dlq", Partitions: 1}, broker.Topic{Name: "a.events", Partitions: 6})
		if err != nil {
			t.Fatal(err)
		}
	}
	md, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{"a.events", "a.dlq"}})
	if err != nil {
		t.Fatal(err)
	}
	parts := map[string]int{}
	for _, tp := range md.Topics {
		parts[tp.Name] = len(tp.Partitions)
	}
	if parts["a.events"] != 6 || parts["a.dlq"] != 1 {
		t.Fatalf("partitions: %v", parts)
	}

	if err := broker.Ping(ctx, cfg); err != nil {
		t.Fatalf("ping a running broker: %v", err)
	}
	b.Stop()
	pingCtx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := broker.Ping(pingCtx, cfg); err == nil {
		t.Fatal("ping succeeded with the broker stopped")
	}
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for broker.Ping(ctx, cfg) != nil {
		if time.Now().After(deadline) {
			t.Fatal("ping did not recover after the broker restarted")
		}
		time.Sleep(100 * time.Millisecond)
	}
}
func TestEndOffsetsCountEachPartitionsMessages(t *testing.T) {
	b := testkit.Broker(t)
	cfg := broker.Config{Brokers: []string{b.Addr()}, Partitions: 2, Replicas: 1}
	ctx := context.Background()
	if err := broker.EnsureTopics(ctx, cfg.Client(), 1, broker.Topic{Name: "ends", Partitions: 2}); err != nil {
		t.Fatal(err)
	}
	w := cfg.Writer()
	defer w.Close()
	if err := w.WriteMessages(ctx, kafka.Message{Topic: "ends", Key: []byte("a")}, kafka.Message{Topic: "ends", Key: []byte("a")},
		kafka.Message{Topic: "ends", Key: []byte("b")}); err != nil {
		t.Fatal(err)
	}
	ends, err := broker.EndOffsets(ctx, cfg.Client(), "ends")
	if err != nil || len(ends) != 2 || ends[0]+ends[1] != 3 {
		t.Fatalf("end offsets %v, %v; want 2 partitions holding 3 messages", ends, err)
	}
	if _, err := broker.EndOffsets(ctx, cfg.Client(), "no-such-topic"); err == nil {
		t.Fatal("end offsets of a missing topic")
	}
}
