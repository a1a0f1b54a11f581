package consumer

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"
)

// lagCollector exports consumer_lag{group, topic, partition}, the events
// of each partition the group has not committed yet, asked of the broker on
// each scrape (metadata, end offsets, committed offsets: three requests).
// Asking the broker, rather than remembering what the reader last saw,
// keeps the figure true when the consumer is stuck on a failing event or
// has left the group: then it is exactly what grows. Every replica reports
// the same group's lag; dashboards take max by group, topic and partition.
type lagCollector struct {
	client  *kafka.Client
	group   string
	topics  []string
	log     *slog.Logger
	timeout time.Duration
	lag     *prometheus.Desc
	errors  prometheus.Counter
}

func newLagCollector(client *kafka.Client, group string, topics []string, log *slog.Logger) *lagCollector {
	labels := prometheus.Labels{"group": group}
	return &lagCollector{
		client: client, group: group, topics: topics, log: log, timeout: 3 * time.Second,
		lag: prometheus.NewDesc("consumer_lag",
			"Events of a partition not yet committed by the consumer group (end offset minus committed offset), read from the broker at scrape time.",
			[]string{"topic", "partition"}, labels),
		errors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "consumer_lag_scrape_errors_total", ConstLabels: labels,
			Help: "Scrapes that could not read the group's lag from the broker (consumer_lag is then missing).",
		}),
	}
}

func (l *lagCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- l.lag
	l.errors.Describe(ch)
}

func (l *lagCollector) Collect(ch chan<- prometheus.Metric) {
	defer l.errors.Collect(ch)
	ctx, cancel := context.WithTimeout(context.Background(), l.timeout)
	defer cancel()
	lags, err := l.read(ctx)
	if err != nil {
		l.errors.Inc()
		l.log.Warn("read the consumer lag for /metrics", "error", err.Error())
		return
	}
	for tp, n := range lags {
		ch <- prometheus.MustNewConstMetric(l.lag, prometheus.GaugeValue, float64(n), tp.topic, strconv.Itoa(tp.partition))
	}
}

type topicPartition struct {
	topic     string
	partition int
}

// read returns the lag of every partition of the group's topics. A
// partition the group never committed counts from offset 0: the group
// starts at the first offset, and topics are not compacted.
func (l *lagCollector) read(ctx context.Context) (map[topicPartition]int64, error) {
	md, err := l.client.Metadata(ctx, &kafka.MetadataRequest{Topics: l.topics})
	if err != nil {
		return nil, err
	}
	ends := &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{}}
	fetch := &kafka.OffsetFetchRequest{GroupID: l.group, Topics: map[string][]int{}}
	for _, t := range md.Topics {
		if t.Error != nil {
			continue // not created yet: nothing to lag behind
		}
		for _, p := range t.Partitions {
			ends.Topics[t.Name] = append(ends.Topics[t.Name], kafka.LastOffsetOf(p.ID))
			fetch.Topics[t.Name] = append(fetch.Topics[t.Name], p.ID)
		}
	}
	endRes, err := l.client.ListOffsets(ctx, ends)
	if err != nil {
		return nil, err
	}
	committed, err := l.client.OffsetFetch(ctx, fetch)
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
