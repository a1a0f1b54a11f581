package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/shop-oss/shop/pkg/database"
	"github.com/shop-oss/shop/pkg/logging"
	"github.com/shop-oss/shop/services/inventory/internal/inventory"
	"github.com/shop-oss/shop/services/inventory/internal/inventorycache"
	"github.com/shop-oss/shop/services/inventory/internal/inventorydb"
	"github.com/shop-oss/shop/services/inventory/migrations"
)

// DemoSellerID is the demo seller identity seeds (fixed, so other seeds can
// refer to it): the owner of demo products the file names no seller for.
var DemoSellerID = uuid.MustParse("00000000-0000-7000-8000-000000000002")

// DemoCatalogPath is where the demo catalog lives in the repository.
const DemoCatalogPath = "deploy/demo/catalog.json"

// DemoProductID is the ID catalog gives the demo product with this SKU.
func DemoProductID(sku string) uuid.UUID {
	return uuid.NewSHA1(uuid.NameSpaceURL, []byte("shop-demo-sku:"+sku))
}

// demoProduct is what the seed reads of a demo catalog entry.
type demoProduct struct {
	SKU      string `json:"sku"`
	Stock    *int64 `json:"stock"`
	SellerID string `json:"seller_id"`
}

// Seed gives the demo products their stock (see inventory.Service.Seed):
// idempotent, and independent of whether catalog's events have arrived. It
// needs only the database (the service may be running: the seed does not
// take its port) and drops the products' cached availability when Redis
// answers. It prints "demo stock: ..." lines for `make up`.
func Seed(ctx context.Context, cfg Config, out io.Writer) error {
	if err := cfg.ForbidInProduction("inventory seed"); err != nil {
		return err
	}
	path, err := findCatalog(cfg.DemoCatalog)
	if errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintf(out, "demo stock: skipped, no demo catalog at %s yet (set SHOP_INVENTORY_DEMO_CATALOG or add the file, then run seed again)\n", path)
		return nil
	}
	if err != nil {
		return err
	}
	items, err := readCatalog(path)
	if err != nil {
		return err
	}
	log, err := logging.ParseLevel(cfg.LogLevel)
	if err != nil {
		return err
	}
	logger := logging.New(io.Discard, log, "inventory-seed")
	if cfg.DatabaseCreate {
		if err := database.EnsureExists(ctx, cfg.DatabaseURL); err != nil {
			return err
		}
	}
	if err := database.Migrate(ctx, cfg.DatabaseURL, migrations.FS, "schema_migrations"); err != nil {
		return err
	}
	db, err := database.Open(ctx, cfg.DatabaseURL, database.Pool{MaxOpen: 2}, logger)
	if err != nil {
		return err
	}
	defer database.Close(db)
	var cache inventory.Cache = inventory.NoCache{}
	if opts, err := redis.ParseURL(cfg.RedisURL); err == nil {
		rdb := redis.NewClient(opts)
		defer rdb.Close()
		pingCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
		if rdb.Ping(pingCtx).Err() == nil {
			cache = inventorycache.New(rdb, cfg.CacheTTL, cacheGuard, logger)
		}
		cancel()
	}
	svc := inventory.NewService(inventorydb.New(db, nil), cache, inventory.Config{LowStockThreshold: cfg.LowStockThreshold}, logger)
	n, err := svc.Seed(ctx, items)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "demo stock: %d products stocked (%d in %s; products with stock movements are left alone)\n", n, len(items), path)
	return nil
}

// findCatalog returns the catalog path: the configured one, else
// DemoCatalogPath in the working directory or the nearest parent that has
// it. A missing file is fs.ErrNotExist with the path it looked for.
func findCatalog(configured string) (string, error) {
	if configured != "" {
		_, err := os.Stat(configured)
		return configured, err
	}
	wd, err := os.Getwd()
	if err != nil {
		return DemoCatalogPath, err
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		p := filepath.Join(dir, DemoCatalogPath)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		if filepath.Dir(dir) == dir {
			return filepath.Join(wd, DemoCatalogPath), fs.ErrNotExist
		}
	}
}

// readCatalog reads a demo catalog: a JSON array of products, or an object
// with a "products" array. Fields other than sku, stock and seller_id are
// catalog's business.
func readCatalog(path string) ([]inventory.SeedItem, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var products []demoProduct
	if err := json.Unmarshal(b, &products); err != nil {
		var wrapped struct {
			Products []demoProduct `json:"products"`
		}
		if err2 := json.Unmarshal(b, &wrapped); err2 != nil {
			return nil, fmt.Errorf("read %s: want an array of products or {\"products\": [...]}: %w", path, err)
		}
		products = wrapped.Products
	}
	items := make([]inventory.SeedItem, 0, len(products))
	for i, p := range products {
		if p.SKU == "" {
			return nil, fmt.Errorf("read %s: product %d has no sku", path, i)
		}
		seller := DemoSellerID
		if p.SellerID != "" {
			if seller, err = uuid.Parse(p.SellerID); err != nil {
				return nil, fmt.Errorf("read %s: product %s: seller_id: %w", path, p.SKU, err)
			}
		}
		var stock int64
		if p.Stock != nil {
			stock = *p.Stock
		}
		items = append(items, inventory.SeedItem{
			Product:  inventory.Product{ID: DemoProductID(p.SKU), SellerID: seller, SKU: p.SKU, Status: inventory.ProductActive},
			Quantity: stock,
		})
	}
	return items, nil
}
