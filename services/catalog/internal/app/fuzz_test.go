package app_test

import (
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/shop-oss/shop/pkg/auth"
	"github.com/shop-oss/shop/pkg/fuzztest"
	"github.com/shop-oss/shop/pkg/service"
	"github.com/shop-oss/shop/services/catalog/internal/app"
)

const (
	sellerID = "0190f000-0000-7000-8000-00000000b001"
	adminID  = "0190f000-0000-7000-8000-00000000a001"
)

// product is a create body with every member; sku names it.
func product(sku string) map[string]any {
	return map[string]any{
		"sku": sku, "name": "Fuzz product", "description": "A product of the fuzz targets.",
		"price_minor": 1999, "currency": "EUR", "status": "ACTIVE",
		"images": []string{"https://example.com/a.png"}, "attributes": map[string]any{"colour": "red", "size": 42, "new": true},
	}
}

func FuzzWriteRequests(f *testing.F) {
	full := `{"sku":"FUZZ-NEW","name":"Fuzz product","description":"A product.","price_minor":1999,"currency":"EUR",` +
		`"status":"ACTIVE","images":["https://example.com/a.png"],"attributes":{"colour":"red","size":42,"new":true}}`
	seeds := []fuzztest.Request{
		{Name: "ok-create-product", Op: "POST /api/v1/products", Caller: "seller", Body: full},
		{Name: "ok-replace-product", Op: "PUT /api/v1/products/{id}", Caller: "seller", Param: "$product",
			Body: `{"sku":"FUZZ-A","name":"Fuzz product","price_minor":2999,"currency":"EUR","status":"ACTIVE","category_id":"$category"}`},
		{Name: "ok-patch-product", Op: "PATCH /api/v1/products/{id}", Caller: "seller", Param: "$product",
			Body: `{"name":"Renamed","description":null,"attributes":{"colour":"blue"}}`},
		{Name: "ok-set-price", Op: "PUT /api/v1/products/{id}/price", Caller: "seller", Param: "$product",
			Body: `{"price_minor":2499,"currency":"EUR"}`},
		{Name: "ok-archive-product", Op: "DELETE /api/v1/products/{id}", Caller: "seller", Param: "$archived"},
		{Name: "ok-create-category", Op: "POST /api/v1/categories", Caller: "admin",
			Body: `{"name":"Fuzz","slug":"fuzz","parent_id":"$category"}`},
		{Name: "ok-update-category", Op: "PUT /api/v1/categories/{id}", Caller: "admin", Param: "$category",
			Body: `{"name":"Fuzz root","slug":"fuzz-root"}`},
		{Name: "ok-delete-category", Op: "DELETE /api/v1/categories/{id}", Caller: "admin", Param: "$deleted_category"},
		{Name: "ok-dlq-replay", Op: "POST /api/v1/admin/dlq/catalog/replay", Caller: "admin", Body: `{"dry_run":true}`},
		{Name: "ok-dlq-replay-one", Op: "POST /api/v1/admin/dlq/catalog/{offset}/replay", Caller: "admin",
			Param: "0", Query: "dry_run=true"},
		{Name: "bad-patch-if-match", Op: "PATCH /api/v1/products/{id}", Caller: "seller", Param: "$product",
			Headers: `If-Match: "v99999999999999999999"`, Body: `{"name":"Renamed"}`},
		{Name: "any-patch-empty", Op: "PATCH /api/v1/products/{id}", Caller: "seller", Param: "$product", Body: `{}`},
		{Name: "any-create-deep-attributes", Op: "POST /api/v1/products", Caller: "admin",
			Body: `{"sku":"FUZZ-DEEP","name":"x","price_minor":1,"currency":"EUR","attributes":{"a":{"b":{"c":[[[[1]]]]}}}}`},
		{Name: "any-create-huge-price", Op: "POST /api/v1/products", Caller: "seller",
			Body: `{"sku":"FUZZ-HUGE","name":"x","price_minor":9223372036854775807,"currency":"EUR"}`},
		{Name: "any-replace-not-uuid", Op: "PUT /api/v1/products/{id}", Caller: "seller", Param: "\x00\xff/..", Body: full},
	}
	for _, s := range seeds[:8] {
		if s.Body != "" {
			seeds = append(seeds, fuzztest.Spoiled(s)...)
		}
	}
	fuzztest.Requests(f, seeds, func(tb testing.TB) fuzztest.API {
		s := fuzztest.Start(tb, "catalog", map[string]string{"SHOP_CATALOG_CACHE_TTL": "60s"},
			func(cfg app.Config, log io.Writer) (*service.Service, error) {
				return app.New(context.Background(), cfg, app.Options{LogOutput: log})
			})
		seller := s.Stack.Issuer.Token(tb, sellerID, auth.RoleSeller)
		admin := s.Stack.Issuer.Token(tb, adminID, auth.RoleAdmin)
		var a, b, c, d struct{ ID string }
		s.Call(tb, http.StatusCreated, "POST", "/api/v1/products", seller, product("FUZZ-A"), &a)
		s.Call(tb, http.StatusCreated, "POST", "/api/v1/products", seller, product("FUZZ-B"), &b)
		s.Call(tb, http.StatusCreated, "POST", "/api/v1/categories", admin, map[string]any{"name": "Root", "slug": "root"}, &c)
		s.Call(tb, http.StatusCreated, "POST", "/api/v1/categories", admin, map[string]any{"name": "Gone", "slug": "gone"}, &d)
		return fuzztest.API{
			Spec: "../../api/openapi.yaml", Handler: s.Engine, Log: s.Log,
			Callers: []fuzztest.Caller{
				{Name: "anonymous"}, {Name: "seller", Token: seller}, {Name: "admin", Token: admin},
				{Name: "customer", Token: s.Stack.Issuer.Token(tb, "0190f000-0000-7000-8000-00000000c001", auth.RoleCustomer)},
			},
			Values: map[string]string{"product": a.ID, "archived": b.ID, "category": c.ID, "deleted_category": d.ID},
		}
	})
}
