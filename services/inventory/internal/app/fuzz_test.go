package app_test

import (
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/shop-oss/shop/pkg/auth"
	"github.com/shop-oss/shop/pkg/fuzztest"
	"github.com/shop-oss/shop/pkg/service"
	"github.com/shop-oss/shop/proto-events/eventsv1"
	"github.com/shop-oss/shop/services/inventory/internal/app"
)

// The fixtures' fixed IDs, so that seeds (protobuf payloads among them)
// can name them.
const (
	fuzzSeller   = "0190f000-0000-7000-8000-00000000b001"
	fuzzAdmin    = "0190f000-0000-7000-8000-00000000a001"
	fuzzCustomer = "0190f000-0000-7000-8000-00000000c001"
	fuzzProduct  = "0190f000-0000-7000-8000-0000000000f1" // 1,000 on hand
	reservedOne  = "0190f000-0000-7000-8000-000000000101" // reserved in setup
	reservedTwo  = "0190f000-0000-7000-8000-000000000102" // reserved in setup
	freshOrder   = "0190f000-0000-7000-8000-000000000103" // unknown until a seed names it
	freshProduct = "0190f000-0000-7000-8000-0000000000f2"
)

// fuzzInventory runs inventory with a product of the seller's in stock and
// two orders reserved by the admin.
func fuzzInventory(tb testing.TB) (fuzztest.Service, map[string]string) {
	s := fuzztest.Start(tb, "inventory", nil, func(cfg app.Config, log io.Writer) (*service.Service, error) {
		return app.New(context.Background(), cfg, app.Options{LogOutput: log})
	})
	tokens := map[string]string{
		"seller":   s.Stack.Issuer.Token(tb, fuzzSeller, auth.RoleSeller),
		"admin":    s.Stack.Issuer.Token(tb, fuzzAdmin, auth.RoleAdmin),
		"customer": s.Stack.Issuer.Token(tb, fuzzCustomer, auth.RoleCustomer),
	}
	s.Apply(tb, fuzzProduct, &eventsv1.ProductUpserted{ProductId: fuzzProduct, Sku: "FUZZ-1", Name: "Fuzz",
		SellerId: fuzzSeller, Status: "ACTIVE", Version: 1})
	s.Call(tb, http.StatusOK, "PUT", "/api/v1/inventory/"+fuzzProduct, tokens["seller"], map[string]any{"on_hand": 1000}, nil)
	for _, order := range []string{reservedOne, reservedTwo} {
		s.Call(tb, http.StatusCreated, "POST", "/api/v1/inventory/reserve", tokens["admin"], map[string]any{
			"order_id": order, "lines": []map[string]any{{"product_id": fuzzProduct, "quantity": 1}},
		}, nil, "Idempotency-Key", "setup-"+order)
	}
	return s, tokens
}

func FuzzWriteRequests(f *testing.F) {
	seeds := []fuzztest.Request{
		{Name: "ok-reserve", Op: "POST /api/v1/inventory/reserve", Caller: "admin",
			Body: `{"order_id":"` + freshOrder + `","lines":[{"product_id":"$product","quantity":2}],` +
				`"user_id":"` + fuzzCustomer + `","total":{"amount_minor":3998,"currency":"EUR"}}`},
		{Name: "ok-confirm", Op: "POST /api/v1/inventory/confirm", Caller: "admin", Body: `{"order_id":"$reserved"}`},
		{Name: "ok-release", Op: "POST /api/v1/inventory/release", Caller: "admin",
			Body: `{"order_id":"$released","reason":"CUSTOMER_CANCELLED"}`},
		{Name: "ok-set-stock", Op: "PUT /api/v1/inventory/{productId}", Caller: "seller", Param: "$product",
			Body: `{"on_hand":1000,"low_stock_threshold":5}`},
		{Name: "ok-adjust", Op: "POST /api/v1/inventory/{productId}/adjust", Caller: "seller", Param: "$product",
			Body: `{"delta":5,"reason":"A box turned up","kind":"RECEIVED"}`},
		{Name: "ok-dlq-replay", Op: "POST /api/v1/admin/dlq/inventory/replay", Caller: "admin", Body: `{"dry_run":true}`},
		{Name: "ok-dlq-replay-one", Op: "POST /api/v1/admin/dlq/inventory/{offset}/replay", Caller: "admin",
			Param: "0", Query: "dry_run=true"},
		{Name: "bad-reserve-huge-quantity", Op: "POST /api/v1/inventory/reserve", Caller: "admin",
			Body: `{"order_id":"` + freshOrder + `","lines":[{"product_id":"$product","quantity":9223372036854775807}]}`},
		{Name: "bad-adjust-min-int64", Op: "POST /api/v1/inventory/{productId}/adjust", Caller: "admin", Param: "$product",
			Body: `{"delta":-9223372036854775808,"reason":"x"}`},
		{Name: "any-reserve-same-product-twice", Op: "POST /api/v1/inventory/reserve", Caller: "admin",
			Body: `{"order_id":"` + freshOrder + `","lines":[{"product_id":"$product","quantity":1},{"product_id":"$product","quantity":1}]}`},
		{Name: "any-set-stock-unknown-product", Op: "PUT /api/v1/inventory/{productId}", Caller: "admin",
			Param: "0190f000-0000-7000-8000-0000000000ff", Body: `{"on_hand":0}`},
	}
	for _, s := range seeds[:5] {
		seeds = append(seeds, fuzztest.Spoiled(s)...)
	}
	fuzztest.Requests(f, seeds, func(tb testing.TB) fuzztest.API {
		s, tokens := fuzzInventory(tb)
		return fuzztest.API{
			Spec: "../../api/openapi.yaml", Handler: s.Engine, Log: s.Log,
			Callers: []fuzztest.Caller{{Name: "anonymous"}, {Name: "seller", Token: tokens["seller"]},
				{Name: "admin", Token: tokens["admin"]}, {Name: "customer", Token: tokens["customer"]}},
			Values: map[string]string{"product": fuzzProduct, "reserved": reservedOne, "released": reservedTwo},
		}
	})
}

func FuzzEvents(f *testing.F) {
	line := []*eventsv1.OrderLine{{ProductId: fuzzProduct, Quantity: 1, UnitPrice: &eventsv1.Money{AmountMinor: 1999, Currency: "EUR"}}}
	seeds := []fuzztest.Event{
		{Name: "ok-order-created", Type: eventsv1.TypeOrderCreated, Key: freshOrder,
			Payload: fuzztest.Payload(&eventsv1.OrderCreated{OrderId: freshOrder, UserId: fuzzCustomer, Lines: line,
				Total: &eventsv1.Money{AmountMinor: 1999, Currency: "EUR"}})},
		{Name: "ok-payment-success", Type: eventsv1.TypePaymentSuccess, Key: reservedOne,
			Payload: fuzztest.Payload(&eventsv1.PaymentSucceeded{OrderId: reservedOne, PaymentId: reservedTwo})},
		{Name: "ok-payment-failed", Type: eventsv1.TypePaymentFailed, Key: reservedTwo,
			Payload: fuzztest.Payload(&eventsv1.PaymentFailed{OrderId: reservedTwo, PaymentId: reservedOne, ReasonCode: "CARD_DECLINED"})},
		{Name: "ok-order-cancelled", Type: eventsv1.TypeOrderCancelled, Key: freshOrder,
			Payload: fuzztest.Payload(&eventsv1.OrderCancelled{OrderId: freshOrder, UserId: fuzzCustomer, Reason: "CUSTOMER_REQUEST"})},
		{Name: "ok-product-upserted", Type: eventsv1.TypeProductUpserted, Key: freshProduct,
			Payload: fuzztest.Payload(&eventsv1.ProductUpserted{ProductId: freshProduct, Sku: "FUZZ-2", Name: "Fuzz 2",
				SellerId: fuzzSeller, Status: "ACTIVE", Version: 1, Price: &eventsv1.Money{AmountMinor: 100, Currency: "EUR"}})},
		{Name: "ok-product-archived", Type: eventsv1.TypeProductArchived, Key: freshProduct,
			Payload: fuzztest.Payload(&eventsv1.ProductArchived{ProductId: freshProduct, Version: 2})},
		{Name: "any-order-created-huge-quantity", Type: eventsv1.TypeOrderCreated, Key: freshOrder,
			Payload: fuzztest.Payload(&eventsv1.OrderCreated{OrderId: freshOrder, UserId: fuzzCustomer,
				Lines: []*eventsv1.OrderLine{{ProductId: fuzzProduct, Quantity: 1<<31 - 1}, {ProductId: fuzzProduct, Quantity: -5}}})},
		{Name: "any-product-upserted-nul-sku", Type: eventsv1.TypeProductUpserted, Key: freshProduct,
			Payload: fuzztest.Payload(&eventsv1.ProductUpserted{ProductId: freshProduct, Sku: "FUZZ\x00", SellerId: fuzzSeller,
				Status: "ACTIVE", Version: 1 << 62})},
		{Name: "any-product-upserted-bad-seller", Type: eventsv1.TypeProductUpserted, Key: freshProduct,
			Payload: fuzztest.Payload(&eventsv1.ProductUpserted{ProductId: freshProduct, SellerId: "seller", Version: -1})},
	}
	for _, s := range seeds[:6] {
		seeds = append(seeds, fuzztest.SpoiledEvents(s.Type, s.Key, s.Payload)...)
	}
	fuzztest.Events(f, seeds, func(tb testing.TB) fuzztest.Consumer {
		s, _ := fuzzInventory(tb)
		return fuzztest.Consumer{Consumer: s.Consumer, Log: s.Log}
	})
}
