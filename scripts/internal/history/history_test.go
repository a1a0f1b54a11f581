package history_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shop-oss/shop/pkg/bustest"
	"github.com/shop-oss/shop/pkg/database"
	"github.com/shop-oss/shop/pkg/testkit"
	"github.com/shop-oss/shop/scripts/internal/history"
)

// The past goes into databases migrated as the services migrate them (the
// repository's migration files), so every row passes the rules each
// service's schema enforces, and the three services agree on each order.
func TestSeedWritesAConsistentPast(t *testing.T) {
	ctx := context.Background()
	dsns := migratedDatabases(t)
	now := time.Now()
	if err := history.Seed(ctx, dsns, 100, now); err != nil {
		t.Fatal(err)
	}
	conns := map[string]*pgx.Conn{}
	for service, dsn := range dsns {
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close(ctx) })
		conns[service] = conn
	}
	count := func(service, sql string) (n int64) {
		t.Helper()
		if err := conns[service].QueryRow(ctx, sql).Scan(&n); err != nil {
			t.Fatalf("%s: %v", service, err)
		}
		return n
	}
	for _, c := range []struct {
		service, what, sql string
		want               int64
	}{
		{"order", "delivered orders", "SELECT count(*) FROM orders WHERE status = 'DELIVERED' AND paid_at IS NOT NULL", 90},
		{"order", "cancelled orders", "SELECT count(*) FROM orders WHERE status = 'CANCELLED'", 10},
		{"order", "items", "SELECT count(*) FROM order_items", 200},
		{"order", "timeline entries", "SELECT count(*) FROM order_history", 90*5 + 10*2},
		{"order", "orders newer than now or older than the span",
			"SELECT count(*) FROM orders WHERE created_at > now() OR created_at < now() - interval '31 days'", 0},
		{"order", "inbox rows", "SELECT count(*) FROM processed_events", 400},
		{"order", "inbox rows newer than now or older than the span",
			"SELECT count(*) FROM processed_events WHERE processed_at > now() OR processed_at < now() - interval '31 days'", 0},
		{"inventory", "confirmed reservations", "SELECT count(*) FROM reservations WHERE status = 'CONFIRMED'", 90},
		{"inventory", "reservation lines", "SELECT count(*) FROM reservation_lines", 200},
		{"payment", "captured payments", "SELECT count(*) FROM payments WHERE status = 'SUCCEEDED' AND charge_id IS NOT NULL", 90},
		{"payment", "voided payments", "SELECT count(*) FROM payments WHERE status = 'VOIDED'", 10},
		{"payment", "projected orders", "SELECT count(*) FROM order_projection WHERE total_minor = 3998", 100},
	} {
		if got := count(c.service, c.sql); got != c.want {
			t.Errorf("%s: %s %d, want %d", c.service, c.what, got, c.want)
		}
	}
	// The Nth order has the same ID in every database: its payment and its
	// reservation belong to it.
	ids := func(service, sql string) map[string]bool {
		t.Helper()
		rows, err := conns[service].Query(ctx, sql)
		if err != nil {
			t.Fatal(err)
		}
		list, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]bool{}
		for _, id := range list {
			out[id] = true
		}
		return out
	}
	delivered := ids("order", "SELECT id::text FROM orders WHERE status = 'DELIVERED'")
	for name, other := range map[string]map[string]bool{
		"captured payments":      ids("payment", "SELECT order_id::text FROM payments WHERE status = 'SUCCEEDED'"),
		"confirmed reservations": ids("inventory", "SELECT order_id::text FROM reservations WHERE status = 'CONFIRMED'"),
	} {
		if len(other) != len(delivered) {
			t.Errorf("%d %s for %d delivered orders", len(other), name, len(delivered))
		}
		for id := range other {
			if !delivered[id] {
				t.Errorf("%s: order %s is not delivered", name, id)
			}
		}
	}
}

// migratedDatabases makes a database per service of history.Services,
// migrated as the service migrates its own (its migration files and the
// event bus's tables), and returns their DSNs by service.
func migratedDatabases(t *testing.T) map[string]string {
	t.Helper()
	dsns := map[string]string{}
	for _, service := range history.Services {
		_, dsn := testkit.Postgres(t)
		dir := filepath.Join("..", "..", "..", "services", service, "migrations")
		if err := database.Migrate(context.Background(), dsn, os.DirFS(dir), "schema_migrations"); err != nil {
			t.Fatalf("migrate %s: %v", service, err)
		}
		bustest.MigrateBus(t, dsn)
		dsns[service] = dsn
	}
	return dsns
}
