package orderdb_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/shop-oss/shop/pkg/database"
	"github.com/shop-oss/shop/pkg/testkit"
	"github.com/shop-oss/shop/services/order/internal/order"
	"github.com/shop-oss/shop/services/order/internal/orderdb"
	"github.com/shop-oss/shop/services/order/migrations"
)

const userID = "00000000-0000-7000-8000-000000000003"

func newStore(t *testing.T) (*orderdb.Store, *gorm.DB) {
	t.Helper()
	db, dsn := testkit.Postgres(t)
	if err := database.Migrate(context.Background(), dsn, migrations.FS, "schema_migrations"); err != nil {
		t.Fatal(err)
	}
	return orderdb.New(db, db), db
}

func newOrder(key string) order.Order {
	now := time.Now().UTC().Truncate(time.Microsecond)
	return order.Order{
		ID: uuid.Must(uuid.NewV7()).String(), UserID: userID, Status: order.StatusCreated, Currency: "EUR",
		TotalMinor: 500, IdempotencyKey: key, CreatedAt: now, UpdatedAt: now, StatusChangedAt: now,
		Items: []order.Item{{ProductID: uuid.NewString(), SKU: "S", Name: "N", Quantity: 1, UnitPriceMinor: 500}},
	}
}

func create(t *testing.T, s *orderdb.Store, o order.Order) error {
	t.Helper()
	return s.InTx(context.Background(), func(tx order.Tx) error { return tx.CreateOrder(context.Background(), o) })
}

func TestCreateOrderKeepsOneOrderPerUserAndKey(t *testing.T) {
	s, _ := newStore(t)
	first := newOrder("key-1")
	if err := create(t, s, first); err != nil {
		t.Fatal(err)
	}
	if err := create(t, s, newOrder("key-1")); !errors.Is(err, order.ErrDuplicateKey) {
		t.Fatalf("second order with the key: %v", err)
	}
	got, err := s.OrderByKey(context.Background(), userID, "key-1")
	if err != nil || got.ID != first.ID || len(got.Items) != 1 || !got.CreatedAt.Equal(first.CreatedAt) {
		t.Fatalf("%+v %v", got, err)
	}
	if err := create(t, s, newOrder("key-2")); err != nil {
		t.Fatalf("another key: %v", err)
	}
	if _, err := s.Order(context.Background(), uuid.NewString()); !errors.Is(err, order.ErrNotFound) {
		t.Fatalf("missing order: %v", err)
	}
}

func TestUpdateStatusRefusesAStaleStatus(t *testing.T) {
	s, _ := newStore(t)
	o := newOrder("k")
	if err := create(t, s, o); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	o.Status = order.StatusPaid
	err := s.InTx(ctx, func(tx order.Tx) error { return tx.UpdateStatus(ctx, o, order.StatusPaymentPending) })
	if err == nil {
		t.Fatal("an update from a status the row is not in went through")
	}
	o.Status, o.CancelReason = order.StatusCancelled, "ADMIN"
	if err := s.InTx(ctx, func(tx order.Tx) error { return tx.UpdateStatus(ctx, o, order.StatusCreated) }); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Order(ctx, o.ID); got.Status != order.StatusCancelled || got.CancelReason != "ADMIN" {
		t.Fatalf("%+v", got)
	}
}

func TestSaveProductNeverOverwritesANewerVersion(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	id := uuid.NewString()
	save := func(v int64, amount int64) {
		t.Helper()
		p := order.Product{ID: id, Name: "P", Status: order.ProductActive, Version: v, Price: &order.Money{AmountMinor: amount, Currency: "EUR"}}
		if err := s.InTx(ctx, func(tx order.Tx) error { return tx.SaveProduct(ctx, p) }); err != nil {
			t.Fatal(err)
		}
	}
	save(3, 300)
	save(2, 200) // a writer that raced past the domain's check
	var got map[string]order.Product
	_ = s.InTx(ctx, func(tx order.Tx) (err error) { got, err = tx.Products(ctx, []string{id, uuid.NewString()}); return err })
	if len(got) != 1 || got[id].Version != 3 || got[id].Price.AmountMinor != 300 {
		t.Fatalf("%+v", got)
	}
}

// TestHotQueriesUseTheirIndexes shows with EXPLAIN that the list, stuck and
// timeline queries are index scans (sequential scans disabled, as on a large
// table the planner would avoid them).
func TestHotQueriesUseTheirIndexes(t *testing.T) {
	_, db := newStore(t)
	cut := time.Now()
	queries := map[string]struct {
		sql   string
		args  []any
		index string
	}{
		"user's orders": {`SELECT * FROM orders WHERE user_id = ? AND (created_at, id) < (?, ?) ORDER BY created_at DESC, id DESC LIMIT 21`,
			[]any{userID, cut, uuid.NewString()}, "orders_user_created"},
		"by status": {`SELECT * FROM orders WHERE status = 'PAID' ORDER BY created_at DESC, id DESC LIMIT 21`, nil, "orders_status_created"},
		"all":       {`SELECT * FROM orders ORDER BY created_at DESC, id DESC LIMIT 21`, nil, "orders_created"},
		"stuck count": {`SELECT status, count(*) FROM orders WHERE ((status = 'CREATED' AND status_changed_at < ?) OR (status = 'PAYMENT_PENDING' AND status_changed_at < ?)) GROUP BY status`,
			[]any{cut, cut}, "orders_stuck"},
		"timeline": {`SELECT * FROM order_history WHERE order_id = ? ORDER BY id`, []any{uuid.NewString()}, "order_history_order"},
		"by key":   {`SELECT * FROM orders WHERE user_id = ? AND idempotency_key = ?`, []any{userID, "k"}, "orders_user_idempotency_key"},
	}
	for name, q := range queries {
		var plan []string
		err := db.Transaction(func(tx *gorm.DB) error {
			if err := tx.Exec("SET LOCAL enable_seqscan = off").Error; err != nil {
				return err
			}
			return tx.Raw("EXPLAIN "+q.sql, q.args...).Scan(&plan).Error
		})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if text := strings.Join(plan, "\n"); !strings.Contains(text, q.index) {
			t.Errorf("%s does not use %s:\n%s", name, q.index, text)
		}
	}
}
