package catalogapi_test

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shop-oss/shop/pkg/testkit"
	"github.com/shop-oss/shop/services/catalog/internal/app"
)

func TestListVisibilityAndFilters(t *testing.T) {
	e := newEnv(t)
	cat := func(name, slug, parent string) category {
		var c category
		body := map[string]any{"name": name, "slug": slug}
		if parent != "" {
			body["parent_id"] = parent
		}
		e.must(201, e.admin, "POST", "/api/v1/categories", body).decode(t, &c)
		return c
	}
	electronics := cat("Electronics", "electronics", "")
	audio := cat("Audio", "audio", electronics.ID)
	computers := cat("Computers", "computers", electronics.ID)
	books := cat("Books", "books", "")

	a1 := e.create(e.seller, "name", "A1", "category_id", audio.ID, "price_minor", 5000)
	a2 := e.create(e.seller, "name", "A2", "category_id", computers.ID, "price_minor", 150000)
	d1 := e.create(e.seller, "name", "D1", "category_id", audio.ID, "price_minor", 3000, "status", "DRAFT")
	x1 := e.create(e.seller, "name", "X1", "category_id", books.ID, "price_minor", 1000, "status", "ARCHIVED")
	b1 := e.create(e.seller2, "name", "B1", "category_id", books.ID, "price_minor", 1500)
	d2 := e.create(e.seller2, "name", "D2", "category_id", books.ID, "price_minor", 2000, "status", "DRAFT")
	names := func(ps []product) string {
		var out []string
		for _, p := range ps {
			out = append(out, p.Name)
		}
		sort.Strings(out)
		return strings.Join(out, ",")
	}
	_ = []product{a1, a2, d1, x1, b1, d2}

	tests := []struct {
		name  string
		as    caller
		query string
		want  string // sorted names
	}{
		{"list200 anonymous sees active", e.anon, "", "A1,A2,B1"},
		{"list200 customer sees active", e.customer, "", "A1,A2,B1"},
		{"list200 seller adds its own drafts and archived", e.seller, "", "A1,A2,B1,D1,X1"},
		{"list200 other seller adds its own", e.seller2, "", "A1,A2,B1,D2"},
		{"list200 admin sees all", e.admin, "", "A1,A2,B1,D1,D2,X1"},
		{"list200 category includes descendants", e.anon, "category=electronics", "A1,A2"},
		{"list200 category by ID", e.anon, "category=" + electronics.ID, "A1,A2"},
		{"list200 category slug path", e.anon, "category=electronics/audio", "A1"},
		{"list200 category with own draft", e.seller, "category=electronics/audio", "A1,D1"},
		{"list200 seller filter", e.anon, "seller=" + e.seller2.id.String(), "B1"},
		{"list200 seller filter as admin", e.admin, "seller=" + e.seller2.id.String(), "B1,D2"},
		{"list200 price range", e.anon, "min_price=2000&max_price=10000", "A1"},
		{"list200 price range as admin", e.admin, "min_price=2000&max_price=10000", "A1,D1,D2"},
		{"list200 status filter as admin", e.admin, "status=DRAFT", "D1,D2"},
		{"list200 status filter as seller", e.seller, "status=DRAFT", "D1"},
		{"list200 status filter as anonymous", e.anon, "status=DRAFT", ""},
		{"list200 archived as its seller", e.seller, "status=ARCHIVED", "X1"},
		{"list200 currency", e.anon, "currency=USD", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := names(e.list(tt.as, tt.query).Items); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}

	orders := map[string]string{
		"sort=price_asc":  "B1,A1,A2",
		"sort=price_desc": "A2,A1,B1",
		"sort=newest":     "B1,A2,A1",
		"":                "B1,A2,A1",
	}
	for q, want := range orders {
		t.Run("list200 order "+q, func(t *testing.T) {
			var got []string
			for _, p := range e.list(e.anon, q).Items {
				got = append(got, p.Name)
			}
			if strings.Join(got, ",") != want {
				t.Errorf("got %v, want %s", got, want)
			}
		})
	}

	for _, q := range []string{
		"sort=relevance", "sort=cheapest", "limit=101", "limit=-1", "min_price=5&max_price=1", "min_price=abc",
		"seller=nope", "status=SOLD", "currency=eur", "category=nope", "cursor=garbage",
	} {
		t.Run("list400 "+q, func(t *testing.T) {
			if r := e.call(e.anon, "GET", "/api/v1/products?"+q, nil); r.status != 400 || r.problemType() != "validation" {
				t.Errorf("status %d: %s", r.status, r.body)
			}
		})
	}
	t.Run("list400 cursor of another sort", func(t *testing.T) {
		pg := e.list(e.anon, "sort=price_asc&limit=1")
		if r := e.call(e.anon, "GET", "/api/v1/products?sort=newest&limit=1&cursor="+pg.NextCursor, nil); r.status != 400 {
			t.Errorf("status %d", r.status)
		}
	})
	t.Run("list401 bad token", func(t *testing.T) {
		if r := e.call(caller{name: "forger", token: "not-a-jwt"}, "GET", "/api/v1/products", nil); r.status != 401 {
			t.Errorf("status %d", r.status)
		}
	})
}

// TestPaginationWhileInserting walks every sort order page by page while
// another seller keeps adding products: no product is seen twice and every
// product that existed before the walk is seen exactly once.
func TestPaginationWhileInserting(t *testing.T) {
	e := newEnv(t)
	before := map[string]bool{}
	for i := range 45 {
		// Many equal prices and names: the ID breaks every tie.
		p := e.create(e.seller, "name", fmt.Sprintf("Desk lamp %d", i%3), "price_minor", 100*(i%5))
		before[p.ID] = true
	}
	const maxInserts = 30
	for _, query := range []string{"sort=newest", "sort=price_asc", "sort=price_desc", "q=desk+lamp", "q=lamp&sort=price_asc"} {
		t.Run(query, func(t *testing.T) {
			var stop atomic.Bool
			var inserted atomic.Int32
			var wg sync.WaitGroup
			wg.Go(func() {
				for i := 0; i < maxInserts && !stop.Load(); i++ {
					e.create(e.seller2, "name", fmt.Sprintf("Desk lamp new %d", i), "price_minor", 100*(i%7))
					inserted.Add(1)
				}
			})
			seen := map[string]int{}
			var prev *product
			cursor := ""
			for pages := 0; ; pages++ {
				if pages > 100 {
					t.Fatal("too many pages")
				}
				q := query + "&limit=4"
				if cursor != "" {
					q += "&cursor=" + url.QueryEscape(cursor)
				}
				pg := e.list(e.anon, q)
				for _, p := range pg.Items {
					seen[p.ID]++
					if prev != nil && !inOrder(query, *prev, p) {
						t.Errorf("out of order: %+v then %+v", *prev, p)
					}
					prev = &p
				}
				if pg.NextCursor == "" {
					break
				}
				cursor = pg.NextCursor
				// At least one product lands between every two pages.
				for n := inserted.Load(); n < maxInserts && inserted.Load() == n; {
					time.Sleep(time.Millisecond)
				}
			}
			stop.Store(true)
			wg.Wait()
			for id, n := range seen {
				if n > 1 {
					t.Errorf("product %s seen %d times", id, n)
				}
			}
			for id := range before {
				if seen[id] != 1 {
					t.Errorf("product %s (there before the walk) seen %d times", id, seen[id])
				}
			}
			if inserted.Load() == 0 {
				t.Error("nothing was inserted during the walk; the test proves nothing")
			}
			t.Logf("%d products seen, %d inserted during the walk", len(seen), inserted.Load())
		})
	}
}

func inOrder(query string, a, b product) bool {
	switch {
	case strings.Contains(query, "price_asc"):
		return a.PriceMinor < b.PriceMinor || (a.PriceMinor == b.PriceMinor && a.ID < b.ID)
	case strings.Contains(query, "price_desc"):
		return a.PriceMinor > b.PriceMinor || (a.PriceMinor == b.PriceMinor && a.ID > b.ID)
	case strings.Contains(query, "newest"):
		return a.CreatedAt.After(b.CreatedAt) || (a.CreatedAt.Equal(b.CreatedAt) && a.ID > b.ID)
	}
	return true // relevance: the rank is not on the wire
}

// TestSearchDemoCatalog searches the demo catalog (loaded by the seed) over
// HTTP.
func TestSearchDemoCatalog(t *testing.T) {
	e := newEnv(t)
	if err := app.Seed(context.Background(), e.cfg, "../../../../deploy/demo/catalog.json", io.Discard, testkit.Logger(t)); err != nil {
		t.Fatal(err)
	}
	first := func(q string) string {
		pg := e.list(e.anon, q)
		if len(pg.Items) == 0 {
			return ""
		}
		return pg.Items[0].Name
	}
	tests := []struct{ query, wantFirst string }{
		{"q=headphones", "Aurora Wireless Noise-Cancelling Headphones"},
		{"q=hedphones", "Aurora Wireless Noise-Cancelling Headphones"},
		{"q=wireles+hedphones", "Aurora Wireless Noise-Cancelling Headphones"},
		{"q=espresso", "Barista Espresso Machine"},
		{"q=expresso+machine", "Barista Espresso Machine"},
		{"q=sleping+bag", "Down Sleeping Bag -5 °C"},
		{"q=keyboard", "Tactile Mechanical Keyboard"},
		{"q=EL-ACC-001", "Tactile Mechanical Keyboard"},
		{"q=sourdough", "The Sourdough Handbook"},
		{"q=tent&category=sports-outdoors", "Ridge 2-Person Tent"},
		{"q=tent&category=books", ""},
		{"q=quantum+computer", ""},
	}
	for _, tt := range tests {
		t.Run("search200 "+tt.query, func(t *testing.T) {
			if got := first(tt.query); got != tt.wantFirst {
				t.Errorf("first %q, want %q", got, tt.wantFirst)
			}
		})
	}
	// A description match ranks below name matches.
	var got []string
	for _, p := range e.list(e.anon, "q=speaker").Items {
		got = append(got, p.Name)
	}
	if len(got) < 2 || !strings.Contains(got[0], "Speaker") || !slices.Contains(got, "Studio Monitor Speakers (pair)") {
		t.Errorf("q=speaker: %v", got)
	}
}
