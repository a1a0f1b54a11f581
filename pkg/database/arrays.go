package database

import (
	"database/sql/driver"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"
)

// TextArray, UUIDArray and Int64Array pass a Go slice as one PostgreSQL
// array parameter, where gorm would expand a plain slice into a list. Cast
// the placeholder in SQL: ?::text[], ?::uuid[], ?::bigint[].
//
// They implement pgx's pgtype.ArrayGetter, so pgx writes them in the binary
// array format directly. Value renders the text literal for any other
// driver; pgx used to take that path, rendering the literal only to parse
// it back, which cost 13% of the inventory service's CPU under load.
type (
	TextArray  []string
	UUIDArray  []uuid.UUID // uuid.Nil is NULL
	Int64Array []int64
)

func dimensions(n int) []pgtype.ArrayDimension {
	return []pgtype.ArrayDimension{{Length: int32(n), LowerBound: 1}}
}

// Dimensions, Index and IndexType implement pgtype.ArrayGetter.
func (a TextArray) Dimensions() []pgtype.ArrayDimension { return dimensions(len(a)) }
func (a TextArray) Index(i int) any                     { return a[i] }
func (a TextArray) IndexType() any                      { return "" }

// Value renders the array literal. Elements are quoted and escaped.
func (a TextArray) Value() (driver.Value, error) {
	return literal(len(a), func(b *strings.Builder, i int) {
		b.WriteByte('"')
		b.WriteString(quoteEscaper.Replace(a[i]))
		b.WriteByte('"')
	}), nil
}

// ParseUUIDs is the IDs that are UUIDs, as a UUIDArray: for a query by ID
// that any other string cannot match.
func ParseUUIDs(ids []string) UUIDArray {
	out := make(UUIDArray, 0, len(ids))
	for _, id := range ids {
		if u, err := uuid.Parse(id); err == nil {
			out = append(out, u)
		}
	}
	return out
}

// Dimensions, Index and IndexType implement pgtype.ArrayGetter.
func (a UUIDArray) Dimensions() []pgtype.ArrayDimension { return dimensions(len(a)) }
func (a UUIDArray) Index(i int) any                     { return pgtype.UUID{Bytes: a[i], Valid: a[i] != uuid.Nil} }
func (a UUIDArray) IndexType() any                      { return pgtype.UUID{} }

// Value renders the array literal.
func (a UUIDArray) Value() (driver.Value, error) {
	return literal(len(a), func(b *strings.Builder, i int) {
		if a[i] == uuid.Nil {
			b.WriteString("NULL")
		} else {
			b.WriteString(a[i].String())
		}
	}), nil
}

// Dimensions, Index and IndexType implement pgtype.ArrayGetter.
func (a Int64Array) Dimensions() []pgtype.ArrayDimension { return dimensions(len(a)) }
func (a Int64Array) Index(i int) any                     { return a[i] }
func (a Int64Array) IndexType() any                      { return int64(0) }

// Value renders the array literal.
func (a Int64Array) Value() (driver.Value, error) {
	return literal(len(a), func(b *strings.Builder, i int) {
		b.WriteString(strconv.FormatInt(a[i], 10))
	}), nil
}

var quoteEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`)

func literal(n int, elem func(b *strings.Builder, i int)) string {
	var b strings.Builder
	b.WriteByte('{')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		elem(&b, i)
	}
	b.WriteByte('}')
	return b.String()
}
