// Package app wires the order service: configuration, the shared service
// machinery, the store, the domain, the HTTP routes, the event handlers, the
// metrics and the stuck-saga task. main and the tests build the service the
// same way, through New.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/go-redis/redis_rate/v10"

	"github.com/shop-oss/shop/pkg/config"
	"github.com/shop-oss/shop/pkg/ratelimit"
	"github.com/shop-oss/shop/pkg/service"
	"github.com/shop-oss/shop/proto-events/eventsv1"
	"github.com/shop-oss/shop/services/order/internal/order"
	"github.com/shop-oss/shop/services/order/internal/orderapi"
	"github.com/shop-oss/shop/services/order/internal/orderdb"
	"github.com/shop-oss/shop/services/order/internal/orderevents"
	"github.com/shop-oss/shop/services/order/internal/productcache"
	"github.com/shop-oss/shop/services/order/migrations"
)

// Config is the order service's configuration: the common SHOP_* settings
// and its own SHOP_ORDER_* ones.
type Config struct {
	config.Common

	// SLACreated is how long an order may wait in CREATED for inventory's
	// answer before it counts as stuck.
	SLACreated time.Duration `env:"SHOP_ORDER_SLA_CREATED" envDefault:"2m"`
	// SLAPaymentPending is how long an order may wait in PAYMENT_PENDING;
	// keep it above inventory's reservation TTL (15 min by default), whose
	// expiry resolves an unpaid order.
	SLAPaymentPending time.Duration `env:"SHOP_ORDER_SLA_PAYMENT_PENDING" envDefault:"20m"`
	// StuckInterval is how often the stuck-orders gauge is refreshed and
	// timed-out orders are looked for.
	StuckInterval time.Duration `env:"SHOP_ORDER_STUCK_INTERVAL" envDefault:"30s"`
	// CreatedTimeout cancels an order that inventory has not answered
	// (reserved or rejected) for this long (reason SAGA_TIMEOUT). It matches
	// inventory's reservation TTL: an order that old could not be paid
	// before its reservation expired anyway.
	CreatedTimeout time.Duration `env:"SHOP_ORDER_CREATED_TIMEOUT" envDefault:"15m"`
	// ProductCacheTTL is how long a replica row read to price an order is
	// used again without reading it (internal/productcache); 0 reads every
	// time. It adds at most this much to the replica's lag behind the
	// catalog, in replicas other than the one applying the change.
	ProductCacheTTL time.Duration `env:"SHOP_ORDER_PRODUCT_CACHE_TTL" envDefault:"1s"`
	// MaxOpenOrders and MaxOpenUnits bound what one customer may hold
	// unpaid (CREATED or PAYMENT_PENDING), the new order included: orders,
	// and units over their lines (a placement past either is 409). Each
	// holds stock until paid or expired. 0 disables.
	MaxOpenOrders int `env:"SHOP_ORDER_MAX_OPEN_ORDERS" envDefault:"10"`
	MaxOpenUnits  int `env:"SHOP_ORDER_MAX_OPEN_UNITS" envDefault:"200"`
	// PlacePerMinute is each user's budget of POST /orders per minute, in
	// Redis across replicas (429 past it). 0 disables.
	PlacePerMinute int `env:"SHOP_ORDER_PLACE_PER_MINUTE" envDefault:"10"`
	// Stream* bound the progress streams (GET /orders/{id}/events): a
	// stream ends after StreamLifetime (the client resumes), is never
	// silent longer than StreamHeartbeat, reads the order without a
	// wake-up every StreamRecheck, and a user may hold StreamsPerUser of
	// them in one replica.
	StreamLifetime  time.Duration `env:"SHOP_ORDER_STREAM_LIFETIME" envDefault:"5m"`
	StreamHeartbeat time.Duration `env:"SHOP_ORDER_STREAM_HEARTBEAT" envDefault:"15s"`
	StreamRecheck   time.Duration `env:"SHOP_ORDER_STREAM_RECHECK" envDefault:"5s"`
	StreamsPerUser  int           `env:"SHOP_ORDER_STREAMS_PER_USER" envDefault:"8"`
}

// Validate checks the order settings, naming each bad variable.
func (c Config) Validate() error {
	var errs []error
	for name, d := range map[string]time.Duration{
		"SHOP_ORDER_SLA_CREATED":         c.SLACreated,
		"SHOP_ORDER_SLA_PAYMENT_PENDING": c.SLAPaymentPending,
		"SHOP_ORDER_STUCK_INTERVAL":      c.StuckInterval,
		"SHOP_ORDER_CREATED_TIMEOUT":     c.CreatedTimeout,
		"SHOP_ORDER_STREAM_LIFETIME":     c.StreamLifetime,
		"SHOP_ORDER_STREAM_HEARTBEAT":    c.StreamHeartbeat,
		"SHOP_ORDER_STREAM_RECHECK":      c.StreamRecheck,
	} {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("%s: must be positive, got %s", name, d))
		}
	}
	for name, n := range map[string]int{
		"SHOP_ORDER_MAX_OPEN_ORDERS":  c.MaxOpenOrders,
		"SHOP_ORDER_MAX_OPEN_UNITS":   c.MaxOpenUnits,
		"SHOP_ORDER_PLACE_PER_MINUTE": c.PlacePerMinute,
	} {
		if n < 0 {
			errs = append(errs, fmt.Errorf("%s: must be 0 (off) or positive, got %d", name, n))
		}
	}
	if c.StreamsPerUser <= 0 {
		errs = append(errs, fmt.Errorf("SHOP_ORDER_STREAMS_PER_USER: must be positive, got %d", c.StreamsPerUser))
	}
	if c.ProductCacheTTL < 0 {
		errs = append(errs, fmt.Errorf("SHOP_ORDER_PRODUCT_CACHE_TTL: must be 0 (off) or positive, got %s", c.ProductCacheTTL))
	}
	return errors.Join(errs...)
}

// Load reads the configuration from environ (config.Environ() in main).
func Load(environ map[string]string) (Config, error) {
	var cfg Config
	if err := config.Load(&cfg, "order", environ); err != nil {
		return Config{}, err
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	return cfg, nil
}

// Options are what differs between main and tests.
type Options struct {
	// LogOutput receives the JSON logs (stdout when nil).
	LogOutput io.Writer
}

// productCacheSize bounds the products kept in memory (a few MB).
const productCacheSize = 10_000

// cachedProducts is the order store whose product reads, made to price new
// orders, go through the cache.
type cachedProducts struct {
	*orderdb.Store
	products *productcache.Cache
}

func (c cachedProducts) Products(ctx context.Context, ids []string) (map[string]order.Product, error) {
	return c.products.Products(ctx, ids)
}

// New builds the order service, ready to Run.
func New(ctx context.Context, cfg Config, opts Options) (*service.Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	svc, err := service.New(ctx, cfg.Common, service.Options{
		Migrations: migrations.FS,
		Publishes:  []string{eventsv1.TopicOrder},
		Consumes:   []string{eventsv1.TopicCatalog, eventsv1.TopicInventory, eventsv1.TopicPayment},
		Errors:     orderapi.Errors,
		LogOutput:  opts.LogOutput,
		LongPolls:  true, // the progress streams, woken in every replica
	})
	if err != nil {
		return nil, err
	}
	store := orderdb.New(svc.DB, svc.ReadDB)
	m := newMetrics(svc.Registry)
	var (
		domainStore     order.Store = store
		productsChanged func()
	)
	if cfg.ProductCacheTTL > 0 {
		products := productcache.New(store, productCacheSize, cfg.ProductCacheTTL)
		domainStore, productsChanged = cachedProducts{Store: store, products: products}, products.Forget
	}
	orders := order.NewService(domainStore, DomainConfig(cfg), m)

	var placeLimit gin.HandlerFunc
	if cfg.PlacePerMinute > 0 {
		placeLimit = svc.Limiter.MiddlewareFor("orders placed per user", redis_rate.PerMinute(cfg.PlacePerMinute), ratelimit.ByUserOrIP)
	}
	orderapi.Mount(svc.API, svc.Auth, placeLimit, svc.IdempotentInTx(), svc.Wakeup.Notify, orders)
	orderapi.MountStreams(svc.API, svc.Auth, orders, svc.Wakeup, orderapi.StreamConfig{
		Lifetime: cfg.StreamLifetime, Heartbeat: cfg.StreamHeartbeat, Recheck: cfg.StreamRecheck, PerUser: cfg.StreamsPerUser,
	}, svc.Log)
	orderevents.New(orders, store, productsChanged).OnSagaCommit(svc.Wakeup.Notify).Register(svc.Consumer)
	svc.Go("order-state gauges", func(ctx context.Context) error {
		return m.watchState(ctx, orders, cfg.StuckInterval, svc.Log)
	})
	svc.Go("saga timeouts", func(ctx context.Context) error {
		return service.Every(ctx, cfg.StuckInterval, func(ctx context.Context) { cancelTimedOut(ctx, orders, svc.Log) })
	})
	return svc, nil
}

// DomainConfig is the domain's part of cfg.
func DomainConfig(cfg Config) order.Config {
	return order.Config{
		SLAs: map[order.Status]time.Duration{
			order.StatusCreated:        cfg.SLACreated,
			order.StatusPaymentPending: cfg.SLAPaymentPending,
		},
		CreatedTimeout: cfg.CreatedTimeout,
		MaxOpenOrders:  cfg.MaxOpenOrders,
		MaxOpenUnits:   cfg.MaxOpenUnits,
	}
}

// cancelTimedOut cancels the orders past the saga's CREATED timeout, in
// batches until none is left; a failure waits for the next interval.
func cancelTimedOut(ctx context.Context, orders *order.Service, log *slog.Logger) {
	const batch = 100
	for ctx.Err() == nil {
		n, err := orders.CancelTimedOut(ctx, batch)
		if err != nil {
			if ctx.Err() == nil {
				log.WarnContext(ctx, "cancel timed-out orders; retrying at the next interval", "error", err.Error())
			}
			return
		}
		if n > 0 {
			log.InfoContext(ctx, "cancelled orders that inventory never answered", "orders", n)
		}
		if n < batch {
			return
		}
	}
}
