// Command poison writes, for the browser tests of the admin app's DLQ
// screen, messages that a consumer cannot handle to the payment.events
// topic of a broker, as a producer off the contract or a bug would:
//
//	poison -broker 127.0.0.1:PORT
//
// It writes two: a malformed one (bytes that are no event; every consumer
// of the topic dead-letters it at once, and replay cannot fix it) and a
// PAYMENT_SUCCESS for an order nobody has (the order service refuses it,
// cause "rejected"; it is replayable). It prints one JSON line with the
// second one's order and event IDs (its key is the order ID) and the
// first one's key (malformed_key), so that a check can find both in the DLQs.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/google/uuid"
	"github.com/segmentio/kafka-go"

	"github.com/shop-oss/shop/pkg/broker"
	"github.com/shop-oss/shop/pkg/event"
	"github.com/shop-oss/shop/proto-events/eventsv1"
)

func main() {
	addr := flag.String("broker", "127.0.0.1:9092", "the broker's address")
	flag.Parse()
	if err := run(*addr); err != nil {
		fmt.Fprintln(os.Stderr, "poison:", err)
		os.Exit(1)
	}
}

func run(addr string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	orderID := uuid.NewString()
	e, err := event.New(ctx, orderID, &eventsv1.PaymentSucceeded{OrderId: orderID, PaymentId: uuid.NewString(),
		Amount: &eventsv1.Money{AmountMinor: 1999, Currency: "EUR"}})
	if err != nil {
		return err
	}
	rejected := e.Message()
	malformedKey := "poison-" + uuid.NewString()
	malformed := kafka.Message{Topic: eventsv1.TopicPayment, Key: []byte(malformedKey), Value: []byte("this is not an event")}
	w := broker.Config{Brokers: []string{addr}, ClientID: "poison"}.Writer()
	defer w.Close()
	if err := w.WriteMessages(ctx, malformed, rejected); err != nil {
		return fmt.Errorf("write to %s: %w", addr, err)
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]string{"order_id": orderID, "event_id": e.ID.String(), "topic": eventsv1.TopicPayment,
		"malformed_key": malformedKey})
}
