package order

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/shop-oss/shop/pkg/problem"
)

const (
	p1     = "0190f5a8-0000-7000-8000-000000000001"
	p2     = "0190f5a8-0000-7000-8000-000000000002"
	p3     = "0190f5a8-0000-7000-8000-000000000003"
	seller = "00000000-0000-7000-8000-000000000002"
)

// fields returns the field errors of a validation error, field → message.
func fields(t *testing.T, err error) map[string]string {
	t.Helper()
	var ve *problem.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("want a validation error, got %v", err)
	}
	out := map[string]string{}
	for _, f := range ve.Fields {
		out[f.Field] = f.Message
	}
	return out
}

func TestValidateLines(t *testing.T) {
	many := make([]LineInput, MaxLines+1)
	for i := range many {
		many[i] = LineInput{ProductID: p1, Quantity: 1}
	}
	cases := map[string]struct {
		lines []LineInput
		want  []string // fields named
	}{
		"no lines":             {nil, []string{"lines"}},
		"too many lines":       {many, []string{"lines"}},
		"quantity 0":           {[]LineInput{{p1, 0}}, []string{"lines[0].quantity"}},
		"quantity 1001":        {[]LineInput{{p1, 1001}}, []string{"lines[0].quantity"}},
		"not a uuid":           {[]LineInput{{p1, 1}, {"abc", 1}}, []string{"lines[1].product_id"}},
		"upper-case uuid":      {[]LineInput{{strings.ToUpper(p1), 1}}, []string{"lines[0].product_id"}},
		"duplicate":            {[]LineInput{{p1, 1}, {p2, 1}, {p1, 3}}, []string{"lines[2].product_id"}},
		"every bad line":       {[]LineInput{{"x", 0}, {p2, 2000}}, []string{"lines[0].product_id", "lines[0].quantity", "lines[1].quantity"}},
		"edge quantities":      {[]LineInput{{p1, 1}, {p2, 1000}}, nil},
		"one product repeated": {many[:MaxLines], []string{"lines[1].product_id", "lines[99].product_id"}},
	}
	for name, tc := range cases {
		err := validateLines(tc.lines)
		if tc.want == nil {
			if err != nil {
				t.Errorf("%s: %v", name, err)
			}
			continue
		}
		got := fields(t, err)
		for _, f := range tc.want {
			if got[f] == "" {
				t.Errorf("%s: no error for %s in %v", name, f, got)
			}
		}
		if len(got) < len(tc.want) {
			t.Errorf("%s: %v", name, got)
		}
	}
}

func price(amount int64, currency string) *Money {
	return &Money{AmountMinor: amount, Currency: currency}
}

func TestPriceLinesTakesPricesAndNamesFromTheReplica(t *testing.T) {
	products := map[string]Product{
		p1: {ID: p1, SKU: "A", Name: "Alpha", SellerID: seller, Status: ProductActive, Price: price(1999, "EUR"), Version: 3},
		p2: {ID: p2, SKU: "B", Name: "Beta", SellerID: seller, Status: ProductActive, Price: price(500, "EUR"), Version: 1},
	}
	got, err := priceLines([]LineInput{{p1, 2}, {p2, 3}}, products)
	if err != nil {
		t.Fatal(err)
	}
	want := Priced{
		Items: []Item{
			{ProductID: p1, SKU: "A", Name: "Alpha", SellerID: seller, Quantity: 2, UnitPriceMinor: 1999},
			{ProductID: p2, SKU: "B", Name: "Beta", SellerID: seller, Quantity: 3, UnitPriceMinor: 500},
		},
		Currency: "EUR", TotalMinor: 2*1999 + 3*500, SellerID: seller,
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	// Another seller on one line: no sole seller.
	products[p2] = Product{ID: p2, Name: "Beta", SellerID: "00000000-0000-7000-8000-000000000009", Status: ProductActive, Price: price(500, "EUR"), Version: 1}
	if got, _ := priceLines([]LineInput{{p1, 1}, {p2, 1}}, products); got.SellerID != "" {
		t.Fatalf("mixed sellers gave sole seller %q", got.SellerID)
	}
}

func TestPriceLinesRefusesUnavailableProductsNamingTheLine(t *testing.T) {
	products := map[string]Product{
		p1: {ID: p1, Status: ProductActive, Price: price(100, "EUR"), Version: 1},
		p2: {ID: p2, Status: ProductActive, Price: price(100, "USD"), Version: 1},
		p3: {ID: p3, Status: ProductArchived, Price: price(100, "EUR"), Version: 2},
	}
	draft := "0190f5a8-0000-7000-8000-000000000004"
	unpriced := "0190f5a8-0000-7000-8000-000000000005"
	unknown := "0190f5a8-0000-7000-8000-000000000006"
	stub := "0190f5a8-0000-7000-8000-000000000007"
	products[draft] = Product{ID: draft, Status: ProductDraft, Price: price(1, "EUR"), Version: 1}
	products[unpriced] = Product{ID: unpriced, Status: ProductActive, Version: 1}
	products[stub] = Product{ID: stub, Status: ProductUnknown, Price: price(1, "EUR"), Version: 1}
	lines := []LineInput{{p1, 1}, {p2, 1}, {p3, 1}, {draft, 1}, {unpriced, 1}, {unknown, 1}, {stub, 1}}
	_, err := priceLines(lines, products)
	got := fields(t, err)
	want := map[string]string{
		"lines[1].product_id": "priced in USD but lines[0] in EUR",
		"lines[2].product_id": "is archived",
		"lines[3].product_id": "not available",
		"lines[4].product_id": "has no price",
		"lines[5].product_id": "unknown product",
		"lines[6].product_id": "not available",
	}
	for f, frag := range want {
		if !strings.Contains(got[f], frag) {
			t.Errorf("%s: %q, want it to say %q", f, got[f], frag)
		}
	}
	if len(got) != len(want) {
		t.Errorf("errors %v", got)
	}
}

func TestPriceLinesRefusesATotalThatOverflows(t *testing.T) {
	products := map[string]Product{
		p1: {ID: p1, Status: ProductActive, Price: price(math.MaxInt64/2, "EUR"), Version: 1},
		p2: {ID: p2, Status: ProductActive, Price: price(math.MaxInt64/3, "EUR"), Version: 1},
	}
	for _, lines := range [][]LineInput{{{p1, 3}}, {{p1, 1}, {p2, 2}}} {
		if _, err := priceLines(lines, products); len(fields(t, err)) != 1 {
			t.Errorf("%v: %v", lines, err)
		}
	}
}

// TestApplyChangeVersionRule feeds catalog events out of order and checks
// that the replica never goes back to an older state.
func TestApplyChangeVersionRule(t *testing.T) {
	up := func(v int64, status ProductStatus, amount int64) ProductChange {
		return ProductChange{Kind: ChangeUpserted, ProductID: p1, Version: v, SKU: "A", Name: "Alpha v" + string(rune('0'+v)),
			SellerID: seller, Status: status, Price: price(amount, "EUR")}
	}
	priceChange := func(v, amount int64) ProductChange {
		return ProductChange{Kind: ChangePriceChanged, ProductID: p1, Version: v, Price: price(amount, "EUR")}
	}
	archive := func(v int64) ProductChange {
		return ProductChange{Kind: ChangeArchived, ProductID: p1, Version: v}
	}
	steps := []struct {
		name    string
		ch      ProductChange
		applies bool
		price   int64
		status  ProductStatus
		version int64
	}{
		{"v2 upsert on empty", up(2, ProductActive, 200), true, 200, ProductActive, 2},
		{"older v1 upsert", up(1, ProductActive, 100), false, 200, ProductActive, 2},
		{"same v2 upsert again", up(2, ProductActive, 200), true, 200, ProductActive, 2},
		{"v3 price change", priceChange(3, 300), true, 300, ProductActive, 3},
		{"older v2 price change", priceChange(2, 250), false, 300, ProductActive, 3},
		{"same v3 price change again", priceChange(3, 999), false, 300, ProductActive, 3},
		{"v4 archive", archive(4), true, 300, ProductArchived, 4},
		{"older v3 upsert cannot revive", up(3, ProductActive, 300), false, 300, ProductArchived, 4},
		{"older v4 archive again", archive(4), false, 300, ProductArchived, 4},
		{"v5 upsert revives", up(5, ProductActive, 500), true, 500, ProductActive, 5},
	}
	var cur Product
	found := false
	for _, s := range steps {
		next, applies := applyChange(cur, found, s.ch)
		if applies != s.applies {
			t.Fatalf("%s: applies = %v", s.name, applies)
		}
		if next.Price == nil || next.Price.AmountMinor != s.price || next.Status != s.status || next.Version != s.version {
			t.Fatalf("%s: got %+v", s.name, next)
		}
		cur, found = next, true
	}
	// A price change before the product's first upsert makes a partial,
	// unorderable row; the upsert of the same version completes it.
	stub, ok := applyChange(Product{}, false, priceChange(7, 700))
	if !ok || stub.Status != ProductUnknown || stub.Price.AmountMinor != 700 || stub.Version != 7 {
		t.Fatalf("stub %+v", stub)
	}
	full, ok := applyChange(stub, true, up(7, ProductActive, 700))
	if !ok || full.Name == "" || full.Status != ProductActive {
		t.Fatalf("full %+v", full)
	}
}

func TestCursorRoundTripAndGarbage(t *testing.T) {
	c := Cursor{ID: p1}
	c.CreatedAt = c.CreatedAt.AddDate(2026, 0, 0)
	got, err := decodeCursor(c.Encode())
	if err != nil || got.ID != c.ID || !got.CreatedAt.Equal(c.CreatedAt) {
		t.Fatalf("%+v %v", got, err)
	}
	if got, err := decodeCursor(""); got != nil || err != nil {
		t.Fatalf("empty: %v %v", got, err)
	}
	for _, bad := range []string{"!!", "e30", "eyJ0IjoiMjAyNi0wMS0wMVQwMDowMDowMFoiLCJpIjoieCJ9"} {
		if _, err := decodeCursor(bad); !errors.Is(err, ErrInvalidCursor) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
