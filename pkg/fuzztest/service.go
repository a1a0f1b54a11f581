package fuzztest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"google.golang.org/protobuf/proto"

	"github.com/shop-oss/shop/pkg/consumer"
	"github.com/shop-oss/shop/pkg/event"
	"github.com/shop-oss/shop/pkg/service"
	"github.com/shop-oss/shop/pkg/testkit"
	"github.com/shop-oss/shop/proto-events/eventsv1"
)

// Service is a service started for fuzzing.
type Service struct {
	*service.Service
	Stack *testkit.Stack
	Log   *Tail
}

// Start runs a service (name as in config, e.g. "payment") on a fresh
// database, Redis and broker until tb ends, with its log at info level into
// a Tail; vars add or override SHOP_* settings. newService is the service's
// app.New with cfg, its configuration, loaded.
func Start[C any](tb testing.TB, name string, vars map[string]string, newService func(cfg C, log io.Writer) (*service.Service, error)) Service {
	tb.Helper()
	st := testkit.NewStack(tb)
	all := map[string]string{"SHOP_LOG_LEVEL": "info"}
	for k, v := range vars {
		all[k] = v
	}
	var cfg C
	st.Config(tb, name, &cfg, all)
	log := &Tail{}
	svc, err := newService(cfg, log)
	if err != nil {
		tb.Fatalf("start %s: %v", name, err)
	}
	testkit.Run(tb, svc)
	s := Service{Service: svc, Stack: st, Log: log}
	s.deadLetter(tb)
	return s
}

// deadLetter writes the first entry of the service's dead-letter topic, so
// that its admin API has one to show and replay: a USER_DISABLED that the
// service's revocation consumer (group "<service>.revocations", see
// pkg/service) refused.
func (s Service) deadLetter(tb testing.TB) {
	tb.Helper()
	user := "0190f000-0000-7000-8000-0000000de1e7"
	e, err := event.New(context.Background(), user, &eventsv1.UserDisabled{UserId: user, TokenGeneration: 1})
	if err != nil {
		tb.Fatal(err)
	}
	m := e.Message()
	m.Topic = s.Name + ".dlq"
	m.Headers = append(m.Headers,
		kafka.Header{Key: consumer.HeaderDLQTopic, Value: []byte(e.Topic)},
		kafka.Header{Key: consumer.HeaderDLQPartition, Value: []byte("0")},
		kafka.Header{Key: consumer.HeaderDLQOffset, Value: []byte("0")},
		kafka.Header{Key: consumer.HeaderDLQError, Value: []byte("refused for the fuzz targets")},
		kafka.Header{Key: consumer.HeaderDLQCause, Value: []byte(consumer.CauseRejected)},
		kafka.Header{Key: consumer.HeaderDLQAttempts, Value: []byte("1")},
		kafka.Header{Key: consumer.HeaderDLQConsumer, Value: []byte(s.Name + ".revocations")},
		kafka.Header{Key: consumer.HeaderDLQFailedAt, Value: []byte(time.Now().UTC().Format(time.RFC3339Nano))},
	)
	w := s.Broker.Writer()
	defer w.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := w.WriteMessages(ctx, m); err != nil {
		tb.Fatalf("setup: dead letter: %v", err)
	}
}

// Call makes a request of the service's engine during setup and fails tb
// unless the answer is want; body is JSON-encoded; the answer is decoded
// into out when out is not nil.
func (s Service) Call(tb testing.TB, want int, method, path, token string, body, out any, headers ...string) {
	tb.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			tb.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req := httptest.NewRequest(method, path, rd)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	s.Engine.ServeHTTP(rec, req)
	if rec.Code != want {
		tb.Fatalf("setup: %s %s: %d, want %d: %s", method, path, rec.Code, want, rec.Body.String())
	}
	if out != nil {
		if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
			tb.Fatalf("setup: %s %s: %v", method, path, err)
		}
	}
}

// Apply hands msg, keyed by key, to the service's consumer during setup
// and fails tb unless it is handled.
func (s Service) Apply(tb testing.TB, key string, msg proto.Message) {
	tb.Helper()
	e, err := event.New(context.Background(), key, msg)
	if err != nil {
		tb.Fatal(err)
	}
	if err := s.Consumer.Attempt(context.Background(), e.Message()); err != nil {
		tb.Fatalf("setup: %s: %v", e.Type, err)
	}
}

// Payload is msg's protobuf encoding, for seeds.
func Payload(msg proto.Message) []byte {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(msg)
	if err != nil {
		panic(err) // the messages of seeds are built in code
	}
	return b
}
