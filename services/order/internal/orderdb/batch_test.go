package orderdb_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/shop-oss/shop/pkg/database"
	"github.com/shop-oss/shop/services/order/internal/order"
	"github.com/shop-oss/shop/services/order/internal/orderdb"
)

// A use case planned for a batch sends nothing; the batch sends its
// statement ahead, and the batch's Tx answers that statement from its
// outcome instead of sending it again (sent again, the move would find its
// event in the timeline and not move).
func TestABatchAnswersWhatItSentAhead(t *testing.T) {
	s, db := newStore(t)
	o := newOrder("k")
	if err := create(t, s, o); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Microsecond)
	move := order.BlindMove{
		Order: order.Order{ID: o.ID, Status: order.StatusPaymentPending, StatusChangedAt: now, UpdatedAt: now},
		From:  order.StatusCreated,
		Entry: order.HistoryEntry{OrderID: o.ID, At: now, Kind: order.KindTransition, From: order.StatusCreated,
			To: order.StatusPaymentPending, Cause: &order.EventRef{ID: uuid.NewString(), Type: "TEST"}},
	}
	advance := func(ctx context.Context) (created time.Time, moved bool, err error) {
		err = s.InTx(ctx, func(tx order.Tx) (err error) {
			created, moved, err = tx.Advance(ctx, move)
			return err
		})
		return created, moved, err
	}
	u, ok := orderdb.PlanUsual(ctx, func(ctx context.Context) error { _, _, err := advance(ctx); return err })
	if !ok {
		t.Fatal("no statement planned for a blind move")
	}
	if h, _ := written(t, db, o.ID); h != 1 {
		t.Fatalf("planning wrote: %d timeline entries", h)
	}
	err := database.TxStartingWith(ctx, db, database.First{SQL: "SELECT 1"}, func(tx *gorm.DB) error {
		out, applied, err := s.SendAhead(ctx, tx, []string{o.ID}, []orderdb.Usual{u})
		if err != nil || !applied || len(out) != 1 {
			t.Fatalf("send ahead: %v, %v, %v", out, applied, err)
		}
		created, moved, err := advance(orderdb.Bind(ctx, tx, &out[0]))
		if err != nil || !moved || !created.Equal(o.CreatedAt) {
			t.Errorf("the batch's answer: moved %v, created %v, %v; want true, %v", moved, created, err, o.CreatedAt)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Order(ctx, o.ID); got.Status != order.StatusPaymentPending {
		t.Fatalf("status %s", got.Status)
	}
	if h, _ := written(t, db, o.ID); h != 2 {
		t.Fatalf("%d timeline entries, want the first and the move", h)
	}
	// A use case that must read the order first plans nothing.
	if _, ok := orderdb.PlanUsual(ctx, func(ctx context.Context) error {
		return s.InTx(ctx, func(tx order.Tx) error { _, err := tx.LockOrder(ctx, o.ID); return err })
	}); ok {
		t.Fatal("planned a statement for a use case that locks the order first")
	}
}
