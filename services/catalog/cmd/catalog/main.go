// Command catalog runs the catalog service: products, categories and prices.
//
//	catalog          serve the API and run the consumers (default)
//	catalog seed     load the demo data, idempotently (make up runs it)
//
// Configuration comes from SHOP_* environment variables (see pkg/config);
// with none set it runs against the local stack of `make up`.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/shop-oss/shop/pkg/config"
	"github.com/shop-oss/shop/pkg/service"
	"github.com/shop-oss/shop/proto-events/eventsv1"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "catalog:", err)
		os.Exit(1)
	}
}

// Config is the catalog service's configuration.
type Config struct {
	config.Common
}

func run(ctx context.Context, args []string) error {
	var cfg Config
	if err := config.Load(&cfg, "catalog", config.Environ()); err != nil {
		return err
	}
	switch {
	case len(args) == 0 || args[0] == "serve":
		return serve(ctx, cfg)
	case args[0] == "seed":
		fmt.Println("catalog: no demo data yet")
		return nil
	default:
		return fmt.Errorf("unknown command %q (want serve or seed)", args[0])
	}
}

func serve(ctx context.Context, cfg Config) error {
	svc, err := service.New(ctx, cfg.Common, service.Options{
		Publishes: []string{eventsv1.TopicCatalog},
	})
	if err != nil {
		return err
	}
	defer svc.Close()
	return svc.Run(ctx)
}
