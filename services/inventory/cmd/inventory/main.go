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
	"io"

	"github.com/shop-oss/shop/pkg/service"
	"github.com/shop-oss/shop/services/inventory/internal/app"
	"github.com/shop-oss/shop/services/inventory/migrations"
)

func main() {
	service.Binary[app.Config]{
		Name: "inventory", Migrations: migrations.FS, Load: app.Load,
		New: func(ctx context.Context, cfg app.Config) (*service.Service, error) {
			return app.New(ctx, cfg, app.Options{})
		},
		Commands: map[string]service.Command[app.Config]{
			"seed": {Run: func(ctx context.Context, cfg app.Config, _ []string, out io.Writer) error {
				return app.Seed(ctx, cfg, out)
			}},
		},
	}.Main()
}
