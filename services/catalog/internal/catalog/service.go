package catalog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"golang.org/x/sync/singleflight"

	"github.com/shop-oss/shop/pkg/problem"
)

// Store keeps products and categories. Every write runs in one transaction
// that also adds the given events to the outbox (and records price changes
// in the price history), so state and events commit together or not at all.
type Store interface {
	// GetProduct returns the product or ErrProductNotFound.
	GetProduct(ctx context.Context, id uuid.UUID) (Product, error)
	// ListProducts returns up to q.Limit hits of the listing q.
	ListProducts(ctx context.Context, q ListQuery) (Listing, error)
	// InsertProduct stores a new product with its initial price and events.
	// It returns ErrProductExists, ErrSKUTaken or ErrUnknownCategory.
	InsertProduct(ctx context.Context, p Product, events []Event) error
	// UpdateProduct locks the product, lets change modify it and saves it
	// with the events change returns; no events means no change (nothing is
	// written). It returns the product as stored, and change's error as is.
	UpdateProduct(ctx context.Context, id uuid.UUID, change func(p *Product) ([]Event, error)) (Product, error)
	// PriceHistory returns up to limit records of a product, newest first,
	// older than the record before (0 = from the newest).
	PriceHistory(ctx context.Context, id uuid.UUID, before int64, limit int) ([]PriceRecord, error)
	// Categories returns every category.
	Categories(ctx context.Context) ([]Category, error)
	// ChangeCategories serialises changes to the tree: it loads the tree
	// under a lock, lets decide pick the change, and applies it.
	ChangeCategories(ctx context.Context, decide func(t Tree) (TreeChange, error)) error
}

// Cache is the read-through cache in front of the store. It never fails a
// request: an implementation treats its own errors as misses and retries
// its invalidations until they succeed.
type Cache interface {
	// Product returns a cached product.
	Product(ctx context.Context, id uuid.UUID) (Product, bool)
	// PutProduct caches p unless a newer version is cached.
	PutProduct(ctx context.Context, p Product)
	// Page returns a cached listing page; gen names the catalog generation
	// it looked in, to pass to PutPage (read before the store is queried,
	// so a page read across a write is filed under the old generation).
	Page(ctx context.Context, key string) (page Page, gen string, ok bool)
	// PutPage caches a page under generation gen.
	PutPage(ctx context.Context, key, gen string, page Page)
	// Changed is called after a committed write: it caches the products'
	// new state and starts a new generation, so that no listing page from
	// before the write is served again.
	Changed(ctx context.Context, products ...Product)
}

// loadTimeout bounds a store read shared by several callers (single flight):
// it runs detached from the first caller's request, so that one client
// going away does not fail the others.
const loadTimeout = 10 * time.Second

// Service applies the catalog's rules.
type Service struct {
	store Store
	cache Cache
	log   *slog.Logger
	now   func() time.Time
	// products and pages collapse concurrent misses of one key into one
	// store read (stampede protection).
	products singleflight.Group
	pages    singleflight.Group
}

// NewService returns a Service over store, with cache in front of it (nil
// means no cache).
func NewService(store Store, cache Cache, log *slog.Logger) *Service {
	if cache == nil {
		cache = noCache{}
	}
	return &Service{store: store, cache: cache, log: log, now: func() time.Time {
		// PostgreSQL keeps microseconds; keep what it will return.
		return time.Now().UTC().Truncate(time.Microsecond)
	}}
}

// GetProduct returns product id if a may see it.
func (s *Service) GetProduct(ctx context.Context, a Actor, id uuid.UUID) (Product, error) {
	p, err := s.product(ctx, id)
	if err != nil {
		return Product{}, err
	}
	if !a.canSee(p) {
		return Product{}, fmt.Errorf("product %s: %w", id, ErrProductNotFound)
	}
	return p, nil
}

// product reads through the cache. Callers share the result: they must not
// modify its slices and maps.
func (s *Service) product(ctx context.Context, id uuid.UUID) (Product, error) {
	if p, ok := s.cache.Product(ctx, id); ok {
		return p, nil
	}
	v, err, _ := s.products.Do(id.String(), func() (any, error) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), loadTimeout)
		defer cancel()
		p, err := s.store.GetProduct(ctx, id)
		if err != nil {
			return nil, err
		}
		s.cache.PutProduct(ctx, p)
		return p, nil
	})
	if err != nil {
		return Product{}, err
	}
	return v.(Product), nil
}

// ListProducts returns one page of the products a may see that match f.
func (s *Service) ListProducts(ctx context.Context, a Actor, f ListFilter) (Page, error) {
	after, err := f.normalize()
	if err != nil {
		return Page{}, err
	}
	scope := scopeOf(a)
	key := f.cacheKey(scope)
	page, gen, ok := s.cache.Page(ctx, key)
	if ok {
		return page, nil
	}
	// The generation is part of the flight key: a caller that arrives after
	// a write never joins a read that started before it.
	v, err, _ := s.pages.Do(gen+"\x1d"+key, func() (any, error) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), loadTimeout)
		defer cancel()
		page, err := s.list(ctx, f, scope, after)
		if err != nil {
			return nil, err
		}
		s.cache.PutPage(ctx, key, gen, page)
		return page, nil
	})
	if err != nil {
		return Page{}, err
	}
	return v.(Page), nil
}

func (s *Service) list(ctx context.Context, f ListFilter, scope Scope, after *Cursor) (Page, error) {
	q := ListQuery{
		Text: f.Q, Seller: f.Seller, MinPrice: f.MinPrice, MaxPrice: f.MaxPrice,
		Currency: f.Currency, Status: f.Status, Scope: scope, Sort: f.Sort, After: after, Limit: f.Limit + 1,
	}
	if f.Category != "" {
		cats, err := s.store.Categories(ctx)
		if err != nil {
			return Page{}, err
		}
		tree := NewTree(cats)
		c, ok := tree.Resolve(f.Category)
		if !ok {
			return Page{}, problem.Validation(problem.Field("category", "no category %q (give an ID or a slug path such as electronics/audio)", f.Category))
		}
		q.CategoryIDs = tree.Subtree(c.ID)
	}
	l, err := s.store.ListProducts(ctx, q)
	if err != nil {
		return Page{}, err
	}
	page := Page{Items: make([]Product, 0, min(len(l.Hits), f.Limit))}
	for i, h := range l.Hits {
		if i == f.Limit {
			page.Next = cursorAfter(f, l, l.Hits[i-1]).Encode()
			break
		}
		page.Items = append(page.Items, h.Product)
	}
	return page, nil
}

// NewProduct is a product to create.
type NewProduct struct {
	// ID is set by imports (the demo seed) for a deterministic ID; zero
	// makes a new UUIDv7.
	ID uuid.UUID
	// SellerID lets an admin create a product for a seller; zero means the
	// caller. A seller may only name itself.
	SellerID uuid.UUID
	Fields
}

// CreateProduct creates a product owned by the calling seller (or, for an
// admin, by in.SellerID).
func (s *Service) CreateProduct(ctx context.Context, a Actor, in NewProduct) (Product, error) {
	if !a.canCreate() {
		return Product{}, fmt.Errorf("%w: only sellers and admins create products", ErrForbidden)
	}
	seller := a.ID
	if in.SellerID != uuid.Nil && in.SellerID != a.ID {
		if !a.IsAdmin() {
			return Product{}, fmt.Errorf("%w: a seller creates products for itself only", ErrForbidden)
		}
		seller = in.SellerID
	}
	id := in.ID
	if id == uuid.Nil {
		var err error
		if id, err = uuid.NewV7(); err != nil {
			return Product{}, fmt.Errorf("new product id: %w", err)
		}
	}
	p, events, err := newProduct(id, seller, in.Fields, s.now())
	if err != nil {
		return Product{}, err
	}
	if err := s.store.InsertProduct(ctx, p, events); err != nil {
		return Product{}, categoryField(err, p.CategoryID)
	}
	s.changed(ctx, p)
	return p, nil
}

// ReplaceProduct replaces the editable state of a product (PUT).
func (s *Service) ReplaceProduct(ctx context.Context, a Actor, id uuid.UUID, pre Precondition, f Fields) (Product, error) {
	return s.update(ctx, a, id, pre, func(Product) Fields { return f })
}

// PatchProduct changes some fields of a product (PATCH).
func (s *Service) PatchProduct(ctx context.Context, a Actor, id uuid.UUID, pre Precondition, pt Patch) (Product, error) {
	return s.update(ctx, a, id, pre, func(p Product) Fields { return pt.onto(p.Fields) })
}

// SetPrice changes a product's price; an empty currency keeps the current
// one.
func (s *Service) SetPrice(ctx context.Context, a Actor, id uuid.UUID, pre Precondition, price Money) (Product, error) {
	return s.update(ctx, a, id, pre, func(p Product) Fields {
		f := p.Fields.clone()
		f.Price.Minor = price.Minor
		if price.Currency != "" {
			f.Price.Currency = price.Currency
		}
		return f
	})
}

// ArchiveProduct archives a product (DELETE): it can no longer be ordered,
// while orders that hold it are unaffected (they keep their own copy of
// the price, and the product stays readable by ID). Archiving an archived
// product changes nothing.
func (s *Service) ArchiveProduct(ctx context.Context, a Actor, id uuid.UUID, pre Precondition) (Product, error) {
	return s.update(ctx, a, id, pre, func(p Product) Fields {
		f := p.Fields.clone()
		f.Status = StatusArchived
		return f
	})
}

// update runs one change of a product under the store's row lock: the
// visibility, ownership and If-Match checks see the locked row.
func (s *Service) update(ctx context.Context, a Actor, id uuid.UUID, pre Precondition, next func(Product) Fields) (Product, error) {
	var target uuid.UUID
	var changed bool
	p, err := s.store.UpdateProduct(ctx, id, func(p *Product) ([]Event, error) {
		if err := a.mayChange(*p); err != nil {
			return nil, err
		}
		if err := pre.check(*p); err != nil {
			return nil, err
		}
		f := next(*p)
		target = f.CategoryID
		events, err := p.apply(f, a.ID, s.now())
		changed = len(events) > 0
		return events, err
	})
	if err != nil {
		return Product{}, categoryField(err, target)
	}
	if changed {
		s.changed(ctx, p)
	}
	return p, nil
}

// mayChange answers 404 to callers who may not even see p, 403 to those
// who see it but do not manage it.
func (a Actor) mayChange(p Product) error {
	switch {
	case !a.canSee(p):
		return fmt.Errorf("product %s: %w", p.ID, ErrProductNotFound)
	case !a.canManage(p):
		return fmt.Errorf("%w: only the product's seller or an admin may change it", ErrForbidden)
	}
	return nil
}

// changed refreshes the cache after a committed write. In-process flights
// that started before the write are forgotten, so the next read here loads
// the new state.
func (s *Service) changed(ctx context.Context, products ...Product) {
	for _, p := range products {
		s.products.Forget(p.ID.String())
	}
	s.cache.Changed(ctx, products...)
}

// categoryField turns the store's ErrUnknownCategory into a field error.
func categoryField(err error, id uuid.UUID) error {
	if errors.Is(err, ErrUnknownCategory) {
		return problem.Validation(problem.Field("category_id", "no category %s", id))
	}
	return err
}

// PriceHistory returns a product's price changes, newest first, to its
// seller and admins.
func (s *Service) PriceHistory(ctx context.Context, a Actor, id uuid.UUID, cursor string, limit int) (PriceHistoryPage, error) {
	if limit == 0 {
		limit = DefaultLimit
	}
	if limit < 1 || limit > MaxLimit {
		return PriceHistoryPage{}, problem.Validation(problem.Field("limit", "must be between 1 and %d", MaxLimit))
	}
	before, err := decodeHistoryCursor(cursor)
	if err != nil {
		return PriceHistoryPage{}, err
	}
	p, err := s.store.GetProduct(ctx, id)
	if err != nil {
		return PriceHistoryPage{}, err
	}
	if err := a.mayChange(p); err != nil {
		return PriceHistoryPage{}, err
	}
	recs, err := s.store.PriceHistory(ctx, id, before, limit+1)
	if err != nil {
		return PriceHistoryPage{}, err
	}
	page := PriceHistoryPage{Items: recs}
	if len(recs) > limit {
		page.Items = recs[:limit]
		page.Next = historyCursor(recs[limit-1].ID)
	}
	return page, nil
}

// Categories returns the category tree.
func (s *Service) Categories(ctx context.Context) (Tree, error) {
	cats, err := s.store.Categories(ctx)
	if err != nil {
		return Tree{}, err
	}
	return NewTree(cats), nil
}

// CreateCategory adds a category (admins only).
func (s *Service) CreateCategory(ctx context.Context, a Actor, in CategoryInput) (Category, error) {
	if !a.IsAdmin() {
		return Category{}, fmt.Errorf("%w: only admins edit categories", ErrForbidden)
	}
	if err := in.normalize(); err != nil {
		return Category{}, err
	}
	id := in.ID
	if id == uuid.Nil {
		var err error
		if id, err = uuid.NewV7(); err != nil {
			return Category{}, fmt.Errorf("new category id: %w", err)
		}
	}
	now := s.now()
	c := Category{ID: id, ParentID: in.ParentID, Name: in.Name, Slug: in.Slug, CreatedAt: now, UpdatedAt: now}
	err := s.store.ChangeCategories(ctx, func(t Tree) (TreeChange, error) {
		if _, ok := t.Get(c.ID); ok {
			return TreeChange{}, fmt.Errorf("category %s: %w", c.ID, ErrCategoryExists)
		}
		if err := t.place(c); err != nil {
			return TreeChange{}, err
		}
		return TreeChange{Save: &c, Insert: true}, nil
	})
	if err != nil {
		return Category{}, err
	}
	s.changed(ctx)
	return c, nil
}

// UpdateCategory renames or moves a category (admins only). A move under
// the category itself or one of its descendants is refused, as is one that
// makes the tree too deep.
func (s *Service) UpdateCategory(ctx context.Context, a Actor, id uuid.UUID, in CategoryInput) (Category, error) {
	if !a.IsAdmin() {
		return Category{}, fmt.Errorf("%w: only admins edit categories", ErrForbidden)
	}
	if err := in.normalize(); err != nil {
		return Category{}, err
	}
	var c Category
	err := s.store.ChangeCategories(ctx, func(t Tree) (TreeChange, error) {
		cur, ok := t.Get(id)
		if !ok {
			return TreeChange{}, fmt.Errorf("category %s: %w", id, ErrCategoryNotFound)
		}
		c = cur
		c.Name, c.Slug, c.ParentID, c.UpdatedAt = in.Name, in.Slug, in.ParentID, s.now()
		if err := t.place(c); err != nil {
			return TreeChange{}, err
		}
		return TreeChange{Save: &c}, nil
	})
	if err != nil {
		return Category{}, err
	}
	s.changed(ctx)
	return c, nil
}

// DeleteCategory removes an empty category (admins only): one with
// subcategories or products (in any status) is refused, naming what is in
// the way.
func (s *Service) DeleteCategory(ctx context.Context, a Actor, id uuid.UUID) error {
	if !a.IsAdmin() {
		return fmt.Errorf("%w: only admins edit categories", ErrForbidden)
	}
	err := s.store.ChangeCategories(ctx, func(t Tree) (TreeChange, error) {
		c, ok := t.Get(id)
		if !ok {
			return TreeChange{}, fmt.Errorf("category %s: %w", id, ErrCategoryNotFound)
		}
		if n := len(t.Children(id)); n > 0 {
			return TreeChange{}, fmt.Errorf("%w: %q has %d subcategories; move or delete them first", ErrCategoryNotEmpty, c.Name, n)
		}
		return TreeChange{Delete: id}, nil
	})
	if err != nil {
		return err
	}
	s.changed(ctx)
	return nil
}

// noCache is the Cache of a service without one.
type noCache struct{}

func (noCache) Product(context.Context, uuid.UUID) (Product, bool) { return Product{}, false }
func (noCache) PutProduct(context.Context, Product)                {}
func (noCache) Page(context.Context, string) (Page, string, bool)  { return Page{}, "", false }
func (noCache) PutPage(context.Context, string, string, Page)      {}
func (noCache) Changed(context.Context, ...Product)                {}
