// Command inventory runs the inventory service: stock and reservations.
//
//	inventory          serve the API and run the consumers (default)
//	inventory seed     give the demo products their stock, idempotently (make up runs it)
//
// and the commands every service has (pkg/service.RunCommand): version,
// settings, healthcheck [url...] and migrate.
//
// Configuration comes from SHOP_* environment variables (see pkg/config and
// internal/app.Config); with none set it runs against the local stack of
// `make up`.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/shop-oss/shop/pkg/config"
	"github.com/shop-oss/shop/pkg/service"
	"github.com/shop-oss/shop/services/inventory/internal/app"
	"github.com/shop-oss/shop/services/inventory/migrations"
)

func main() { service.Main("inventory", run) }

func run(ctx context.Context, args []string) error {
	cmds := service.Commands{Name: "inventory", Config: &app.Config{}, Migrations: migrations.FS}
	if ok, err := service.RunCommand(ctx, args, cmds, os.Stdout); ok {
		return err
	}
	cfg, err := app.Load(config.Environ())
	if err != nil {
		return err
	}
	switch {
	case len(args) == 0 || args[0] == "serve":
		return service.Serve(ctx, func(ctx context.Context) (*service.Service, error) {
			return app.New(ctx, cfg, app.Options{})
		})
	case args[0] == "seed":
		return app.Seed(ctx, cfg, os.Stdout)
	default:
		return fmt.Errorf("unknown command %q (want serve, seed, version, settings, healthcheck or migrate)", args[0])
	}
}
