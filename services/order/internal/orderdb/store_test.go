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
	"github.com/shop-oss/shop/pkg/outbox"
	"github.com/shop-oss/shop/pkg/testkit"
	"github.com/shop-oss/shop/proto-events/eventsv1"
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
	if err := database.Migrate(context.Background(), dsn, outbox.Migrations(), outbox.MigrationsTable); err != nil {
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
	return s.CreateOrder(context.Background(), o, order.HistoryEntry{
		OrderID: o.ID, At: o.CreatedAt, Kind: order.KindTransition, To: order.StatusCreated, Reason: "PLACED",
	}, order.Created{Order: o}, nil)
}

// written counts an order's timeline entries and outbox events.
func written(t *testing.T, db *gorm.DB, orderID string) (history, events int64) {
	t.Helper()
	if err := db.Raw("SELECT count(*) FROM order_history WHERE order_id = ?", orderID).Scan(&history).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Raw("SELECT count(*) FROM outbox WHERE message_key = ?", orderID).Scan(&events).Error; err != nil {
		t.Fatal(err)
	}
	return history, events
}

func TestCreateOrderKeepsOneOrderPerUserAndKey(t *testing.T) {
	s, db := newStore(t)
	first := newOrder("key-1")
	first.Items = append(first.Items, order.Item{ProductID: uuid.NewString(), SKU: "T", Name: "O'Brien \"2\"", SellerID: userID, Quantity: 3, UnitPriceMinor: 0})
	if err := create(t, s, first); err != nil {
		t.Fatal(err)
	}
	second := newOrder("key-1")
	if err := create(t, s, second); !errors.Is(err, order.ErrDuplicateKey) {
		t.Fatalf("second order with the key: %v", err)
	}
	if h, e := written(t, db, second.ID); h != 0 || e != 0 {
		t.Fatalf("the refused order left %d timeline entries and %d events", h, e)
	}
	got, err := s.OrderByKey(context.Background(), userID, "key-1")
	if err != nil || got.ID != first.ID || len(got.Items) != 2 || !got.CreatedAt.Equal(first.CreatedAt) ||
		got.Items[1] != first.Items[1] {
		t.Fatalf("%+v %v", got, err)
	}
	timeline, err := s.Timeline(context.Background(), first.ID)
	if err != nil || len(timeline) != 1 || timeline[0].To != order.StatusCreated || timeline[0].Emitted == nil ||
		timeline[0].Emitted.Type != eventsv1.TypeOrderCreated {
		t.Fatalf("timeline %+v %v", timeline, err)
	}
	var eventID string
	if err := db.Raw("SELECT event_id::text FROM outbox WHERE message_key = ?", first.ID).Scan(&eventID).Error; err != nil || eventID != timeline[0].Emitted.ID {
		t.Fatalf("outbox event %q %v, timeline names %s", eventID, err, timeline[0].Emitted.ID)
	}
	if err := create(t, s, newOrder("key-2")); err != nil {
		t.Fatalf("another key: %v", err)
	}
	if _, err := s.Order(context.Background(), uuid.NewString()); !errors.Is(err, order.ErrNotFound) {
		t.Fatalf("missing order: %v", err)
	}
}

func TestMoveWritesNothingFromAStaleStatus(t *testing.T) {
	s, db := newStore(t)
	o := newOrder("k")
	if err := create(t, s, o); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	move := func(o order.Order, from order.Status) (*order.EventRef, error) {
		var ref *order.EventRef
		err := s.InTx(ctx, func(tx order.Tx) (err error) {
			ref, err = tx.Move(ctx, o, from, order.HistoryEntry{
				OrderID: o.ID, At: o.UpdatedAt, Kind: order.KindTransition, From: from, To: o.Status, Reason: "TEST",
			}, order.Cancelled{OrderID: o.ID, Reason: "ADMIN"})
			return err
		})
		return ref, err
	}
	o.Status = order.StatusPaid
	if _, err := move(o, order.StatusPaymentPending); err == nil {
		t.Fatal("an update from a status the row is not in went through")
	}
	if h, e := written(t, db, o.ID); h != 1 || e != 1 {
		t.Fatalf("after the refused move: %d timeline entries and %d events, want the first of each", h, e)
	}
	o.Status, o.CancelReason = order.StatusCancelled, "ADMIN"
	ref, err := move(o, order.StatusCreated)
	if err != nil || ref == nil || ref.Type != eventsv1.TypeOrderCancelled {
		t.Fatalf("%+v %v", ref, err)
	}
	if got, _ := s.Order(ctx, o.ID); got.Status != order.StatusCancelled || got.CancelReason != "ADMIN" {
		t.Fatalf("%+v", got)
	}
	timeline, _ := s.Timeline(ctx, o.ID)
	if len(timeline) != 2 || timeline[1].From != order.StatusCreated || timeline[1].To != order.StatusCancelled ||
		timeline[1].Emitted == nil || *timeline[1].Emitted != *ref {
		t.Fatalf("timeline %+v", timeline)
	}
	if h, e := written(t, db, o.ID); h != 2 || e != 2 {
		t.Fatalf("%d timeline entries and %d events, want 2 and 2", h, e)
	}
}

// Advance moves an order it has not read only from the expected status and
// only once per event, keeps the fields it is not given, and writes nothing
// when it does not move.
func TestAdvanceMovesOnlyFromTheExpectedStatusAndOncePerEvent(t *testing.T) {
	s, db := newStore(t)
	o := newOrder("k")
	if err := create(t, s, o); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	advance := func(orderID string, from, to order.Status, paidAt *time.Time, eventID string) (time.Time, bool) {
		t.Helper()
		var (
			created time.Time
			moved   bool
		)
		now := time.Now().UTC().Truncate(time.Microsecond)
		err := s.InTx(ctx, func(tx order.Tx) (err error) {
			created, moved, err = tx.Advance(ctx, order.BlindMove{
				Order: order.Order{ID: orderID, Status: to, StatusChangedAt: now, UpdatedAt: now, PaidAt: paidAt}, From: from,
				Entry: order.HistoryEntry{OrderID: orderID, At: now, Kind: order.KindTransition, From: from, To: to,
					Cause: &order.EventRef{ID: eventID, Type: "TEST"}},
			})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return created, moved
	}
	reserved := uuid.NewString()
	if _, moved := advance(o.ID, order.StatusPaymentPending, order.StatusPaid, nil, reserved); moved {
		t.Fatal("moved from a status the order is not in")
	}
	created, moved := advance(o.ID, order.StatusCreated, order.StatusPaymentPending, nil, reserved)
	if !moved || !created.Equal(o.CreatedAt) {
		t.Fatalf("moved %v, created %v; want true, %v", moved, created, o.CreatedAt)
	}
	if _, moved := advance(o.ID, order.StatusCreated, order.StatusPaymentPending, nil, reserved); moved {
		t.Fatal("moved twice")
	}
	// The same event again, from the status it would now move from: the
	// timeline has it, so nothing moves.
	if _, moved := advance(o.ID, order.StatusPaymentPending, order.StatusPaid, nil, reserved); moved {
		t.Fatal("an event already in the timeline moved the order")
	}
	if _, moved := advance(uuid.NewString(), order.StatusCreated, order.StatusPaymentPending, nil, uuid.NewString()); moved {
		t.Fatal("moved an unknown order")
	}
	if h, _ := written(t, db, o.ID); h != 2 {
		t.Fatalf("%d timeline entries, want the first and one move", h)
	}

	paidAt := time.Now().UTC().Truncate(time.Microsecond)
	if _, moved := advance(o.ID, order.StatusPaymentPending, order.StatusPaid, &paidAt, uuid.NewString()); !moved {
		t.Fatal("payment did not move the order")
	}
	// A later move that sets no paid_at keeps it.
	if _, moved := advance(o.ID, order.StatusPaid, order.StatusShipped, nil, uuid.NewString()); !moved {
		t.Fatal("shipping did not move the order")
	}
	got, err := s.Order(ctx, o.ID)
	if err != nil || got.Status != order.StatusShipped || got.PaidAt == nil || !got.PaidAt.Equal(paidAt) || got.CancelReason != "" {
		t.Fatalf("%+v %v", got, err)
	}
	timeline, _ := s.Timeline(ctx, o.ID)
	if len(timeline) != 4 || timeline[1].From != order.StatusCreated || timeline[1].To != order.StatusPaymentPending ||
		timeline[1].Cause == nil || timeline[1].Cause.ID != reserved {
		t.Fatalf("timeline %+v", timeline)
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
	got, _ = s.Products(ctx, []string{id, uuid.NewString()})
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
			[]any{cut, cut}, "orders_status_created"},
		"created timeout": {`SELECT * FROM orders WHERE status = 'CREATED' AND status_changed_at < ? ORDER BY status_changed_at LIMIT 100 FOR UPDATE SKIP LOCKED`,
			[]any{cut}, "orders_status_created"},
		"timeline": {`SELECT * FROM order_history WHERE order_id = ? ORDER BY id`, []any{uuid.NewString()}, "order_history_pkey"},
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

func TestRecordEventOncePerEventAndOnlyForAnOrder(t *testing.T) {
	s, db := newStore(t)
	o := newOrder("k")
	if err := create(t, s, o); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	record := func(orderID, eventID string) bool {
		t.Helper()
		var found bool
		err := s.InTx(ctx, func(tx order.Tx) (err error) {
			found, err = tx.RecordEvent(ctx, order.HistoryEntry{
				OrderID: orderID, At: time.Now(), Kind: order.KindEvent, Reason: eventsv1.TypePaymentInitiated,
				Cause: &order.EventRef{ID: eventID, Type: eventsv1.TypePaymentInitiated},
			})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return found
	}
	eventID := uuid.NewString()
	if !record(o.ID, eventID) || !record(o.ID, eventID) {
		t.Fatal("the order was not found")
	}
	timeline, _ := s.Timeline(ctx, o.ID)
	if len(timeline) != 2 || timeline[1].Kind != order.KindEvent || timeline[1].From != order.StatusCreated ||
		timeline[1].To != order.StatusCreated || timeline[1].Cause == nil || timeline[1].Cause.ID != eventID {
		t.Fatalf("timeline %+v, want the first entry and the event once, at CREATED", timeline)
	}
	missing := uuid.NewString()
	if record(missing, uuid.NewString()) {
		t.Fatal("an unknown order was found")
	}
	if h, _ := written(t, db, missing); h != 0 {
		t.Fatalf("%d entries for an unknown order", h)
	}
}

// The database refuses what the rules refuse, whichever way a row is
// written: the single-column rules live in domains (migration 0002), the
// rest in CHECKs, and both answer check_violation.
func TestTheDatabaseRefusesValuesOffTheRules(t *testing.T) {
	s, db := newStore(t)
	o := newOrder("k")
	if err := create(t, s, o); err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		"UPDATE orders SET status = 'LOST' WHERE id = ?",
		"UPDATE orders SET currency = 'eur' WHERE id = ?",
		"UPDATE orders SET total_minor = -1 WHERE id = ?",
		"UPDATE orders SET idempotency_key = '' WHERE id = ?",
		"UPDATE orders SET item_count = 0 WHERE id = ?",
		"UPDATE orders SET status = 'CANCELLED' WHERE id = ?", // without a reason
		"UPDATE order_items SET quantity = 1001 WHERE order_id = ?",
		"UPDATE order_items SET line_no = -1 WHERE order_id = ?",
		"UPDATE order_items SET unit_price_minor = -5 WHERE order_id = ?",
		"UPDATE order_history SET kind = 'GUESSED' WHERE order_id = ?",
	} {
		if err := db.Exec(stmt, o.ID).Error; !database.IsCheckViolation(err) {
			t.Errorf("%s: %v, want a check violation", stmt, err)
		}
	}
	var status string
	if err := db.Raw("SELECT status FROM orders WHERE id = ?", o.ID).Scan(&status).Error; err != nil || status != "CREATED" {
		t.Fatalf("status %q (%v) after refused updates", status, err)
	}
}
