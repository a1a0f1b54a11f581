package app_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"gorm.io/gorm"

	"github.com/shop-oss/shop/pkg/database"
	"github.com/shop-oss/shop/pkg/event"
	"github.com/shop-oss/shop/pkg/testkit"
	"github.com/shop-oss/shop/services/order/internal/app"
	"github.com/shop-oss/shop/services/order/internal/order"
	"github.com/shop-oss/shop/services/order/internal/orderdb"
	"github.com/shop-oss/shop/services/order/internal/ordertest"
)

// heldStore is the order store whose transactions, once their work is done,
// wait for release before they commit: a transition in flight that other
// writers race.
type heldStore struct {
	*orderdb.Store
	done, release chan struct{}
}

func (s heldStore) InTx(ctx context.Context, fn func(order.Tx) error) error {
	return s.Store.InTx(ctx, func(tx order.Tx) error {
		err := fn(tx)
		s.done <- struct{}{}
		<-s.release
		return err
	})
}

// race runs move, a transition whose transaction it holds open before the
// commit, and then the racers at once. Once every racer has finished or
// waits for a lock, the transition commits; race returns when all did.
func (e *env) race(t testing.TB, move func(svc *order.Service, handlers func(tx *gorm.DB, ev event.Event) error) error, racers ...func() error) {
	t.Helper()
	held := heldStore{Store: e.Store, done: make(chan struct{}), release: make(chan struct{})}
	svc := order.NewService(held, app.DomainConfig(e.Cfg), nil)
	moved := make(chan error, 1)
	go func() {
		moved <- move(svc, func(tx *gorm.DB, ev event.Event) error {
			// An event's transition in a transaction of its own, held
			// like the service's.
			return e.Svc.DB.Transaction(func(tx *gorm.DB) error {
				err := e.Handlers.Saga(ev.Context(context.Background()), tx, ev)
				held.done <- struct{}{}
				<-held.release
				return err
			})
		})
	}()
	<-held.done
	finished := make(chan error, len(racers))
	for _, r := range racers {
		go func() { finished <- r() }()
	}
	var errs []error
	testkit.Eventually(t, 10*time.Second, "racers neither finished nor waited for a lock", func() bool {
		for len(finished) > 0 {
			errs = append(errs, <-finished)
		}
		var waiting int
		e.Svc.DB.Raw(`SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting)
		return len(errs)+waiting == len(racers)
	})
	close(held.release)
	if err := <-moved; err != nil {
		t.Fatalf("transition: %v", err)
	}
	for len(errs) < len(racers) {
		errs = append(errs, <-finished)
	}
	for _, err := range errs {
		if err != nil {
			t.Fatalf("racer: %v", err)
		}
	}
}

// checkTimeline fails unless the order's timeline is one unbroken chain
// (each entry's from is the previous entry's to) in which no entry is
// dated before the last transition, ending in want, with every entry
// after the move to want showing want.
func (e *env) checkTimeline(t testing.TB, id, want string, entries int) {
	t.Helper()
	tl := e.Timeline(id)
	show := func() string {
		var b strings.Builder
		for _, en := range tl {
			typ := ""
			if en.Event != nil {
				typ = en.Event.Type
			}
			b.WriteString("\n  " + en.At.Format(time.RFC3339Nano) + " " + en.Kind + " " + en.From + " → " + en.To + " " + en.Reason + " " + typ)
		}
		return b.String()
	}
	if len(tl) != entries {
		t.Fatalf("order %s: %d entries, want %d:%s", id, len(tl), entries, show())
	}
	reached := false
	var moved time.Time // the last transition's
	for i, en := range tl {
		if i > 0 && (en.From != tl[i-1].To || en.At.Before(moved)) {
			t.Fatalf("order %s: entry %d does not follow the one before:%s", id, i, show())
		}
		if reached && (en.From != want || en.To != want) {
			t.Fatalf("order %s: entry %d after the move to %s shows another status:%s", id, i, want, show())
		}
		reached = reached || (en.Kind == "TRANSITION" && en.To == want)
		if en.Kind == "TRANSITION" {
			moved = en.At
		}
	}
	if !reached {
		t.Fatalf("order %s: never reached %s:%s", id, want, show())
	}
}

// Timeline entries of events that change no status (INVENTORY_RELEASED,
// PAYMENT_VOIDED, PAYMENT_INITIATED, ...) show the order's status when
// they are written, in order with the transitions, even when the event
// races a transition: issue 22 item 7, where INVENTORY_RELEASED after a
// declined card was recorded as PAYMENT_PENDING after the CANCELLED entry
// (its status read without the order's lock, before the cancellation
// committed).
func TestTimelineEntriesShowTheStatusTheyFollow(t *testing.T) {
	e := newEnv(t, nil)
	e.Catalog()
	pending := func() string {
		id := e.Place(ordertest.CustomerID, ordertest.Line(ordertest.Alpha, 1)).ID
		if err := e.ApplyDirect(ordertest.NewEvent(t, id, ordertest.Reserved(id))); err != nil {
			t.Fatal(err)
		}
		return id
	}
	apply := func(id string, msg proto.Message) func() error {
		ev := ordertest.NewEvent(t, id, msg)
		return func() error { return e.ApplyDirect(ev) }
	}

	t.Run("declinedCard", func(t *testing.T) {
		// Inventory releases on PAYMENT_FAILED itself, so its
		// INVENTORY_RELEASED races the order's own handling of the
		// decline; payment's void comes with it.
		id := pending()
		fail := ordertest.NewEvent(t, id, ordertest.Failed(id))
		e.race(t, func(_ *order.Service, saga func(*gorm.DB, event.Event) error) error {
			return saga(nil, fail)
		}, apply(id, ordertest.Released(id)), apply(id, ordertest.Voided(id)))
		e.checkTimeline(t, id, "CANCELLED", 5) // placed, reserved, failed, released, voided
	})

	t.Run("cancellationRacingEvents", func(t *testing.T) {
		id := pending()
		e.race(t, func(svc *order.Service, _ func(*gorm.DB, event.Event) error) error {
			_, err := svc.Cancel(context.Background(), order.Actor{ID: ordertest.CustomerID, Role: order.RoleCustomer}, id, "")
			return err
		}, apply(id, ordertest.Initiated(id)), apply(id, ordertest.Released(id)))
		e.checkTimeline(t, id, "CANCELLED", 5) // placed, reserved, cancelled, initiated, released
	})

	t.Run("cancellationRacingABatch", func(t *testing.T) {
		// The consumer's batch path: the timeline entries go out in one
		// pipeline with the batch's locks.
		a, b := pending(), pending()
		batch := []event.Event{ordertest.NewEvent(t, a, ordertest.Released(a)), ordertest.NewEvent(t, b, ordertest.Voided(b))}
		slices.SortStableFunc(batch, func(x, y event.Event) int { return strings.Compare(x.Key, y.Key) })
		e.race(t, func(svc *order.Service, _ func(*gorm.DB, event.Event) error) error {
			_, err := svc.Cancel(context.Background(), order.Actor{ID: ordertest.CustomerID, Role: order.RoleCustomer}, a, "")
			return err
		}, func() error {
			ctx := context.Background()
			return database.TxStartingWith(ctx, e.Svc.DB, database.First{SQL: "SELECT 1"}, func(tx *gorm.DB) error {
				hctx, err := e.Handlers.Prepare(ctx, tx, batch)
				if err != nil {
					return err
				}
				for _, ev := range batch {
					if err := e.Handlers.Saga(ev.Context(hctx), tx, ev); err != nil {
						return err
					}
				}
				return nil
			})
		})
		e.checkTimeline(t, a, "CANCELLED", 4)       // placed, reserved, cancelled, released
		e.checkTimeline(t, b, "PAYMENT_PENDING", 3) // placed, reserved, voided
	})
}
