package inventoryapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/shop-oss/shop/pkg/event"
	"github.com/shop-oss/shop/proto-events/eventsv1"
)

func TestAPI(t *testing.T) {
	h := start(t, nil)
	p := h.product(10)
	q := h.product(4)
	path := "/api/v1/inventory/" + p

	t.Run("get200 anonymous sees availability only", func(t *testing.T) {
		var s stockView
		if st := h.call(http.MethodGet, path, "", nil, &s); st != http.StatusOK {
			t.Fatalf("status %d", st)
		}
		if s.Available != 10 || !s.InStock || s.OnHand != nil || s.Reserved != nil {
			t.Errorf("%+v", s)
		}
	})
	t.Run("get200 seller sees the figures", func(t *testing.T) {
		var s stockView
		h.call(http.MethodGet, path, "seller", nil, &s)
		if s.OnHand == nil || *s.OnHand != 10 || *s.Reserved != 0 {
			t.Errorf("%+v", s)
		}
		var o stockView
		h.call(http.MethodGet, path, "other", nil, &o)
		if o.OnHand != nil {
			t.Errorf("another seller sees the figures: %+v", s)
		}
	})
	t.Run("get400 get404 get401", func(t *testing.T) {
		if st := h.call(http.MethodGet, "/api/v1/inventory/nope", "", nil, nil); st != http.StatusBadRequest {
			t.Errorf("bad id: %d", st)
		}
		if st := h.call(http.MethodGet, "/api/v1/inventory/"+uuid.NewString(), "", nil, nil); st != http.StatusNotFound {
			t.Errorf("unknown: %d", st)
		}
		req, _ := http.NewRequest(http.MethodGet, h.base+path, nil)
		req.Header.Set("Authorization", "Bearer garbage")
		res, err := h.client.Do(req)
		if err != nil || res.StatusCode != http.StatusUnauthorized {
			t.Errorf("bad token: %v %v", res.StatusCode, err)
		}
	})

	order := uuid.NewString()
	reserve := map[string]any{"order_id": order, "lines": []map[string]any{{"product_id": p, "quantity": 3}, {"product_id": q, "quantity": 1}}}
	t.Run("reserve201 then reserve200 for the same order", func(t *testing.T) {
		var r struct {
			ID, Status string
			Lines      []map[string]any
		}
		if st := h.call(http.MethodPost, "/api/v1/inventory/reserve", "admin", reserve, &r, key()...); st != http.StatusCreated {
			t.Fatalf("status %d", st)
		}
		if r.Status != "ACTIVE" || len(r.Lines) != 2 {
			t.Errorf("%+v", r)
		}
		var again struct{ ID string }
		if st := h.call(http.MethodPost, "/api/v1/inventory/reserve", "admin", reserve, &again, key()...); st != http.StatusOK || again.ID != r.ID {
			t.Errorf("repeat: %d %s", st, again.ID)
		}
		var s stockView
		h.call(http.MethodGet, path, "", nil, &s)
		if s.Available != 7 {
			t.Errorf("available after reserving (cache invalidated?): %d", s.Available)
		}
	})
	t.Run("reserve409 conflict insufficient; reserve422 unavailable", func(t *testing.T) {
		var pr problemView
		other := map[string]any{"order_id": order, "lines": []map[string]any{{"product_id": p, "quantity": 1}}}
		if st := h.call(http.MethodPost, "/api/v1/inventory/reserve", "admin", other, &pr, key()...); st != http.StatusConflict || !strings.HasSuffix(pr.Type, "reservation-conflict") {
			t.Errorf("other lines: %d %s", st, pr.Type)
		}
		short := map[string]any{"order_id": uuid.NewString(), "lines": []map[string]any{{"product_id": p, "quantity": 1}, {"product_id": q, "quantity": 4}}}
		if st := h.call(http.MethodPost, "/api/v1/inventory/reserve", "admin", short, &pr, key()...); st != http.StatusConflict || !strings.HasSuffix(pr.Type, "insufficient-stock") || !strings.Contains(pr.Detail, "requested 4, available 3") {
			t.Errorf("short: %d %+v", st, pr)
		}
		unknown := map[string]any{"order_id": uuid.NewString(), "lines": []map[string]any{{"product_id": p, "quantity": 1}, {"product_id": uuid.NewString(), "quantity": 1}}}
		if st := h.call(http.MethodPost, "/api/v1/inventory/reserve", "admin", unknown, &pr, key()...); st != http.StatusUnprocessableEntity || !strings.HasSuffix(pr.Type, "product-unavailable") {
			t.Errorf("unknown product: %d %s", st, pr.Type)
		}
		h.waitStock(p, 10, 3) // nothing half-reserved
	})
	t.Run("reserve400", func(t *testing.T) {
		for name, body := range map[string]any{
			"zero quantity":   map[string]any{"order_id": uuid.NewString(), "lines": []map[string]any{{"product_id": p, "quantity": 0}}},
			"negative":        map[string]any{"order_id": uuid.NewString(), "lines": []map[string]any{{"product_id": p, "quantity": -2}}},
			"absurd":          map[string]any{"order_id": uuid.NewString(), "lines": []map[string]any{{"product_id": p, "quantity": 1 << 40}}},
			"duplicate lines": map[string]any{"order_id": uuid.NewString(), "lines": []map[string]any{{"product_id": p, "quantity": 1}, {"product_id": p, "quantity": 1}}},
			"no lines":        map[string]any{"order_id": uuid.NewString(), "lines": []map[string]any{}},
			"bad order id":    map[string]any{"order_id": "x", "lines": []map[string]any{{"product_id": p, "quantity": 1}}},
			"unknown field":   map[string]any{"order_id": uuid.NewString(), "lines": []map[string]any{{"product_id": p, "quantity": 1}}, "x": 1},
			"owner, no total": map[string]any{"order_id": uuid.NewString(), "lines": []map[string]any{{"product_id": p, "quantity": 1}}, "user_id": buyerID},
			"total, no owner": map[string]any{"order_id": uuid.NewString(), "lines": []map[string]any{{"product_id": p, "quantity": 1}},
				"total": map[string]any{"amount_minor": 100, "currency": "EUR"}},
			"zero total": map[string]any{"order_id": uuid.NewString(), "lines": []map[string]any{{"product_id": p, "quantity": 1}},
				"user_id": buyerID, "total": map[string]any{"amount_minor": 0, "currency": "EUR"}},
			"bad currency": map[string]any{"order_id": uuid.NewString(), "lines": []map[string]any{{"product_id": p, "quantity": 1}},
				"user_id": buyerID, "total": map[string]any{"amount_minor": 100, "currency": "eur"}},
		} {
			var pr problemView
			if st := h.call(http.MethodPost, "/api/v1/inventory/reserve", "admin", body, &pr, key()...); st != http.StatusBadRequest || len(pr.Errors) == 0 {
				t.Errorf("%s: %d %+v", name, st, pr)
			}
		}
		if st := h.call(http.MethodPost, "/api/v1/inventory/reserve", "admin", reserve, nil); st != http.StatusBadRequest {
			t.Errorf("no Idempotency-Key: %d", st)
		}
		h.waitStock(p, 10, 3)
	})
	t.Run("reserve403 reserve401", func(t *testing.T) {
		if st := h.call(http.MethodPost, "/api/v1/inventory/reserve", "seller", reserve, nil, key()...); st != http.StatusForbidden {
			t.Errorf("seller: %d", st)
		}
		if st := h.call(http.MethodPost, "/api/v1/inventory/reserve", "", reserve, nil, key()...); st != http.StatusUnauthorized {
			t.Errorf("anonymous: %d", st)
		}
	})
	t.Run("reservation200 reservation404", func(t *testing.T) {
		var r struct{ Status string }
		if st := h.call(http.MethodGet, "/api/v1/inventory/reservations/"+order, "admin", nil, &r); st != http.StatusOK || r.Status != "ACTIVE" {
			t.Errorf("%d %+v", st, r)
		}
		if st := h.call(http.MethodGet, "/api/v1/inventory/reservations/"+uuid.NewString(), "admin", nil, nil); st != http.StatusNotFound {
			t.Errorf("unknown: %d", st)
		}
	})
	t.Run("confirm200 confirm404 release200 confirm409", func(t *testing.T) {
		var r struct{ Status string }
		k := key()
		if st := h.call(http.MethodPost, "/api/v1/inventory/confirm", "admin", map[string]any{"order_id": order}, &r, k...); st != http.StatusOK || r.Status != "CONFIRMED" {
			t.Fatalf("%d %+v", st, r)
		}
		h.waitStock(p, 7, 0)
		if st := h.call(http.MethodPost, "/api/v1/inventory/confirm", "admin", map[string]any{"order_id": uuid.NewString()}, nil, key()...); st != http.StatusNotFound {
			t.Errorf("unknown order: %d", st)
		}
		var rel struct {
			Status    string
			Restocked bool
			Reason    string
		}
		if st := h.call(http.MethodPost, "/api/v1/inventory/release", "admin", map[string]any{"order_id": order, "reason": "CUSTOMER_RETURN"}, &rel, key()...); st != http.StatusOK || !rel.Restocked || rel.Reason != "CUSTOMER_RETURN" {
			t.Fatalf("release: %d %+v", st, rel)
		}
		h.waitStock(p, 10, 0)
		var pr problemView
		if st := h.call(http.MethodPost, "/api/v1/inventory/confirm", "admin", map[string]any{"order_id": order}, &pr, key()...); st != http.StatusConflict || !strings.HasSuffix(pr.Type, "reservation-closed") {
			t.Errorf("confirm released: %d %s", st, pr.Type)
		}
		if st := h.call(http.MethodPost, "/api/v1/inventory/release", "admin", map[string]any{"order_id": uuid.NewString()}, nil, key()...); st != http.StatusNotFound {
			t.Errorf("release unknown: %d", st)
		}
	})
	t.Run("put200 put400 put403 put404 put409", func(t *testing.T) {
		hold := map[string]any{"order_id": uuid.NewString(), "lines": []map[string]any{{"product_id": p, "quantity": 6}}}
		if st := h.call(http.MethodPost, "/api/v1/inventory/reserve", "admin", hold, nil, key()...); st != http.StatusCreated {
			t.Fatalf("reserve: %d", st)
		}
		var s stockView
		if st := h.call(http.MethodPut, path, "seller", map[string]any{"on_hand": 12, "low_stock_threshold": 6}, &s); st != http.StatusOK || *s.OnHand != 12 || s.Available != 6 || !s.LowStock {
			t.Errorf("put: %d %+v", st, s)
		}
		var pr problemView
		if st := h.call(http.MethodPut, path, "admin", map[string]any{"on_hand": 5}, &pr); st != http.StatusConflict || !strings.HasSuffix(pr.Type, "stock-below-reserved") {
			t.Errorf("below reserved: %d %s", st, pr.Type)
		}
		if st := h.call(http.MethodPut, path, "seller", map[string]any{"on_hand": -1}, nil); st != http.StatusBadRequest {
			t.Errorf("negative: %d", st)
		}
		if st := h.call(http.MethodPut, path, "seller", map[string]any{}, nil); st != http.StatusBadRequest {
			t.Errorf("missing on_hand: %d", st)
		}
		if st := h.call(http.MethodPut, path, "other", map[string]any{"on_hand": 50}, nil); st != http.StatusForbidden {
			t.Errorf("another seller: %d", st)
		}
		if st := h.call(http.MethodPut, path, "customer", map[string]any{"on_hand": 50}, nil); st != http.StatusForbidden {
			t.Errorf("customer: %d", st)
		}
		if st := h.call(http.MethodPut, "/api/v1/inventory/"+uuid.NewString(), "admin", map[string]any{"on_hand": 1}, nil); st != http.StatusNotFound {
			t.Errorf("unknown: %d", st)
		}
	})
	t.Run("adjust200 replay adjust400 adjust409", func(t *testing.T) {
		k := key()
		body := map[string]any{"delta": 5, "reason": "delivery 17", "kind": "RECEIVED"}
		var s stockView
		if st := h.call(http.MethodPost, path+"/adjust", "seller", body, &s, k...); st != http.StatusOK || *s.OnHand != 17 {
			t.Fatalf("adjust: %d %+v", st, s)
		}
		if st := h.call(http.MethodPost, path+"/adjust", "seller", body, &s, k...); st != http.StatusOK || *s.OnHand != 17 {
			t.Errorf("replay: %d %+v", st, s)
		}
		h.waitStock(p, 17, 6) // the replay changed nothing
		if st := h.call(http.MethodPost, path+"/adjust", "seller", map[string]any{"delta": 1, "reason": "x"}, nil, k...); st != http.StatusUnprocessableEntity {
			t.Errorf("key reused for another body: %d", st)
		}
		for name, b := range map[string]any{
			"zero delta":        map[string]any{"delta": 0, "reason": "x"},
			"no reason":         map[string]any{"delta": 1},
			"received negative": map[string]any{"delta": -1, "reason": "x", "kind": "RECEIVED"},
			"bad kind":          map[string]any{"delta": 1, "reason": "x", "kind": "SOLD"},
		} {
			if st := h.call(http.MethodPost, path+"/adjust", "seller", b, nil, key()...); st != http.StatusBadRequest {
				t.Errorf("%s: %d", name, st)
			}
		}
		below := key()
		if st := h.call(http.MethodPost, path+"/adjust", "admin", map[string]any{"delta": -12, "reason": "lost"}, nil, below...); st != http.StatusConflict {
			t.Errorf("below reserved: %d", st)
		}
		// A refused request records nothing: the corrected one may use its
		// key (issue 22 item 3: it was 422 idempotency-key-reused).
		if st := h.call(http.MethodPost, path+"/adjust", "admin", map[string]any{"delta": -2, "reason": "lost"}, &s, below...); st != http.StatusOK || *s.OnHand != 15 {
			t.Errorf("corrected request with the refused one's key: %d %+v", st, s)
		}
		bad := key()
		if st := h.call(http.MethodPost, path+"/adjust", "seller", map[string]any{"delta": 0, "reason": "x"}, nil, bad...); st != http.StatusBadRequest {
			t.Errorf("zero delta: %d", st)
		}
		if st := h.call(http.MethodPost, path+"/adjust", "seller", map[string]any{"delta": 1, "reason": "x"}, &s, bad...); st != http.StatusOK || *s.OnHand != 16 {
			t.Errorf("corrected request with the 400's key: %d %+v", st, s)
		}
	})
	t.Run("movements200 paging movements403", func(t *testing.T) {
		kinds := h.pages(t, path+"/movements?limit=3", "seller", "kind")
		want := "ADJUSTED ADJUSTED RECEIVED ADJUSTED RESERVED RESTOCKED SOLD RESERVED ADJUSTED"
		if got := strings.Join(kinds, " "); got != want {
			t.Errorf("ledger, newest first: %s; want %s", got, want)
		}
		if st := h.call(http.MethodGet, path+"/movements", "other", nil, nil); st != http.StatusForbidden {
			t.Errorf("another seller: %d", st)
		}
		if st := h.call(http.MethodGet, path+"/movements?cursor=zzz", "seller", nil, nil); st != http.StatusBadRequest {
			t.Errorf("bad cursor: %d", st)
		}
	})
	t.Run("list200 list403", func(t *testing.T) {
		h.product(0) // another product of the seller, out of stock
		type page struct {
			Items []struct {
				ProductID string `json:"product_id"`
				LowStock  bool   `json:"low_stock"`
			}
		}
		all := h.pages(t, "/api/v1/inventory?limit=2", "admin", "product_id")
		if len(all) != 3 {
			t.Errorf("admin pages: %v", all)
		}
		var low page
		h.call(http.MethodGet, "/api/v1/inventory?low_stock=true", "seller", nil, &low)
		for _, it := range low.Items {
			if !it.LowStock {
				t.Errorf("not low: %+v", it)
			}
		}
		if len(low.Items) != 2 { // q has 4 (default threshold 5), the new one 0; p has 11 of threshold 6
			t.Errorf("low stock: %+v", low.Items)
		}
		var none page
		h.call(http.MethodGet, "/api/v1/inventory", "other", nil, &none)
		if len(none.Items) != 0 {
			t.Errorf("another seller sees %d products", len(none.Items))
		}
		if st := h.call(http.MethodGet, "/api/v1/inventory", "customer", nil, nil); st != http.StatusForbidden {
			t.Errorf("customer: %d", st)
		}
		if st := h.call(http.MethodGet, "/api/v1/inventory?limit=1000", "admin", nil, nil); st != http.StatusBadRequest {
			t.Errorf("limit 1000: %d", st)
		}
	})

	t.Run("reservations200 lists what holds stock (TestActiveReservations has the rest)", func(t *testing.T) {
		var page reservationPageView
		if st := h.call(http.MethodGet, "/api/v1/inventory/reservations?product_id="+q, "admin", nil, &page); st != http.StatusOK {
			t.Fatalf("status %d", st)
		}
		for _, r := range page.Items {
			if r.Status != "ACTIVE" {
				t.Errorf("%+v", r)
			}
		}
	})

	t.Run("admin dlq", func(t *testing.T) {
		// The DLQ API of pkg/service; nothing was dead-lettered here.
		const base = "/api/v1/admin/dlq/inventory"
		var page struct{ Entries []any }
		if st := h.call(http.MethodGet, base+"?cause=malformed", "admin", nil, &page); st != http.StatusOK || len(page.Entries) != 0 {
			t.Errorf("list: %d %v", st, page)
		}
		if st := h.call(http.MethodGet, base+"/0", "admin", nil, nil); st != http.StatusNotFound {
			t.Errorf("entry 0: %d", st)
		}
		if st := h.call(http.MethodPost, base+"/0/replay", "admin", nil, nil); st != http.StatusNotFound {
			t.Errorf("replay 0: %d", st)
		}
		var out struct{ Counts map[string]int }
		if st := h.call(http.MethodPost, base+"/replay", "admin", map[string]any{"filter": map[string]any{"cause": "rejected"}}, &out); st != http.StatusOK || len(out.Counts) != 0 {
			t.Errorf("replay by filter: %d %v", st, out)
		}
		if st := h.call(http.MethodPost, base+"/0/replay", "seller", nil, nil); st != http.StatusForbidden {
			t.Errorf("seller: %d", st)
		}
		if st := h.call(http.MethodGet, base, "seller", nil, nil); st != http.StatusForbidden {
			t.Errorf("a seller lists: %d", st)
		}
	})

	// Every operation of the spec was exercised.
	covered := map[string]bool{}
	for _, c := range h.spec.Covered() {
		parts := strings.Fields(c)
		covered[parts[0]+" "+parts[1]] = true
	}
	for _, op := range h.spec.Operations() {
		if !covered[op] {
			t.Errorf("no test calls %s", op)
		}
	}
}

// A staff reservation that names the order's owner and total passes them on
// in INVENTORY_RESERVED, as one made for ORDER_CREATED does: payment creates
// the payment from that event.
func TestStaffReservationPassesTheOrderOn(t *testing.T) {
	h := start(t, nil)
	out := h.watch(eventsv1.TopicInventory)
	p := h.product(5)
	order := uuid.NewString()
	body := map[string]any{"order_id": order, "lines": []map[string]any{{"product_id": p, "quantity": 1}},
		"user_id": buyerID, "total": map[string]any{"amount_minor": 100, "currency": "EUR"}}
	if st := h.call(http.MethodPost, "/api/v1/inventory/reserve", "admin", body, nil, key()...); st != http.StatusCreated {
		t.Fatalf("status %d", st)
	}
	m, _ := event.DecodeAs[*eventsv1.InventoryReserved](h.wait(out, eventsv1.TypeInventoryReserved, order, 1)[0])
	wantPayable(t, m)
	h.waitStock(p, 5, 1)
}
