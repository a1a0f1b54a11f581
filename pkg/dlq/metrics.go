package dlq

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/shop-oss/shop/pkg/scrape"
)

// NewCollector returns the collector of d's depth, read on each scrape:
// dlq_messages{topic}, every message the dead-letter topic holds, and
// dlq_depth{topic}, those not replayed yet (no published replay in
// dead_letter_replays). The depth is what an alert watches: it rises when
// an event fails for good and falls when staff replay it. Reading it costs
// one connection to the partition's leader for its offsets and one count on
// the replay log's primary key. Register it on the service's registry.
func NewCollector(d *DLQ, log *slog.Logger) prometheus.Collector {
	labels := prometheus.Labels{"topic": d.opts.Topic}
	messages := prometheus.NewDesc("dlq_messages", "Messages in the dead-letter topic, replayed or not.", nil, labels)
	depth := prometheus.NewDesc("dlq_depth", "Dead-lettered messages not replayed yet (no published replay in the audit log).", nil, labels)
	return scrape.New("the DLQ depth of "+d.opts.Topic, prometheus.CounterOpts{
		Name: "dlq_scrape_errors_total", ConstLabels: labels,
		Help: "Scrapes that could not read the DLQ's depth (dlq_messages and dlq_depth are then missing).",
	}, 3*time.Second, log, func(ctx context.Context, set func(*prometheus.Desc, float64, ...string)) error {
		n, unreplayed, err := d.Depth(ctx)
		if err != nil {
			return err
		}
		set(messages, float64(n))
		set(depth, float64(unreplayed))
		return nil
	}, messages, depth)
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
