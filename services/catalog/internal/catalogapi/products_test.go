package catalogapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"
)

func TestCreateProduct(t *testing.T) {
	e := newEnv(t)
	existing := e.create(e.seller)
	tests := []struct {
		name string
		as   caller
		body any
		want int
		slug string
	}{
		{"create201 seller", e.seller, newProductBody(), 201, ""},
		{"create201 full body", e.seller, newProductBody("images", []string{"https://img.example/a.jpg"},
			"attributes", map[string]any{"colour": "black", "weight_g": 250, "wireless": true}, "status", "DRAFT"), 201, ""},
		{"create201 admin for a seller", e.admin, newProductBody("seller_id", e.seller.id), 201, ""},
		{"create400 missing fields", e.seller, map[string]any{"name": "x"}, 400, "validation"},
		{"create400 malformed JSON", e.seller, "{", 400, "malformed-json"},
		{"create400 unknown field", e.seller, newProductBody("colour", "red"), 400, "validation"},
		{"create400 lower-case currency", e.seller, newProductBody("currency", "eur"), 400, "validation"},
		{"create400 negative price", e.seller, newProductBody("price_minor", -1), 400, "validation"},
		{"create400 bad image URL", e.seller, newProductBody("images", []string{"javascript:alert(1)"}), 400, "validation"},
		{"create400 nested attribute", e.seller, newProductBody("attributes", map[string]any{"dims": map[string]int{"w": 1}}), 400, "validation"},
		{"create400 unknown category", e.seller, newProductBody("category_id", uuid.NewString()), 400, "validation"},
		{"create401 anonymous", e.anon, newProductBody(), 401, "unauthorized"},
		{"create403 customer", e.customer, newProductBody(), 403, "forbidden"},
		{"create403 seller for another seller", e.seller, newProductBody("seller_id", e.seller2.id), 403, "forbidden"},
		{"create409 SKU taken", e.seller2, newProductBody("sku", existing.SKU), 409, "sku-taken"},
		{"create409 SKU taken in lower case", e.seller2, newProductBody("sku", strings.ToLower(existing.SKU)), 409, "sku-taken"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.call(tt.as, "POST", "/api/v1/products", tt.body)
			if r.status != tt.want || (tt.slug != "" && r.problemType() != tt.slug) {
				t.Fatalf("status %d %s, want %d %s: %s", r.status, r.problemType(), tt.want, tt.slug, r.body)
			}
			if r.status != http.StatusCreated {
				return
			}
			var p product
			r.decode(t, &p)
			wantSeller := tt.as.id.String()
			if b := tt.body.(map[string]any); b["seller_id"] != nil {
				wantSeller = b["seller_id"].(uuid.UUID).String()
			}
			if p.Version != 1 || p.SellerID != wantSeller || r.header.Get("ETag") != `"v1"` ||
				r.header.Get("Location") != "/api/v1/products/"+p.ID || p.SKU != strings.ToUpper(p.SKU) {
				t.Errorf("created %+v, headers %v", p, r.header)
			}
			if got := e.get(tt.as, p.ID); got.Name != p.Name || got.Status != p.Status {
				t.Errorf("read back %+v", got)
			}
		})
	}
}

// TestOwnershipMatrix calls every endpoint as each kind of caller.
func TestOwnershipMatrix(t *testing.T) {
	e := newEnv(t)
	callers := []caller{e.anon, e.customer, e.seller2, e.seller, e.admin} // seller owns the products
	var catSeq int
	newCategory := func() category {
		catSeq++
		var c category
		e.must(201, e.admin, "POST", "/api/v1/categories", map[string]any{"name": "Cat", "slug": fmt.Sprintf("cat-%d", catSeq)}).decode(t, &c)
		return c
	}
	// Each request gets its own fresh resources, so rows do not interfere.
	endpoints := []struct {
		name string
		call func(c caller) response
		want []int // per caller above
	}{
		{"list products", func(c caller) response { return e.call(c, "GET", "/api/v1/products", nil) },
			[]int{200, 200, 200, 200, 200}},
		{"get active", func(c caller) response {
			return e.call(c, "GET", "/api/v1/products/"+e.create(e.seller).ID, nil)
		}, []int{200, 200, 200, 200, 200}},
		{"get draft", func(c caller) response {
			return e.call(c, "GET", "/api/v1/products/"+e.create(e.seller, "status", "DRAFT").ID, nil)
		}, []int{404, 404, 404, 200, 200}},
		{"put", func(c caller) response {
			p := e.create(e.seller)
			return e.call(c, "PUT", "/api/v1/products/"+p.ID, newProductBody("sku", p.SKU, "name", "New"), ifMatch(1)...)
		}, []int{401, 403, 403, 200, 200}},
		{"put draft", func(c caller) response {
			p := e.create(e.seller, "status", "DRAFT")
			return e.call(c, "PUT", "/api/v1/products/"+p.ID, newProductBody("sku", p.SKU, "name", "New"), ifMatch(1)...)
		}, []int{401, 404, 404, 200, 200}},
		{"patch", func(c caller) response {
			return e.call(c, "PATCH", "/api/v1/products/"+e.create(e.seller).ID, map[string]any{"name": "New"}, ifMatch(1)...)
		}, []int{401, 403, 403, 200, 200}},
		{"delete", func(c caller) response {
			return e.call(c, "DELETE", "/api/v1/products/"+e.create(e.seller).ID, nil)
		}, []int{401, 403, 403, 200, 200}},
		{"put price", func(c caller) response {
			return e.call(c, "PUT", "/api/v1/products/"+e.create(e.seller).ID+"/price", map[string]any{"price_minor": 999})
		}, []int{401, 403, 403, 200, 200}},
		{"price history", func(c caller) response {
			return e.call(c, "GET", "/api/v1/products/"+e.create(e.seller).ID+"/prices", nil)
		}, []int{401, 403, 403, 200, 200}},
		{"price history of a draft", func(c caller) response {
			return e.call(c, "GET", "/api/v1/products/"+e.create(e.seller, "status", "DRAFT").ID+"/prices", nil)
		}, []int{401, 404, 404, 200, 200}},
		{"category tree", func(c caller) response { return e.call(c, "GET", "/api/v1/categories", nil) },
			[]int{200, 200, 200, 200, 200}},
		{"create category", func(c caller) response {
			catSeq++
			return e.call(c, "POST", "/api/v1/categories", map[string]any{"name": "New", "slug": fmt.Sprintf("new-%d", catSeq)})
		}, []int{401, 403, 403, 403, 201}},
		{"update category", func(c caller) response {
			return e.call(c, "PUT", "/api/v1/categories/"+newCategory().ID, map[string]any{"name": "Renamed", "slug": fmt.Sprintf("renamed-%d", catSeq)})
		}, []int{401, 403, 403, 403, 200}},
		{"delete category", func(c caller) response {
			return e.call(c, "DELETE", "/api/v1/categories/"+newCategory().ID, nil)
		}, []int{401, 403, 403, 403, 204}},
	}
	for _, ep := range endpoints {
		for i, c := range callers {
			want := ep.want[i]
			t.Run(fmt.Sprintf("%s %d %s", ep.name, want, c.name), func(t *testing.T) {
				if r := ep.call(c); r.status != want {
					t.Errorf("status %d, want %d: %s", r.status, want, r.body)
				}
			})
		}
	}
}

func TestOptimisticConcurrency(t *testing.T) {
	e := newEnv(t)
	p := e.create(e.seller)
	path := "/api/v1/products/" + p.ID
	put := func(name string, headers ...string) response {
		return e.call(e.seller, "PUT", path, newProductBody("sku", p.SKU, "name", name), headers...)
	}
	tests := []struct {
		name    string
		do      func() response
		want    int
		slug    string
		version int64 // the version after the request
	}{
		{"put428 without If-Match", func() response { return put("A") }, 428, "precondition-required", 1},
		{"patch428 without If-Match", func() response { return e.call(e.seller, "PATCH", path, map[string]any{"name": "A"}) }, 428, "precondition-required", 1},
		{"put412 stale version", func() response { return put("A", ifMatch(7)...) }, 412, "version-mismatch", 1},
		{"put412 weak tag", func() response { return put("A", "If-Match", `W/"v1"`) }, 412, "version-mismatch", 1},
		{"put412 garbage tag", func() response { return put("A", "If-Match", `v1`) }, 412, "version-mismatch", 1},
		{"put200 current version", func() response { return put("A", ifMatch(1)...) }, 200, "", 2},
		{"put200 one of a list", func() response { return put("B", "If-Match", `"v1", "v2"`) }, 200, "", 3},
		{"patch412 the version before", func() response {
			return e.call(e.seller, "PATCH", path, map[string]any{"name": "C"}, ifMatch(2)...)
		}, 412, "version-mismatch", 3},
		{"patch200 any version", func() response {
			return e.call(e.seller, "PATCH", path, map[string]any{"name": "C"}, "If-Match", "*")
		}, 200, "", 4},
		{"put200 no change keeps the version", func() response { return put("C", ifMatch(4)...) }, 200, "", 4},
		{"price412 stale If-Match", func() response {
			return e.call(e.seller, "PUT", path+"/price", map[string]any{"price_minor": 5}, ifMatch(3)...)
		}, 412, "version-mismatch", 4},
		{"price200 without If-Match", func() response {
			return e.call(e.seller, "PUT", path+"/price", map[string]any{"price_minor": 5})
		}, 200, "", 5},
		{"delete412 stale If-Match", func() response { return e.call(e.seller, "DELETE", path, nil, ifMatch(4)...) }, 412, "version-mismatch", 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.do()
			if r.status != tt.want || (tt.slug != "" && r.problemType() != tt.slug) {
				t.Fatalf("status %d %s, want %d %s: %s", r.status, r.problemType(), tt.want, tt.slug, r.body)
			}
			got := e.get(e.seller, p.ID)
			if got.Version != tt.version {
				t.Errorf("version %d, want %d", got.Version, tt.version)
			}
			if r.status == 200 && r.header.Get("ETag") != fmt.Sprintf(`"v%d"`, tt.version) {
				t.Errorf("ETag %q", r.header.Get("ETag"))
			}
		})
	}

	t.Run("get304 If-None-Match", func(t *testing.T) {
		r := e.must(200, e.anon, "GET", path, nil)
		etag := r.header.Get("ETag")
		if r := e.call(e.anon, "GET", path, nil, "If-None-Match", etag); r.status != 304 || r.header.Get("ETag") != etag {
			t.Errorf("status %d, ETag %q", r.status, r.header.Get("ETag"))
		}
		if r := e.call(e.anon, "GET", path, nil, "If-None-Match", `"v1"`); r.status != 200 {
			t.Errorf("old ETag: status %d", r.status)
		}
	})

	t.Run("concurrent editors: one wins, the other gets 412", func(t *testing.T) {
		cur := e.get(e.seller, p.ID)
		results := make(chan int, 2)
		for _, name := range []string{"X", "Y"} {
			go func() {
				results <- e.call(e.seller, "PATCH", path, map[string]any{"name": name}, ifMatch(cur.Version)...).status
			}()
		}
		a, b := <-results, <-results
		if a+b != 200+412 {
			t.Errorf("statuses %d and %d, want 200 and 412", a, b)
		}
		if got := e.get(e.seller, p.ID); got.Version != cur.Version+1 {
			t.Errorf("version %d, want %d", got.Version, cur.Version+1)
		}
	})
}

func TestPatchProduct(t *testing.T) {
	e := newEnv(t)
	var cat category
	e.must(201, e.admin, "POST", "/api/v1/categories", map[string]any{"name": "Lamps", "slug": "lamps"}).decode(t, &cat)
	p := e.create(e.seller, "category_id", cat.ID, "images", []string{"https://img.example/a.jpg"},
		"attributes", map[string]any{"colour": "brass"})
	path := "/api/v1/products/" + p.ID
	tests := []struct {
		name  string
		body  any
		want  int
		check func(t *testing.T, p product)
	}{
		{"patch200 one field", map[string]any{"name": "Brass lamp"}, 200, func(t *testing.T, got product) {
			if got.Name != "Brass lamp" || got.Description != p.Description || got.PriceMinor != p.PriceMinor || got.CategoryID == nil {
				t.Errorf("%+v", got)
			}
		}},
		{"patch200 null clears optional fields", map[string]any{"description": nil, "category_id": nil, "images": nil, "attributes": nil}, 200,
			func(t *testing.T, got product) {
				if got.Description != "" || got.CategoryID != nil || len(got.Images) != 0 || len(got.Attributes) != 0 {
					t.Errorf("%+v", got)
				}
			}},
		{"patch200 set category and status", map[string]any{"category_id": cat.ID, "status": "DRAFT"}, 200, func(t *testing.T, got product) {
			if got.CategoryID == nil || *got.CategoryID != cat.ID || got.Status != "DRAFT" {
				t.Errorf("%+v", got)
			}
		}},
		{"patch400 null for a required field", map[string]any{"name": nil}, 400, nil},
		{"patch400 wrong type", map[string]any{"price_minor": "12"}, 400, nil},
		{"patch400 unknown field", map[string]any{"colour": "red"}, 400, nil},
		{"patch400 not an object", `[1]`, 400, nil},
		{"patch400 empty name", map[string]any{"name": " "}, 400, nil},
		{"patch400 unknown category", map[string]any{"category_id": uuid.NewString()}, 400, nil},
		{"patch400 bad category ID", map[string]any{"category_id": "lamps"}, 400, nil},
		{"patch200 archive", map[string]any{"status": "ARCHIVED"}, 200, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cur := e.get(e.seller, p.ID)
			r := e.call(e.seller, "PATCH", path, tt.body, ifMatch(cur.Version)...)
			if r.status != tt.want {
				t.Fatalf("status %d, want %d: %s", r.status, tt.want, r.body)
			}
			if tt.check != nil {
				var got product
				r.decode(t, &got)
				tt.check(t, got)
			}
		})
	}
	// The last row archived it.
	cur := e.get(e.seller, p.ID)
	if r := e.call(e.seller, "PATCH", path, map[string]any{"status": "ACTIVE"}, ifMatch(cur.Version)...); r.status != 409 || r.problemType() != "invalid-status-transition" {
		t.Errorf("archived → active: %d %s", r.status, r.body)
	}
	if r := e.call(e.seller, "PATCH", path, map[string]any{"name": "Other"}, ifMatch(cur.Version)...); r.status != 409 || r.problemType() != "product-archived" {
		t.Errorf("edit archived: %d %s", r.status, r.body)
	}
	if r := e.call(e.seller, "PATCH", path, map[string]any{"status": "DRAFT", "name": "Restored"}, ifMatch(cur.Version)...); r.status != 200 {
		t.Errorf("restore: %d %s", r.status, r.body)
	}
	// merge-patch content type is accepted too.
	cur = e.get(e.seller, p.ID)
	if r := e.call(e.seller, "PATCH", path, map[string]any{"name": "Merge"}, append(ifMatch(cur.Version), "Content-Type", "application/merge-patch+json")...); r.status != 200 {
		t.Errorf("merge-patch+json: %d %s", r.status, r.body)
	}
}

func TestPriceAndArchive(t *testing.T) {
	e := newEnv(t)
	p := e.create(e.seller, "price_minor", 2500)
	path := "/api/v1/products/" + p.ID

	var got product
	e.must(200, e.seller, "PUT", path+"/price", map[string]any{"price_minor": 1999}).decode(t, &got)
	if got.PriceMinor != 1999 || got.Currency != "EUR" || got.Version != 2 {
		t.Fatalf("after price change: %+v", got)
	}
	e.must(200, e.admin, "PUT", path+"/price", map[string]any{"price_minor": 2100, "currency": "USD"}).decode(t, &got)
	if got.PriceMinor != 2100 || got.Currency != "USD" || got.Version != 3 {
		t.Fatalf("after currency change: %+v", got)
	}
	e.must(200, e.seller, "PUT", path+"/price", map[string]any{"price_minor": 2100}).decode(t, &got)
	if got.Version != 3 {
		t.Errorf("the same price bumped the version to %d", got.Version)
	}
	if r := e.call(e.seller, "PUT", path+"/price", map[string]any{"price_minor": -5}); r.status != 400 {
		t.Errorf("negative price: %d", r.status)
	}
	if r := e.call(e.seller, "PUT", path+"/price", map[string]any{}); r.status != 400 {
		t.Errorf("missing price: %d", r.status)
	}

	var hist struct {
		Items []struct {
			OldPriceMinor *int64 `json:"old_price_minor"`
			PriceMinor    int64  `json:"price_minor"`
			Currency      string `json:"currency"`
			Version       int64  `json:"version"`
			ChangedBy     string `json:"changed_by"`
		} `json:"items"`
		NextCursor string `json:"next_cursor"`
	}
	e.must(200, e.seller, "GET", path+"/prices?limit=2", nil).decode(t, &hist)
	if len(hist.Items) != 2 || hist.Items[0].PriceMinor != 2100 || *hist.Items[0].OldPriceMinor != 1999 ||
		hist.Items[0].ChangedBy != e.admin.id.String() || hist.Items[1].Version != 2 || hist.NextCursor == "" {
		t.Fatalf("history page 1: %+v", hist)
	}
	cursor := hist.NextCursor
	hist.Items, hist.NextCursor = nil, ""
	e.must(200, e.seller, "GET", path+"/prices?limit=2&cursor="+cursor, nil).decode(t, &hist)
	if len(hist.Items) != 1 || hist.Items[0].OldPriceMinor != nil || hist.Items[0].PriceMinor != 2500 || hist.NextCursor != "" {
		t.Fatalf("history page 2: %+v", hist)
	}
	if r := e.call(e.seller, "GET", path+"/prices?cursor=nope", nil); r.status != 400 {
		t.Errorf("bad cursor: %d", r.status)
	}

	// Archiving: still readable by ID (orders link to it), out of public
	// listings, no more price changes; archiving again changes nothing.
	e.must(200, e.seller, "DELETE", path, nil).decode(t, &got)
	if got.Status != "ARCHIVED" || got.Version != 4 {
		t.Fatalf("archived: %+v", got)
	}
	if got := e.get(e.anon, p.ID); got.Status != "ARCHIVED" {
		t.Errorf("read by ID after archiving: %+v", got)
	}
	for _, it := range e.list(e.anon, "").Items {
		if it.ID == p.ID {
			t.Error("archived product in the public listing")
		}
	}
	if r := e.call(e.seller, "PUT", path+"/price", map[string]any{"price_minor": 1}); r.status != 409 || r.problemType() != "product-archived" {
		t.Errorf("price of an archived product: %d %s", r.status, r.body)
	}
	e.must(200, e.seller, "DELETE", path, nil).decode(t, &got)
	if got.Version != 4 {
		t.Errorf("archiving again bumped the version to %d", got.Version)
	}
	if r := e.call(e.seller, "DELETE", "/api/v1/products/"+uuid.NewString(), nil); r.status != 404 {
		t.Errorf("delete a missing product: %d", r.status)
	}
	if r := e.call(e.seller, "GET", "/api/v1/products/not-a-uuid", nil); r.status != 404 {
		t.Errorf("get a malformed ID: %d", r.status)
	}
}

// An anonymous reader's answer is what everyone sees, so a shared cache may
// keep it briefly (the gateway's micro-cache); a signed-in reader's may
// include a draft, so it is private. Both revalidate in browsers.
func TestProductCacheControlByViewer(t *testing.T) {
	e := newEnv(t)
	var p product
	e.must(201, e.seller, "POST", "/api/v1/products", newProductBody("status", "ACTIVE")).decode(t, &p)
	path := "/api/v1/products/" + p.ID
	if got := e.must(200, e.anon, "GET", path, nil).header.Get("Cache-Control"); got != "public, max-age=0, s-maxage=1" {
		t.Errorf("anonymous: Cache-Control %q", got)
	}
	for _, c := range []caller{e.customer, e.seller} {
		if got := e.must(200, c, "GET", path, nil).header.Get("Cache-Control"); got != "private, no-cache" {
			t.Errorf("%s: Cache-Control %q", c.name, got)
		}
	}
	var draft product
	e.must(201, e.seller, "POST", "/api/v1/products", newProductBody("status", "DRAFT")).decode(t, &draft)
	if got := e.must(200, e.seller, "GET", "/api/v1/products/"+draft.ID, nil).header.Get("Cache-Control"); got != "private, no-cache" {
		t.Errorf("the owner's draft: Cache-Control %q", got)
	}
}
