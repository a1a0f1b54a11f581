package outbox

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"gorm.io/gorm"
)

// backlogLimit bounds the rows a scrape counts: past it the backlog reads
// as backlogLimit, which is an incident either way, and the count stays a
// short index scan while the broker is down and the outbox grows.
const backlogLimit = 100_000

// BacklogCollector exports the outbox's unsent rows on each scrape:
// outbox_backlog_rows (at most backlogLimit) and outbox_oldest_age_seconds
// (0 when empty). The relay deletes what it sends, so every row is unsent;
// the oldest is the lowest ID (the primary key), so both are read from the
// index with one query and no cost to producers or the relay.
type BacklogCollector struct {
	db      *gorm.DB
	log     *slog.Logger
	timeout time.Duration
	rows    *prometheus.Desc
	age     *prometheus.Desc
	errors  prometheus.Counter
}

// NewBacklogCollector returns the collector over db's outbox; register it
// on the service's registry.
func NewBacklogCollector(db *gorm.DB, log *slog.Logger) *BacklogCollector {
	return &BacklogCollector{
		db: db, log: log, timeout: 2 * time.Second,
		rows: prometheus.NewDesc("outbox_backlog_rows",
			"Outbox rows not yet published (counted up to 100,000).", nil, nil),
		age: prometheus.NewDesc("outbox_oldest_age_seconds",
			"Age of the oldest outbox row not yet published (0 when none).", nil, nil),
		errors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "outbox_backlog_scrape_errors_total",
			Help: "Scrapes that could not read the outbox backlog (the backlog metrics are then missing).",
		}),
	}
}

// Describe implements prometheus.Collector.
func (c *BacklogCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.rows
	ch <- c.age
	c.errors.Describe(ch)
}

// Collect implements prometheus.Collector.
func (c *BacklogCollector) Collect(ch chan<- prometheus.Metric) {
	defer c.errors.Collect(ch)
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	var b struct {
		Rows int64
		Age  float64
	}
	err := c.db.WithContext(ctx).Raw(`SELECT
		(SELECT count(*) FROM (SELECT 1 FROM outbox LIMIT ?) b) AS rows,
		coalesce((SELECT extract(epoch FROM clock_timestamp() - created_at) FROM outbox ORDER BY id LIMIT 1), 0)::float8 AS age`,
		backlogLimit).Scan(&b).Error
	if err != nil {
		c.errors.Inc()
		c.log.Warn("read the outbox backlog for /metrics", "error", err.Error())
		return
	}
	ch <- prometheus.MustNewConstMetric(c.rows, prometheus.GaugeValue, float64(b.Rows))
	ch <- prometheus.MustNewConstMetric(c.age, prometheus.GaugeValue, max(b.Age, 0))
}
