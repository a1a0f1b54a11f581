package database_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/shop-oss/shop/pkg/database"
	"github.com/shop-oss/shop/pkg/testkit"
)

// Where numbered numbers a statement's placeholders itself, it writes what
// gorm's Raw writes, with the same arguments; where gorm would do more
// (expand a slice, name parameters, leave a placeholder unbound, build an
// expression), it declines.
func TestNumberedWritesWhatGormWrites(t *testing.T) {
	db, _ := testkit.Postgres(t)
	s, when := "x", time.Now()
	for name, c := range map[string]struct {
		sql  string
		args []any
		ours bool
	}{
		"scalars and casts":       {"SELECT ?::text, ?::int, ?::bool, ?::timestamptz", []any{"a", 1, true, when}, true},
		"pointers and nil":        {"INSERT INTO t VALUES (?, ?, ?)", []any{&s, (*time.Time)(nil), nil}, true},
		"a driver.Valuer array":   {"SELECT ?::uuid[]", []any{database.ParseUUIDs([]string{uuid.NewString()})}, true},
		"after a parenthesis":     {"SELECT (?)::int + (?)::int", []any{int64(1), int32(2)}, true},
		"no placeholder":          {"SELECT 1", nil, true},
		"a slice gorm expands":    {"SELECT 1 WHERE 'a' IN ?", []any{[]string{"a", "b"}}, false},
		"named parameters":        {"SELECT @name::text", []any{map[string]any{"name": "a"}}, false},
		"more args than marks":    {"SELECT ?::text", []any{"a", "b"}, false},
		"fewer args than marks":   {"SELECT ?::text, ?::text", []any{"a"}, false},
		"a gorm expression":       {"SELECT ?", []any{gorm.Expr("now()")}, false},
		"bytes after parenthesis": {"SELECT (?)::bytea", []any{[]byte("ab")}, false},
		"bytes elsewhere":         {"SELECT ?::bytea", []any{[]byte("ab")}, true},
		"a UUID and a small int":  {"SELECT ?::uuid, ?::smallint", []any{uuid.New(), int16(3)}, true},
	} {
		got, ok := database.Numbered(c.sql, c.args)
		if ok != c.ours {
			t.Errorf("%s: numbered %v, want %v", name, ok, c.ours)
			continue
		}
		if !ok {
			continue
		}
		st := db.Session(&gorm.Session{NewDB: true}).Raw(c.sql, c.args...).Statement
		if got != st.SQL.String() || fmt.Sprint(c.args) != fmt.Sprint(st.Vars) {
			t.Errorf("%s: %q %v, gorm writes %q %v", name, got, c.args, st.SQL.String(), st.Vars)
		}
	}
}
