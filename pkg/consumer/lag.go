package consumer

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"

	"github.com/shop-oss/shop/pkg/scrape"
)

// newLagCollector returns the collector of consumer_lag{group, topic,
// partition}, the events of each partition the group has not committed
// yet, asked of the broker on each scrape (metadata, end offsets, committed
// offsets: three requests). Asking the broker, rather than remembering what
// the reader last saw, keeps the figure true when the consumer is stuck on
// a failing event or has left the group: then it is exactly what grows.
// Every replica reports the same group's lag; dashboards take max by group,
// topic and partition.
func newLagCollector(client *kafka.Client, group string, topics []string, log *slog.Logger) prometheus.Collector {
	labels := prometheus.Labels{"group": group}
	lag := prometheus.NewDesc("consumer_lag",
		"Events of a partition not yet committed by the consumer group (end offset minus committed offset), read from the broker at scrape time.",
		[]string{"topic", "partition"}, labels)
	return scrape.New("the consumer lag", prometheus.CounterOpts{
		Name: "consumer_lag_scrape_errors_total", ConstLabels: labels,
		Help: "Scrapes that could not read the group's lag from the broker (consumer_lag is then missing).",
	}, 3*time.Second, log, func(ctx context.Context, set func(*prometheus.Desc, float64, ...string)) error {
		lags, err := readLag(ctx, client, group, topics)
		if err != nil {
			return err
		}
		for tp, n := range lags {
			set(lag, float64(n), tp.topic, strconv.Itoa(tp.partition))
		}
		return nil
	}, lag)
}

type topicPartition struct {
	topic     string
	partition int
}

// readLag returns the lag of every partition of the group's topics. A
// partition the group never committed counts from offset 0: the group
// starts at the first offset, and topics are not compacted.
func readLag(ctx context.Context, client *kafka.Client, group string, topics []string) (map[topicPartition]int64, error) {
	md, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: topics})
	if err != nil {
		return nil, err
	}
	ends := &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{}}
	fetch := &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{}}
	for _, t := range md.Topics {
		if t.Error != nil {
			continue // not created yet: nothing to lag behind
		}
		for _, p := range t.Partitions {
			ends.Topics[t.Name] = append(ends.Topics[t.Name], kafka.LastOffsetOf(p.ID))
			fetch.Topics[t.Name] = append(fetch.Topics[t.Name], p.ID)
		}
	}
	endRes, err := client.ListOffsets(ctx, ends)
	if err != nil {
		return nil, err
	}
	committed, err := client.OffsetFetch(ctx, fetch)
	if err != nil {
		return nil, err
	}
	if committed.Error != nil {
		return nil, committed.Error
	}
	at := map[topicPartition]int64{}
	for topic, parts := range committed.Topics {
		for _, p := range parts {
			if p.Error == nil && p.CommittedOffset > 0 {
				at[topicPartition{topic, p.Partition}] = p.CommittedOffset
			}
		}
	}
	out := map[topicPartition]int64{}
	for topic, parts := range endRes.Topics {
		for _, p := range parts {
			if p.Error != nil {
				continue
			}
			tp := topicPartition{topic, p.Partition}
			out[tp] = max(p.LastOffset-at[tp], 0)
		}
	}
	return out, nil
}
