package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"gorm.io/gorm"
)

// Vocabulary of the generated catalog: brand, adjective, noun and a model
// code make names such as "Aurora Wireless Headphones AX-317". Each noun is
// in about 1% of the products, as a product type is in a real shop.
var (
	brands = strings.Fields(`Aurora Pebble Harbor Nimbus Forge Vista Tactile Glide Orbit Slate Lumen Trailcam Barista Arc
		Ridge Pulse Summit Nordic Atlas Zephyr Kestrel Solace Ember Tundra Vertex Halcyon Meridian Cobalt Juniper Willow
		Granite Sierra Polar Quartz Cedar Falcon Lyra Onyx Saffron Terra`)
	adjectives = strings.Fields(`Wireless Compact Classic Premium Portable Smart Vintage Ultralight Ergonomic Rugged Silent
		Digital Solar Modular Foldable Heated Waterproof Bamboo Ceramic Carbon Stainless Cordless Adjustable Insulated
		Mechanical Magnetic Organic Recycled Reinforced Rechargeable Titanium Walnut Oak Linen Leather Merino Cast-Iron
		Noise-Cancelling Ultrawide Minimalist`)
	nouns = strings.Fields(`Headphones Earbuds Speaker Soundbar Turntable Microphone Keyboard Mouse Monitor Laptop Tablet
		Smartphone Smartwatch Router Charger Powerbank Webcam Drone Camera Lens Tripod Projector Printer Scanner Kettle
		Toaster Blender Grinder Skillet Wok Saucepan Knife Cutlery Teapot Mug Thermos Lunchbox Lamp Chandelier Rug Blanket
		Pillow Duvet Mattress Desk Chair Bookshelf Wardrobe Sofa Armchair Ottoman Mirror Clock Vase Planter Backpack
		Suitcase Wallet Belt Jacket Raincoat Sweater Hoodie Scarf Gloves Beanie Sneakers Boots Sandals Socks Tent
		Sleeping-Bag Hammock Stove Lantern Compass Binoculars Kayak Paddle Bicycle Helmet Saddle Pump Dumbbells Kettlebell
		Yoga-Mat Treadmill Rower Skateboard Scooter Surfboard Snowboard Skis Goggles Guitar Ukulele Violin Piano Drum
		Easel Sketchbook Novel Cookbook Atlas Puzzle Chessboard Telescope Microscope Globe Aquarium Birdhouse Hose Shovel
		Wheelbarrow Grill Smoker Heater Fan Humidifier Purifier Vacuum`)
	materials = strings.Fields(`aluminium steel oak walnut bamboo cotton wool linen leather glass ceramic recycled-plastic carbon-fibre`)
)

// searchTerms rotate in the search scenarios: common and rare words, two
// words, and misspellings.
var searchTerms = []string{
	"wireless headphones", "telescope", "hedphones", "cast iron skillet", "sleping bag", "ergonomic chair",
	"walnut desk", "waterproof jacket", "kayak paddle", "espreso", "aurora lamp", "titanium tent",
}

type seeded struct {
	active     []uuid.UUID // shuffled
	categories []string    // category IDs
}

// seed fills the database that the service has migrated, in plain SQL
// against its schema: categories, then the products by COPY, with the search index taking entries in its pending list and
// merging them once at the end, as a bulk load does; then ANALYZE.
func seed(ctx context.Context, dsn string, n int) (seeded, error) {
	var out seeded
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return out, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	r := rand.New(rand.NewPCG(1, 2))
	now := time.Now().UTC()

	var leaves []uuid.UUID
	for i := range 12 {
		root := uuid.New()
		if _, err := conn.Exec(ctx, `INSERT INTO categories (id, name, slug, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)`,
			root, fmt.Sprintf("Department %d", i+1), fmt.Sprintf("department-%d", i+1), now); err != nil {
			return out, err
		}
		out.categories = append(out.categories, root.String())
		for j := range 6 {
			leaf := uuid.New()
			if _, err := conn.Exec(ctx, `INSERT INTO categories (id, parent_id, name, slug, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)`,
				leaf, root, fmt.Sprintf("Aisle %d", j+1), fmt.Sprintf("aisle-%d", j+1), now); err != nil {
				return out, err
			}
			leaves = append(leaves, leaf)
			out.categories = append(out.categories, leaf.String())
		}
	}
	sellers := make([]uuid.UUID, 200)
	for i := range sellers {
		sellers[i] = uuid.New()
	}

	if _, err := conn.Exec(ctx, `ALTER INDEX products_search_idx SET (fastupdate = on)`); err != nil {
		return out, err
	}
	cols := []string{"id", "sku", "name", "description", "price_minor", "currency", "seller_id", "category_id",
		"status", "images", "attributes", "version", "created_at", "updated_at"}
	_, err = conn.CopyFrom(ctx, pgx.Identifier{"products"}, cols, pgx.CopyFromSlice(n, func(i int) ([]any, error) {
		id := uuid.New()
		brand, adj, noun := brands[r.IntN(len(brands))], adjectives[r.IntN(len(adjectives))], nouns[r.IntN(len(nouns))]
		noun = strings.ReplaceAll(noun, "-", " ")
		name := fmt.Sprintf("%s %s %s %s-%d", brand, adj, noun, strings.ToUpper(brand[:2]), 100+r.IntN(900))
		material := materials[r.IntN(len(materials))]
		desc := fmt.Sprintf("A %s %s by %s, made of %s. Designed to last, with a two-year warranty and free returns "+
			"within thirty days. Ships within two working days in a recyclable box.", strings.ToLower(adj), strings.ToLower(noun), brand, material)
		price := int64(199 + r.ExpFloat64()*9000)
		status := "ACTIVE"
		switch x := r.IntN(100); {
		case x < 7:
			status = "DRAFT"
		case x < 10:
			status = "ARCHIVED"
		}
		if status == "ACTIVE" {
			out.active = append(out.active, id)
		}
		created := now.Add(-time.Duration(r.IntN(365*24*3600)) * time.Second)
		return []any{id, fmt.Sprintf("BENCH-%07d", i), name, desc, price, "EUR", sellers[r.IntN(len(sellers))],
			leaves[r.IntN(len(leaves))], status, "[]", `{"material":"` + material + `"}`, int64(1), created, created}, nil
	}))
	if err != nil {
		return out, fmt.Errorf("copy products: %w", err)
	}
	for _, sql := range []string{
		`SELECT gin_clean_pending_list('products_search_idx'::regclass)`,
		`ALTER INDEX products_search_idx SET (fastupdate = off)`,
		`VACUUM ANALYZE products`,
		`ANALYZE categories`,
		`ANALYZE search_words`,
	} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			return out, fmt.Errorf("%s: %w", sql, err)
		}
	}
	r.Shuffle(len(out.active), func(i, j int) { out.active[i], out.active[j] = out.active[j], out.active[i] })
	return out, nil
}

// productByID is the read of GET /products/{id} in plain SQL against the
// migrated schema, over the services' database stack (pkg/database: gorm
// on pgx), without HTTP and cache: the floor under the API's figure.
func productByID(ctx context.Context, db *gorm.DB, id uuid.UUID) error {
	rows, err := db.WithContext(ctx).Raw(`SELECT * FROM products WHERE id = ?`, id).Rows()
	if err != nil {
		return err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return err
		}
		return fmt.Errorf("product %s not found", id)
	}
	return nil
}
