// Command identity runs the identity service: users, roles, sessions and the keys that sign access tokens.
//
//	identity             serve the API (default; also "identity serve")
//	identity seed        create the demo users, idempotently, and print their logins (make up runs it)
//	identity rotate-key  create a new signing key; running replicas publish it at once and sign
//	                     with it after SHOP_IDENTITY_KEY_PUBLISH_DELAY
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
	"github.com/shop-oss/shop/services/identity/internal/app"
	"github.com/shop-oss/shop/services/identity/migrations"
)

func main() {
	service.Binary[app.Config]{
		Name: "identity", Migrations: migrations.FS, Load: app.Load,
		New: func(ctx context.Context, cfg app.Config) (*service.Service, error) {
			return app.New(ctx, cfg, app.Options{})
		},
		Commands: map[string]service.Command[app.Config]{
			"seed": {Run: func(ctx context.Context, cfg app.Config, _ []string, out io.Writer) error {
				return app.Seed(ctx, cfg, out)
			}},
			"rotate-key": {Run: func(ctx context.Context, cfg app.Config, _ []string, out io.Writer) error {
				return app.RotateKey(ctx, cfg, out)
			}},
		},
	}.Main()
}
