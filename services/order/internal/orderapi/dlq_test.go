package orderapi_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/shop-oss/shop/pkg/testkit"
	"github.com/shop-oss/shop/proto-events/eventsv1"
	"github.com/shop-oss/shop/services/order/internal/ordertest"
)

// TestSagaPoisonEvents sends what can never be handled: it is
// dead-lettered and the partition moves on; the admin reads and replays
// the dead letters over HTTP. The subtests run in order, on the same dead
// letters.
func TestSagaPoisonEvents(t *testing.T) {
	e := newEnv(t, nil)
	e.Catalog()
	stranger := uuid.NewString()
	unknown := ordertest.NewEvent(t, stranger, ordertest.Succeeded(stranger))

	t.Run("poisonEventsGoToTheDLQWithoutBlocking", func(t *testing.T) {
		dlqBefore := e.Metric("consumer_events_total", map[string]string{"outcome": "dead_lettered"})
		garbage := ordertest.NewEvent(t, stranger, ordertest.Failed(stranger)).Message()
		garbage.Value = []byte{0xff, 0xff, 0xff}
		noOrder := ordertest.NewEvent(t, stranger, &eventsv1.PaymentFailed{})
		o := e.Place(ordertest.CustomerID, ordertest.Line(ordertest.Alpha, 1))
		after := ordertest.NewEvent(t, stranger, ordertest.Reserved(o.ID)) // same partition as the poison, behind it
		if err := e.Writer.WriteMessages(t.Context(), unknown.Message(), garbage, noOrder.Message(), after.Message()); err != nil {
			t.Fatal(err)
		}
		e.WaitStatus(o.ID, "PAYMENT_PENDING")
		testkit.Eventually(t, 10*time.Second, "poison not dead-lettered", func() bool {
			return e.Metric("consumer_events_total", map[string]string{"outcome": "dead_lettered"}) >= dlqBefore+3
		})
	})

	t.Run("dlq200ForAdmin403ForSeller", func(t *testing.T) {
		r := e.Do("GET", "/api/v1/admin/dlq/order", ordertest.AdminID, nil)
		if r.Status != 200 || !strings.Contains(string(r.Body), unknown.ID.String()) ||
			!strings.Contains(string(r.Body), "unknown order") {
			t.Fatalf("DLQ: %d %s", r.Status, r.Body)
		}
		if r := e.Do("GET", "/api/v1/admin/dlq/order", ordertest.SellerID, nil); r.Status != 403 {
			t.Fatalf("DLQ for a seller: %d", r.Status)
		}
	})

	t.Run("replay200RecordsWhoAndReplay404", func(t *testing.T) {
		// Replaying the unknown order's event dead-letters it again: still no
		// such order, and nothing else is held up.
		if r := e.Do("POST", "/api/v1/admin/dlq/order/0/replay", ordertest.AdminID, nil); r.Status != 200 {
			t.Fatalf("replay: %d %s", r.Status, r.Body)
		}
		if r := e.Do("POST", "/api/v1/admin/dlq/order/999/replay", ordertest.AdminID, nil); r.Status != 404 {
			t.Fatalf("replay of nothing: %d %s", r.Status, r.Body)
		}
		// The listing says who replayed the entry.
		r := e.Do("GET", "/api/v1/admin/dlq/order", ordertest.AdminID, nil)
		var page struct {
			Entries []struct {
				Offset  int64 `json:"offset"`
				Replays []struct{ By string }
			}
		}
		if err := json.Unmarshal(r.Body, &page); err != nil || r.Status != 200 {
			t.Fatalf("DLQ after the replay: %d %s", r.Status, r.Body)
		}
		var by []string
		for _, en := range page.Entries {
			if en.Offset == 0 {
				for _, rp := range en.Replays {
					by = append(by, rp.By)
				}
			}
		}
		if len(by) != 1 || by[0] != ordertest.AdminID {
			t.Fatalf("replays of offset 0: %v, want [%s]", by, ordertest.AdminID)
		}
	})

	t.Run("entry200AndBulkDryRun", func(t *testing.T) {
		// One entry, and a bulk dry run with a result per entry; the
		// garbage payload can never be replayed.
		if r := e.Do("GET", "/api/v1/admin/dlq/order/0", ordertest.AdminID, nil); r.Status != 200 || !strings.Contains(string(r.Body), unknown.ID.String()) {
			t.Fatalf("entry 0: %d %s", r.Status, r.Body)
		}
		r := e.Do("POST", "/api/v1/admin/dlq/order/replay", ordertest.AdminID, map[string]any{"filter": map[string]any{"order_id": stranger}, "dry_run": true})
		var dry struct {
			Counts map[string]int `json:"counts"`
		}
		if err := json.Unmarshal(r.Body, &dry); err != nil || r.Status != 200 || dry.Counts["refused"] < 1 || dry.Counts["would_replay"] < 1 {
			t.Fatalf("dry run of the stranger's entries: %d %s", r.Status, r.Body)
		}
	})
}
