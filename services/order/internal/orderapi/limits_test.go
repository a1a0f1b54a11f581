package orderapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/shop-oss/shop/services/order/internal/ordertest"
)

// One customer cannot hold stock hostage (issue 24 item 5): unpaid orders
// (CREATED or PAYMENT_PENDING) and the units in them are bounded per
// customer (409 too-many-open-orders / too-many-open-units, naming the
// setting), paying or cancelling frees the room, and POST /orders is
// rate-limited per user (429 rate-limited with Retry-After, naming the
// limit). Another customer is not affected by either.
func TestPerCustomerLimitsOfPlacing(t *testing.T) {
	e := newEnv(t, map[string]string{
		"SHOP_ORDER_MAX_OPEN_ORDERS": "2", "SHOP_ORDER_MAX_OPEN_UNITS": "5", "SHOP_ORDER_PLACE_PER_MINUTE": "5",
	})
	e.Catalog()
	place := func(user string, qty int) ordertest.Response {
		return e.Do("POST", "/api/v1/orders", user, map[string]any{"lines": []any{ordertest.Line(ordertest.Alpha, qty)}},
			"Idempotency-Key", uuid.NewString())
	}
	refused := func(t *testing.T, r ordertest.Response, status int, slug, detail string) {
		t.Helper()
		var p struct{ Detail string }
		r.JSON(t, &p)
		if r.Status != status || r.ProblemType() != slug || !strings.Contains(p.Detail, detail) {
			t.Fatalf("want %d %s naming %q: %d %s", status, slug, detail, r.Status, r.Body)
		}
	}

	// The subtests run in order: the customer's requests spend one
	// per-minute budget.
	t.Run("openOrders409AndPayingFreesTheRoom", func(t *testing.T) {
		// Two unpaid orders, then the third is refused.
		var first ordertest.OrderJSON
		r := place(ordertest.CustomerID, 1) // 1 of 5 per minute
		r.JSON(t, &first)
		if r.Status != http.StatusCreated {
			t.Fatalf("first: %d %s", r.Status, r.Body)
		}
		e.Feed(first.ID, ordertest.Reserved(first.ID)) // PAYMENT_PENDING is unpaid too
		if r := place(ordertest.CustomerID, 1); r.Status != http.StatusCreated {
			t.Fatalf("second: %d %s", r.Status, r.Body)
		}
		refused(t, place(ordertest.CustomerID, 1), http.StatusConflict, "too-many-open-orders", "SHOP_ORDER_MAX_OPEN_ORDERS")
		// Paying one frees its room.
		e.Feed(first.ID, ordertest.Succeeded(first.ID))
		e.WaitStatus(first.ID, "PAID")
		if r := place(ordertest.CustomerID, 1); r.Status != http.StatusCreated { // 4 of 5
			t.Fatalf("after paying one: %d %s", r.Status, r.Body)
		}
	})

	t.Run("refusedRequestsSpendTheRateLimit429", func(t *testing.T) {
		// The budget of POST /orders is spent by refused requests too: the
		// fifth is refused for the open orders, the sixth by the rate limit.
		refused(t, place(ordertest.CustomerID, 1), http.StatusConflict, "too-many-open-orders", "at most 2")
		r := place(ordertest.CustomerID, 1)
		refused(t, r, http.StatusTooManyRequests, "rate-limited", "5 orders placed per user per minute")
		if r.Header.Get("Retry-After") == "" {
			t.Fatalf("429 without Retry-After: %v", r.Header)
		}
	})

	t.Run("openUnits409ForAnotherCustomerAndCancellingFreesThem", func(t *testing.T) {
		// Units count across the lines of unpaid orders.
		refused(t, place(ordertest.OtherID, 6), http.StatusConflict, "too-many-open-units", "SHOP_ORDER_MAX_OPEN_UNITS")
		var big ordertest.OrderJSON
		r := place(ordertest.OtherID, 4)
		r.JSON(t, &big)
		if r.Status != http.StatusCreated {
			t.Fatalf("4 units: %d %s", r.Status, r.Body)
		}
		refused(t, place(ordertest.OtherID, 2), http.StatusConflict, "too-many-open-units", "6 units with this order, at most 5")
		// Cancelling frees the units.
		if r := e.Do("POST", "/api/v1/orders/"+big.ID+"/cancel", ordertest.OtherID, nil); r.Status != http.StatusOK {
			t.Fatalf("cancel: %d %s", r.Status, r.Body)
		}
		if r := place(ordertest.OtherID, 5); r.Status != http.StatusCreated {
			t.Fatalf("after cancelling: %d %s", r.Status, r.Body)
		}
	})
}
