package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/google/uuid"

	"github.com/shop-oss/shop/pkg/database"
	"github.com/shop-oss/shop/services/catalog/internal/catalog"
	"github.com/shop-oss/shop/services/catalog/internal/catalogcache"
	"github.com/shop-oss/shop/services/catalog/internal/catalogdb"
)

// The demo users that identity seeds with fixed IDs.
var (
	DemoAdminID  = uuid.MustParse("00000000-0000-7000-8000-000000000001")
	DemoSellerID = uuid.MustParse("00000000-0000-7000-8000-000000000002")
)

// DemoFilePath is where the demo catalog lives in the repository.
const DemoFilePath = "deploy/demo/catalog.json"

// DemoProductID is the ID of the demo product with sku: the same in every
// service (inventory seeds stock for it) and on every machine.
func DemoProductID(sku string) uuid.UUID {
	return uuid.NewSHA1(uuid.NameSpaceURL, []byte("shop-demo-sku:"+sku))
}

// demoCategoryID is the ID of the demo category at a slug path.
func demoCategoryID(path string) uuid.UUID {
	return uuid.NewSHA1(uuid.NameSpaceURL, []byte("shop-demo-category:"+path))
}

// DemoCatalog is the file format of deploy/demo/catalog.json.
type DemoCatalog struct {
	Categories []DemoCategory `json:"categories"`
	Products   []DemoProduct  `json:"products"`
}

// DemoCategory is a node of the demo tree.
type DemoCategory struct {
	Slug     string         `json:"slug"`
	Name     string         `json:"name"`
	Children []DemoCategory `json:"children,omitempty"`
}

// DemoProduct is a demo product; Stock is for the inventory seed.
type DemoProduct struct {
	SKU         string `json:"sku"`
	Name        string `json:"name"`
	Description string `json:"description"`
	PriceMinor  int64  `json:"price_minor"`
	Currency    string `json:"currency"`
	Category    string `json:"category"` // slug path, e.g. electronics/audio
	Stock       int    `json:"stock"`
}

// LoadDemo reads a demo catalog file.
func LoadDemo(path string) (DemoCatalog, error) {
	var d DemoCatalog
	f, err := os.Open(path)
	if err != nil {
		return d, fmt.Errorf("demo catalog: %w", err)
	}
	defer f.Close()
	dec := json.NewDecoder(f)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return d, fmt.Errorf("demo catalog %s: %w", path, err)
	}
	return d, nil
}

// FindDemoFile returns DemoFilePath as found from the working directory or
// the executable's directory, walking up.
func FindDemoFile() (string, error) {
	var starts []string
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if exe, err := os.Executable(); err == nil {
		starts = append(starts, filepath.Dir(exe))
	}
	for _, dir := range starts {
		for {
			p := filepath.Join(dir, DemoFilePath)
			if _, err := os.Stat(p); err == nil {
				return p, nil
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				break
			}
			dir = parent
		}
	}
	return "", fmt.Errorf("demo catalog %s not found from the working directory or the executable (set SHOP_CATALOG_DEMO_FILE)", DemoFilePath)
}

// Seed loads the demo catalog at path (cfg.DemoFile, or FindDemoFile, when
// empty) into the catalog database, idempotently: what exists is left as
// it is, so a second run changes nothing. It works whether the service runs
// or not (it needs no HTTP port and no broker): its events wait in the
// outbox for the service's relay. It prints one "demo catalog:" line to out.
func Seed(ctx context.Context, cfg Config, path string, out io.Writer, log *slog.Logger) error {
	if err := cfg.ForbidInProduction("catalog seed"); err != nil {
		return err
	}
	if path == "" {
		path = cfg.DemoFile
	}
	if path == "" {
		var err error
		if path, err = FindDemoFile(); err != nil {
			return err
		}
	}
	demo, err := LoadDemo(path)
	if err != nil {
		return err
	}
	if cfg.DatabaseCreate {
		if err := database.EnsureExists(ctx, cfg.DatabaseURL); err != nil {
			return err
		}
	}
	db, err := database.Open(ctx, cfg.DatabaseURL, database.Pool{MaxOpen: 4, MaxIdle: 4}, log)
	if err != nil {
		return err
	}
	defer database.Close(db)
	if err := catalogdb.Migrate(ctx, cfg.DatabaseURL); err != nil {
		return err
	}
	var cache catalog.Cache
	if cfg.CacheTTL > 0 {
		rdb, err := catalogcache.NewClient(cfg.RedisURL)
		if err != nil {
			return fmt.Errorf("SHOP_REDIS_URL: %w", err)
		}
		defer rdb.Close()
		cache = catalogcache.New(rdb, catalogcache.Config{TTL: cfg.CacheTTL}, log, nil)
	}
	svc := catalog.NewService(catalogdb.New(db, nil), cache, log)
	products, categories, err := seed(ctx, svc, demo, log)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "demo catalog: %d products in %d categories, sold by seller@shop.local\n", products, categories)
	return nil
}

func seed(ctx context.Context, svc *catalog.Service, demo DemoCatalog, log *slog.Logger) (products, categories int, err error) {
	admin := catalog.Actor{ID: DemoAdminID, Role: catalog.RoleAdmin}
	var walk func(parent uuid.UUID, prefix string, nodes []DemoCategory) error
	walk = func(parent uuid.UUID, prefix string, nodes []DemoCategory) error {
		for _, n := range nodes {
			path := prefix + n.Slug
			tree, err := svc.Categories(ctx)
			if err != nil {
				return err
			}
			c, ok := tree.FindPath(path)
			if !ok {
				c, err = svc.CreateCategory(ctx, admin, catalog.CategoryInput{
					ID: demoCategoryID(path), Name: n.Name, Slug: n.Slug, ParentID: parent,
				})
				if err != nil {
					return fmt.Errorf("demo category %s: %w", path, err)
				}
			}
			categories++
			if err := walk(c.ID, path+"/", n.Children); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(uuid.Nil, "", demo.Categories); err != nil {
		return 0, 0, err
	}
	tree, err := svc.Categories(ctx)
	if err != nil {
		return 0, 0, err
	}
	for _, d := range demo.Products {
		c, ok := tree.FindPath(d.Category)
		if !ok {
			return 0, 0, fmt.Errorf("demo product %s: no category %q in the demo tree", d.SKU, d.Category)
		}
		_, err := svc.CreateProduct(ctx, admin, catalog.NewProduct{
			ID: DemoProductID(d.SKU), SellerID: DemoSellerID,
			Fields: catalog.Fields{
				SKU: d.SKU, Name: d.Name, Description: d.Description,
				Price:      catalog.Money{Minor: d.PriceMinor, Currency: d.Currency},
				CategoryID: c.ID, Status: catalog.StatusActive,
			},
		})
		switch {
		case err == nil, errors.Is(err, catalog.ErrProductExists):
			products++
		case errors.Is(err, catalog.ErrSKUTaken):
			log.WarnContext(ctx, "demo product skipped: another product has its SKU", "sku", d.SKU)
		default:
			return 0, 0, fmt.Errorf("demo product %s: %w", d.SKU, err)
		}
	}
	return products, categories, nil
}
