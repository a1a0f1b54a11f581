package catalog

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/shop-oss/shop/pkg/input"
	"github.com/shop-oss/shop/pkg/problem"
)

// Sort is a listing order. Each has a unique tie-breaker (the product ID),
// so keyset pages never repeat or skip a product.
type Sort string

// The listing orders.
const (
	SortRelevance Sort = "relevance"  // rank DESC, id ASC; needs a text query
	SortPriceAsc  Sort = "price_asc"  // price_minor ASC, id ASC
	SortPriceDesc Sort = "price_desc" // price_minor DESC, id DESC
	SortNewest    Sort = "newest"     // created_at DESC, id DESC
)

// Listing limits.
const (
	DefaultLimit = 20
	MaxLimit     = 100
	MaxQueryLen  = 200
)

// ListFilter is a product listing request, as the API receives it.
type ListFilter struct {
	// Q is a free-text query (full text over name and description, plus
	// trigram similarity on the name for typos).
	Q string
	// Category is a category ID or slug path; the listing covers the
	// category and all its descendants.
	Category string
	Seller   uuid.UUID
	// MinPrice and MaxPrice bound price_minor, inclusive (nil = open).
	MinPrice, MaxPrice *int64
	Currency           string
	Status             Status
	// Sort defaults to relevance with Q, else newest.
	Sort   Sort
	Limit  int
	Cursor string
}

// normalize canonicalises f and returns the decoded cursor (nil on the
// first page), or a validation error naming each bad parameter.
func (f *ListFilter) normalize() (*Cursor, error) {
	var errs []problem.FieldError
	f.Q = strings.Join(strings.Fields(f.Q), " ")
	if utf8.RuneCountInString(f.Q) > MaxQueryLen {
		errs = append(errs, problem.Field("q", "must have at most %d characters", MaxQueryLen))
	}
	f.Category = strings.Trim(strings.TrimSpace(f.Category), "/")
	if f.Currency != "" && !currencyPattern.MatchString(f.Currency) {
		errs = append(errs, problem.Field("currency", "must be an ISO 4217 code in capitals, such as EUR"))
	}
	if f.Status != "" && !f.Status.Valid() {
		errs = append(errs, problem.Field("status", "must be one of DRAFT, ACTIVE, ARCHIVED"))
	}
	if f.MinPrice != nil && f.MaxPrice != nil && *f.MinPrice > *f.MaxPrice {
		errs = append(errs, problem.Field("max_price", "must not be below min_price"))
	}
	if f.Sort == "" {
		f.Sort = SortNewest
		if f.Q != "" {
			f.Sort = SortRelevance
		}
	}
	switch f.Sort {
	case SortRelevance:
		if f.Q == "" {
			errs = append(errs, problem.Field("sort", "relevance needs a text query (q)"))
		}
	case SortPriceAsc, SortPriceDesc, SortNewest:
	default:
		errs = append(errs, problem.Field("sort", "must be one of relevance, price_asc, price_desc, newest"))
	}
	if f.Limit == 0 {
		f.Limit = DefaultLimit
	}
	if f.Limit < 1 || f.Limit > MaxLimit {
		errs = append(errs, problem.Field("limit", "must be between 1 and %d", MaxLimit))
	}
	if len(errs) > 0 {
		return nil, problem.Validation(errs...)
	}
	if f.Cursor == "" {
		return nil, nil
	}
	c, err := decodeCursor(f.Cursor)
	if err != nil || c.Sort != f.Sort || c.Filter != f.fingerprint() {
		return nil, problem.Validation(problem.Field("cursor", "is not a cursor of this listing (same filters and sort); start again without it"))
	}
	return &c, nil
}

// canonical is the filter as one string (cursor and limit left out).
func (f ListFilter) canonical() string {
	num := func(p *int64) string {
		if p == nil {
			return "-"
		}
		return strconv.FormatInt(*p, 10)
	}
	return strings.Join([]string{
		f.Q, f.Category, f.Seller.String(), num(f.MinPrice), num(f.MaxPrice),
		f.Currency, string(f.Status), string(f.Sort),
	}, "\x1f")
}

// fingerprint ties a cursor to the filters it was made for.
func (f ListFilter) fingerprint() uint32 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(f.canonical()))
	return h.Sum32()
}

// cacheKey names one page of one listing as seen by scope.
func (f ListFilter) cacheKey(s Scope) string {
	return strings.Join([]string{s.key(), f.canonical(), strconv.Itoa(f.Limit), f.Cursor}, "\x1e")
}

// Cursor is the position after the last product of a page: the sort key of
// that product. It travels as an opaque base64url string.
type Cursor struct {
	Sort    Sort      `json:"s"`
	Filter  uint32    `json:"f"`
	Price   int64     `json:"p,omitempty"`
	Created time.Time `json:"t,omitzero"`
	Rank    float32   `json:"r,omitempty"`
	ID      uuid.UUID `json:"i"`
	// Terms are the spelling suggestions the first page of a text search
	// used (see Listing.Terms): later pages search with the same ones, so
	// that a product added meanwhile cannot change the ranking mid-way.
	Terms string `json:"x,omitempty"`
}

// Encode returns the opaque form of c.
func (c Cursor) Encode() string {
	b, _ := json.Marshal(c) // a struct of plain fields always marshals
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (Cursor, error) {
	var c Cursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return c, fmt.Errorf("decode cursor: %w", err)
	}
	// A client can write a cursor of its own, and its terms reach SQL: it
	// meets the rules of every other input.
	if err := input.DecodeJSON(b, &c); err != nil {
		return c, fmt.Errorf("decode cursor: %w", err)
	}
	return c, nil
}

// cursorAfter is the cursor that continues after hit h of listing l.
func cursorAfter(f ListFilter, l Listing, h Hit) Cursor {
	c := Cursor{Sort: f.Sort, Filter: f.fingerprint(), ID: h.Product.ID, Terms: l.Terms}
	switch f.Sort {
	case SortRelevance:
		c.Rank = h.Rank
	case SortPriceAsc, SortPriceDesc:
		c.Price = h.Product.Price.Minor
	case SortNewest:
		c.Created = h.Product.CreatedAt
	}
	return c
}

// ListQuery is a listing as the store runs it: filters resolved (the
// category to its subtree), the caller's scope, and the keyset position.
type ListQuery struct {
	Text string
	// CategoryIDs, when not empty, restricts to products in these.
	CategoryIDs        []uuid.UUID
	Seller             uuid.UUID
	MinPrice, MaxPrice *int64
	Currency           string
	Status             Status
	Scope              Scope
	Sort               Sort
	After              *Cursor
	// Limit is how many rows to return; the service asks one more than the
	// page size to learn whether there is a next page.
	Limit int
}

// Listing is what the store found for a ListQuery.
type Listing struct {
	Hits []Hit
	// Terms is the store's expansion of a text query with spelling
	// suggestions, opaque to the domain; the store takes it back in
	// ListQuery.After.Terms.
	Terms string
}

// Hit is a listed product and, for relevance order, its rank.
type Hit struct {
	Product Product
	Rank    float32
}

// Page is one page of a listing.
type Page struct {
	Items []Product
	// Next is the cursor of the next page; empty on the last page.
	Next string
}

// PriceRecord is one entry of a product's price history.
type PriceRecord struct {
	ID        int64
	ProductID uuid.UUID
	// Old is nil for the price the product was created with.
	Old     *Money
	New     Money
	Version int64
	By      uuid.UUID
	At      time.Time
}

// PriceHistoryPage is one page of price history, newest first.
type PriceHistoryPage struct {
	Items []PriceRecord
	// Next is the cursor of the next (older) page; empty on the last page.
	Next string
}

// historyCursor is the opaque position in a price history: the last ID.
func historyCursor(id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("h" + strconv.FormatInt(id, 10)))
}

func decodeHistoryCursor(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil && len(b) > 1 && b[0] == 'h' {
		if id, err := strconv.ParseInt(string(b[1:]), 10, 64); err == nil && id > 0 {
			return id, nil
		}
	}
	return 0, problem.Validation(problem.Field("cursor", "is not a price history cursor"))
}
