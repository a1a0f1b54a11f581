package catalogdb

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/shop-oss/shop/pkg/testkit"
	"github.com/shop-oss/shop/services/catalog/internal/catalog"
)

// newStore migrates a fresh database (catalog and outbox tables).
func newStore(t *testing.T) (*Store, *gorm.DB) {
	t.Helper()
	db, dsn := testkit.Postgres(t)
	ctx := context.Background()
	if err := Migrate(ctx, dsn); err != nil {
		t.Fatal(err)
	}
	return New(db, nil), db
}

func product(name, description string, price int64) catalog.Product {
	now := time.Now().UTC().Truncate(time.Microsecond)
	return catalog.Product{
		ID: uuid.Must(uuid.NewV7()), SellerID: uuid.New(), Version: 1, CreatedAt: now, UpdatedAt: now,
		Fields: catalog.Fields{
			SKU: "SKU-" + uuid.NewString()[:8], Name: name, Description: description,
			Price: catalog.Money{Minor: price, Currency: "EUR"}, Status: catalog.StatusActive,
			Images: []string{}, Attributes: map[string]any{},
		},
	}
}

func count(t *testing.T, db *gorm.DB, sql string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := db.Raw(sql, args...).Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func TestInsertAndUpdate(t *testing.T) {
	s, db := newStore(t)
	ctx := context.Background()
	p := product("Desk lamp", "", 2500)
	p.Attributes = map[string]any{"colour": "brass", "watts": 40.0}
	if err := s.InsertProduct(ctx, p, []catalog.Event{catalog.ProductUpserted{Product: p}}); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetProduct(ctx, p.ID)
	if err != nil || got.Name != p.Name || got.Attributes["watts"] != 40.0 || !got.CreatedAt.Equal(p.CreatedAt) || got.CategoryID != uuid.Nil {
		t.Fatalf("read back: %v %+v", err, got)
	}
	if n := count(t, db, `SELECT count(*) FROM outbox WHERE message_key = ?`, p.ID.String()); n != 1 {
		t.Errorf("outbox rows after insert: %d", n)
	}
	if n := count(t, db, `SELECT count(*) FROM price_history WHERE product_id = ? AND old_price_minor IS NULL`, p.ID); n != 1 {
		t.Errorf("initial price records: %d", n)
	}

	// The same ID again is ErrProductExists (imports rely on it); another
	// ID with the same SKU is ErrSKUTaken.
	if err := s.InsertProduct(ctx, p, nil); !errors.Is(err, catalog.ErrProductExists) {
		t.Errorf("same ID: %v", err)
	}
	q := product("Other", "", 1)
	q.SKU = p.SKU
	if err := s.InsertProduct(ctx, q, nil); !errors.Is(err, catalog.ErrSKUTaken) {
		t.Errorf("same SKU: %v", err)
	}
	q = product("Other", "", 1)
	q.CategoryID = uuid.New()
	if err := s.InsertProduct(ctx, q, nil); !errors.Is(err, catalog.ErrUnknownCategory) {
		t.Errorf("missing category: %v", err)
	}

	// A failing change writes nothing: no row change, no event.
	boom := errors.New("boom")
	if _, err := s.UpdateProduct(ctx, p.ID, func(p *catalog.Product) ([]catalog.Event, error) {
		p.Name = "changed"
		return []catalog.Event{catalog.ProductUpserted{Product: *p}}, boom
	}); !errors.Is(err, boom) {
		t.Fatalf("want the change's error, got %v", err)
	}
	// A price change is recorded in the history with its event.
	updated, err := s.UpdateProduct(ctx, p.ID, func(p *catalog.Product) ([]catalog.Event, error) {
		old := p.Price
		p.Price.Minor, p.Version = 1999, p.Version+1
		return []catalog.Event{
			catalog.ProductUpserted{Product: *p},
			catalog.ProductPriceChanged{ProductID: p.ID, Old: old, New: p.Price, Version: p.Version, By: p.SellerID, At: p.UpdatedAt},
		}, nil
	})
	if err != nil || updated.Version != 2 {
		t.Fatalf("update: %v %+v", err, updated)
	}
	if got, _ := s.GetProduct(ctx, p.ID); got.Name != "Desk lamp" || got.Price.Minor != 1999 || got.Version != 2 {
		t.Errorf("after update: %+v", got)
	}
	if n := count(t, db, `SELECT count(*) FROM outbox WHERE message_key = ?`, p.ID.String()); n != 3 {
		t.Errorf("outbox rows: %d, want 3", n)
	}
	hist, err := s.PriceHistory(ctx, p.ID, 0, 10)
	if err != nil || len(hist) != 2 || hist[0].Old == nil || hist[0].Old.Minor != 2500 || hist[0].New.Minor != 1999 || hist[1].Old != nil {
		t.Errorf("history: %v %+v", err, hist)
	}
	if _, err := s.UpdateProduct(ctx, uuid.New(), nil); !errors.Is(err, catalog.ErrProductNotFound) {
		t.Errorf("missing product: %v", err)
	}
}

func TestCategoryDeleteRefusedWhileProductsBelong(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	now := time.Now().UTC()
	c := catalog.Category{ID: uuid.New(), Name: "Lamps", Slug: "lamps", CreatedAt: now, UpdatedAt: now}
	insert := func(t catalog.Tree) (catalog.TreeChange, error) {
		return catalog.TreeChange{Save: &c, Insert: true}, nil
	}
	if err := s.ChangeCategories(ctx, insert); err != nil {
		t.Fatal(err)
	}
	if err := s.ChangeCategories(ctx, insert); !errors.Is(err, catalog.ErrCategoryExists) {
		t.Errorf("same ID again: %v", err)
	}
	p := product("Lamp", "", 100)
	p.CategoryID, p.Status = c.ID, catalog.StatusArchived // archived products count too
	if err := s.InsertProduct(ctx, p, nil); err != nil {
		t.Fatal(err)
	}
	del := func(catalog.Tree) (catalog.TreeChange, error) { return catalog.TreeChange{Delete: c.ID}, nil }
	err := s.ChangeCategories(ctx, del)
	if !errors.Is(err, catalog.ErrCategoryNotEmpty) || !strings.Contains(err.Error(), "1 products") {
		t.Fatalf("delete with a product: %v", err)
	}
	cats, _ := s.Categories(ctx)
	if len(cats) != 1 {
		t.Fatalf("category gone after a refused delete")
	}
}

// seedCatalog inserts n products spread over sellers, a two-level category
// tree, statuses (85% ACTIVE, 10% DRAFT, 5% ARCHIVED), prices and a
// vocabulary of names, and analyses the table: a catalog the planner sees
// as real. It returns the categories (roots first) and one seller.
func seedCatalog(t *testing.T, db *gorm.DB, n int) ([]uuid.UUID, uuid.UUID) {
	t.Helper()
	now := time.Now().UTC()
	var cats []uuid.UUID
	for i := range 6 {
		root := uuid.New()
		cats = append(cats, root)
		if err := db.Exec(`INSERT INTO categories (id, name, slug, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`,
			root, fmt.Sprintf("Root %d", i), fmt.Sprintf("root-%d", i), now, now).Error; err != nil {
			t.Fatal(err)
		}
		for j := range 4 {
			if err := db.Exec(`INSERT INTO categories (id, parent_id, name, slug, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
				uuid.New(), root, fmt.Sprintf("Child %d", j), fmt.Sprintf("child-%d", j), now, now).Error; err != nil {
				t.Fatal(err)
			}
		}
	}
	// A bulk load: the search index takes the new entries in its pending
	// list and merges them once at the end.
	if err := db.Exec(`ALTER INDEX products_search_idx SET (fastupdate = on)`).Error; err != nil {
		t.Fatal(err)
	}
	err := db.Exec(`
		WITH words AS (
			SELECT ARRAY['Wireless','Compact','Classic','Premium','Portable','Smart','Vintage','Ultralight','Ergonomic','Rugged',
			             'Silent','Digital','Solar','Modular','Foldable','Heated','Waterproof','Bamboo','Ceramic','Carbon'] AS adj,
			       ARRAY['Headphones','Speaker','Keyboard','Monitor','Lamp','Kettle','Backpack','Tent','Jacket','Watch',
			             'Camera','Blender','Desk','Chair','Bicycle','Helmet','Novel','Cookbook','Mug','Drone',
			             'Router','Charger','Blanket','Pillow','Skillet','Guitar','Easel','Scooter','Kayak','Thermos'] AS noun
		), sellers AS (
			SELECT array_agg(gen_random_uuid()) AS ids FROM generate_series(1, 50)
		), cats AS (
			SELECT array_agg(id ORDER BY id) AS ids FROM categories WHERE parent_id IS NOT NULL
		)
		INSERT INTO products (id, sku, name, description, price_minor, currency, seller_id, category_id, status,
			images, attributes, version, created_at, updated_at)
		SELECT gen_random_uuid(), 'GEN-' || g,
			adj[1 + g % 20] || ' ' || noun[1 + (g / 20) % 30] || ' ' || (g % 97),
			'A ' || lower(adj[1 + (g / 3) % 20]) || ' ' || lower(noun[1 + (g / 7) % 30]) || ' for everyday use, model ' || g || '. '
			|| 'Built to last, with a two-year warranty and free returns within thirty days. Ships within two working days.',
			100 + (g * 7919) % 200000, 'EUR', sellers.ids[1 + g % 50], cats.ids[1 + g % 24],
			CASE WHEN g % 20 = 0 THEN 'ARCHIVED' WHEN g % 10 = 1 THEN 'DRAFT' ELSE 'ACTIVE' END,
			'[]', '{}', 1, now() - make_interval(secs => g), now()
		FROM generate_series(1, ?) AS g, words, sellers, cats`, n).Error
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
	if err := db.Exec(`SELECT gin_clean_pending_list('products_search_idx'::regclass)`).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Exec(`ALTER INDEX products_search_idx SET (fastupdate = off)`).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Exec(`ANALYZE products`).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Exec(`ANALYZE categories`).Error; err != nil {
		t.Fatal(err)
	}
	var seller string
	if err := db.Raw(`SELECT seller_id::text FROM products LIMIT 1`).Scan(&seller).Error; err != nil {
		t.Fatal(err)
	}
	return cats, uuid.MustParse(seller)
}

// explain returns the plan of q's listing query.
func explain(t *testing.T, db *gorm.DB, q catalog.ListQuery) string {
	t.Helper()
	fuzzy, err := fuzzyQuery(context.Background(), db, q.Text)
	if err != nil {
		t.Fatal(err)
	}
	sql, args := listSQL(q, fuzzy)
	rows, err := db.Raw(`EXPLAIN `+sql, args...).Rows()
	if err != nil {
		t.Fatalf("explain: %v\n%s", err, sql)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, line)
	}
	return strings.Join(plan, "\n")
}

func TestListQueriesUseIndexes(t *testing.T) {
	s, db := newStore(t)
	roots, seller := seedCatalog(t, db, 8000)
	ctx := context.Background()
	// A search term matches a few products of a large catalog; for a word
	// in a third of all products a sequential scan is the right plan, and
	// the planner rightly picks it.
	for _, name := range []string{"Aurora Refractor Telescope 70/700", "Celestia Telescope Tripod", "Stargazer Reflector Telescope Kit"} {
		if err := s.InsertProduct(ctx, product(name, "For the night sky.", 19900), nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Exec(`ANALYZE products`).Error; err != nil {
		t.Fatal(err)
	}
	tree, err := s.Categories(ctx)
	if err != nil {
		t.Fatal(err)
	}
	subtree := catalog.NewTree(tree).Subtree(roots[2])
	lo, hi := int64(1000), int64(5000)
	after := func(sort catalog.Sort) *catalog.Cursor {
		return &catalog.Cursor{Sort: sort, Price: 50000, Created: time.Now().Add(-time.Hour), Rank: 0.5, ID: uuid.New()}
	}
	public, all, own := catalog.Scope{}, catalog.Scope{All: true}, catalog.Scope{Owner: seller}

	queries := map[string]catalog.ListQuery{
		"public newest":            {Scope: public, Sort: catalog.SortNewest},
		"public newest, next page": {Scope: public, Sort: catalog.SortNewest, After: after(catalog.SortNewest)},
		"public price_asc, next":   {Scope: public, Sort: catalog.SortPriceAsc, After: after(catalog.SortPriceAsc)},
		"public price_desc":        {Scope: public, Sort: catalog.SortPriceDesc},
		"public price range":       {Scope: public, Sort: catalog.SortNewest, MinPrice: &lo, MaxPrice: &hi},
		"public category subtree":  {Scope: public, Sort: catalog.SortNewest, CategoryIDs: subtree},
		"public leaf category":     {Scope: public, Sort: catalog.SortPriceAsc, CategoryIDs: subtree[1:2]},
		"public leaf, next page":   {Scope: public, Sort: catalog.SortNewest, CategoryIDs: subtree[1:2], After: after(catalog.SortNewest)},
		"public seller filter":     {Scope: public, Sort: catalog.SortPriceAsc, Seller: seller},
		"seller's view":            {Scope: own, Sort: catalog.SortNewest},
		"seller's own drafts":      {Scope: own, Sort: catalog.SortNewest, Seller: seller, Status: catalog.StatusDraft},
		"admin newest":             {Scope: all, Sort: catalog.SortNewest},
		"admin price_desc, next":   {Scope: all, Sort: catalog.SortPriceDesc, After: after(catalog.SortPriceDesc)},
		"admin drafts":             {Scope: all, Sort: catalog.SortNewest, Status: catalog.StatusDraft},
		"search":                   {Scope: public, Sort: catalog.SortRelevance, Text: "refractor telescope"},
		"search, next page":        {Scope: public, Sort: catalog.SortRelevance, Text: "telescope", After: after(catalog.SortRelevance)},
		"search with a typo":       {Scope: public, Sort: catalog.SortRelevance, Text: "telescpoe"},
		"search in a category":     {Scope: public, Sort: catalog.SortRelevance, Text: "telescope", CategoryIDs: subtree},
		"search sorted by price":   {Scope: public, Sort: catalog.SortPriceAsc, Text: "tripod"},
		"admin search":             {Scope: all, Sort: catalog.SortRelevance, Text: "stargazer"},
	}
	for name, q := range queries {
		t.Run(name, func(t *testing.T) {
			q.Limit = 21
			plan := explain(t, db, q)
			if strings.Contains(plan, "Seq Scan on products") || !strings.Contains(plan, "Index") {
				t.Errorf("plan does not use an index on products:\n%s", plan)
			}
			if _, err := s.ListProducts(ctx, q); err != nil { // and the query runs
				t.Errorf("run: %v", err)
			}
		})
	}
}

func TestSearchRanking(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	add := func(name, description string, status catalog.Status) catalog.Product {
		p := product(name, description, 9900)
		p.Status = status
		if err := s.InsertProduct(ctx, p, nil); err != nil {
			t.Fatal(err)
		}
		return p
	}
	aurora := add("Aurora Wireless Noise-Cancelling Headphones", "Over-ear Bluetooth headphones with a 40-hour battery.", catalog.StatusActive)
	stand := add("Headphone Stand in Walnut", "Keeps your desk tidy.", catalog.StatusActive)
	travelCase := add("Hard Travel Case", "Fits most over-ear headphones.", catalog.StatusActive)
	add("Harbor Portable Speaker", "Bluetooth speaker for the beach.", catalog.StatusActive)
	add("Wireless Charger Pad", "Charges your phone without a cable.", catalog.StatusActive)
	draft := add("Secret Headphones Prototype", "Not for sale yet.", catalog.StatusDraft)

	search := func(text string, scope catalog.Scope) []string {
		t.Helper()
		l, err := s.ListProducts(ctx, catalog.ListQuery{Text: text, Scope: scope, Sort: catalog.SortRelevance, Limit: 10})
		if err != nil {
			t.Fatalf("search %q: %v", text, err)
		}
		hits := l.Hits
		var names []string
		for i, h := range hits {
			if i > 0 && h.Rank > hits[i-1].Rank {
				t.Errorf("search %q: not ordered by rank", text)
			}
			names = append(names, h.Product.Name)
		}
		return names
	}
	tests := []struct {
		query string
		want  []string // in this order, and nothing else
	}{
		// Name matches first, then the description match.
		{"headphones", []string{aurora.Name, stand.Name, travelCase.Name}},
		{"headphone", []string{aurora.Name, stand.Name, travelCase.Name}},
		// Typos still find them.
		{"hedphones", []string{aurora.Name, stand.Name, travelCase.Name}},
		{"wireles hedphones", []string{aurora.Name}},
		{"auora", []string{aurora.Name}},
		{"noise cancelling", []string{aurora.Name}},
		// The SKU is searchable as is.
		{stand.SKU, []string{stand.Name}},
		// Stop words do not drag in look-alikes.
		{"the walnut", []string{stand.Name}},
		{"telescope", nil},
		{"!!!", nil},
	}
	for _, tt := range tests {
		got := search(tt.query, catalog.Scope{})
		if strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("search %q:\n got %q\nwant %q", tt.query, got, tt.want)
		}
	}
	// Drafts are found by those who may see them.
	if got := search("prototype", catalog.Scope{Owner: draft.SellerID}); len(got) != 1 {
		t.Errorf("owner's search for its draft: %q", got)
	}
	if got := search("prototype", catalog.Scope{}); len(got) != 0 {
		t.Errorf("public search found a draft: %q", got)
	}
}

// TestTypoSearchPagesKeepTheirSuggestions: the pages of a misspelt search
// rank with the suggestions of its first page, even when a product added
// meanwhile brings a new look-alike word; and suggestions that come back in
// a cursor are checked before they reach to_tsquery.
func TestTypoSearchPagesKeepTheirSuggestions(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	for _, name := range []string{"Ridge Tent", "Summit Tent", "Dome Tent"} {
		if err := s.InsertProduct(ctx, product(name, "", 100), nil); err != nil {
			t.Fatal(err)
		}
	}
	q := catalog.ListQuery{Text: "tentt", Sort: catalog.SortRelevance, Limit: 2}
	first, err := s.ListProducts(ctx, q)
	if err != nil || len(first.Hits) != 2 || first.Terms != "(tentt | tent)" {
		t.Fatalf("first page: %v, terms %q, %d hits", err, first.Terms, len(first.Hits))
	}
	if err := s.InsertProduct(ctx, product("Tenth Anniversary Mug", "", 100), nil); err != nil {
		t.Fatal(err)
	}
	last := first.Hits[len(first.Hits)-1]
	q.After = &catalog.Cursor{Sort: catalog.SortRelevance, Rank: last.Rank, ID: last.Product.ID, Terms: first.Terms}
	next, err := s.ListProducts(ctx, q)
	if err != nil || len(next.Hits) != 1 || next.Hits[0].Product.Name == "Tenth Anniversary Mug" {
		t.Fatalf("second page: %v %+v", err, next.Hits)
	}
	fresh, err := s.ListProducts(ctx, catalog.ListQuery{Text: "tentt", Sort: catalog.SortRelevance, Limit: 10})
	if err != nil || !strings.Contains(fresh.Terms, "tenth") || len(fresh.Hits) != 4 {
		t.Fatalf("a new search sees the new word: %v, terms %q, %d hits", err, fresh.Terms, len(fresh.Hits))
	}

	for _, bad := range []string{"tent' | x", "(tent) | !x", "(tent <-> x)", "(a | b) & "} {
		q.After.Terms = bad
		if _, err := s.ListProducts(ctx, q); err == nil || !strings.Contains(err.Error(), "cursor") {
			t.Errorf("terms %q: %v", bad, err)
		}
	}
}
