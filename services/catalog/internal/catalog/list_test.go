package catalog

import (
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/shop-oss/shop/pkg/problem"
)

func TestListFilterNormalize(t *testing.T) {
	f := ListFilter{Q: "  wireless   headphones "}
	if _, err := f.normalize(); err != nil || f.Sort != SortRelevance || f.Limit != DefaultLimit || f.Q != "wireless headphones" {
		t.Fatalf("defaults with q: %v %+v", err, f)
	}
	f = ListFilter{}
	if _, err := f.normalize(); err != nil || f.Sort != SortNewest {
		t.Fatalf("defaults: %v %+v", err, f)
	}
	lo, hi := int64(500), int64(100)
	for name, tt := range map[string]struct {
		f    ListFilter
		want string
	}{
		"relevance without q": {ListFilter{Sort: SortRelevance}, "sort"},
		"unknown sort":        {ListFilter{Sort: "cheapest"}, "sort"},
		"limit too big":       {ListFilter{Limit: MaxLimit + 1}, "limit"},
		"negative limit":      {ListFilter{Limit: -1}, "limit"},
		"min above max":       {ListFilter{MinPrice: &lo, MaxPrice: &hi}, "max_price"},
		"bad status":          {ListFilter{Status: "SOLD"}, "status"},
		"bad currency":        {ListFilter{Currency: "E"}, "currency"},
		"garbage cursor":      {ListFilter{Cursor: "!!"}, "cursor"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := tt.f.normalize()
			if got := fieldErrors(t, err); len(got) != 1 || got[0] != tt.want {
				t.Errorf("fields %v, want [%s]", got, tt.want)
			}
		})
	}
}

func TestCursor(t *testing.T) {
	f := ListFilter{Sort: SortNewest, Category: "books"}
	if _, err := f.normalize(); err != nil {
		t.Fatal(err)
	}
	created := time.Date(2026, 3, 4, 5, 6, 7, 123456000, time.UTC)
	hit := Hit{Product: Product{ID: uuid.New(), CreatedAt: created}}
	next := f
	next.Cursor = cursorAfter(f, Listing{}, hit).Encode()
	c, err := next.normalize()
	if err != nil || c == nil || !c.Created.Equal(created) || c.ID != hit.Product.ID {
		t.Fatalf("round trip: %v %+v", err, c)
	}

	// A rank survives the round trip bit for bit (the keyset compares it
	// for equality).
	r := ListFilter{Q: "tent"}
	_, _ = r.normalize()
	rank := float32(0.60792713)
	r.Cursor = cursorAfter(r, Listing{Terms: "(tnet | tent)"}, Hit{Product: Product{ID: uuid.New()}, Rank: rank}).Encode()
	if c, err := r.normalize(); err != nil || c.Rank != rank || c.Terms != "(tnet | tent)" {
		t.Fatalf("rank: %v %+v", err, c)
	}

	// A cursor belongs to its filters and sort.
	other := f
	other.Cursor = next.Cursor
	other.Category = "fiction"
	if _, err := other.normalize(); err == nil {
		t.Error("a cursor of another filter was accepted")
	}
	other = f
	other.Cursor = next.Cursor
	other.Sort = SortPriceAsc
	if _, err := other.normalize(); err == nil {
		t.Error("a cursor of another sort was accepted")
	}
}

func TestCacheKeySeparatesScopes(t *testing.T) {
	f := ListFilter{}
	_, _ = f.normalize()
	seller := Scope{Owner: uuid.New()}
	keys := map[string]bool{f.cacheKey(Scope{}): true, f.cacheKey(Scope{All: true}): true, f.cacheKey(seller): true}
	if len(keys) != 3 {
		t.Error("scopes share a cache key")
	}
	g := f
	g.Limit = 5
	if f.cacheKey(Scope{}) == g.cacheKey(Scope{}) {
		t.Error("limits share a cache key")
	}
}

// A client can write a cursor of its own; its terms reach SQL, so they
// meet the text rule of every input: text PostgreSQL cannot store is a 400
// naming the cursor, never a 500 from the search.
func TestCursorOfTheClientsMakingMeetsTheTextRule(t *testing.T) {
	r := ListFilter{Q: "tent"}
	_, _ = r.normalize()
	for _, terms := range []string{"tent\x00", "tent\x1b[2J"} {
		r.Cursor = cursorAfter(r, Listing{Terms: terms}, Hit{Product: Product{ID: uuid.New()}}).Encode()
		_, err := r.normalize()
		var ve *problem.ValidationError
		if !errors.As(err, &ve) || ve.Fields[0].Field != "cursor" {
			t.Errorf("terms %q: %v, want a validation error naming cursor", terms, err)
		}
	}
}
