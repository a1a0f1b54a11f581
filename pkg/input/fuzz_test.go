package input_test

import (
	"net/http"
	"testing"

	"github.com/google/uuid"

	"github.com/shop-oss/shop/pkg/fuzztest"
	"github.com/shop-oss/shop/pkg/input"
	"github.com/shop-oss/shop/pkg/problem"
)

// body has the shapes the services' request bodies have: text, numbers,
// optional members, lists of objects, free-form attributes.
type fuzzBody struct {
	ID         uuid.UUID      `json:"id"`
	Name       string         `json:"name"`
	Note       *string        `json:"note"`
	Quantity   int64          `json:"quantity"`
	Small      int32          `json:"small"`
	Price      *float64       `json:"price"`
	Active     bool           `json:"active"`
	Tags       []string       `json:"tags"`
	Lines      []fuzzLine     `json:"lines"`
	Attributes map[string]any `json:"attributes"`
}

type fuzzLine struct {
	ProductID string `json:"product_id"`
	Quantity  int    `json:"quantity"`
}

// Whatever the bytes, DecodeJSON never panics, refuses with a 400 problem
// (malformed JSON or fields named), and what it accepts holds only text
// PostgreSQL can store: the rule every request body of the services meets
// before their handlers see it.
func FuzzDecodeJSON(f *testing.F) {
	ok := `{"id":"0190f5a8-0000-7000-8000-000000000001","name":"Sock","note":"warm","quantity":2,"small":1,"price":9.5,"active":true,"tags":["a"],` +
		`"lines":[{"product_id":"p","quantity":1}],"attributes":{"size":42,"colour":"red","deep":{"x":[1,"y",null]}}}`
	seed := func(b string) []any { return []any{[]byte(b)} }
	seeds := map[string][]any{
		"ok-full":                  seed(ok),
		"ok-empty-object":          seed(`{}`),
		"bad-invalid-utf8":         seed("{\"name\":\"\xff\xfe\"}"),
		"bad-invalid-utf8-in-name": seed("{\"\xff\":1}"),
		"bad-nul":                  seed(`{"name":"a\u0000b"}`),
		"bad-nul-in-attributes":    seed(`{"attributes":{"k":["\u0000"]}}`),
		"bad-control":              seed(`{"tags":["\u001b[2J"]}`),
		"bad-duplicate":            seed(`{"name":"a","name":"b"}`),
		"bad-case-variant":         seed(`{"NAME":"a"}`),
		"bad-unknown":              seed(`{"nope":1}`),
		"bad-huge-int":             seed(`{"quantity":92233720368547758070}`),
		"bad-int32-overflow":       seed(`{"small":2147483648}`),
		"bad-huge-float":           seed(`{"price":1e400}`),
		"bad-trailing":             seed(`{} {}`),
		"bad-empty":                seed(``),
		"bad-not-object":           seed(`[]`),
		"bad-id-not-uuid":          seed(`{"id":"x"}`),
		"bad-lone-surrogate":       seed(`{"name":"\ud800"}`),
		"any-deep":                 seed(`{"attributes":{"a":` + deep(5000) + `}}`),
		"any-null":                 seed(`null`),
	}
	fuzztest.Seeds(f, seeds)
	f.Fuzz(func(t *testing.T, b []byte) {
		var dst fuzzBody
		err := input.DecodeJSON(b, &dst)
		fuzztest.AsExpected(t, err, dst)
		if err != nil {
			// As a service's error mapper answers it (an unknown error is a 500).
			if p, known := problem.NewMapper().Map(err); !known || p.Status != http.StatusBadRequest {
				t.Fatalf("refused with %d (known %v), want a 400 problem: %v", p.Status, known, err)
			}
			return
		}
		for _, s := range texts(dst) {
			if msg := input.TextProblem(s); msg != "" {
				t.Fatalf("accepted text %q that %s", s, msg)
			}
		}
	})
}

func deep(n int) string {
	b := make([]byte, 0, 2*n)
	for range n {
		b = append(b, '[')
	}
	for range n {
		b = append(b, ']')
	}
	return string(b)
}

// texts lists every string in v, attribute keys and values included.
func texts(v fuzzBody) []string {
	out := []string{v.Name}
	if v.Note != nil {
		out = append(out, *v.Note)
	}
	out = append(out, v.Tags...)
	for _, l := range v.Lines {
		out = append(out, l.ProductID)
	}
	var walk func(any)
	walk = func(x any) {
		switch x := x.(type) {
		case string:
			out = append(out, x)
		case []any:
			for _, e := range x {
				walk(e)
			}
		case map[string]any:
			for k, e := range x {
				out = append(out, k)
				walk(e)
			}
		}
	}
	walk(v.Attributes)
	return out
}
