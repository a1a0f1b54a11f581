package app_test

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/shop-oss/shop/pkg/testkit"
	"github.com/shop-oss/shop/proto-events/eventsv1"
	"github.com/shop-oss/shop/services/order/internal/ordertest"
)

// The product cache is wired to the consumer: with a TTL that never runs
// out in a test, only the catalog event's commit can make the next order
// see a new price or an archive.
func TestACatalogChangeReachesTheNextOrderDespiteTheProductCache(t *testing.T) {
	e := newEnv(t, map[string]string{"SHOP_ORDER_PRODUCT_CACHE_TTL": "1h"})
	e.Catalog()
	if o := e.Place(ordertest.CustomerID, ordertest.Line(ordertest.Alpha, 1)); o.Total.AmountMinor != 1999 {
		t.Fatalf("first order: total %d, want 1999", o.Total.AmountMinor)
	}
	e.Produce(ordertest.Alpha, &eventsv1.ProductPriceChanged{ProductId: ordertest.Alpha, Version: 2,
		OldPrice: &eventsv1.Money{AmountMinor: 1999, Currency: "EUR"}, NewPrice: &eventsv1.Money{AmountMinor: 2500, Currency: "EUR"}})
	testkit.Eventually(t, 20*time.Second, "an order placed after the price change kept the cached price", func() bool {
		return e.Place(ordertest.CustomerID, ordertest.Line(ordertest.Alpha, 1)).Total.AmountMinor == 2500
	})

	e.Produce(ordertest.Alpha, &eventsv1.ProductArchived{ProductId: ordertest.Alpha, Version: 3})
	testkit.Eventually(t, 20*time.Second, "an archived product could still be ordered from the cache", func() bool {
		r := e.Do("POST", "/api/v1/orders", ordertest.CustomerID, map[string]any{"lines": []any{ordertest.Line(ordertest.Alpha, 1)}}, "Idempotency-Key", uuid.NewString())
		return r.Status == 400
	})
}
