package inventoryapi_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/google/uuid"

	"github.com/shop-oss/shop/pkg/auth"
	"github.com/shop-oss/shop/proto-events/eventsv1"
)

type reservationView struct {
	OrderID string `json:"order_id"`
	Status  string `json:"status"`
	Lines   []struct {
		ProductID string `json:"product_id"`
		Quantity  int64  `json:"quantity"`
	} `json:"lines"`
	ExpiresAt string `json:"expires_at"`
}

type reservationPageView struct {
	Items      []reservationView `json:"items"`
	NextCursor *string           `json:"next_cursor"`
}

// The admin app's list of what holds stock now: ACTIVE reservations,
// soonest expiry first; a seller sees those with its products, and only
// their lines; a sold reservation leaves the list.
func TestActiveReservations(t *testing.T) {
	h := start(t, nil)
	mine := h.product(10)
	// A product of another seller.
	otherSeller := uuid.NewString()
	h.tokens["otherSeller"] = h.st.Issuer.Token(t, otherSeller, auth.RoleSeller)
	theirs := uuid.NewString()
	h.publish(theirs, &eventsv1.ProductUpserted{ProductId: theirs, Sku: "SKU-" + theirs[:8], SellerId: otherSeller, Status: "ACTIVE", Version: 1})
	h.waitFor("their product", func() bool { return h.call(http.MethodGet, "/api/v1/inventory/"+theirs, "", nil, nil) == http.StatusOK })
	if st := h.call(http.MethodPut, "/api/v1/inventory/"+theirs, "otherSeller", map[string]any{"on_hand": 10}, nil); st != http.StatusOK {
		t.Fatalf("stock: %d", st)
	}

	reserve := func(lines ...map[string]any) string {
		t.Helper()
		order := uuid.NewString()
		if st := h.call(http.MethodPost, "/api/v1/inventory/reserve", "admin", map[string]any{"order_id": order, "lines": lines}, nil, key()...); st != http.StatusCreated {
			t.Fatalf("reserve: %d", st)
		}
		return order
	}
	line := func(p string, q int) map[string]any { return map[string]any{"product_id": p, "quantity": q} }
	a := reserve(line(mine, 2), line(theirs, 1)) // mixed
	b := reserve(line(theirs, 1))
	c := reserve(line(mine, 1))

	list := func(who, query string) reservationPageView {
		t.Helper()
		var p reservationPageView
		if st := h.call(http.MethodGet, "/api/v1/inventory/reservations?"+query, who, nil, &p); st != http.StatusOK {
			t.Fatalf("%s %s: %d", who, query, st)
		}
		return p
	}
	orders := func(p reservationPageView) []string {
		var out []string
		for _, r := range p.Items {
			out = append(out, r.OrderID)
		}
		return out
	}
	same := func(got []string, want ...string) bool {
		if len(got) != len(want) {
			return false
		}
		for i := range got {
			if got[i] != want[i] {
				return false
			}
		}
		return true
	}

	t.Run("list200 admin sees all soonest first", func(t *testing.T) {
		p := list("admin", "")
		if !same(orders(p), a, b, c) || len(p.Items[0].Lines) != 2 || p.NextCursor != nil {
			t.Fatalf("%+v", p)
		}
		if p.Items[0].ExpiresAt == "" || p.Items[0].ExpiresAt > p.Items[2].ExpiresAt {
			t.Errorf("not in expiry order: %+v", p.Items)
		}
	})
	t.Run("list200 seller sees its lines only", func(t *testing.T) {
		p := list("seller", "")
		if !same(orders(p), a, c) || len(p.Items[0].Lines) != 1 || p.Items[0].Lines[0].ProductID != mine || p.Items[0].Lines[0].Quantity != 2 {
			t.Fatalf("%+v", p)
		}
	})
	t.Run("list200 by product and in pages", func(t *testing.T) {
		if p := list("admin", "product_id="+theirs); !same(orders(p), a, b) {
			t.Fatalf("%+v", p)
		}
		first := list("admin", "limit=2")
		if !same(orders(first), a, b) || first.NextCursor == nil {
			t.Fatalf("%+v", first)
		}
		if rest := list("admin", "limit=2&cursor="+url.QueryEscape(*first.NextCursor)); !same(orders(rest), c) {
			t.Fatalf("%+v", rest)
		}
	})
	t.Run("list200 a sold reservation leaves", func(t *testing.T) {
		if st := h.call(http.MethodPost, "/api/v1/inventory/confirm", "admin", map[string]any{"order_id": c}, nil, key()...); st != http.StatusOK {
			t.Fatalf("confirm: %d", st)
		}
		if p := list("admin", ""); !same(orders(p), a, b) {
			t.Fatalf("%+v", p)
		}
	})
	t.Run("list400 list403", func(t *testing.T) {
		if st := h.call(http.MethodGet, "/api/v1/inventory/reservations?cursor=nope", "admin", nil, nil); st != http.StatusBadRequest {
			t.Errorf("bad cursor: %d", st)
		}
		if st := h.call(http.MethodGet, "/api/v1/inventory/reservations?product_id=x", "admin", nil, nil); st != http.StatusBadRequest {
			t.Errorf("bad product: %d", st)
		}
		if st := h.call(http.MethodGet, "/api/v1/inventory/reservations", "customer", nil, nil); st != http.StatusForbidden {
			t.Errorf("customer: %d", st)
		}
	})
}
