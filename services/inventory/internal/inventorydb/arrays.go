package inventorydb

import (
	"database/sql/driver"
	"strconv"
	"strings"

	"github.com/google/uuid"
)

// uuidArray passes []uuid.UUID as one PostgreSQL array parameter (gorm would
// expand a plain slice into a list); uuid.Nil becomes NULL. Cast it in SQL:
// ?::uuid[].
type uuidArray []uuid.UUID

// Value renders the array literal.
func (a uuidArray) Value() (driver.Value, error) {
	var b strings.Builder
	b.WriteByte('{')
	for i, id := range a {
		if i > 0 {
			b.WriteByte(',')
		}
		if id == uuid.Nil {
			b.WriteString("NULL")
		} else {
			b.WriteString(id.String())
		}
	}
	b.WriteByte('}')
	return b.String(), nil
}

// int64Array passes []int64 as one array parameter: ?::bigint[].
type int64Array []int64

// Value renders the array literal.
func (a int64Array) Value() (driver.Value, error) {
	var b strings.Builder
	b.WriteByte('{')
	for i, n := range a {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(n, 10))
	}
	b.WriteByte('}')
	return b.String(), nil
}

// nullUUID is id, or NULL for uuid.Nil.
func nullUUID(id uuid.UUID) any {
	if id == uuid.Nil {
		return nil
	}
	return id
}
