package paymentdb_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"github.com/shop-oss/shop/pkg/bustest"
	"github.com/shop-oss/shop/pkg/database"
	"github.com/shop-oss/shop/pkg/testkit"
	"github.com/shop-oss/shop/services/payment/internal/payment"
	"github.com/shop-oss/shop/services/payment/internal/paymentdb"
	"github.com/shop-oss/shop/services/payment/migrations"
)

func newStore(t *testing.T) (*paymentdb.Store, *gorm.DB) {
	t.Helper()
	db, dsn := testkit.Postgres(t)
	if err := database.Migrate(context.Background(), dsn, migrations.FS, "schema_migrations"); err != nil {
		t.Fatal(err)
	}
	bustest.MigrateBus(t, dsn)
	return paymentdb.New(db, db), db
}

// seedPayment stores a pending payment of 1000 EUR for a new order.
func seedPayment(t *testing.T, s *paymentdb.Store) payment.Payment {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Microsecond)
	p := payment.Payment{
		ID: uuid.NewString(), OrderID: uuid.NewString(), UserID: uuid.NewString(),
		Amount: payment.Money{AmountMinor: 1000, Currency: "EUR"}, Status: payment.StatusPending,
		Version: 1, CreatedAt: now, UpdatedAt: now,
	}
	err := s.InTx(context.Background(), func(tx payment.Tx) error {
		ok, err := paymentdb.CreatePayment(context.Background(), tx, p)
		if !ok && err == nil {
			err = errors.New("not created")
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func update(s *paymentdb.Store, p *payment.Payment, from payment.Status, events ...payment.Event) error {
	return s.InTx(context.Background(), func(tx payment.Tx) error {
		return tx.UpdatePayment(context.Background(), p, from, events...)
	})
}

// saveReservation records in and returns the order's row, as
// SaveReservations gives it to pay (which announces no payment here).
func saveReservation(ctx context.Context, tx payment.Tx, in payment.Reserved) (o payment.Order, err error) {
	_, err = tx.SaveReservations(ctx, []payment.Reserved{in}, func(row payment.Order) *payment.PaymentInitiated {
		o = row
		return nil
	})
	return o, err
}

// outboxed counts the outbox events of an order.
func outboxed(t *testing.T, db *gorm.DB, orderID string) (n int64) {
	t.Helper()
	if err := db.Raw("SELECT count(*) FROM outbox WHERE message_key = ?", orderID).Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// A payment is created once per order, with its event; a second creation
// writes neither.
func TestOnePaymentPerOrder(t *testing.T) {
	s, db := newStore(t)
	p := seedPayment(t, s)
	create := func(p payment.Payment) (created bool) {
		t.Helper()
		err := s.InTx(context.Background(), func(tx payment.Tx) (err error) {
			created, err = paymentdb.CreatePayment(context.Background(), tx, p, payment.PaymentInitiated{Payment: p})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return created
	}
	again := p
	again.ID = uuid.NewString()
	if create(again) {
		t.Error("a second payment for the order was created")
	}
	if n := outboxed(t, db, p.OrderID); n != 0 {
		t.Errorf("the refused creation wrote %d events", n)
	}

	other := p
	other.ID, other.OrderID = uuid.NewString(), uuid.NewString()
	if !create(other) {
		t.Fatal("the payment of another order was not created")
	}
	if n := outboxed(t, db, other.OrderID); n != 1 {
		t.Errorf("the creation wrote %d events, want 1", n)
	}
}

// The database, not only the code, refuses a second capture and any move
// off the state machine, even from a hand-written UPDATE.
func TestDatabaseRefusesSecondCharge(t *testing.T) {
	s, db := newStore(t)
	p := seedPayment(t, s)
	captured, err := p.Capture("ch_1", 1, time.Now().UTC())
	if err != nil {
		t.Fatal(err)
	}
	succeeded := payment.PaymentSucceeded{Payment: captured}
	if err := update(s, &captured, payment.StatusPending, succeeded); err != nil {
		t.Fatalf("capture: %v", err)
	}
	if n := outboxed(t, db, p.OrderID); n != 1 {
		t.Fatalf("the capture wrote %d events, want 1", n)
	}

	// The same conditional update again (a second confirm that read the
	// payment while it was pending): no row matches, and no event goes out.
	second, _ := p.Capture("ch_2", 1, time.Now().UTC())
	if err := update(s, &second, payment.StatusPending, succeeded); !errors.Is(err, payment.ErrStateChanged) {
		t.Fatalf("second conditional capture: %v, want ErrStateChanged", err)
	}
	if n := outboxed(t, db, p.OrderID); n != 1 {
		t.Fatalf("after the refused capture: %d events, want still 1", n)
	}

	// Direct UPDATEs that bypass the code.
	for name, sql := range map[string]string{
		"capture again":          "UPDATE payments SET charge_id = 'ch_2', captured_at = now() WHERE id = ?",
		"back to pending":        "UPDATE payments SET status = 'PENDING', charge_id = NULL, captured_at = NULL WHERE id = ?",
		"succeeded to voided":    "UPDATE payments SET status = 'VOIDED', charge_id = NULL, captured_at = NULL WHERE id = ?",
		"change the amount":      "UPDATE payments SET amount_minor = 1 WHERE id = ?",
		"refund more than paid":  "UPDATE payments SET status = 'REFUNDED', refunded_minor = 1001 WHERE id = ?",
		"refund without status":  "UPDATE payments SET refunded_minor = 10 WHERE id = ?",
		"delete the money trail": "DELETE FROM payments WHERE id = ?",
	} {
		err := db.Exec(sql, p.ID).Error
		if !database.IsCheckViolation(err) {
			t.Errorf("%s: %v, want a check violation", name, err)
		}
	}
	got, err := s.Payment(context.Background(), p.ID)
	if err != nil || got.Status != payment.StatusSucceeded || got.ChargeID != "ch_1" || got.Amount.AmountMinor != 1000 {
		t.Fatalf("after the refused updates: %+v %v", got, err)
	}

	// A pending payment cannot be captured without its charge either.
	q := seedPayment(t, s)
	if err := db.Exec("UPDATE payments SET status = 'SUCCEEDED' WHERE id = ?", q.ID).Error; !database.IsCheckViolation(err) {
		t.Fatalf("capture without a charge: %v", err)
	}
}

func TestRefundsNeverExceedPaidConcurrently(t *testing.T) {
	s, _ := newStore(t)
	p := seedPayment(t, s)
	p, _ = p.Capture("ch", 1, time.Now().UTC())
	if err := update(s, &p, payment.StatusPending); err != nil {
		t.Fatal(err)
	}
	// 10 refunds of 300 on 1000, each: lock, apply, write.
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for range 10 {
		wg.Go(func() {
			errs <- s.InTx(context.Background(), func(tx payment.Tx) error {
				cur, err := tx.LockPayment(context.Background(), p.ID)
				if err != nil {
					return err
				}
				next, err := cur.ApplyRefund(300)
				if err != nil {
					return err
				}
				if err := tx.UpdatePayment(context.Background(), &next, cur.Status); err != nil {
					return err
				}
				return tx.AddRefund(context.Background(), payment.Refund{
					ID: uuid.NewString(), PaymentID: p.ID, AmountMinor: 300, Currency: "EUR", Reason: "TEST", CreatedAt: time.Now(),
				})
			})
		})
	}
	wg.Wait()
	close(errs)
	ok := 0
	for err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, payment.ErrRefundExceedsPaid):
			t.Errorf("refund: %v", err)
		}
	}
	got, _ := s.Payment(context.Background(), p.ID)
	if ok != 3 || got.RefundedMinor != 900 || len(got.Refunds) != 3 || got.Status != payment.StatusPartiallyRefunded {
		t.Fatalf("%d refunds went through; payment %+v", ok, got)
	}

	// Without the lock, a stale copy is refused by the version check, and a
	// write past the amount by the CHECK.
	stale := got
	stale.Version--
	next, _ := stale.ApplyRefund(100)
	if err := update(s, &next, got.Status); !errors.Is(err, payment.ErrStateChanged) {
		t.Fatalf("stale refund: %v", err)
	}
	over := got
	over.RefundedMinor = 1100
	over.Status = payment.StatusRefunded
	if err := update(s, &over, got.Status); !errors.Is(err, payment.ErrRefundExceedsPaid) {
		t.Fatalf("over-refund: %v", err)
	}
}

func TestLockToChargeReportsBusyAndReadsTheExpiry(t *testing.T) {
	s, _ := newStore(t)
	p := seedPayment(t, s)
	ctx := context.Background()
	exp := time.Now().Add(15 * time.Minute).UTC().Truncate(time.Microsecond)
	err := s.InTx(ctx, func(tx payment.Tx) error {
		_, err := saveReservation(ctx, tx, payment.Reserved{OrderID: p.OrderID, ReservationID: uuid.NewString(), ExpiresAt: exp})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var (
		got     payment.Payment
		expires time.Time
	)
	err = s.InChargeTx(ctx, p.ID, func(_ payment.Tx, cur payment.Payment, exp time.Time) error {
		got, expires = cur, exp
		return nil
	})
	if err != nil || got.ID != p.ID || got.Status != payment.StatusPending || !expires.Equal(exp) {
		t.Fatalf("%+v expires %s: %v (want %s)", got, expires, err, exp)
	}
	for _, id := range []string{uuid.NewString(), "not-a-uuid"} {
		err = s.InChargeTx(ctx, id, func(payment.Tx, payment.Payment, time.Time) error {
			t.Fatal("fn ran for an unknown payment")
			return nil
		})
		if !errors.Is(err, payment.ErrPaymentNotFound) {
			t.Fatalf("unknown payment %q: %v", id, err)
		}
	}

	locked, release := make(chan struct{}), make(chan struct{})
	go func() {
		_ = s.InTx(ctx, func(tx payment.Tx) error {
			if _, err := tx.LockPayment(ctx, p.ID); err != nil {
				return err
			}
			close(locked)
			<-release
			return nil
		})
	}()
	<-locked
	err = s.InChargeTx(ctx, p.ID, func(payment.Tx, payment.Payment, time.Time) error {
		t.Error("fn ran for a payment another transaction holds")
		return nil
	})
	close(release)
	if !errors.Is(err, payment.ErrPaymentBusy) {
		t.Fatalf("a locked payment: %v", err)
	}
}

// The projection keeps the first value of each field and records events in
// any order: a reservation without the order's owner and total, then one
// with them (the same event repeated by a newer inventory), then another
// with other ones.
func TestOrderProjectionUpserts(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	order, user := uuid.NewString(), uuid.NewString()
	exp := time.Now().Add(15 * time.Minute).UTC().Truncate(time.Microsecond)
	var o payment.Order
	err := s.InTx(ctx, func(tx payment.Tx) error {
		var err error
		if o, err = saveReservation(ctx, tx, payment.Reserved{OrderID: order, ReservationID: uuid.NewString(), ExpiresAt: exp}); err != nil {
			return err
		}
		if o.Known() || !o.Reserved() {
			t.Errorf("after reservation: %+v", o)
		}
		if o, err = saveReservation(ctx, tx, payment.Reserved{OrderID: order, ReservationID: uuid.NewString(),
			UserID: user, Total: payment.Money{AmountMinor: 500, Currency: "EUR"}}); err != nil {
			return err
		}
		if o, err = saveReservation(ctx, tx, payment.Reserved{OrderID: order, ReservationID: uuid.NewString(), ExpiresAt: time.Now(),
			UserID: uuid.NewString(), Total: payment.Money{AmountMinor: 1, Currency: "USD"}}); err != nil {
			return err
		}
		if o, err = tx.MarkCancelled(ctx, order, "FIRST"); err != nil {
			return err
		}
		o, err = tx.MarkCancelled(ctx, order, "SECOND")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if o.UserID != user || o.Total != (payment.Money{AmountMinor: 500, Currency: "EUR"}) || !o.ReservationExpiresAt.Equal(exp) ||
		!o.Cancelled || o.CancelReason != "FIRST" || o.ReadyToPay() {
		t.Fatalf("projection %+v", o)
	}
	err = s.InTx(ctx, func(tx payment.Tx) error {
		_, err := tx.Order(ctx, "not-a-uuid", false)
		return err
	})
	if !errors.Is(err, payment.ErrOrderNotFound) {
		t.Fatalf("malformed order ID: %v", err)
	}
}

func TestListKeysetPaging(t *testing.T) {
	s, db := newStore(t)
	for range 5 {
		seedPayment(t, s)
	}
	var seen []string
	f := payment.ListFilter{Limit: 2}
	for pages := 0; ; pages++ {
		page, err := s.Payments(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range page.Items {
			seen = append(seen, p.ID)
		}
		if page.Next == nil {
			if pages != 2 {
				t.Errorf("%d pages, want 3", pages+1)
			}
			break
		}
		f.After = page.Next
	}
	if len(seen) != 5 {
		t.Fatalf("paged through %d payments, want 5", len(seen))
	}
	// The owner's list is served by its index.
	var plan []string
	db.Raw(`EXPLAIN SELECT * FROM payments WHERE user_id = ? ORDER BY created_at DESC, id DESC LIMIT 21`, uuid.NewString()).Scan(&plan)
	if !strings.Contains(strings.Join(plan, "\n"), "payments_user_created") {
		t.Errorf("owner list does not use payments_user_created:\n%s", strings.Join(plan, "\n"))
	}
}

// A long poll reads the primary: a replica that has not caught up yet (here
// a database that never gets the payment) must not hide a payment whose
// commit woke the poll.
func TestPrimaryListingBypassesTheReadReplica(t *testing.T) {
	primary, db := newStore(t)
	p := seedPayment(t, primary)
	_, lagging := newStore(t)
	s := paymentdb.New(db, lagging)
	for _, c := range []struct {
		primary bool
		want    int
	}{{false, 0}, {true, 1}} {
		page, err := s.Payments(context.Background(), payment.ListFilter{OrderID: p.OrderID, Limit: 10, Primary: c.primary})
		if err != nil || len(page.Items) != c.want {
			t.Fatalf("Primary %v: %d payments, %v; want %d", c.primary, len(page.Items), err, c.want)
		}
	}
}

// SaveReservations records several reservations as two pipelines inside a
// TxStartingWith transaction (a batch, with its orders' locks first): each
// upsert sees the ones before it (an order recorded twice keeps its first
// values), and the payment pay announces for a row is written unless the
// order has one already (nor its event). A transaction that cannot
// pipeline writes nothing.
func TestSaveReservations(t *testing.T) {
	_, db := newStore(t)
	ctx := context.Background()
	err := db.Transaction(func(tx *gorm.DB) error {
		_, err := paymentdb.Bind(tx).SaveReservations(ctx, []payment.Reserved{
			{OrderID: uuid.NewString(), ReservationID: uuid.NewString()}, {OrderID: uuid.NewString(), ReservationID: uuid.NewString()},
		}, func(payment.Order) *payment.PaymentInitiated { return nil })
		return err
	})
	if err == nil {
		t.Error("several reservations in a gorm transaction: no error; want one (it cannot pipeline)")
	}
	var rows int64
	if err := db.Raw("SELECT count(*) FROM order_projection").Scan(&rows).Error; err != nil || rows != 0 {
		t.Fatalf("%d projection rows (%v) after a refused pipeline; want 0", rows, err)
	}
	a, b, user := uuid.NewString(), uuid.NewString(), uuid.NewString()
	exp := time.Now().Add(15 * time.Minute).UTC().Truncate(time.Microsecond)
	records := []payment.Reserved{
		{OrderID: a, ReservationID: uuid.NewString()},
		{OrderID: a, ReservationID: uuid.NewString(), ExpiresAt: exp, UserID: user, Total: payment.Money{AmountMinor: 700, Currency: "EUR"}},
		{OrderID: b, ReservationID: uuid.NewString()},
		{OrderID: a, ReservationID: uuid.NewString(), UserID: uuid.NewString(), Total: payment.Money{AmountMinor: 1, Currency: "USD"}},
	}
	var orders []payment.Order
	pay := func(o payment.Order) *payment.PaymentInitiated {
		orders = append(orders, o)
		if !o.ReadyToPay() {
			return nil
		}
		return &payment.PaymentInitiated{Payment: payment.Payment{ID: uuid.NewString(), OrderID: o.ID, UserID: o.UserID,
			Amount: o.Total, Status: payment.StatusPending, Version: 1, CreatedAt: time.Now(), UpdatedAt: time.Now()}}
	}
	var created []bool
	err = database.TxStartingWith(ctx, db, database.First{SQL: "SELECT 1"}, func(tx *gorm.DB) (err error) {
		created, err = paymentdb.Bind(tx, a, b).SaveReservations(ctx, records, pay)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(orders) != 4 {
		t.Fatalf("pay saw %d rows; want 4", len(orders))
	}
	if o := orders[0]; o.Known() || !o.Reserved() || !o.ReservationExpiresAt.IsZero() {
		t.Errorf("first record: %+v; want reserved, not known, no expiry", o)
	}
	if o := orders[1]; !o.ReadyToPay() || !o.ReservationExpiresAt.Equal(exp) || o.UserID != user {
		t.Errorf("second record: %+v; want ready to pay, expiring at %s", o, exp)
	}
	if o := orders[2]; o.ID != b || o.Known() || !o.Reserved() {
		t.Errorf("third record: %+v; want order %s reserved, not known", o, b)
	}
	if o := orders[3]; o.UserID != user || o.Total != (payment.Money{AmountMinor: 700, Currency: "EUR"}) {
		t.Errorf("fourth record: %+v; want the first owner and total kept", o)
	}
	if o := orders[3]; !o.ReservationExpiresAt.Equal(exp) {
		t.Errorf("fourth record: %+v; want the first expiry seen kept", o)
	}
	if !slices.Equal(created, []bool{false, true, false, false}) {
		t.Errorf("created %v; want [false true false false]", created)
	}
	var amount int64
	if err := db.Raw("SELECT amount_minor FROM payments WHERE order_id = ?", a).Scan(&amount).Error; err != nil || amount != 700 {
		t.Errorf("payment of %d (%v); want 700", amount, err)
	}
	if n := outboxed(t, db, a); n != 1 {
		t.Errorf("%d events for order %s; want one PAYMENT_INITIATED", n, a)
	}
}

// The single-column rules live in domains (migration 0002): a new row off
// them is refused as a check violation, as the CHECKs they replace did.
func TestNewRowsOffTheRulesAreRefused(t *testing.T) {
	_, db := newStore(t)
	pay := `INSERT INTO payments (id, order_id, user_id, amount_minor, currency, status, attempts)
		VALUES (gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), ?, ?, ?, ?)`
	project := `INSERT INTO order_projection (order_id, user_id, total_minor, currency)
		VALUES (gen_random_uuid(), gen_random_uuid(), ?, ?)`
	if err := db.Exec(pay, 100, "EUR", "PENDING", 0).Error; err != nil {
		t.Fatalf("a payment on the rules: %v", err)
	}
	for name, c := range map[string]struct {
		sql  string
		args []any
	}{
		"payment of nothing":   {pay, []any{0, "EUR", "PENDING", 0}},
		"lower-case currency":  {pay, []any{100, "eur", "PENDING", 0}},
		"unknown status":       {pay, []any{100, "EUR", "LOST", 0}},
		"negative attempts":    {pay, []any{100, "EUR", "PENDING", -1}},
		"order total of zero":  {project, []any{0, "EUR"}},
		"order currency wrong": {project, []any{100, "EURO"}},
	} {
		if err := db.Exec(c.sql, c.args...).Error; !database.IsCheckViolation(err) {
			t.Errorf("%s: %v, want a check violation", name, err)
		}
	}
}

// The rules over several columns live in the payments_rules trigger
// (migration 0003), which runs before an INSERT as well as an UPDATE: a new
// row off them is refused as a check violation, under the constraint name
// the service maps.
func TestNewRowsOffTheMultiColumnRulesAreRefused(t *testing.T) {
	_, db := newStore(t)
	pay := `INSERT INTO payments (id, order_id, user_id, amount_minor, currency, status, refunded_minor, charge_id, captured_at)
		VALUES (gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), 1000, 'EUR', ?, ?, ?, ?)`
	now := time.Now()
	if err := db.Exec(pay, "SUCCEEDED", 0, "ch_1", now).Error; err != nil {
		t.Fatalf("a captured payment on the rules: %v", err)
	}
	if err := db.Exec(pay, "PARTIALLY_REFUNDED", 10, "ch_2", now).Error; err != nil {
		t.Fatalf("a partly refunded payment on the rules: %v", err)
	}
	for name, c := range map[string]struct {
		args       []any
		constraint string
	}{
		"refunded more than the amount": {[]any{"REFUNDED", 1001, "ch", now}, "payments_refund_le_amount"},
		"negative refund":               {[]any{"PENDING", -1, nil, nil}, "payments_refund_le_amount"},
		"captured without a charge":     {[]any{"SUCCEEDED", 0, nil, nil}, "payments_capture_recorded"},
		"charge without a capture time": {[]any{"SUCCEEDED", 0, "ch", nil}, "payments_capture_recorded"},
		"pending with a charge":         {[]any{"PENDING", 0, "ch", now}, "payments_capture_recorded"},
		"refunded, not in full":         {[]any{"REFUNDED", 10, "ch", now}, "payments_refund_matches_status"},
		"partly refunded, nothing back": {[]any{"PARTIALLY_REFUNDED", 0, "ch", now}, "payments_refund_matches_status"},
		"failed with money back":        {[]any{"FAILED", 10, nil, nil}, "payments_refund_matches_status"},
	} {
		err := db.Exec(pay, c.args...).Error
		var pgErr *pgconn.PgError
		if !database.IsCheckViolation(err) || !errors.As(err, &pgErr) || pgErr.ConstraintName != c.constraint {
			t.Errorf("%s: %v, want a check violation of %s", name, err, c.constraint)
		}
	}
}

// A capture rewrites no index entry (a HOT update): no index names a
// column it changes, and the page has room for the new version (fillfactor,
// migration 0003). The UPDATE changes the columns UpdatePayment writes.
func TestACaptureIsAHeapOnlyUpdate(t *testing.T) {
	s, db := newStore(t)
	p := seedPayment(t, s)
	err := db.Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec(`UPDATE payments SET status = 'SUCCEEDED', refunded_minor = 0, failure_reason = '',
				void_reason = '', card_last4 = '4242', attempts = 1, charge_id = 'ch_1', captured_at = now(),
				version = version + 1, updated_at = now()
			WHERE id = ? AND status = 'PENDING' AND version = 1`, p.ID).Error; err != nil {
			return err
		}
		var n struct{ Upd, Hot int64 }
		if err := tx.Raw(`SELECT n_tup_upd AS upd, n_tup_hot_upd AS hot FROM pg_stat_xact_user_tables
			WHERE relname = 'payments'`).Scan(&n).Error; err != nil {
			return err
		}
		if n.Upd != 1 || n.Hot != 1 {
			t.Errorf("%d updates, %d of them HOT; want 1 and 1", n.Upd, n.Hot)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
