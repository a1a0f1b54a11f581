package database_test

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"gorm.io/gorm"

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

func TestArraysRoundTrip(t *testing.T) {
	db, _ := testkit.Postgres(t)
	var texts []string
	err := db.Raw(`SELECT unnest(?::text[])`, database.TextArray{`a"b`, `c\d`, "e,f", ""}).Scan(&texts).Error
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{`a"b`, `c\d`, "e,f", ""}; strings.Join(texts, "|") != strings.Join(want, "|") {
		t.Errorf("text: got %q, want %q", texts, want)
	}

	id := uuid.Must(uuid.NewV7())
	var ids []struct{ ID *string }
	if err := db.Raw(`SELECT unnest(?::uuid[])::text AS id`, database.UUIDArray{id, uuid.Nil}).Scan(&ids).Error; err != nil {
		t.Fatal(err)
	}
	if len(ids) != 2 || ids[0].ID == nil || *ids[0].ID != id.String() || ids[1].ID != nil {
		t.Errorf("uuid: got %v, want [%s NULL]", ids, id)
	}

	var sum int64
	if err := db.Raw(`SELECT sum(n) FROM unnest(?::bigint[]) AS n`, database.Int64Array{1 << 40, -3, 7}).Scan(&sum).Error; err != nil {
		t.Fatal(err)
	}
	if sum != 1<<40+4 {
		t.Errorf("bigint: sum %d, want %d", sum, int64(1<<40+4))
	}
}

// The arrays must reach pgx's binary array codec, not its fallback through
// driver.Valuer, which renders and re-parses the text literal.
func TestArraysUseTheBinaryArrayCodec(t *testing.T) {
	m := pgtype.NewMap()
	for _, c := range []struct {
		oid   uint32
		value any
	}{
		{pgtype.TextArrayOID, database.TextArray{"a"}},
		{pgtype.UUIDArrayOID, database.UUIDArray{uuid.New()}},
		{pgtype.Int8ArrayOID, database.Int64Array{1}},
	} {
		plan := m.PlanEncode(c.oid, pgtype.BinaryFormatCode, c.value)
		if name := fmt.Sprintf("%T", plan); !strings.Contains(name, "ArrayCodecBinary") {
			t.Errorf("%T is encoded by %s", c.value, name)
		}
	}
}

func TestQueryLoggerWritesOnlyFailedAndSlowStatements(t *testing.T) {
	_, dsn := testkit.Postgres(t)
	var buf bytes.Buffer
	db, err := database.Open(context.Background(), dsn, database.Pool{MaxOpen: 2}, slog.New(slog.NewJSONHandler(&buf, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = database.Close(db) })

	var n int
	if err := db.Raw("SELECT ?::int", 41).Scan(&n).Error; err != nil || n != 41 {
		t.Fatalf("fast statement: %d, %v", n, err)
	}
	if buf.Len() != 0 {
		t.Fatalf("a fast, successful statement was logged: %s", buf.String())
	}

	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if err := db.WithContext(cancelled).Exec("SELECT 1").Error; !errors.Is(err, context.Canceled) {
		t.Fatalf("statement on a cancelled context: %v", err)
	}
	if buf.Len() != 0 {
		t.Fatalf("a statement stopped by its caller's cancellation was logged: %s", buf.String())
	}

	if err := db.Exec("SELECT 1 / (?::int - ?::int)", 7, 7).Error; err == nil {
		t.Fatal("division by zero did not fail")
	}
	if err := db.Exec("SELECT pg_sleep(?)", 0.25).Error; err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want a line for the failed and one for the slow statement, got %q", lines)
	}
	type entry struct{ Level, Msg, SQL, Error string }
	var failed, slow entry
	if err := json.Unmarshal([]byte(lines[0]), &failed); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(lines[1]), &slow); err != nil {
		t.Fatal(err)
	}
	if failed.Level != "ERROR" || failed.SQL != "SELECT 1 / ($1::int - $2::int)" || !strings.Contains(failed.Error, "division by zero") {
		t.Errorf("failed statement logged as %+v", failed)
	}
	if slow.Level != "WARN" || slow.SQL != "SELECT pg_sleep($1)" {
		t.Errorf("slow statement logged as %+v", slow)
	}
	if strings.Contains(buf.String(), "0.25") {
		t.Errorf("a parameter value reached the log: %s", buf.String())
	}
}

func TestAsyncCommitIsAPropertyOfThePoolOnly(t *testing.T) {
	_, dsn := testkit.Postgres(t)
	ctx := context.Background()
	setting := func(pool database.Pool) string {
		t.Helper()
		db, err := database.Open(ctx, dsn, pool, testkit.Discard())
		if err != nil {
			t.Fatal(err)
		}
		defer database.Close(db)
		var v string
		// Two connections at once: the setting holds for every connection
		// of the pool, not only the first.
		err = db.Transaction(func(tx *gorm.DB) error {
			var other string
			if err := db.Raw("SHOW synchronous_commit").Scan(&other).Error; err != nil {
				return err
			}
			if err := tx.Raw("SHOW synchronous_commit").Scan(&v).Error; err != nil {
				return err
			}
			if other != v {
				t.Errorf("connections of one pool disagree: %q and %q", other, v)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if got := setting(database.Pool{MaxOpen: 2, AsyncCommit: true}); got != "off" {
		t.Errorf("AsyncCommit pool: synchronous_commit = %q, want off", got)
	}
	if got := setting(database.Pool{MaxOpen: 2}); got != "on" {
		t.Errorf("default pool: synchronous_commit = %q, want on (the server's default here)", got)
	}
}

// onePool is a fresh database with a second pool of one connection over
// it: a transaction that did not end would block the next.
func onePool(t *testing.T) (db, one *gorm.DB) {
	db, dsn := testkit.Postgres(t)
	one, err := database.Open(context.Background(), dsn, database.Pool{MaxOpen: 1}, testkit.Discard())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = database.Close(one) })
	return db, one
}

func TestTxStartingWith(t *testing.T) {
	db, one := onePool(t)
	ctx := context.Background()
	if err := db.Exec(`CREATE TABLE tx_notes (id int PRIMARY KEY, note text NOT NULL)`).Error; err != nil {
		t.Fatal(err)
	}
	insert := func(id int) database.First {
		return database.First{
			SQL:  "INSERT INTO tx_notes (id, note) VALUES ($1, 'first') RETURNING id",
			Args: []any{id},
			Scan: func(rows pgx.Rows) error {
				ids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
				if err == nil && (len(ids) != 1 || int(ids[0]) != id) {
					err = fmt.Errorf("first statement returned %v", ids)
				}
				return err
			},
		}
	}
	notes := func() []string {
		t.Helper()
		var got []string
		if err := db.Raw("SELECT id || ':' || note FROM tx_notes ORDER BY id, note").Scan(&got).Error; err != nil {
			t.Fatal(err)
		}
		return got
	}
	want := func(what string, w ...string) {
		t.Helper()
		if got := notes(); strings.Join(got, " ") != strings.Join(w, " ") {
			t.Fatalf("%s: rows %v, want %v", what, got, w)
		}
	}

	err := database.TxStartingWith(ctx, one, insert(1), func(tx *gorm.DB) error {
		return tx.Exec("INSERT INTO tx_notes VALUES (2, 'then')").Error
	})
	if err != nil {
		t.Fatal(err)
	}
	want("commit", "1:first", "2:then")

	boom := errors.New("boom")
	err = database.TxStartingWith(ctx, one, insert(3), func(tx *gorm.DB) error {
		if err := tx.Exec("INSERT INTO tx_notes VALUES (4, 'then')").Error; err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err %v, want boom", err)
	}
	want("an error rolls back the first statement too", "1:first", "2:then")

	func() {
		defer func() {
			if p := recover(); p != "panic in fn" {
				t.Fatalf("recovered %v", p)
			}
		}()
		_ = database.TxStartingWith(ctx, one, insert(5), func(tx *gorm.DB) error { panic("panic in fn") })
	}()
	want("a panic rolls back", "1:first", "2:then")

	// A statement error that fn ignores aborts the transaction: its COMMIT
	// is a rollback, and must say so.
	err = database.TxStartingWith(ctx, one, insert(6), func(tx *gorm.DB) error {
		_ = tx.Exec("INSERT INTO tx_notes VALUES (1, 'duplicate')").Error
		return nil
	})
	if !errors.Is(err, database.ErrCommitRolledBack) {
		t.Fatalf("err %v, want ErrCommitRolledBack", err)
	}
	want("an ignored failure keeps nothing", "1:first", "2:then")

	// A first statement whose rows nobody reads.
	err = database.TxStartingWith(ctx, one, database.First{SQL: "INSERT INTO tx_notes VALUES ($1, 'unread')", Args: []any{10}},
		func(tx *gorm.DB) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	want("no Scan", "1:first", "2:then", "10:unread")
	if err := db.Exec("DELETE FROM tx_notes WHERE id = 10").Error; err != nil {
		t.Fatal(err)
	}

	err = database.TxStartingWith(ctx, one, insert(1), func(tx *gorm.DB) error { return nil })
	if err == nil || !database.IsUniqueViolation(err) {
		t.Fatalf("a failing first statement: err %v, want the unique violation", err)
	}

	// gorm's Transaction inside nests with a savepoint.
	err = database.TxStartingWith(ctx, one, insert(7), func(tx *gorm.DB) error {
		inner := tx.Transaction(func(tx *gorm.DB) error {
			if err := tx.Exec("INSERT INTO tx_notes VALUES (8, 'inner')").Error; err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(inner, boom) {
			return fmt.Errorf("inner: %v", inner)
		}
		return tx.Exec("INSERT INTO tx_notes VALUES (9, 'outer')").Error
	})
	if err != nil {
		t.Fatal(err)
	}
	want("a failed nested transaction is undone alone", "1:first", "2:then", "7:first", "9:outer")

	// Every failure above left the only connection usable, outside any
	// transaction.
	var idleInTx int
	err = db.Raw(`SELECT count(*) FROM pg_stat_activity
		WHERE datname = current_database() AND state LIKE 'idle in transaction%'`).Scan(&idleInTx).Error
	if err != nil || idleInTx != 0 {
		t.Fatalf("%d connections left in a transaction (%v)", idleInTx, err)
	}
	if err := one.Exec("SELECT 1").Error; err != nil {
		t.Fatalf("the pool's only connection: %v", err)
	}
}

// A Pipeline runs inside the TxStartingWith transaction (it commits and
// rolls back with it), with gorm's SQL and arguments turned into what pgx
// queues. Any other *gorm.DB is refused, nothing sent.
func TestPipelineRunsInTheTransaction(t *testing.T) {
	db, one := onePool(t)
	ctx := context.Background()
	if err := db.Exec(`CREATE TABLE piped (id int PRIMARY KEY, tags text[] NOT NULL)`).Error; err != nil {
		t.Fatal(err)
	}
	first := database.First{SQL: "SELECT 1"}
	pipeline := func(tx *gorm.DB, ids ...int) ([]int, bool, error) {
		got := make([]int, len(ids))
		p := database.NewPipeline(tx)
		for i, id := range ids {
			p.Queue("INSERT INTO piped (id, tags) VALUES (?, ?::text[]) RETURNING id + 0 * cardinality(tags)",
				id, database.TextArray{"a", fmt.Sprint(id)}).QueryRow(func(row pgx.Row) error { return row.Scan(&got[i]) })
		}
		ok, err := p.Send(ctx)
		return got, ok, err
	}
	count := func() (n int64) {
		t.Helper()
		if err := db.Raw("SELECT count(*) FROM piped").Scan(&n).Error; err != nil {
			t.Fatal(err)
		}
		return n
	}

	err := database.TxStartingWith(ctx, one, first, func(tx *gorm.DB) error {
		got, ok, err := pipeline(tx.WithContext(ctx), 1, 2, 3)
		if !ok || err != nil || fmt.Sprint(got) != "[1 2 3]" {
			t.Errorf("pipeline: %v, %v, %v; want [1 2 3], true, nil", got, ok, err)
		}
		return errors.New("roll back")
	})
	if err == nil || count() != 0 {
		t.Fatalf("rolled-back transaction: %v, %d rows kept; want its error and none", err, count())
	}
	err = database.TxStartingWith(ctx, one, first, func(tx *gorm.DB) error {
		_, _, err := pipeline(tx, 4, 5)
		return err
	})
	if err != nil || count() != 2 {
		t.Fatalf("committed transaction: %v, %d rows; want nil, 2", err, count())
	}
	err = db.Transaction(func(tx *gorm.DB) error {
		if _, ok, err := pipeline(tx, 6); ok || err != nil {
			t.Errorf("Send on a gorm transaction: %v, %v; want false, nil", ok, err)
		}
		return nil
	})
	if err != nil || count() != 2 {
		t.Fatalf("gorm transaction: %v, %d rows; want nil and nothing written", err, count())
	}
}

func TestParseUUIDsKeepsOnlyUUIDs(t *testing.T) {
	a, b := uuid.New(), uuid.New()
	got := database.ParseUUIDs([]string{a.String(), "not-a-uuid", "", b.String()})
	if len(got) != 2 || got[0] != a || got[1] != b {
		t.Fatalf("ParseUUIDs = %v; want [%s %s]", got, a, b)
	}
}

func TestIsConnectionLost(t *testing.T) {
	lost := map[string]error{
		"admin shutdown":  fmt.Errorf("apply: %w", &pgconn.PgError{Code: "57P01", Message: "terminating connection due to administrator command"}),
		"starting up":     &pgconn.PgError{Code: "57P03"},
		"connection fail": &pgconn.PgError{Code: "08006"},
		"unexpected EOF":  fmt.Errorf("read: %w", io.ErrUnexpectedEOF),
		"bad conn":        driver.ErrBadConn,
		"conn done":       sql.ErrConnDone,
		"net":             &net.OpError{Op: "read", Err: errors.New("connection reset by peer")},
		"conn closed":     errors.New("conn closed"),
	}
	for name, err := range lost {
		if !database.IsConnectionLost(err) {
			t.Errorf("%s: %v not seen as a lost connection", name, err)
		}
	}
	kept := map[string]error{
		"nil":          nil,
		"unique":       &pgconn.PgError{Code: "23505"},
		"deadlock":     &pgconn.PgError{Code: "40P01"},
		"handler said": errors.New("order not found"),
	}
	for name, err := range kept {
		if database.IsConnectionLost(err) {
			t.Errorf("%s: %v seen as a lost connection", name, err)
		}
	}
}
