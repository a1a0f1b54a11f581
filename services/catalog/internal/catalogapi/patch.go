package catalogapi

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/google/uuid"

	"github.com/shop-oss/shop/pkg/problem"
	"github.com/shop-oss/shop/pkg/web"
	"github.com/shop-oss/shop/services/catalog/internal/catalog"
)

// decodePatch reads a JSON merge patch (RFC 7396) of a product: members
// present replace, null clears an optional field (description, category_id,
// images, attributes) and is refused for a required one; unknown members
// are refused.
func decodePatch(r io.Reader) (catalog.Patch, error) {
	var raw map[string]json.RawMessage
	if err := web.DecodeJSON(r, &raw); err != nil {
		return catalog.Patch{}, err
	}
	if raw == nil {
		return catalog.Patch{}, problem.Validation(problem.Field("body", "must be a JSON object"))
	}
	var pt catalog.Patch
	var errs []problem.FieldError
	for _, name := range slices.Sorted(maps.Keys(raw)) {
		var err error
		switch v := raw[name]; name {
		case "sku":
			pt.SKU, err = member[string](v, false, "a string")
		case "name":
			pt.Name, err = member[string](v, false, "a string")
		case "description":
			pt.Description, err = member[string](v, true, "a string or null")
		case "price_minor":
			pt.PriceMinor, err = member[int64](v, false, "an integer")
		case "currency":
			pt.Currency, err = member[string](v, false, "a string")
		case "status":
			var s *string
			if s, err = member[string](v, false, "a string"); s != nil {
				st := catalog.Status(*s)
				pt.Status = &st
			}
		case "category_id":
			var s *string
			if s, err = member[string](v, true, "a UUID or null"); s != nil {
				id := uuid.Nil // null uncategorises
				if string(v) != "null" {
					if id, err = uuid.Parse(*s); err != nil {
						err = fmt.Errorf("must be a UUID or null")
					}
				}
				pt.CategoryID = &id
			}
		case "images":
			pt.Images, err = member[[]string](v, true, "an array of strings or null")
		case "attributes":
			pt.Attributes, err = member[map[string]any](v, true, "an object or null")
		default:
			err = fmt.Errorf("is not a known field")
		}
		if err != nil {
			errs = append(errs, problem.Field(name, "%s", err.Error()))
		}
	}
	if len(errs) > 0 {
		return catalog.Patch{}, problem.Validation(errs...)
	}
	return pt, nil
}

// member decodes one patch member: a value, or null (the zero value) when
// nullable.
func member[T any](raw json.RawMessage, nullable bool, want string) (*T, error) {
	var v T
	if string(raw) == "null" {
		if !nullable {
			return nil, fmt.Errorf("cannot be null")
		}
		return &v, nil
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("must be %s", want)
	}
	return &v, nil
}
