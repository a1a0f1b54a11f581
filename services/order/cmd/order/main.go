// Command order runs the order service: orders and their saga.
//
//	order          serve the API and run the consumers (default)
//	order seed     say how many orders there are, per status (make up runs it)
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
	"github.com/shop-oss/shop/services/order/internal/app"
	"github.com/shop-oss/shop/services/order/migrations"
)

func main() { service.Main("order", run) }

func run(ctx context.Context, args []string) error {
	cmds := service.Commands{Name: "order", Config: &app.Config{}, Migrations: migrations.FS}
	if ok, err := service.RunCommand(ctx, args, cmds, os.Stdout); ok {
		return err
	}
	switch {
	case len(args) == 0 || args[0] == "serve":
		cfg, err := app.Load(config.Environ())
		if err != nil {
			return err
		}
		return service.Serve(ctx, func(ctx context.Context) (*service.Service, error) {
			return app.New(ctx, cfg, app.Options{})
		})
	case args[0] == "seed":
		// Orders are made by customers; the seed says what there is.
		cfg, err := app.Load(config.Environ())
		if err != nil {
			return err
		}
		if err := cfg.ForbidInProduction("order seed"); err != nil {
			return err
		}
		return app.Seed(ctx, cfg, os.Stdout)
	default:
		return fmt.Errorf("unknown command %q (want serve, seed, version, settings, healthcheck or migrate)", args[0])
	}
}
