package app_test

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shop-oss/shop/pkg/testkit"
	"github.com/shop-oss/shop/services/inventory/internal/app"
)

// inventory seed stocks the demo catalog's products once, under the IDs
// catalog gives them, and says so; without a catalog it skips.
func TestSeed(t *testing.T) {
	var cfg app.Config
	catalog := filepath.Join(t.TempDir(), "catalog.json")
	testkit.NewStack(t).Config(t, "inventory", &cfg, map[string]string{"SHOP_INVENTORY_DEMO_CATALOG": catalog})
	var buf bytes.Buffer
	if err := app.Seed(context.Background(), cfg, &buf); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(buf.String(), "demo stock: skipped") {
		t.Errorf("without a catalog: %q", buf.String())
	}
	err := os.WriteFile(cfg.DemoCatalog, []byte(`[
		{"sku": "HEADPHONES-1", "name": "Headphones", "price_minor": 9900, "currency": "EUR", "category": "electronics/audio", "stock": 25},
		{"sku": "MUG-1", "name": "Mug", "stock": 0},
		{"sku": "BOOK-1", "name": "Book", "stock": 7}]`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"demo stock: 2 products stocked", "demo stock: 0 products stocked"} {
		buf.Reset()
		if err := app.Seed(context.Background(), cfg, &buf); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(buf.String(), want) {
			t.Errorf("got %q, want %q", buf.String(), want)
		}
	}
	// The service then serves the seeded stock under the demo IDs.
	svc, err := app.New(context.Background(), cfg, app.Options{LogOutput: testkit.LogOutput(t)})
	if err != nil {
		t.Fatal(err)
	}
	base := testkit.Run(t, svc)
	res, err := http.Get(base + "/api/v1/inventory/" + app.DemoProductID("HEADPHONES-1").String())
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("demo product: %v %v", res, err)
	}
	res.Body.Close()
}
