package database_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/jackc/pgx/v5"

	"github.com/shop-oss/shop/pkg/database"
	"github.com/shop-oss/shop/pkg/testkit"
)

func TestEnsureExistsCreatesTheDatabaseOnce(t *testing.T) {
	ctx := context.Background()
	// A name no test uses; dropped at the end.
	u, _ := url.Parse(testkit.AdminURL())
	name := "ensure_" + strings.ReplaceAll(t.Name(), "/", "_")
	u.Path = "/" + strings.ToLower(name)
	dsn := u.String()
	drop := func() {
		admin, err := pgx.Connect(ctx, testkit.AdminURL())
		if err != nil {
			t.Fatal(err)
		}
		defer admin.Close(ctx)
		if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+strings.ToLower(name)+" WITH (FORCE)"); err != nil {
			t.Fatal(err)
		}
	}
	drop()
	t.Cleanup(drop)

	for range 2 { // the second call finds it
		if err := database.EnsureExists(ctx, dsn); err != nil {
			t.Fatal(err)
		}
	}
	db, err := database.Open(ctx, dsn, database.Pool{MaxOpen: 2}, testkit.Discard())
	if err != nil {
		t.Fatalf("open the created database: %v", err)
	}
	_ = database.Close(db)
}

func TestMigrateAppliesOnceAndInOrder(t *testing.T) {
	db, dsn := testkit.Postgres(t)
	fsys := fstest.MapFS{
		"0001_items.up.sql":     {Data: []byte("CREATE TABLE items (id int PRIMARY KEY, qty int NOT NULL);")},
		"0002_qty_check.up.sql": {Data: []byte("ALTER TABLE items ADD CONSTRAINT qty_positive CHECK (qty > 0);")},
	}
	for range 2 {
		if err := database.Migrate(context.Background(), dsn, fsys, "schema_migrations"); err != nil {
			t.Fatal(err)
		}
	}
	err := db.Exec("INSERT INTO items VALUES (1, 0)").Error
	if !database.IsCheckViolation(err) {
		t.Fatalf("want a check violation from migration 2, got %v", err)
	}
	if err := db.Exec("INSERT INTO items VALUES (1, 1)").Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Exec("INSERT INTO items VALUES (1, 2)").Error; !database.IsUniqueViolation(err) {
		t.Fatalf("want a unique violation, got %v", err)
	}
	// Another set in the same database, under its own table.
	other := fstest.MapFS{"0001_other.up.sql": {Data: []byte("CREATE TABLE other (id int);")}}
	if err := database.Migrate(context.Background(), dsn, other, "other_schema_migrations"); err != nil {
		t.Fatal(err)
	}
}

func TestMigrateFailureLeavesADirtyVersionWithAClearMessage(t *testing.T) {
	_, dsn := testkit.Postgres(t)
	broken := fstest.MapFS{"0001_broken.up.sql": {Data: []byte("CREATE TABLE ok (id int); CREATE TABLE ok (id int);")}}
	err := database.Migrate(context.Background(), dsn, broken, "schema_migrations")
	if err == nil {
		t.Fatal("a failing migration passed")
	}
	err = database.Migrate(context.Background(), dsn, broken, "schema_migrations")
	if err == nil || !strings.Contains(err.Error(), "dirty") {
		t.Fatalf("second start: want a dirty-version error, got %v", err)
	}
}

func TestOpenFailsClearlyAndRedactsThePassword(t *testing.T) {
	_, err := database.Open(context.Background(), "postgres://app:s3cret@127.0.0.1:1/none?sslmode=disable&connect_timeout=2", database.Pool{}, testkit.Discard())
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("want a redacted error, got %v", err)
	}
}

func TestTextArrayQuotesElements(t *testing.T) {
	db, _ := testkit.Postgres(t)
	var got []string
	err := db.Raw(`SELECT unnest(?::text[])`, database.TextArray{`a"b`, `c\d`, "e,f", ""}).Scan(&got).Error
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`a"b`, `c\d`, "e,f", ""}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("got %q, want %q", got, want)
	}
}
