package catalog

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/shop-oss/shop/pkg/problem"
)

// MaxCategoryDepth bounds the tree: a root is at depth 1. Storefront menus
// and breadcrumbs stay usable, and descendant look-ups stay cheap.
const MaxCategoryDepth = 5

// Limits of a category's fields.
const (
	MaxCategoryNameLen = 100
	MaxSlugLen         = 64
)

var slugPattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// Category is a node of the category tree.
type Category struct {
	ID uuid.UUID
	// ParentID is uuid.Nil for a root.
	ParentID  uuid.UUID
	Name      string
	Slug      string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// CategoryInput is what an admin sends to create or change a category.
type CategoryInput struct {
	// ID is set by imports (the demo seed) for a deterministic ID; zero
	// makes a new one.
	ID       uuid.UUID
	Name     string
	Slug     string
	ParentID uuid.UUID
}

func (in *CategoryInput) normalize() error {
	var errs []problem.FieldError
	in.Name = strings.Join(strings.Fields(in.Name), " ")
	if in.Name == "" || utf8.RuneCountInString(in.Name) > MaxCategoryNameLen {
		errs = append(errs, problem.Field("name", "must have 1 to %d characters", MaxCategoryNameLen))
	}
	in.Slug = strings.TrimSpace(in.Slug)
	if len(in.Slug) > MaxSlugLen || !slugPattern.MatchString(in.Slug) {
		errs = append(errs, problem.Field("slug", "must be 1 to %d lower-case letters and digits in words joined by '-', e.g. home-audio", MaxSlugLen))
	}
	if len(errs) > 0 {
		return problem.Validation(errs...)
	}
	return nil
}

// Tree is the whole category tree, loaded at once (catalogs have hundreds of
// categories, not millions). It is immutable once built.
type Tree struct {
	byID     map[uuid.UUID]Category
	children map[uuid.UUID][]uuid.UUID // parent (uuid.Nil = roots) → children sorted by name
}

// NewTree builds the tree of cats.
func NewTree(cats []Category) Tree {
	t := Tree{byID: make(map[uuid.UUID]Category, len(cats)), children: map[uuid.UUID][]uuid.UUID{}}
	for _, c := range cats {
		t.byID[c.ID] = c
	}
	for _, c := range cats {
		t.children[c.ParentID] = append(t.children[c.ParentID], c.ID)
	}
	for _, ids := range t.children {
		slices.SortFunc(ids, func(a, b uuid.UUID) int {
			return cmp.Or(cmp.Compare(t.byID[a].Name, t.byID[b].Name), cmp.Compare(a.String(), b.String()))
		})
	}
	return t
}

// Len is the number of categories.
func (t Tree) Len() int { return len(t.byID) }

// Get returns the category id.
func (t Tree) Get(id uuid.UUID) (Category, bool) {
	c, ok := t.byID[id]
	return c, ok
}

// Children returns the children of id (the roots for uuid.Nil), by name.
func (t Tree) Children(id uuid.UUID) []Category {
	ids := t.children[id]
	out := make([]Category, len(ids))
	for i, c := range ids {
		out[i] = t.byID[c]
	}
	return out
}

// Depth is the level of id: 1 for a root, 0 when id is not in the tree.
func (t Tree) Depth(id uuid.UUID) int {
	d := 0
	for c, ok := t.byID[id]; ok && d <= len(t.byID); c, ok = t.byID[c.ParentID] {
		d++
	}
	return d
}

// Height is the number of levels in the subtree under id, id included.
func (t Tree) Height(id uuid.UUID) int {
	h := 0
	for _, c := range t.children[id] {
		h = max(h, t.Height(c))
	}
	return h + 1
}

// IsDescendant reports whether id is ancestor or below it.
func (t Tree) IsDescendant(id, ancestor uuid.UUID) bool {
	for steps := 0; id != uuid.Nil && steps <= len(t.byID); steps++ {
		if id == ancestor {
			return true
		}
		id = t.byID[id].ParentID
	}
	return false
}

// Subtree returns id and all its descendants.
func (t Tree) Subtree(id uuid.UUID) []uuid.UUID {
	out := []uuid.UUID{id}
	for i := 0; i < len(out); i++ {
		out = append(out, t.children[out[i]]...)
	}
	return out
}

// Path is the slug path of id from its root, e.g. "electronics/audio".
func (t Tree) Path(id uuid.UUID) string {
	var parts []string
	for c, ok := t.byID[id]; ok && len(parts) <= len(t.byID); c, ok = t.byID[c.ParentID] {
		parts = append(parts, c.Slug)
	}
	slices.Reverse(parts)
	return strings.Join(parts, "/")
}

// FindPath returns the category at a slug path such as "electronics/audio".
func (t Tree) FindPath(path string) (Category, bool) {
	parent, found := uuid.Nil, Category{}
	for _, slug := range strings.Split(strings.Trim(path, "/"), "/") {
		ok := false
		for _, id := range t.children[parent] {
			if t.byID[id].Slug == slug {
				found, ok, parent = t.byID[id], true, id
				break
			}
		}
		if !ok {
			return Category{}, false
		}
	}
	return found, true
}

// Resolve finds a category by ID or by slug path.
func (t Tree) Resolve(ref string) (Category, bool) {
	if id, err := uuid.Parse(ref); err == nil {
		return t.Get(id)
	}
	return t.FindPath(ref)
}

// place checks that c may sit where it says (a new category, or a changed
// one, possibly moved): its parent exists and is not c or below it, the
// tree stays within MaxCategoryDepth, and no sibling has its slug.
func (t Tree) place(c Category) error {
	if c.ParentID != uuid.Nil {
		if _, ok := t.byID[c.ParentID]; !ok {
			return problem.Validation(problem.Field("parent_id", "no category %s", c.ParentID))
		}
		if t.IsDescendant(c.ParentID, c.ID) {
			return fmt.Errorf("%w: %q cannot move under itself or one of its own subcategories", ErrCategoryCycle, c.Name)
		}
	}
	height := 1
	if _, exists := t.byID[c.ID]; exists {
		height = t.Height(c.ID)
	}
	if depth := t.Depth(c.ParentID) + height; depth > MaxCategoryDepth {
		return fmt.Errorf("%w: it would reach %d levels; at most %d are allowed", ErrCategoryTooDeep, depth, MaxCategoryDepth)
	}
	for _, sib := range t.children[c.ParentID] {
		if sib != c.ID && t.byID[sib].Slug == c.Slug {
			return fmt.Errorf("%w: %q already has a subcategory with slug %q", ErrCategorySlugTaken, t.nameOf(c.ParentID), c.Slug)
		}
	}
	return nil
}

func (t Tree) nameOf(id uuid.UUID) string {
	if id == uuid.Nil {
		return "the top level"
	}
	return t.byID[id].Name
}

// TreeChange is what a category operation asks the store to do, decided on
// the tree as it is under the store's lock.
type TreeChange struct {
	// Save inserts (Insert) or updates this category.
	Save   *Category
	Insert bool
	// Delete removes this category; the store refuses when products still
	// belong to it (ErrCategoryNotEmpty).
	Delete uuid.UUID
}
