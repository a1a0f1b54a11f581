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
	"io"
	"os"

	"github.com/shop-oss/shop/pkg/logging"
	"github.com/shop-oss/shop/pkg/service"
	"github.com/shop-oss/shop/services/catalog/internal/app"
	"github.com/shop-oss/shop/services/catalog/migrations"
)

func main() {
	service.Binary[app.Config]{
		Name: "catalog", Migrations: migrations.FS,
		New: func(ctx context.Context, cfg app.Config) (*service.Service, error) {
			return app.New(ctx, cfg, app.Options{})
		},
		Commands: map[string]service.Command[app.Config]{
			"seed": {Args: "[file]", MaxArgs: 1, Run: func(ctx context.Context, cfg app.Config, args []string, out io.Writer) error {
				file := ""
				if len(args) == 1 {
					file = args[0]
				}
				level, err := logging.ParseLevel(cfg.LogLevel)
				if err != nil {
					return err
				}
				return app.Seed(ctx, cfg, file, out, logging.New(os.Stderr, level, "catalog-seed"))
			}},
		},
	}.Main()
}
