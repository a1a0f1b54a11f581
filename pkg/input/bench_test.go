package input_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"testing"

	"github.com/shop-oss/shop/pkg/input"
)

// product is the body of catalog's POST /products, the largest body a
// client sends often.
type product struct {
	SKU         string         `json:"sku"`
	Name        string         `json:"name"`
	Description *string        `json:"description"`
	PriceMinor  *int64         `json:"price_minor"`
	Currency    string         `json:"currency"`
	CategoryID  *string        `json:"category_id"`
	Status      string         `json:"status"`
	Images      []string       `json:"images"`
	Attributes  map[string]any `json:"attributes"`
}

var (
	// A typical body: plain UTF-8 text, nothing escaped (what browsers and
	// Go clients send).
	plainBody = []byte(`{"sku":"MUG-0042","name":"Café mug, stoneware","description":"Hand-glazed stoneware mug, 350 ml. Dishwasher safe; keeps coffee warm for longer than you would think.","price_minor":1850,"currency":"EUR","category_id":"0190f5a8-0000-7000-8000-000000000001","status":"ACTIVE","images":["https://img.shop.local/mug-0042-front.jpg","https://img.shop.local/mug-0042-side.jpg"],"attributes":{"colour":"sand","volume_ml":350,"dishwasher_safe":true}}`)
	// The same with non-ASCII escaped (what Python's json.dumps sends), so
	// the token pass of the text rule runs too.
	escapedBody = bytes.Replace(plainBody, []byte("é"), []byte(`\u00e9`), 1)
	// An order: small, the most frequent write.
	orderBody = []byte(`{"lines":[{"product_id":"0190f5a8-0000-7000-8000-000000000001","quantity":2},{"product_id":"0190f5a8-0000-7000-8000-000000000002","quantity":1}]}`)
)

// baseline is the decoder every service used before: encoding/json with
// unknown fields refused and trailing data checked.
func baseline(b []byte, dst any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return err
	}
	if dec.More() {
		return errTrailing
	}
	if _, err := dec.Token(); err != io.EOF {
		return errTrailing
	}
	return nil
}

var errTrailing = errors.New("unexpected data after the JSON value")

type orderLine struct {
	ProductID string `json:"product_id"`
	Quantity  int    `json:"quantity"`
}

type order struct {
	Lines []orderLine `json:"lines"`
}

func BenchmarkDecode(b *testing.B) {
	bodies := []struct {
		name string
		body []byte
		new  func() any
	}{
		{"product", plainBody, func() any { return new(product) }},
		{"product-escaped", escapedBody, func() any { return new(product) }},
		{"order", orderBody, func() any { return new(order) }},
	}
	for _, bd := range bodies {
		b.Run(bd.name+"/encoding-json", func(b *testing.B) {
			b.SetBytes(int64(len(bd.body)))
			b.ReportAllocs()
			for b.Loop() {
				if err := baseline(bd.body, bd.new()); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(bd.name+"/input", func(b *testing.B) {
			b.SetBytes(int64(len(bd.body)))
			b.ReportAllocs()
			for b.Loop() {
				if err := input.DecodeJSON(bd.body, bd.new()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
