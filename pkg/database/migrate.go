package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"

	"github.com/golang-migrate/migrate/v4"
	migratepgx "github.com/golang-migrate/migrate/v4/database/pgx/v5"
	"github.com/golang-migrate/migrate/v4/source/iofs"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
)

// Migrate applies the up migrations in fsys (files like 0001_init.up.sql at
// its root) to db, recording progress in table. Several sets of migrations
// can live in one database under different tables: the service's own, and
// those of shared packages (outbox, inbox, idempotency keys).
//
// golang-migrate takes an advisory lock, so replicas starting together
// migrate once. A migration left dirty by a crash stops start-up with a
// message: it needs a human.
func Migrate(ctx context.Context, dsn string, fsys fs.FS, table string) error {
	src, err := iofs.New(fsys, ".")
	if err != nil {
		return fmt.Errorf("read migrations for %s: %w", table, err)
	}
	// A pool of its own: closing the migrator closes it, and must not close
	// the service's pool.
	sqlDB, err := sql.Open("pgx", dsn)
	if err != nil {
		return fmt.Errorf("open database for migrations: %w", err)
	}
	drv, err := migratepgx.WithInstance(sqlDB, &migratepgx.Config{MigrationsTable: table})
	if err != nil {
		_ = sqlDB.Close()
		return fmt.Errorf("migration driver for %s: %w", table, err)
	}
	m, err := migrate.NewWithInstance("iofs", src, "pgx5", drv)
	if err != nil {
		_ = drv.Close()
		return fmt.Errorf("migrator for %s: %w", table, err)
	}
	defer m.Close()
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-ctx.Done():
			m.GracefulStop <- true // stops after the migration in progress
		case <-done:
		}
	}()
	if err := m.Up(); err != nil && !errors.Is(err, migrate.ErrNoChange) {
		var dirty migrate.ErrDirty
		if errors.As(err, &dirty) {
			return fmt.Errorf("migrations %s: version %d is dirty (a migration failed half-way); fix the schema by hand, then force the version: %w", table, dirty.Version, err)
		}
		return fmt.Errorf("migrate %s: %w", table, err)
	}
	return nil
}
