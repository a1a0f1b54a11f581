package paymentdb_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"
	"gorm.io/gorm"

	"github.com/shop-oss/shop/pkg/bustest"
	"github.com/shop-oss/shop/pkg/database"
	"github.com/shop-oss/shop/pkg/testkit"
	"github.com/shop-oss/shop/proto-events/eventsv1"
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
		ok, err := tx.CreatePayment(context.Background(), p)
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

func update(s *paymentdb.Store, p *payment.Payment, from payment.Status, events ...proto.Message) error {
	return s.InTx(context.Background(), func(tx payment.Tx) error {
		return tx.UpdatePayment(context.Background(), p, from, events...)
	})
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
			created, err = tx.CreatePayment(context.Background(), p,
				&eventsv1.PaymentInitiated{OrderId: p.OrderID, PaymentId: p.ID})
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
	succeeded := &eventsv1.PaymentSucceeded{OrderId: p.OrderID, PaymentId: p.ID}
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
		_, err := tx.SaveReservation(ctx, p.OrderID, uuid.NewString(), exp)
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
// any order.
func TestOrderProjectionUpserts(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	order, user := uuid.NewString(), uuid.NewString()
	exp := time.Now().Add(15 * time.Minute).UTC().Truncate(time.Microsecond)
	var o payment.Order
	err := s.InTx(ctx, func(tx payment.Tx) error {
		var err error
		if o, err = tx.SaveReservation(ctx, order, uuid.NewString(), exp); err != nil {
			return err
		}
		if o.Known() || !o.Reserved() {
			t.Errorf("after reservation: %+v", o)
		}
		if o, err = tx.SaveOrderCreated(ctx, order, user, payment.Money{AmountMinor: 500, Currency: "EUR"}); err != nil {
			return err
		}
		if o, err = tx.SaveOrderCreated(ctx, order, uuid.NewString(), payment.Money{AmountMinor: 1, Currency: "USD"}); err != nil {
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
