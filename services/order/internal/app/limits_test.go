package app_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"
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
	e.catalog()
	place := func(user string, qty int) response {
		return e.do("POST", "/api/v1/orders", user, map[string]any{"lines": []any{line(pAlpha, qty)}},
			"Idempotency-Key", uuid.NewString())
	}
	refused := func(r response, status int, slug, detail string) {
		t.Helper()
		var p struct{ Detail string }
		r.json(t, &p)
		if r.status != status || r.problemType() != slug || !strings.Contains(p.Detail, detail) {
			t.Fatalf("want %d %s naming %q: %d %s", status, slug, detail, r.status, r.body)
		}
	}

	// The customer: two unpaid orders, then the third is refused.
	var first orderJSON
	r := place(customerID, 1) // 1 of 5 per minute
	r.json(t, &first)
	if r.status != http.StatusCreated {
		t.Fatalf("first: %d %s", r.status, r.body)
	}
	e.feed(first.ID, reserved(first.ID)) // PAYMENT_PENDING is unpaid too
	if r := place(customerID, 1); r.status != http.StatusCreated {
		t.Fatalf("second: %d %s", r.status, r.body)
	}
	refused(place(customerID, 1), http.StatusConflict, "too-many-open-orders", "SHOP_ORDER_MAX_OPEN_ORDERS")
	// Paying one frees its room.
	e.feed(first.ID, succeeded(first.ID))
	e.waitStatus(first.ID, "PAID")
	if r := place(customerID, 1); r.status != http.StatusCreated { // 4 of 5
		t.Fatalf("after paying one: %d %s", r.status, r.body)
	}
	// The budget of POST /orders is spent by refused requests too: the
	// fifth is refused for the open orders, the sixth by the rate limit.
	refused(place(customerID, 1), http.StatusConflict, "too-many-open-orders", "at most 2")
	r = place(customerID, 1)
	refused(r, http.StatusTooManyRequests, "rate-limited", "5 orders placed per user per minute")
	if r.header.Get("Retry-After") == "" {
		t.Fatalf("429 without Retry-After: %v", r.header)
	}

	// Another customer: units count across the lines of unpaid orders.
	refused(place(otherID, 6), http.StatusConflict, "too-many-open-units", "SHOP_ORDER_MAX_OPEN_UNITS")
	var big orderJSON
	r = place(otherID, 4)
	r.json(t, &big)
	if r.status != http.StatusCreated {
		t.Fatalf("4 units: %d %s", r.status, r.body)
	}
	refused(place(otherID, 2), http.StatusConflict, "too-many-open-units", "6 units with this order, at most 5")
	// Cancelling frees the units.
	if r := e.do("POST", "/api/v1/orders/"+big.ID+"/cancel", otherID, nil); r.status != http.StatusOK {
		t.Fatalf("cancel: %d %s", r.status, r.body)
	}
	if r := place(otherID, 5); r.status != http.StatusCreated {
		t.Fatalf("after cancelling: %d %s", r.status, r.body)
	}
}
