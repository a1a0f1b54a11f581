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
	"fmt"
	"os"

	"github.com/shop-oss/shop/pkg/config"
	"github.com/shop-oss/shop/pkg/service"
	"github.com/shop-oss/shop/services/identity/internal/app"
	"github.com/shop-oss/shop/services/identity/migrations"
)

func main() { service.Main("identity", run) }

func run(ctx context.Context, args []string) error {
	cmds := service.Commands{Name: "identity", Config: &app.Config{}, Migrations: migrations.FS}
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
	case args[0] == "rotate-key":
		return app.RotateKey(ctx, cfg, os.Stdout)
	default:
		return fmt.Errorf("unknown command %q (want serve, seed, rotate-key, version, settings, healthcheck or migrate)", args[0])
	}
}
