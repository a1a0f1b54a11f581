// Package broker holds the Kafka client settings shared by producers and
// consumers (segmentio/kafka-go): one transport per client, SASL and TLS,
// topic creation at start-up, and a readiness ping. It works the same against
// Redpanda, Apache Kafka and the local kfake broker: nothing here knows which
// one it is.
package broker

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"
)

// Config says where the brokers are, how to authenticate to them and how
// topics are created.
type Config struct {
	Brokers    []string
	Partitions int // for the event topics; DLQ topics get one
	Replicas   int
	// MinInSyncReplicas is set on the topics EnsureTopics creates; 0 leaves
	// the broker's default.
	MinInSyncReplicas int
	ClientID          string
	// SASL authenticates every connection when set (see Mechanism).
	SASL sasl.Mechanism
	// TLS encrypts every connection when set (see TLSConfig).
	TLS *tls.Config
	// MaxMessageBytes is the one size limit of a message: the most a
	// writer sends in one batch (so no larger message leaves it) and the
	// most a reader asks for in one fetch (a larger batch still arrives
	// whole: brokers return the first one whatever its size). Keep it
	// below the broker's own limit by a few KiB of batch overhead
	// (default DefaultMaxMessageBytes).
	MaxMessageBytes int
}

// DefaultMaxMessageBytes is Config.MaxMessageBytes unset: below the 1 MiB
// that Kafka (message.max.bytes) and Redpanda (kafka_batch_max_bytes)
// accept by default.
const DefaultMaxMessageBytes = 1_000_000

// MessageLimit is the size limit of a message (Config.MaxMessageBytes, or
// its default).
func (c Config) MessageLimit() int {
	if c.MaxMessageBytes > 0 {
		return c.MaxMessageBytes
	}
	return DefaultMaxMessageBytes
}

// Transport returns a transport of its own. kafka-go's default transport is
// shared process-wide and keeps pooled connections, whose first use after a
// broker restart fails; a client-owned transport keeps that failure local and
// retried by the caller.
func (c Config) Transport() *kafka.Transport {
	return &kafka.Transport{
		ClientID:    c.ClientID,
		DialTimeout: 5 * time.Second,
		IdleTimeout: 30 * time.Second,
		MetadataTTL: 10 * time.Second,
		SASL:        c.SASL,
		TLS:         c.TLS,
	}
}

// Dialer returns a dialer for the connections kafka-go opens without a
// transport: consumer-group readers and single-partition reads.
func (c Config) Dialer(timeout time.Duration) *kafka.Dialer {
	return &kafka.Dialer{Timeout: timeout, ClientID: c.ClientID, DualStack: true, SASLMechanism: c.SASL, TLS: c.TLS}
}

// Client returns a kafka-go client for admin and metadata requests.
func (c Config) Client() *kafka.Client {
	return &kafka.Client{Addr: kafka.TCP(c.Brokers...), Timeout: 10 * time.Second, Transport: c.Transport()}
}

// Writer returns a synchronous producer that waits for all in-sync
// replicas. Keys go to partitions by murmur2 (the Java client's default), so
// every event of one aggregate lands on one partition, whoever publishes it.
// Callers hand over whole batches in one synchronous call, so a partly
// filled batch waits only writerLinger before it is sent.
func (c Config) Writer() *kafka.Writer {
	return &kafka.Writer{
		Addr:                   kafka.TCP(c.Brokers...),
		Balancer:               &kafka.Murmur2Balancer{},
		RequiredAcks:           kafka.RequireAll,
		BatchSize:              1000,
		BatchBytes:             int64(c.MessageLimit()),
		BatchTimeout:           writerLinger,
		MaxAttempts:            3,
		WriteBackoffMin:        50 * time.Millisecond,
		WriteBackoffMax:        time.Second,
		WriteTimeout:           10 * time.Second,
		ReadTimeout:            10 * time.Second,
		AllowAutoTopicCreation: false,
		Transport:              c.Transport(),
	}
}

// writerLinger is how long kafka-go waits for more messages before sending a
// partly filled batch.
const writerLinger = 100 * time.Microsecond

// Topic describes a topic to create.
type Topic struct {
	Name       string
	Partitions int
	// MinInSyncReplicas (min.insync.replicas) is left to the broker when 0.
	MinInSyncReplicas int
}

// EnsureTopics creates the topics that do not exist yet; existing topics are
// left as they are (their partitions and settings too).
func EnsureTopics(ctx context.Context, client *kafka.Client, replicas int, topics ...Topic) error {
	req := &kafka.CreateTopicsRequest{}
	seen := map[string]bool{}
	for _, t := range topics {
		if seen[t.Name] { // a duplicate makes the whole request invalid
			continue
		}
		seen[t.Name] = true
		var configs []kafka.ConfigEntry
		if t.MinInSyncReplicas > 0 {
			configs = append(configs, kafka.ConfigEntry{ConfigName: "min.insync.replicas", ConfigValue: strconv.Itoa(t.MinInSyncReplicas)})
		}
		req.Topics = append(req.Topics, kafka.TopicConfig{
			Topic:             t.Name,
			NumPartitions:     t.Partitions,
			ReplicationFactor: replicas,
			ConfigEntries:     configs,
		})
	}
	res, err := client.CreateTopics(ctx, req)
	if err != nil {
		return fmt.Errorf("create topics: %w", err)
	}
	var errs []error
	for name, err := range res.Errors {
		if err != nil && !errors.Is(err, kafka.TopicAlreadyExists) {
			errs = append(errs, fmt.Errorf("create topic %s: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

// Ping connects to the brokers and asks one for the cluster's brokers; it is
// a readiness check. It dials afresh each time: a client's cached metadata
// would answer while the brokers are gone. Refused credentials and untrusted
// certificates come back marked with ErrAuth (kafka-go's client, which
// EnsureTopics uses, reports them only as "broker not available").
func Ping(ctx context.Context, c Config) error {
	dialer := c.Dialer(2 * time.Second)
	var errs []error
	for _, addr := range c.Brokers {
		conn, err := dialer.DialContext(ctx, "tcp", addr)
		if err != nil {
			errs = append(errs, authFailure(err))
			continue
		}
		if dl, ok := ctx.Deadline(); ok {
			_ = conn.SetDeadline(dl)
		}
		_, err = conn.Brokers()
		_ = conn.Close()
		if err == nil {
			return nil
		}
		errs = append(errs, err)
	}
	return fmt.Errorf("no broker answers: %w", errors.Join(errs...))
}

// EndOffsets returns the end offset (the next offset to be written) of each
// partition of topic.
func EndOffsets(ctx context.Context, client *kafka.Client, topic string) (map[int]int64, error) {
	md, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return nil, fmt.Errorf("metadata of %s: %w", topic, err)
	}
	if len(md.Topics) != 1 || md.Topics[0].Error != nil {
		return nil, fmt.Errorf("metadata of %s: %v", topic, md.Topics)
	}
	req := &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{}}
	for _, p := range md.Topics[0].Partitions {
		req.Topics[topic] = append(req.Topics[topic], kafka.LastOffsetOf(p.ID))
	}
	res, err := client.ListOffsets(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("offsets of %s: %w", topic, err)
	}
	out := make(map[int]int64, len(res.Topics[topic]))
	for _, p := range res.Topics[topic] {
		if p.Error != nil {
			return nil, fmt.Errorf("offsets of %s/%d: %w", topic, p.Partition, p.Error)
		}
		out[p.Partition] = p.LastOffset
	}
	return out, nil
}
