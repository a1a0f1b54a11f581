package inventoryapi_test

import (
	"net/http"
	"testing"

	"github.com/google/uuid"

	"github.com/shop-oss/shop/proto-events/eventsv1"
)

// A DRAFT product does not exist for anyone but its seller and admins, as
// in catalog: no SKU, seller or status leaks through inventory. Once
// published it is everybody's, and so is an archived one (readable by ID).
func TestGet404DraftForAnyoneButItsSellerAndAdmins(t *testing.T) {
	h := start(t, nil)
	id := uuid.NewString()
	path := "/api/v1/inventory/" + id
	h.publish(id, &eventsv1.ProductUpserted{ProductId: id, Sku: "SECRET-" + id[:8], SellerId: sellerID, Status: "DRAFT", Version: 1})
	h.waitFor("the draft", func() bool { return h.call(http.MethodGet, path, "admin", nil, nil) == http.StatusOK })

	for _, who := range []string{"", "customer", "other"} {
		var p problemView
		if st := h.call(http.MethodGet, path, who, nil, &p); st != http.StatusNotFound || p.Type != "urn:shop:problem:product-not-found" {
			t.Errorf("%q sees the draft: %d %+v", who, st, p)
		}
	}
	if st := h.call(http.MethodGet, path, "seller", nil, nil); st != http.StatusOK {
		t.Errorf("its seller: %d", st)
	}

	// In version order: an older version arriving after a newer one is ignored.
	for i, status := range []string{"ACTIVE", "ARCHIVED"} {
		version := int64(i + 2)
		h.publish(id, &eventsv1.ProductUpserted{ProductId: id, Sku: "SECRET-" + id[:8], SellerId: sellerID, Status: status, Version: version})
		h.waitFor("the product "+status+" for anyone", func() bool {
			var s map[string]any
			return h.call(http.MethodGet, path, "", nil, &s) == http.StatusOK && s["status"] == status
		})
	}
}
