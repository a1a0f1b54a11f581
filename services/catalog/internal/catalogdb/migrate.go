package catalogdb

import (
	"context"

	"github.com/shop-oss/shop/pkg/database"
	"github.com/shop-oss/shop/pkg/outbox"
	"github.com/shop-oss/shop/services/catalog/migrations"
)

// Migrate applies the catalog's migrations and the outbox's to dsn, for the
// seed and tests, which write without starting the service (service.New
// migrates at start-up).
func Migrate(ctx context.Context, dsn string) error {
	if err := database.Migrate(ctx, dsn, migrations.FS, "schema_migrations"); err != nil {
		return err
	}
	return database.Migrate(ctx, dsn, outbox.Migrations(), outbox.MigrationsTable)
}
