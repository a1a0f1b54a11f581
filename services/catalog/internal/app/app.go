// Package app wires the catalog service: configuration, the store, the
// cache, the domain service and the HTTP routes on top of pkg/service. Both
// main and the tests build the service through New; Seed loads the demo
// catalog.
package app

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/shop-oss/shop/pkg/config"
	"github.com/shop-oss/shop/pkg/service"
	"github.com/shop-oss/shop/proto-events/eventsv1"
	"github.com/shop-oss/shop/services/catalog/internal/catalog"
	"github.com/shop-oss/shop/services/catalog/internal/catalogapi"
	"github.com/shop-oss/shop/services/catalog/internal/catalogcache"
	"github.com/shop-oss/shop/services/catalog/internal/catalogdb"
	"github.com/shop-oss/shop/services/catalog/migrations"
)

// Config is the catalog service's configuration.
type Config struct {
	config.Common
	// CacheTTL bounds how long Redis keeps a product or a listing page
	// (writes invalidate at once; the TTL is a safety net). 0 turns the
	// cache off.
	CacheTTL time.Duration `env:"SHOP_CATALOG_CACHE_TTL" envDefault:"60s"`
	// DemoFile is the demo catalog `catalog seed` loads; empty means
	// deploy/demo/catalog.json, looked up from the working directory and
	// from the executable's directory upwards.
	DemoFile string `env:"SHOP_CATALOG_DEMO_FILE"`
}

// Options are what tests and the benchmark change.
type Options struct {
	// LogOutput receives the JSON logs (stdout when nil).
	LogOutput io.Writer
}

// New builds the catalog service; call Run on it to serve.
func New(ctx context.Context, cfg Config, opts Options) (*service.Service, error) {
	svc, err := service.New(ctx, cfg.Common, service.Options{
		Migrations: migrations.FS,
		Publishes:  []string{eventsv1.TopicCatalog},
		Errors:     catalogapi.Errors,
		LogOutput:  opts.LogOutput,
	})
	if err != nil {
		return nil, err
	}
	var cache catalog.Cache
	if cfg.CacheTTL > 0 {
		c, err := newCache(cfg, svc)
		if err != nil {
			svc.Close()
			return nil, err
		}
		svc.Go("cache invalidation retry", c.Run)
		cache = c
	}
	domain := catalog.NewService(catalogdb.New(svc.DB, svc.ReadDB), cache, svc.Log)
	catalogapi.Mount(svc.API, domain, svc.Auth)
	return svc, nil
}

// newCache connects the cache's own Redis client (short timeouts, no
// retries: see catalogcache.NewClient), closed with the service.
func newCache(cfg Config, svc *service.Service) (*catalogcache.Cache, error) {
	rdb, err := catalogcache.NewClient(cfg.RedisURL)
	if err != nil {
		return nil, fmt.Errorf("SHOP_REDIS_URL: %w", err)
	}
	svc.OnClose(rdb.Close)
	return catalogcache.New(rdb, catalogcache.Config{TTL: cfg.CacheTTL}, svc.Log, svc.Registry), nil
}
