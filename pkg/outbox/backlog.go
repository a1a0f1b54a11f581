package outbox

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"gorm.io/gorm"

	"github.com/shop-oss/shop/pkg/scrape"
)

// backlogLimit bounds the rows a scrape counts: past it the backlog reads
// as backlogLimit, which is an incident either way, and the count stays a
// short index scan while the broker is down and the outbox grows.
const backlogLimit = 100_000

// NewBacklogCollector returns the collector of the outbox's unsent rows,
// read on each scrape: outbox_backlog_rows (at most backlogLimit) and
// outbox_oldest_age_seconds (0 when empty). The relay deletes what it
// sends, so every row is unsent; the oldest is the lowest ID (the primary
// key), so both are read from the index with one query and no cost to
// producers or the relay. Register it on the service's registry.
func NewBacklogCollector(db *gorm.DB, log *slog.Logger) prometheus.Collector {
	rows := prometheus.NewDesc("outbox_backlog_rows", "Outbox rows not yet published (counted up to 100,000).", nil, nil)
	age := prometheus.NewDesc("outbox_oldest_age_seconds", "Age of the oldest outbox row not yet published (0 when none).", nil, nil)
	return scrape.New("the outbox backlog", prometheus.CounterOpts{
		Name: "outbox_backlog_scrape_errors_total",
		Help: "Scrapes that could not read the outbox backlog (the backlog metrics are then missing).",
	}, 2*time.Second, log, func(ctx context.Context, set func(*prometheus.Desc, float64, ...string)) error {
		var b struct {
			Rows int64
			Age  float64
		}
		err := db.WithContext(ctx).Raw(`SELECT
		(SELECT count(*) FROM (SELECT 1 FROM outbox LIMIT ?) b) AS rows,
		coalesce((SELECT extract(epoch FROM clock_timestamp() - created_at) FROM outbox ORDER BY id LIMIT 1), 0)::float8 AS age`,
			backlogLimit).Scan(&b).Error
		if err != nil {
			return err
		}
		set(rows, float64(b.Rows))
		set(age, max(b.Age, 0))
		return nil
	}, rows, age)
}
