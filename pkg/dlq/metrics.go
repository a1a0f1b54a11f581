package dlq

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Collector exports the DLQ's depth on each scrape: dlq_messages{topic},
// every message the dead-letter topic holds, and dlq_depth{topic}, those
// not replayed yet (no published replay in dead_letter_replays). The depth
// is what an alert watches: it rises when an event fails for good and falls
// when staff replay it. Reading it costs one connection to the partition's
// leader for its offsets and one count on the replay log's primary key.
type Collector struct {
	d        *DLQ
	log      *slog.Logger
	timeout  time.Duration
	messages *prometheus.Desc
	depth    *prometheus.Desc
	errors   prometheus.Counter
}

// NewCollector returns the collector of d; register it on the service's
// registry.
func NewCollector(d *DLQ, log *slog.Logger) *Collector {
	labels := prometheus.Labels{"topic": d.opts.Topic}
	return &Collector{
		d: d, log: log, timeout: 3 * time.Second,
		messages: prometheus.NewDesc("dlq_messages", "Messages in the dead-letter topic, replayed or not.", nil, labels),
		depth: prometheus.NewDesc("dlq_depth",
			"Dead-lettered messages not replayed yet (no published replay in the audit log).", nil, labels),
		errors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "dlq_scrape_errors_total", ConstLabels: labels,
			Help: "Scrapes that could not read the DLQ's depth (dlq_messages and dlq_depth are then missing).",
		}),
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.messages
	ch <- c.depth
	c.errors.Describe(ch)
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	defer c.errors.Collect(ch)
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	messages, depth, err := c.d.Depth(ctx)
	if err != nil {
		c.errors.Inc()
		c.log.Warn("read the DLQ depth for /metrics", "topic", c.d.opts.Topic, "error", err.Error())
		return
	}
	ch <- prometheus.MustNewConstMetric(c.messages, prometheus.GaugeValue, float64(messages))
	ch <- prometheus.MustNewConstMetric(c.depth, prometheus.GaugeValue, float64(depth))
}

// Depth returns how many messages the dead-letter topic holds and how many
// of them no replay has published yet.
func (d *DLQ) Depth(ctx context.Context) (messages, unreplayed int64, err error) {
	conn, first, end, err := d.open(ctx)
	if err != nil {
		return 0, 0, err
	}
	_ = conn.Close()
	if end <= first {
		return 0, 0, nil
	}
	var replayed int64
	err = d.db.WithContext(ctx).Raw(`SELECT count(DISTINCT dlq_offset) FROM dead_letter_replays
		WHERE dlq_topic = ? AND dlq_offset >= ? AND dlq_offset < ? AND outcome = 'published'`,
		d.opts.Topic, first, end).Scan(&replayed).Error
	if err != nil {
		return 0, 0, err
	}
	return end - first, max(end-first-replayed, 0), nil
}
