package app

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/shop-oss/shop/pkg/database"
	"github.com/shop-oss/shop/pkg/logging"
	"github.com/shop-oss/shop/services/order/internal/order"
	"github.com/shop-oss/shop/services/order/internal/orderdb"
	"github.com/shop-oss/shop/services/order/migrations"
)

// Seed seeds nothing (orders are placed by customers and moved by the
// saga) and prints one "demo orders: ..." line for `make up` saying what
// the database holds: how many orders, per status. It needs only the
// database; the service may be running.
func Seed(ctx context.Context, cfg Config, out io.Writer) error {
	if cfg.DatabaseCreate {
		if err := database.EnsureExists(ctx, cfg.DatabaseURL); err != nil {
			return err
		}
	}
	if err := database.Migrate(ctx, cfg.DatabaseURL, migrations.FS, "schema_migrations"); err != nil {
		return err
	}
	level, err := logging.ParseLevel(cfg.LogLevel)
	if err != nil {
		return err
	}
	db, err := database.Open(ctx, cfg.DatabaseURL, database.Pool{MaxOpen: 1}, logging.New(io.Discard, level, "order-seed"))
	if err != nil {
		return err
	}
	defer database.Close(db)
	counts, _, err := orderdb.New(db, db).Counts(ctx, time.Time{}, time.Time{})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(out, seedLine(counts))
	return err
}

// seedLine says how many orders there are, per status in the saga's order.
func seedLine(counts map[order.Status]int64) string {
	var total int64
	var parts []string
	for _, st := range order.Statuses {
		if n := counts[st]; n > 0 {
			total += n
			parts = append(parts, fmt.Sprintf("%d %s", n, st))
		}
	}
	if total == 0 {
		return "demo orders: none yet (place one in the storefront)"
	}
	return fmt.Sprintf("demo orders: %d in the database (%s)", total, strings.Join(parts, ", "))
}
