package catalogapi_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/uuid"
)

func TestCategoryTree(t *testing.T) {
	e := newEnv(t)
	create := func(name, slug, parent string) response {
		body := map[string]any{"name": name, "slug": slug}
		if parent != "" {
			body["parent_id"] = parent
		}
		return e.call(e.admin, "POST", "/api/v1/categories", body)
	}
	mustCreate := func(name, slug, parent string) category {
		t.Helper()
		r := create(name, slug, parent)
		if r.status != 201 {
			t.Fatalf("create %s: %d %s", slug, r.status, r.body)
		}
		var c category
		r.decode(t, &c)
		return c
	}
	electronics := mustCreate("Electronics", "electronics", "")
	audio := mustCreate("Audio", "audio", electronics.ID)
	books := mustCreate("Books", "books", "")
	if audio.Path != "electronics/audio" || audio.ParentID == nil || *audio.ParentID != electronics.ID {
		t.Fatalf("child: %+v", audio)
	}
	// A chain down to the depth limit (5 levels).
	chain := []category{books}
	for i := 2; i <= 5; i++ {
		chain = append(chain, mustCreate(fmt.Sprintf("Level %d", i), fmt.Sprintf("l%d", i), chain[len(chain)-1].ID))
	}

	put := func(c category, parent *string) response {
		return e.call(e.admin, "PUT", "/api/v1/categories/"+c.ID, map[string]any{"name": c.Name, "slug": c.Slug, "parent_id": parent})
	}
	tests := []struct {
		name string
		do   func() response
		want int
		slug string
	}{
		{"create400 bad slug", func() response { return create("X", "Not A Slug", "") }, 400, "validation"},
		{"create400 unknown parent", func() response { return create("X", "x", uuid.NewString()) }, 400, "validation"},
		{"create409 sibling slug", func() response { return create("Audio again", "audio", electronics.ID) }, 409, "category-slug-taken"},
		{"create409 root slug", func() response { return create("Books again", "books", "") }, 409, "category-slug-taken"},
		{"create201 same slug elsewhere", func() response { return create("Audio books", "audio", books.ID) }, 201, ""},
		{"create409 too deep", func() response { return create("Level 6", "l6", chain[4].ID) }, 409, "category-too-deep"},
		{"update409 under itself", func() response { return put(electronics, &electronics.ID) }, 409, "category-cycle"},
		{"update409 under its descendant", func() response { return put(electronics, &audio.ID) }, 409, "category-cycle"},
		{"update409 subtree too deep", func() response { return put(electronics, &chain[4].ID) }, 409, "category-too-deep"},
		{"update409 slug clash after move", func() response { return put(audio, &books.ID) }, 409, "category-slug-taken"},
		{"update404 missing", func() response { return put(category{ID: uuid.NewString(), Name: "X", Slug: "x"}, nil) }, 404, "category-not-found"},
		{"delete409 has subcategories", func() response { return e.call(e.admin, "DELETE", "/api/v1/categories/"+electronics.ID, nil) }, 409, "category-not-empty"},
		{"delete404 missing", func() response { return e.call(e.admin, "DELETE", "/api/v1/categories/"+uuid.NewString(), nil) }, 404, "category-not-found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.do()
			if r.status != tt.want || (tt.slug != "" && r.problemType() != tt.slug) {
				t.Errorf("status %d %s, want %d %s: %s", r.status, r.problemType(), tt.want, tt.slug, r.body)
			}
		})
	}

	// Products follow their category when it moves, and block its deletion.
	p := e.create(e.seller, "category_id", audio.ID)
	inCategory := func(ref string) bool {
		for _, it := range e.list(e.anon, "category="+ref).Items {
			if it.ID == p.ID {
				return true
			}
		}
		return false
	}
	if !inCategory("electronics") || inCategory("books") {
		t.Fatal("product not listed under its category's ancestors")
	}
	r := e.call(e.admin, "DELETE", "/api/v1/categories/"+audio.ID, nil)
	if r.status != 409 || r.problemType() != "category-not-empty" || !strings.Contains(string(r.body), "1 products") {
		t.Errorf("delete a category with a product: %d %s", r.status, r.body)
	}
	var moved category
	e.must(200, e.admin, "PUT", "/api/v1/categories/"+audio.ID, map[string]any{"name": "Audio", "slug": "sound", "parent_id": chain[1].ID}).decode(t, &moved)
	if moved.Path != "books/l2/sound" {
		t.Errorf("moved: %+v", moved)
	}
	if inCategory("electronics") || !inCategory("books") || !inCategory("books/l2/sound") {
		t.Error("listing by category did not follow the move")
	}

	var tree struct{ Items []category }
	e.must(200, e.anon, "GET", "/api/v1/categories", nil).decode(t, &tree)
	if len(tree.Items) != 2 || tree.Items[0].Name != "Books" || tree.Items[1].Name != "Electronics" {
		t.Fatalf("roots: %+v", tree.Items)
	}
	if len(tree.Items[1].Children) != 0 {
		t.Errorf("electronics still has children: %+v", tree.Items[1].Children)
	}
	l2 := tree.Items[0].Children[1] // "Audio books" sorts before "Level 2"
	if l2.Path != "books/l2" || len(l2.Children) != 2 || l2.Children[0].Slug != "l3" && l2.Children[1].Slug != "l3" {
		t.Errorf("books/l2: %+v", l2)
	}

	// Empty now: electronics can go.
	e.must(204, e.admin, "DELETE", "/api/v1/categories/"+electronics.ID, nil)
}
