package app

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/shop-oss/shop/pkg/config"
	"github.com/shop-oss/shop/pkg/database"
	"github.com/shop-oss/shop/pkg/testkit"
)

func TestSeedIsIdempotent(t *testing.T) {
	var cfg Config
	err := config.Load(&cfg, "catalog", map[string]string{
		"SHOP_DATABASE_URL": testkit.PostgresURL(t),
		"SHOP_REDIS_URL":    testkit.Redis(t).URL(),
	})
	if err != nil {
		t.Fatal(err)
	}
	demo, err := LoadDemo("../../../../deploy/demo/catalog.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(demo.Products) < 30 {
		t.Fatalf("demo catalog has %d products", len(demo.Products))
	}
	ctx := context.Background()
	var out bytes.Buffer
	// The file is found from the working directory (the service's folder).
	if err := Seed(ctx, cfg, "", &out, testkit.Logger(t)); err != nil {
		t.Fatal(err)
	}
	const want = "demo catalog: 36 products in 17 categories, sold by seller@shop.local\n"
	if out.String() != want {
		t.Fatalf("output %q, want %q", out.String(), want)
	}

	db, err := database.Open(ctx, cfg.DatabaseURL, database.Pool{MaxOpen: 2}, testkit.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = database.Close(db) })
	type state struct{ Products, Categories, Events, Versions, Active, Demo int64 }
	read := func() state {
		var s state
		err := db.Raw(`SELECT
			(SELECT count(*) FROM products) AS products,
			(SELECT count(*) FROM categories) AS categories,
			(SELECT count(*) FROM outbox) AS events,
			(SELECT coalesce(sum(version), 0) FROM products) AS versions,
			(SELECT count(*) FROM products WHERE status = 'ACTIVE' AND seller_id = ?) AS active,
			(SELECT count(*) FROM products WHERE id = ANY(?::uuid[])) AS demo`,
			DemoSellerID, demoIDs(demo)).Scan(&s).Error
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	first := read()
	if first != (state{Products: 36, Categories: 17, Events: 36, Versions: 36, Active: 36, Demo: 36}) {
		t.Fatalf("after the first seed: %+v", first)
	}

	out.Reset()
	if err := Seed(ctx, cfg, "", &out, testkit.Logger(t)); err != nil {
		t.Fatal(err)
	}
	if out.String() != want {
		t.Errorf("second output %q", out.String())
	}
	if again := read(); again != first {
		t.Errorf("the second seed changed something: %+v, was %+v", again, first)
	}
}

func demoIDs(d DemoCatalog) database.TextArray {
	ids := make(database.TextArray, len(d.Products))
	for i, p := range d.Products {
		ids[i] = DemoProductID(p.SKU).String()
	}
	return ids
}

func TestDemoCatalogFile(t *testing.T) {
	d, err := LoadDemo("../../../../deploy/demo/catalog.json")
	if err != nil {
		t.Fatal(err)
	}
	skus := map[string]bool{}
	for _, p := range d.Products {
		if skus[p.SKU] {
			t.Errorf("duplicate SKU %s", p.SKU)
		}
		skus[p.SKU] = true
		if p.Currency != "EUR" || p.PriceMinor <= 0 || p.Stock < 0 || p.Name == "" || p.Description == "" || strings.ToUpper(p.SKU) != p.SKU {
			t.Errorf("product %+v", p)
		}
	}
	// The ID rule other services rely on (UUIDv5 of the URL namespace, as
	// Python's uuid.uuid5(uuid.NAMESPACE_URL, "shop-demo-sku:EL-AUD-001")).
	if got := DemoProductID("EL-AUD-001").String(); got != "91fbada4-6e10-5884-9c7b-220745e60c34" {
		t.Errorf("demo ID %s", got)
	}
}
