package input_test

import (
	"errors"
	"testing"

	"github.com/google/uuid"

	"github.com/shop-oss/shop/pkg/input"
	"github.com/shop-oss/shop/pkg/problem"
)

type line struct {
	ProductID uuid.UUID `json:"product_id"`
	Quantity  int32     `json:"quantity"`
}

type body struct {
	Name       string         `json:"name"`
	Note       *string        `json:"note"`
	Price      *int64         `json:"price_minor"`
	Lines      []line         `json:"lines"`
	Images     []string       `json:"images"`
	Attributes map[string]any `json:"attributes"`
	Active     bool           `json:"active"`
}

func TestDecodeJSONAcceptsGoodInput(t *testing.T) {
	var b body
	err := input.DecodeJSON([]byte(`{"name":"Caf\u00e9 \"noir\"\tmug\n","note":null,"price_minor":1250,
		"lines":[{"product_id":"0190f5a8-0000-7000-8000-000000000001","quantity":2}],
		"images":["a.png"],"attributes":{"colour":"black","size":{"cm":[8,12]}},"active":true}`), &b)
	if err != nil {
		t.Fatal(err)
	}
	if b.Name != "Café \"noir\"\tmug\n" || *b.Price != 1250 || b.Lines[0].Quantity != 2 || !b.Active || b.Attributes["colour"] != "black" {
		t.Fatalf("decoded %+v", b)
	}
}

// Each bad body is refused with a 400 naming the field.
func TestDecodeJSONRefusesBadInputNamingTheField(t *testing.T) {
	cases := []struct {
		name, body, field, message string
	}{
		{"invalid UTF-8", "{\"name\":\"\xff\xfe\"}", "name", "must be valid UTF-8"},
		{"invalid UTF-8 deep", "{\"attributes\":{\"k\":[\"ok\",\"\xc3\"]}}", "attributes.k[1]", "must be valid UTF-8"},
		{"lone surrogate escape", `{"name":"\ud800"}`, "name", "must be valid UTF-8"},
		{"escaped NUL", `{"name":"a\u0000b"}`, "name", "must not contain NUL characters"},
		{"NUL in a list", `{"images":["ok","\u0000"]}`, "images[1]", "must not contain NUL characters"},
		{"NUL in a map value", `{"attributes":{"colour":"\u0000"}}`, "attributes.colour", "must not contain NUL characters"},
		{"NUL in a member name", `{"attributes":{"a\u0000":"x"}}`, "attributes", "has a member name that must not contain NUL characters"},
		{"escape control", `{"name":"bell\u0007"}`, "name", "must not contain control characters (U+0007)"},
		{"backspace escape", `{"note":"x\by"}`, "note", "must not contain control characters (U+0008)"},
		{"raw DEL", "{\"name\":\"a\x7f\"}", "name", "must not contain control characters (U+007F)"},
		{"raw C1", "{\"name\":\"a\u0085\"}", "name", "must not contain control characters (U+0085)"},
		{"duplicate key", `{"name":"a","name":"b"}`, "name", "is given more than once"},
		{"duplicate nested key", `{"lines":[{"quantity":1,"quantity":2}]}`, "lines[0].quantity", "is given more than once"},
		{"duplicate key in a map", `{"attributes":{"k":1,"k":2}}`, "attributes.k", "is given more than once"},
		{"case variant", `{"Name":"a"}`, "Name", "is not a known field"},
		{"upper case", `{"PRICE_MINOR":1}`, "PRICE_MINOR", "is not a known field"},
		{"unknown", `{"colour":"red"}`, "colour", "is not a known field"},
		{"wrong type", `{"name":1}`, "name", "must be a string"},
		{"wrong type deep", `{"lines":[{"quantity":"two"}]}`, "lines[0].quantity", "must be an integer"},
		{"out of range", `{"lines":[{"quantity":99999999999}]}`, "lines[0].quantity", "is out of range"},
		{"fraction", `{"price_minor":1.5}`, "price_minor", "must be an integer"},
		{"bad uuid", `{"lines":[{"product_id":"nope"}]}`, "lines[0].product_id", "is invalid"},
		{"not an object", `[1]`, "body", "must be an object"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var b body
			err := input.DecodeJSON([]byte(tc.body), &b)
			var ve *problem.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("error %v (%T), want a validation error", err, err)
			}
			if len(ve.Fields) != 1 || ve.Fields[0].Field != tc.field || ve.Fields[0].Message != tc.message {
				t.Fatalf("fields %+v, want %s: %s", ve.Fields, tc.field, tc.message)
			}
		})
	}
}

func TestDecodeJSONRefusesMalformedBodies(t *testing.T) {
	for name, b := range map[string]string{
		"empty": "", "blank": " \n", "cut": `{"name":`, "trailing data": `{"name":"a"} {}`, "not JSON": `name=a`,
	} {
		var v body
		err := input.DecodeJSON([]byte(b), &v)
		var pe *problem.Error
		if !errors.As(err, &pe) || pe.Problem.Status != 400 || pe.Problem.Type != problem.TypePrefix+"malformed-json" {
			t.Errorf("%s: %v, want a malformed-json problem", name, err)
		}
	}
}

func TestText(t *testing.T) {
	for s, want := range map[string]string{
		"plain": "", "tab\tnew\nline\r": "", "émoji 🎉": "",
		"\xff": "must be valid UTF-8", "a\x00": "must not contain NUL characters",
		"\x1b[31m": "must not contain control characters (U+001B)",
	} {
		if got := input.TextProblem(s); got != want {
			t.Errorf("TextProblem(%q) = %q, want %q", s, got, want)
		}
	}
	if err := input.Text("q", "%\x00"); err == nil || err.Error() != "invalid input: q: must not contain NUL characters" {
		t.Errorf("Text: %v", err)
	}
}
