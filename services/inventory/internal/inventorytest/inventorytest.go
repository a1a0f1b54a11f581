// Package inventorytest gives inventory's tests a fresh database with the
// service's schema and the outbox's. Only tests import it.
package inventorytest

import (
	"context"
	"testing"

	"gorm.io/gorm"

	"github.com/shop-oss/shop/pkg/database"
	"github.com/shop-oss/shop/pkg/outbox"
	"github.com/shop-oss/shop/pkg/testkit"
	"github.com/shop-oss/shop/services/inventory/migrations"
)

// Database returns a fresh, migrated database and its DSN.
func Database(t testing.TB) (*gorm.DB, string) {
	t.Helper()
	db, dsn := testkit.Postgres(t)
	ctx := context.Background()
	if err := database.Migrate(ctx, dsn, migrations.FS, "schema_migrations"); err != nil {
		t.Fatal(err)
	}
	if err := database.Migrate(ctx, dsn, outbox.Migrations(), outbox.MigrationsTable); err != nil {
		t.Fatal(err)
	}
	return db, dsn
}
