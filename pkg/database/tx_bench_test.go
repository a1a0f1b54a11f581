package database_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"gorm.io/gorm"

	"github.com/shop-oss/shop/pkg/database"
	"github.com/shop-oss/shop/pkg/testkit"
)

// BenchmarkTxStartingWith is a consumer-shaped transaction (a claim that
// returns a row, one more statement, COMMIT) with BEGIN sent alone, as
// gorm's Transaction does (the baseline), and with BEGIN pipelined with
// the claim:
//
//	go test -run '^$' -bench TxStartingWith ./database/
func BenchmarkTxStartingWith(b *testing.B) {
	db, _ := testkit.Postgres(b)
	if err := db.Exec(`CREATE TABLE bench_claims (id bigint PRIMARY KEY); CREATE TABLE bench_effects (id bigint PRIMARY KEY)`).Error; err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	var n int64
	effect := func(tx *gorm.DB) error { return tx.Exec("INSERT INTO bench_effects VALUES (?)", n).Error }

	b.Run("gorm Transaction (baseline)", func(b *testing.B) {
		for b.Loop() {
			n++
			err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
				var claimed []int64
				if err := tx.Raw("INSERT INTO bench_claims VALUES (?) RETURNING id", n).Scan(&claimed).Error; err != nil {
					return err
				}
				return effect(tx)
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("TxStartingWith", func(b *testing.B) {
		for b.Loop() {
			n++
			first := database.First{SQL: "INSERT INTO bench_claims VALUES ($1) RETURNING id", Args: []any{n},
				Scan: func(rows pgx.Rows) error { _, err := pgx.CollectRows(rows, pgx.RowTo[int64]); return err }}
			if err := database.TxStartingWith(ctx, db.WithContext(ctx), first, effect); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkBind is the Go side of queueing a long saga statement (30
// arguments, the shape of an order's insert): gorm's Raw building it (the
// baseline) against numbered, which Pipeline.Queue uses when it can:
//
//	go test -run '^$' -bench Bind ./database/
func BenchmarkBind(b *testing.B) {
	db, _ := testkit.Postgres(b)
	query := "INSERT INTO t VALUES (" + strings.Repeat("?::text, ", 29) + "?::text)"
	s, when := "value", time.Now()
	args := make([]any, 30)
	for i := range args {
		switch i % 3 {
		case 0:
			args[i] = s
		case 1:
			args[i] = &s
		default:
			args[i] = when
		}
	}
	b.Run("gorm Raw (baseline)", func(b *testing.B) {
		for b.Loop() {
			_ = db.Session(&gorm.Session{NewDB: true}).Raw(query, args...).Statement.SQL.String()
		}
	})
	b.Run("numbered", func(b *testing.B) {
		for b.Loop() {
			if _, ok := database.Numbered(query, args); !ok {
				b.Fatal("declined")
			}
		}
	})
}
