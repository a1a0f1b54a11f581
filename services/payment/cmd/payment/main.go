// Command payment runs the payment service: payments and refunds (simulated gateway).
//
//	payment          serve the API and run the consumers (default)
//	payment seed     print the demo test cards (payments come from orders)
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
	"io"

	"github.com/shop-oss/shop/pkg/service"
	"github.com/shop-oss/shop/services/payment/internal/app"
	"github.com/shop-oss/shop/services/payment/internal/gateway"
	"github.com/shop-oss/shop/services/payment/migrations"
)

func main() {
	service.Binary[app.Config]{
		Name: "payment", Migrations: migrations.FS,
		New: func(ctx context.Context, cfg app.Config) (*service.Service, error) {
			return app.New(ctx, cfg, app.Options{})
		},
		Commands: map[string]service.Command[app.Config]{
			"seed": {Run: func(_ context.Context, cfg app.Config, _ []string, out io.Writer) error { return seed(cfg, out) }},
		},
	}.Main()
}

// seed has no data to load: payments are created by the saga. It prints
// the test cards a demo user pays with (the same lines every run).
func seed(cfg app.Config, out io.Writer) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	if err := cfg.ForbidInProduction("payment seed"); err != nil {
		return err
	}
	for _, c := range gateway.TestCards(cfg.GatewayTimeoutFailures) {
		if _, err := fmt.Fprintf(out, "demo payment test card %s: %s\n", c.Number, c.Outcome); err != nil {
			return err
		}
	}
	return nil
}
