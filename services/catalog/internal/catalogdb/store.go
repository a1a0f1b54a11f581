package catalogdb

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"github.com/shop-oss/shop/pkg/outbox"
	"github.com/shop-oss/shop/services/catalog/internal/catalog"
)

// Store implements catalog.Store.
type Store struct {
	db *gorm.DB
	// read serves listings and reads by ID; it is the read replica when
	// one is configured (writes and the reads inside them use db).
	read *gorm.DB
}

var _ catalog.Store = (*Store)(nil)

// New returns a store over db, reading from read (db when nil).
func New(db, read *gorm.DB) *Store {
	if read == nil {
		read = db
	}
	return &Store{db: db, read: read}
}

// GetProduct implements catalog.Store.
func (s *Store) GetProduct(ctx context.Context, id uuid.UUID) (catalog.Product, error) {
	return getProduct(s.read.WithContext(ctx), id, "")
}

func getProduct(db *gorm.DB, id uuid.UUID, lock string) (catalog.Product, error) {
	var rows []productRow
	if err := db.Raw(`SELECT `+productColumns+` FROM products WHERE id = ? `+lock, id).Scan(&rows).Error; err != nil {
		return catalog.Product{}, fmt.Errorf("get product %s: %w", id, err)
	}
	if len(rows) == 0 {
		return catalog.Product{}, fmt.Errorf("product %s: %w", id, catalog.ErrProductNotFound)
	}
	return toProduct(rows[0])
}

// InsertProduct implements catalog.Store.
func (s *Store) InsertProduct(ctx context.Context, p catalog.Product, events []catalog.Event) error {
	args, err := productArgs(p)
	if err != nil {
		return err
	}
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// ON CONFLICT (id): an import that runs again finds its product, even
		// though the SKU would clash too.
		res := tx.Exec(`INSERT INTO products (`+productColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?::jsonb, ?, ?, ?)
			ON CONFLICT (id) DO NOTHING`, args...)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return catalog.ErrProductExists
		}
		if err := tx.Exec(`INSERT INTO price_history (product_id, price_minor, currency, version, changed_by, changed_at)
			VALUES (?, ?, ?, ?, ?, ?)`, p.ID, p.Price.Minor, p.Price.Currency, p.Version, p.SellerID, p.CreatedAt).Error; err != nil {
			return err
		}
		return publish(ctx, tx, events)
	})
	if err != nil {
		return fmt.Errorf("insert product %s: %w", p.ID, translate(err))
	}
	return nil
}

// UpdateProduct implements catalog.Store.
func (s *Store) UpdateProduct(ctx context.Context, id uuid.UUID, change func(p *catalog.Product) ([]catalog.Event, error)) (catalog.Product, error) {
	var p catalog.Product
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		if p, err = getProduct(tx, id, "FOR UPDATE"); err != nil {
			return err
		}
		events, err := change(&p)
		if err != nil || len(events) == 0 {
			return err
		}
		args, err := productArgs(p)
		if err != nil {
			return err
		}
		// args[1:] skips the ID, which goes last for the WHERE.
		if err := tx.Exec(`UPDATE products SET sku = ?, name = ?, description = ?, price_minor = ?, currency = ?,
			seller_id = ?, category_id = ?, status = ?, images = ?::jsonb, attributes = ?::jsonb, version = ?,
			created_at = ?, updated_at = ? WHERE id = ?`, append(args[1:], p.ID)...).Error; err != nil {
			return err
		}
		return publish(ctx, tx, events)
	})
	if err != nil {
		return catalog.Product{}, translate(err)
	}
	return p, nil
}

// publish records the events' side tables (price history) and adds them
// to the outbox, in tx.
func publish(ctx context.Context, tx *gorm.DB, events []catalog.Event) error {
	for _, e := range events {
		if pc, ok := e.(catalog.ProductPriceChanged); ok {
			if err := tx.Exec(`INSERT INTO price_history
				(product_id, old_price_minor, old_currency, price_minor, currency, version, changed_by, changed_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, pc.ProductID, pc.Old.Minor, pc.Old.Currency,
				pc.New.Minor, pc.New.Currency, pc.Version, pc.By, pc.At).Error; err != nil {
				return fmt.Errorf("record price history: %w", err)
			}
		}
	}
	envelopes, err := toEnvelopes(ctx, events)
	if err != nil {
		return err
	}
	return outbox.Add(ctx, tx, envelopes...)
}

// PriceHistory implements catalog.Store.
func (s *Store) PriceHistory(ctx context.Context, id uuid.UUID, before int64, limit int) ([]catalog.PriceRecord, error) {
	var rows []priceRow
	err := s.read.WithContext(ctx).Raw(`SELECT id, product_id, old_price_minor, old_currency, price_minor, currency,
			version, changed_by, changed_at
		FROM price_history WHERE product_id = ? AND (? = 0 OR id < ?) ORDER BY id DESC LIMIT ?`,
		id, before, before, limit).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("price history of %s: %w", id, err)
	}
	out := make([]catalog.PriceRecord, len(rows))
	for i, r := range rows {
		out[i] = toPriceRecord(r)
	}
	return out, nil
}

// Categories implements catalog.Store.
func (s *Store) Categories(ctx context.Context) ([]catalog.Category, error) {
	return categories(s.read.WithContext(ctx))
}

func categories(db *gorm.DB) ([]catalog.Category, error) {
	var rows []categoryRow
	if err := db.Raw(`SELECT id, parent_id, name, slug, created_at, updated_at FROM categories`).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("load categories: %w", err)
	}
	out := make([]catalog.Category, len(rows))
	for i, r := range rows {
		out[i] = toCategory(r)
	}
	return out, nil
}

// treeLock is the advisory lock that serialises changes to the category
// tree: two concurrent moves could otherwise each pass the cycle check and
// together make a cycle. Tree edits are rare; readers never take it.
const treeLock = 0x636174616c6f67 // "catalog"

// ChangeCategories implements catalog.Store.
func (s *Store) ChangeCategories(ctx context.Context, decide func(t catalog.Tree) (catalog.TreeChange, error)) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec(`SELECT pg_advisory_xact_lock(?)`, int64(treeLock)).Error; err != nil {
			return fmt.Errorf("lock category tree: %w", err)
		}
		cats, err := categories(tx)
		if err != nil {
			return err
		}
		ch, err := decide(catalog.NewTree(cats))
		if err != nil {
			return err
		}
		switch {
		case ch.Save != nil && ch.Insert:
			c := ch.Save
			return tx.Exec(`INSERT INTO categories (id, parent_id, name, slug, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?)`, c.ID, nullUUID(c.ParentID), c.Name, c.Slug, c.CreatedAt, c.UpdatedAt).Error
		case ch.Save != nil:
			c := ch.Save
			return tx.Exec(`UPDATE categories SET parent_id = ?, name = ?, slug = ?, updated_at = ? WHERE id = ?`,
				nullUUID(c.ParentID), c.Name, c.Slug, c.UpdatedAt, c.ID).Error
		case ch.Delete != uuid.Nil:
			return deleteCategory(tx, ch.Delete)
		}
		return nil
	})
	return translate(err)
}

func deleteCategory(tx *gorm.DB, id uuid.UUID) error {
	var n int64
	if err := tx.Raw(`SELECT count(*) FROM products WHERE category_id = ?`, id).Scan(&n).Error; err != nil {
		return fmt.Errorf("count products of category %s: %w", id, err)
	}
	if n > 0 {
		return fmt.Errorf("%w: %d products (archived ones included) belong to it; move them to another category first",
			catalog.ErrCategoryNotEmpty, n)
	}
	return tx.Exec(`DELETE FROM categories WHERE id = ?`, id).Error
}

// translate turns constraint violations into domain errors; other errors
// pass unchanged.
func translate(err error) error {
	var pg *pgconn.PgError
	if err == nil || !errors.As(err, &pg) {
		return err
	}
	switch pg.ConstraintName {
	case "products_sku_key":
		return fmt.Errorf("%w: another product has this SKU", catalog.ErrSKUTaken)
	case "products_category_fkey":
		if pg.TableName == "products" { // inserting a product into a missing category
			return fmt.Errorf("%w: %v", catalog.ErrUnknownCategory, err)
		}
		// deleting a category that a product joined meanwhile
		return fmt.Errorf("%w: products belong to it; move them to another category first", catalog.ErrCategoryNotEmpty)
	case "categories_pkey":
		return fmt.Errorf("%w: %v", catalog.ErrCategoryExists, err)
	case "categories_sibling_slug_key":
		return fmt.Errorf("%w: a sibling category has this slug", catalog.ErrCategorySlugTaken)
	}
	return err
}
