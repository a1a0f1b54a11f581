package identity

import (
	"encoding/base64"

	"github.com/google/uuid"

	"github.com/shop-oss/shop/pkg/problem"
)

// Paging limits of the administrators' lists.
const (
	DefaultPageSize = 20
	MaxPageSize     = 100
)

// pageOf checks a list request's page size and cursor (keyset pagination
// by ID), adding to fields what is wrong. It returns the page size (the
// default for 0) and the ID the page starts after.
func pageOf(limit int, cursor string, fields []problem.FieldError) (int, uuid.UUID, []problem.FieldError) {
	switch {
	case limit == 0:
		limit = DefaultPageSize
	case limit < 1 || limit > MaxPageSize:
		fields = append(fields, problem.Field("limit", "must be between 1 and %d", MaxPageSize))
	}
	var after uuid.UUID
	if cursor != "" {
		var ok bool
		if after, ok = decodeCursor(cursor); !ok {
			fields = append(fields, problem.Field("cursor", "is not a cursor of this list"))
		}
	}
	return limit, after, fields
}

// cut returns the page of items (read with one more than limit, which
// tells whether a next page exists) and the cursor of the next page, ""
// on the last.
func cut[T any](items []T, limit int, id func(T) uuid.UUID) ([]T, string) {
	if len(items) <= limit {
		return items, ""
	}
	return items[:limit], encodeCursor(id(items[limit-1]))
}

// encodeCursor makes the opaque cursor that follows id.
func encodeCursor(id uuid.UUID) string { return base64.RawURLEncoding.EncodeToString(id[:]) }

func decodeCursor(s string) (uuid.UUID, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) != len(uuid.UUID{}) {
		return uuid.Nil, false
	}
	return uuid.UUID(b), true
}
