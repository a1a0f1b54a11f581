// Package inventorytest gives inventory's tests a fresh database with the
// service's schema and the event bus's (outbox, inbox, DLQ). Only tests
// import it.
package inventorytest

import (
	"context"
	"testing"

	"gorm.io/gorm"

	"github.com/shop-oss/shop/pkg/bustest"
	"github.com/shop-oss/shop/pkg/database"
	"github.com/shop-oss/shop/pkg/testkit"
	"github.com/shop-oss/shop/services/inventory/migrations"
)

// Database returns a fresh, migrated database and its DSN.
func Database(t testing.TB) (*gorm.DB, string) {
	t.Helper()
	db, dsn := testkit.Postgres(t)
	if err := database.Migrate(context.Background(), dsn, migrations.FS, "schema_migrations"); err != nil {
		t.Fatal(err)
	}
	bustest.MigrateBus(t, dsn)
	return db, dsn
}
