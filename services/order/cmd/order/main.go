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
	"io"

	"github.com/shop-oss/shop/pkg/service"
	"github.com/shop-oss/shop/services/order/internal/app"
	"github.com/shop-oss/shop/services/order/migrations"
)

func main() {
	service.Binary[app.Config]{
		Name: "order", Migrations: migrations.FS, Load: app.Load,
		New: func(ctx context.Context, cfg app.Config) (*service.Service, error) {
			return app.New(ctx, cfg, app.Options{})
		},
		Commands: map[string]service.Command[app.Config]{
			// Orders are made by customers; the seed says what there is.
			"seed": {Run: func(ctx context.Context, cfg app.Config, _ []string, out io.Writer) error {
				if err := cfg.ForbidInProduction("order seed"); err != nil {
					return err
				}
				return app.Seed(ctx, cfg, out)
			}},
		},
	}.Main()
}
