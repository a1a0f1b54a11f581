// Command catalog runs the catalog service: products, categories and prices.
//
//	catalog              serve the API (default; also "catalog serve")
//	catalog seed [file]  load the demo catalog, idempotently (make up runs it);
//	                     file defaults to SHOP_CATALOG_DEMO_FILE, else
//	                     deploy/demo/catalog.json found from the working
//	                     directory or the executable
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
	"github.com/shop-oss/shop/pkg/logging"
	"github.com/shop-oss/shop/pkg/service"
	"github.com/shop-oss/shop/services/catalog/internal/app"
	"github.com/shop-oss/shop/services/catalog/migrations"
)

func main() { service.Main("catalog", run) }

func run(ctx context.Context, args []string) error {
	cmds := service.Commands{Name: "catalog", Config: &app.Config{}, Migrations: migrations.FS}
	if ok, err := service.RunCommand(ctx, args, cmds, os.Stdout); ok {
		return err
	}
	var cfg app.Config
	if err := config.Load(&cfg, "catalog", config.Environ()); err != nil {
		return err
	}
	switch {
	case len(args) == 0 || args[0] == "serve":
		return serve(ctx, cfg)
	case args[0] == "seed" && len(args) <= 2:
		file := ""
		if len(args) == 2 {
			file = args[1]
		}
		level, err := logging.ParseLevel(cfg.LogLevel)
		if err != nil {
			return err
		}
		return app.Seed(ctx, cfg, file, os.Stdout, logging.New(os.Stderr, level, "catalog-seed"))
	default:
		return fmt.Errorf("unknown command %q (want serve, seed [file], version, settings, healthcheck or migrate)", args)
	}
}

func serve(ctx context.Context, cfg app.Config) error {
	return service.Serve(ctx, func(ctx context.Context) (*service.Service, error) {
		return app.New(ctx, cfg, app.Options{})
	})
}
