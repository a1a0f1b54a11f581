package inventoryapi_test

import (
	"net/http"
	"testing"

	"github.com/google/uuid"
)

// The cells of the role × endpoint table that nothing else tests: the
// saga's reservation operations (confirm, release, reads) are ADMIN's
// alone, and a seller adjusts only the stock of its own products. A
// refused call changes nothing.
func TestRoutesRefuseOtherRoles(t *testing.T) {
	h := start(t, nil)
	p := h.product(10)
	order := uuid.NewString()
	reserve := map[string]any{"order_id": order, "lines": []map[string]any{{"product_id": p, "quantity": 3}}}
	if st := h.call(http.MethodPost, "/api/v1/inventory/reserve", "admin", reserve, nil, key()...); st != http.StatusCreated {
		t.Fatalf("reserve: %d", st)
	}
	byOrder := map[string]any{"order_id": order}

	for _, c := range []struct {
		name, method, path string
		body               any
		want               map[string]int // who → status
	}{
		{"confirm", http.MethodPost, "/api/v1/inventory/confirm", byOrder,
			map[string]int{"seller": 403, "other": 403, "customer": 403, "": 401}},
		{"release", http.MethodPost, "/api/v1/inventory/release", byOrder,
			map[string]int{"seller": 403, "other": 403, "customer": 403, "": 401}},
		{"reservation", http.MethodGet, "/api/v1/inventory/reservations/" + order, nil,
			map[string]int{"seller": 403, "other": 403, "customer": 403, "": 401}},
		{"adjust", http.MethodPost, "/api/v1/inventory/" + p + "/adjust", map[string]any{"delta": 50, "reason": "not mine"},
			map[string]int{"other": 403, "customer": 403, "": 401}},
	} {
		for who, want := range c.want {
			headers := key()
			if c.method == http.MethodGet {
				headers = nil
			}
			if st := h.call(c.method, c.path, who, c.body, nil, headers...); st != want {
				t.Errorf("%s by %q: %d, want %d", c.name, who, st, want)
			}
		}
	}

	var r struct{ Status string }
	if st := h.call(http.MethodGet, "/api/v1/inventory/reservations/"+order, "admin", nil, &r); st != http.StatusOK || r.Status != "ACTIVE" {
		t.Errorf("the reservation after the refused calls: %d %+v, want ACTIVE", st, r)
	}
	if s := h.stock(p); *s.OnHand != 10 || *s.Reserved != 3 {
		t.Errorf("stock after the refused calls: on hand %d, reserved %d; want 10, 3", *s.OnHand, *s.Reserved)
	}
	// The product's own seller may adjust it.
	if st := h.call(http.MethodPost, "/api/v1/inventory/"+p+"/adjust", "seller", map[string]any{"delta": 1, "reason": "found one"}, nil, key()...); st != http.StatusOK {
		t.Errorf("adjust by the product's seller: %d", st)
	}
}
