package catalog

import (
	"errors"
	"fmt"
	"testing"

	"github.com/google/uuid"
)

// chain builds a root and n-1 nested children: c[0] is the root.
func chain(n int) ([]Category, Tree) {
	cats := make([]Category, n)
	parent := uuid.Nil
	for i := range cats {
		cats[i] = Category{ID: uuid.New(), ParentID: parent, Name: fmt.Sprintf("Level %d", i+1), Slug: fmt.Sprintf("l%d", i+1)}
		parent = cats[i].ID
	}
	return cats, NewTree(cats)
}

func TestTreeQueries(t *testing.T) {
	cats, tree := chain(3)
	sibling := Category{ID: uuid.New(), ParentID: cats[0].ID, Name: "A sibling", Slug: "sib"}
	tree = NewTree(append(cats, sibling))
	if tree.Depth(cats[2].ID) != 3 || tree.Depth(uuid.Nil) != 0 || tree.Height(cats[0].ID) != 3 || tree.Height(cats[2].ID) != 1 {
		t.Error("depth/height")
	}
	if got := tree.Path(cats[2].ID); got != "l1/l2/l3" {
		t.Errorf("path %q", got)
	}
	if c, ok := tree.Resolve("l1/l2"); !ok || c.ID != cats[1].ID {
		t.Error("resolve slug path")
	}
	if c, ok := tree.Resolve(cats[2].ID.String()); !ok || c.ID != cats[2].ID {
		t.Error("resolve ID")
	}
	if _, ok := tree.Resolve("l1/nope"); ok {
		t.Error("resolved a missing path")
	}
	if sub := tree.Subtree(cats[0].ID); len(sub) != 4 {
		t.Errorf("subtree of the root: %d categories, want 4", len(sub))
	}
	if kids := tree.Children(cats[0].ID); len(kids) != 2 || kids[0].Name != "A sibling" {
		t.Errorf("children by name: %+v", kids)
	}
	if !tree.IsDescendant(cats[2].ID, cats[0].ID) || tree.IsDescendant(cats[0].ID, cats[2].ID) {
		t.Error("IsDescendant")
	}
}

func TestTreePlace(t *testing.T) {
	cats, tree := chain(MaxCategoryDepth - 1) // 4 levels
	other := Category{ID: uuid.New(), Name: "Other", Slug: "other"}
	otherChild := Category{ID: uuid.New(), ParentID: other.ID, Name: "Other child", Slug: "kid"}
	tree = NewTree(append(cats, other, otherChild))
	moved := func(c Category, parent uuid.UUID) Category { c.ParentID = parent; return c }

	tests := []struct {
		name string
		c    Category
		want error // nil: allowed
	}{
		{"new leaf at the deepest level", Category{ID: uuid.New(), ParentID: cats[3].ID, Name: "Leaf", Slug: "leaf"}, nil},
		{"new root", Category{ID: uuid.New(), Name: "Root", Slug: "root"}, nil},
		{"move under itself", moved(cats[1], cats[1].ID), ErrCategoryCycle},
		{"move under its child", moved(cats[1], cats[2].ID), ErrCategoryCycle},
		{"move under its grandchild", moved(cats[0], cats[3].ID), ErrCategoryCycle},
		{"move a 2-level subtree under level 4", moved(other, cats[3].ID), ErrCategoryTooDeep},
		{"move a 2-level subtree under level 3", moved(other, cats[2].ID), nil},
		{"sibling slug clash", Category{ID: uuid.New(), ParentID: cats[0].ID, Name: "Dup", Slug: "l2"}, ErrCategorySlugTaken},
		{"root slug clash", Category{ID: uuid.New(), Name: "Dup", Slug: "other"}, ErrCategorySlugTaken},
		{"same slug elsewhere is fine", Category{ID: uuid.New(), ParentID: other.ID, Name: "L2", Slug: "l2"}, nil},
		{"keeping its own slug is fine", moved(cats[1], cats[0].ID), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tree.place(tt.c)
			if (tt.want == nil) != (err == nil) || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Errorf("place: %v, want %v", err, tt.want)
			}
		})
	}
	// A missing parent is a field error, not a conflict.
	if err := tree.place(Category{ID: uuid.New(), ParentID: uuid.New(), Name: "X", Slug: "x"}); err == nil ||
		fieldErrors(t, err)[0] != "parent_id" {
		t.Errorf("missing parent: %v", err)
	}
}

func TestCategoryInputNormalize(t *testing.T) {
	in := CategoryInput{Name: "  Home   audio ", Slug: "home-audio"}
	if err := in.normalize(); err != nil || in.Name != "Home audio" {
		t.Fatalf("%v %+v", err, in)
	}
	for _, slug := range []string{"", "Home", "home_audio", "-home", "home-", "home--audio", "a b"} {
		in := CategoryInput{Name: "x", Slug: slug}
		if err := in.normalize(); err == nil {
			t.Errorf("slug %q accepted", slug)
		}
	}
}
