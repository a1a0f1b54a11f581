package catalog

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/shop-oss/shop/pkg/problem"
)

func validFields() Fields {
	return Fields{
		SKU: "ab-1", Name: "  Wireless   headphones ", Description: "Good sound. ",
		Price: Money{Minor: 4999, Currency: "EUR"}, Status: StatusActive,
		Images:     []string{"https://img.example/1.jpg"},
		Attributes: map[string]any{"colour": "black", "weight_g": 250.0, "wireless": true},
	}
}

// fieldErrors returns the field names of a validation error.
func fieldErrors(t *testing.T, err error) []string {
	t.Helper()
	var ve *problem.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("want a validation error, got %v", err)
	}
	var out []string
	for _, f := range ve.Fields {
		out = append(out, f.Field)
	}
	return out
}

func TestFieldsNormalize(t *testing.T) {
	f := validFields()
	if err := f.normalize(); err != nil {
		t.Fatal(err)
	}
	if f.SKU != "AB-1" || f.Name != "Wireless headphones" || f.Description != "Good sound." {
		t.Errorf("not canonical: %+v", f)
	}

	tests := []struct {
		name   string
		change func(*Fields)
		want   string
	}{
		{"sku empty", func(f *Fields) { f.SKU = " " }, "sku"},
		{"sku bad characters", func(f *Fields) { f.SKU = "A B" }, "sku"},
		{"sku too long", func(f *Fields) { f.SKU = strings.Repeat("A", MaxSKULen+1) }, "sku"},
		{"name empty", func(f *Fields) { f.Name = "" }, "name"},
		{"name too long", func(f *Fields) { f.Name = strings.Repeat("é", MaxNameLen+1) }, "name"},
		{"negative price", func(f *Fields) { f.Price.Minor = -1 }, "price_minor"},
		{"bad currency", func(f *Fields) { f.Price.Currency = "EURO" }, "currency"},
		{"lower-case currency", func(f *Fields) { f.Price.Currency = "eur" }, "currency"},
		{"bad status", func(f *Fields) { f.Status = "SOLD" }, "status"},
		{"relative image", func(f *Fields) { f.Images = []string{"/a.jpg"} }, "images[0]"},
		{"ftp image", func(f *Fields) { f.Images = []string{"ftp://x/a.jpg"} }, "images[0]"},
		{"nested attribute", func(f *Fields) { f.Attributes = map[string]any{"dims": map[string]any{}} }, "attributes.dims"},
		{"blank attribute key", func(f *Fields) { f.Attributes = map[string]any{" ": "x"} }, "attributes. "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := validFields()
			tt.change(&f)
			got := fieldErrors(t, f.normalize())
			if len(got) != 1 || got[0] != tt.want {
				t.Errorf("fields %v, want [%s]", got, tt.want)
			}
		})
	}
}

func TestStatusTransitions(t *testing.T) {
	allowed := map[[2]Status]bool{
		{StatusDraft, StatusActive}: true, {StatusDraft, StatusArchived}: true,
		{StatusActive, StatusDraft}: true, {StatusActive, StatusArchived}: true,
		{StatusArchived, StatusDraft}: true,
	}
	all := []Status{StatusDraft, StatusActive, StatusArchived}
	for _, from := range all {
		for _, to := range all {
			want := from == to || allowed[[2]Status{from, to}]
			if got := from.CanBecome(to); got != want {
				t.Errorf("%s → %s: %v, want %v", from, to, got, want)
			}
		}
	}
}

func TestApply(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	by := uuid.New()
	fresh := func(t *testing.T, status Status) Product {
		t.Helper()
		f := validFields()
		f.Status = status
		p, events, err := newProduct(uuid.New(), uuid.New(), f, now)
		if err != nil {
			t.Fatal(err)
		}
		if p.Version != 1 || len(events) < 1 || events[0].(ProductUpserted).Product.Version != 1 {
			t.Fatalf("new product: %+v %v", p, events)
		}
		return p
	}
	types := func(events []Event) string {
		var s []string
		for _, e := range events {
			switch e.(type) {
			case ProductUpserted:
				s = append(s, "upserted")
			case ProductPriceChanged:
				s = append(s, "price")
			case ProductArchived:
				s = append(s, "archived")
			}
		}
		return strings.Join(s, ",")
	}

	t.Run("rename", func(t *testing.T) {
		p := fresh(t, StatusActive)
		f := p.Fields
		f.Name = "New name"
		events, err := p.apply(f, by, now.Add(time.Second))
		if err != nil || types(events) != "upserted" || p.Version != 2 || p.Name != "New name" || !p.UpdatedAt.After(p.CreatedAt) {
			t.Fatalf("events %s, err %v, product %+v", types(events), err, p)
		}
	})
	t.Run("price change", func(t *testing.T) {
		p := fresh(t, StatusActive)
		f := p.Fields
		f.Price.Minor = 3999
		events, err := p.apply(f, by, now)
		if err != nil || types(events) != "upserted,price" {
			t.Fatalf("events %s, err %v", types(events), err)
		}
		pc := events[1].(ProductPriceChanged)
		if pc.Old.Minor != 4999 || pc.New.Minor != 3999 || pc.Version != 2 || pc.By != by {
			t.Errorf("price event %+v", pc)
		}
	})
	t.Run("nothing changes", func(t *testing.T) {
		p := fresh(t, StatusActive)
		f := validFields() // same state before normalisation
		events, err := p.apply(f, by, now)
		if err != nil || len(events) != 0 || p.Version != 1 {
			t.Fatalf("events %s, err %v, version %d", types(events), err, p.Version)
		}
	})
	t.Run("archive", func(t *testing.T) {
		p := fresh(t, StatusActive)
		f := p.Fields
		f.Status = StatusArchived
		events, err := p.apply(f, by, now)
		if err != nil || types(events) != "upserted,archived" || events[1].(ProductArchived).Version != 2 {
			t.Fatalf("events %s, err %v", types(events), err)
		}
	})
	t.Run("archived is read-only", func(t *testing.T) {
		p := fresh(t, StatusArchived)
		f := p.Fields
		f.Price.Minor = 1
		if _, err := p.apply(f, by, now); !errors.Is(err, ErrProductArchived) {
			t.Fatalf("err %v, want ErrProductArchived", err)
		}
		f.Status = StatusActive
		if _, err := p.apply(f, by, now); !errors.Is(err, ErrStatusTransition) {
			t.Fatalf("err %v, want ErrStatusTransition", err)
		}
		f.Status = StatusDraft // restore, with a new price in the same change
		events, err := p.apply(f, by, now)
		if err != nil || types(events) != "upserted,price" || p.Status != StatusDraft {
			t.Fatalf("restore: events %s, err %v", types(events), err)
		}
	})
	t.Run("invalid change leaves the product", func(t *testing.T) {
		p := fresh(t, StatusActive)
		f := p.Fields
		f.Name = ""
		if _, err := p.apply(f, by, now); err == nil || p.Version != 1 || p.Name == "" {
			t.Fatalf("err %v, product %+v", err, p)
		}
	})
	t.Run("change does not alias the caller's state", func(t *testing.T) {
		p := fresh(t, StatusActive)
		f := p.Fields
		f.Attributes = map[string]any{"colour": "red"}
		if _, err := p.apply(f, by, now); err != nil {
			t.Fatal(err)
		}
		f.Attributes["colour"] = "blue"
		if p.Attributes["colour"] != "red" {
			t.Errorf("product shares the caller's map: %v", p.Attributes)
		}
	})
}

func TestPatchOnto(t *testing.T) {
	f := validFields()
	name, desc := "Renamed", ""
	cat := uuid.Nil
	imgs := []string{}
	got := Patch{Name: &name, Description: &desc, CategoryID: &cat, Images: &imgs}.onto(f)
	if got.Name != "Renamed" || got.Description != "" || got.CategoryID != uuid.Nil || len(got.Images) != 0 {
		t.Errorf("patched: %+v", got)
	}
	if got.SKU != f.SKU || got.Price != f.Price || got.Attributes["colour"] != "black" {
		t.Errorf("untouched fields changed: %+v", got)
	}
	if len(f.Images) != 1 {
		t.Errorf("patch modified its input")
	}
}

func TestPrecondition(t *testing.T) {
	p := Product{Version: 3}
	for _, tt := range []struct {
		pc   Precondition
		want bool
	}{
		{AnyVersion, true},
		{Precondition{Versions: []int64{3}}, true},
		{Precondition{Versions: []int64{2, 3}}, true},
		{Precondition{Versions: []int64{2}}, false},
		{Precondition{}, false}, // If-Match with no usable tag never matches
	} {
		err := tt.pc.check(p)
		if (err == nil) != tt.want || (err != nil && !errors.Is(err, ErrVersionMismatch)) {
			t.Errorf("%+v: %v", tt.pc, err)
		}
	}
}

func TestVisibilityAndOwnership(t *testing.T) {
	owner := uuid.New()
	actors := map[string]Actor{
		"anonymous":                 {},
		"customer":                  {ID: uuid.New(), Role: RoleCustomer},
		"other seller":              {ID: uuid.New(), Role: RoleSeller},
		"owner":                     {ID: owner, Role: RoleSeller},
		"owner demoted to customer": {ID: owner, Role: RoleCustomer},
		"admin":                     {ID: uuid.New(), Role: RoleAdmin},
	}
	manage := map[string]bool{"owner": true, "admin": true}
	for name, a := range actors {
		for _, st := range []Status{StatusDraft, StatusActive, StatusArchived} {
			p := Product{SellerID: owner, Fields: Fields{Status: st}}
			if got := a.canManage(p); got != manage[name] {
				t.Errorf("%s manages a %s product: %v", name, st, got)
			}
			if got, want := a.canSee(p), st != StatusDraft || manage[name]; got != want {
				t.Errorf("%s sees a %s product: %v", name, st, got)
			}
		}
	}
	if scopeOf(actors["anonymous"]).key() != "public" || scopeOf(actors["customer"]).key() != "public" ||
		scopeOf(actors["admin"]).key() != "all" || scopeOf(actors["owner"]).Owner != owner {
		t.Error("listing scopes")
	}
}
