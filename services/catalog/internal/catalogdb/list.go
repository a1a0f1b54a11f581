package catalogdb

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/shop-oss/shop/pkg/database"
	"github.com/shop-oss/shop/pkg/problem"
	"github.com/shop-oss/shop/services/catalog/internal/catalog"
)

// ListProducts implements catalog.Store.
func (s *Store) ListProducts(ctx context.Context, q catalog.ListQuery) (catalog.Listing, error) {
	fuzzy, err := s.terms(ctx, q)
	if err != nil {
		return catalog.Listing{}, err
	}
	sql, args := listSQL(q, fuzzy)
	var rows []productRow
	if err := s.read.WithContext(ctx).Raw(sql, args...).Scan(&rows).Error; err != nil {
		return catalog.Listing{}, fmt.Errorf("list products: %w", err)
	}
	l := catalog.Listing{Hits: make([]catalog.Hit, len(rows)), Terms: fuzzy}
	for i, r := range rows {
		p, err := toProduct(r)
		if err != nil {
			return catalog.Listing{}, err
		}
		l.Hits[i] = catalog.Hit{Product: p, Rank: r.Rank}
	}
	return l, nil
}

// terms is the fuzzy query of a text search: the one the first page used,
// carried by the cursor, or a new one.
func (s *Store) terms(ctx context.Context, q catalog.ListQuery) (string, error) {
	switch {
	case q.Text == "":
		return "", nil
	case q.After != nil:
		if !validTerms(q.After.Terms) { // it came back from a client
			return "", problem.Validation(problem.Field("cursor", "is not a cursor of this listing; start again without it"))
		}
		return q.After.Terms, nil
	default:
		return fuzzyQuery(ctx, s.read, q.Text)
	}
}

// listSQL builds the listing query of q, with fuzzy the expanded text query
// (see search.go). Every shape it produces is served by an index (see the
// migration and TestListQueriesUseIndexes).
func listSQL(q catalog.ListQuery, fuzzy string) (string, []any) {
	var where []string
	var args []any
	cond := func(sql string, a ...any) {
		where = append(where, sql)
		args = append(args, a...)
	}
	switch {
	case q.Scope.All:
	case q.Scope.Owner != uuid.Nil:
		cond(`(p.status = 'ACTIVE' OR p.seller_id = ?)`, q.Scope.Owner)
	default:
		cond(`p.status = 'ACTIVE'`)
	}
	if q.Status != "" {
		cond(`p.status = ?`, string(q.Status))
	}
	if q.Text != "" {
		cond(textMatch(fuzzy), textArgs(q.Text, fuzzy)...)
	}
	switch len(q.CategoryIDs) {
	case 0:
	case 1: // "=" lets the planner read the page in order from a category index
		cond(`p.category_id = ?`, q.CategoryIDs[0])
	default:
		cond(`p.category_id = ANY(?::uuid[])`, database.UUIDArray(q.CategoryIDs))
	}
	if q.Seller != uuid.Nil {
		cond(`p.seller_id = ?`, q.Seller)
	}
	if q.MinPrice != nil {
		cond(`p.price_minor >= ?`, *q.MinPrice)
	}
	if q.MaxPrice != nil {
		cond(`p.price_minor <= ?`, *q.MaxPrice)
	}
	if q.Currency != "" {
		cond(`p.currency = ?`, q.Currency)
	}

	cols := `p.` + strings.ReplaceAll(productColumns, ", ", ", p.")
	if q.Sort == catalog.SortRelevance {
		// The rank is computed once, in the inner query; the keyset compares
		// the same real value the cursor carries.
		inner := `SELECT ` + cols + `, ` + rankExpr(fuzzy) + ` AS rank FROM products p` + whereSQL(where)
		sql := `SELECT * FROM (` + inner + `) s`
		args = append(textArgs(q.Text, fuzzy), args...) // the rank takes the same queries
		if c := q.After; c != nil {
			sql += ` WHERE (s.rank < ? OR (s.rank = ? AND s.id > ?))`
			args = append(args, c.Rank, c.Rank, c.ID)
		}
		return sql + ` ORDER BY s.rank DESC, s.id LIMIT ?`, append(args, q.Limit)
	}
	var order string
	if c := q.After; c != nil {
		switch q.Sort {
		case catalog.SortPriceAsc:
			cond(`(p.price_minor, p.id) > (?, ?)`, c.Price, c.ID)
		case catalog.SortPriceDesc:
			cond(`(p.price_minor, p.id) < (?, ?)`, c.Price, c.ID)
		default:
			cond(`(p.created_at, p.id) < (?, ?)`, c.Created, c.ID)
		}
	}
	switch q.Sort {
	case catalog.SortPriceAsc:
		order = `p.price_minor, p.id`
	case catalog.SortPriceDesc:
		order = `p.price_minor DESC, p.id DESC`
	default:
		order = `p.created_at DESC, p.id DESC`
	}
	sql := `SELECT ` + cols + `, 0::real AS rank FROM products p` + whereSQL(where) + ` ORDER BY ` + order + ` LIMIT ?`
	return sql, append(args, q.Limit)
}

func whereSQL(conds []string) string {
	if len(conds) == 0 {
		return ""
	}
	return ` WHERE ` + strings.Join(conds, ` AND `)
}

// Explain returns PostgreSQL's plan (EXPLAIN ANALYZE) of the listing query
// q, for diagnostics and the benchmark's report.
func (s *Store) Explain(ctx context.Context, q catalog.ListQuery) (string, error) {
	fuzzy, err := s.terms(ctx, q)
	if err != nil {
		return "", err
	}
	sql, args := listSQL(q, fuzzy)
	rows, err := s.read.WithContext(ctx).Raw(`EXPLAIN (ANALYZE, COSTS OFF) `+sql, args...).Rows()
	if err != nil {
		return "", fmt.Errorf("explain: %w", err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return "", err
		}
		plan = append(plan, line)
	}
	return strings.Join(plan, "\n"), rows.Err()
}
