package app_test

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/shop-oss/shop/pkg/auth"
	"github.com/shop-oss/shop/pkg/fuzztest"
	"github.com/shop-oss/shop/pkg/service"
	"github.com/shop-oss/shop/proto-events/eventsv1"
	"github.com/shop-oss/shop/services/order/internal/app"
)

// The fixtures' fixed IDs; orders get theirs from the service, and seeds
// name them by placeholder ($paid, ...).
const (
	fuzzCustomer = "0190f000-0000-7000-8000-00000000c001"
	fuzzAdmin    = "0190f000-0000-7000-8000-00000000a001"
	fuzzSeller   = "0190f000-0000-7000-8000-00000000b001"
	fuzzProduct  = "0190f000-0000-7000-8000-0000000000f1" // ACTIVE, 19.99 EUR
	newProduct   = "0190f000-0000-7000-8000-0000000000f2" // known to the events' seeds only
	anyUUID      = "0190f000-0000-7000-8000-000000000fff"
)

type orderFixture struct {
	fuzztest.Service
	tokens map[string]string
	orders map[string]string // by placeholder name
}

// fuzzOrder runs the order service with a product in its catalog replica
// and orders of the customer's: one for each name, placed (CREATED); then
// those named reserved, paid and shipped are taken there by the saga's
// events (and the admin, for shipped).
func fuzzOrder(tb testing.TB, names ...string) orderFixture {
	// The per-customer limits are off: the fuzzer places far more orders
	// than a customer may hold (the limits have their own tests).
	s := fuzztest.Start(tb, "order", map[string]string{
		"SHOP_ORDER_MAX_OPEN_ORDERS": "0", "SHOP_ORDER_MAX_OPEN_UNITS": "0", "SHOP_ORDER_PLACE_PER_MINUTE": "0",
	}, func(cfg app.Config, log io.Writer) (*service.Service, error) {
		return app.New(context.Background(), cfg, app.Options{LogOutput: log})
	})
	o := orderFixture{Service: s, orders: map[string]string{}, tokens: map[string]string{
		"customer": s.Stack.Issuer.Token(tb, fuzzCustomer, auth.RoleCustomer),
		"admin":    s.Stack.Issuer.Token(tb, fuzzAdmin, auth.RoleAdmin),
		"seller":   s.Stack.Issuer.Token(tb, fuzzSeller, auth.RoleSeller),
	}}
	s.Apply(tb, fuzzProduct, &eventsv1.ProductUpserted{ProductId: fuzzProduct, Sku: "FUZZ-1", Name: "Fuzz", SellerId: fuzzSeller,
		Status: "ACTIVE", Version: 1, Price: &eventsv1.Money{AmountMinor: 1999, Currency: "EUR"}})
	for _, name := range names {
		var placed struct{ ID string }
		s.Call(tb, http.StatusCreated, "POST", "/api/v1/orders", o.tokens["customer"],
			map[string]any{"lines": []map[string]any{{"product_id": fuzzProduct, "quantity": 1}}}, &placed,
			"Idempotency-Key", "setup-"+name)
		o.orders[name] = placed.ID
		id := placed.ID
		apply := func(m proto.Message) { s.Apply(tb, id, m) }
		switch name {
		case "reserved", "paid", "shipped":
			apply(&eventsv1.InventoryReserved{OrderId: id, ReservationId: anyUUID, ExpiresAt: timestamppb.New(time.Now().Add(time.Hour)),
				UserId: fuzzCustomer, Total: &eventsv1.Money{AmountMinor: 1999, Currency: "EUR"}})
		}
		switch name {
		case "paid", "shipped":
			apply(&eventsv1.PaymentSucceeded{OrderId: id, PaymentId: anyUUID, Amount: &eventsv1.Money{AmountMinor: 1999, Currency: "EUR"}})
		}
		if name == "shipped" {
			s.Call(tb, http.StatusOK, "POST", "/api/v1/orders/"+id+"/ship", o.tokens["admin"], nil, nil)
		}
	}
	return o
}

func FuzzWriteRequests(f *testing.F) {
	seeds := []fuzztest.Request{
		{Name: "ok-place", Op: "POST /api/v1/orders", Caller: "customer",
			Body: `{"lines":[{"product_id":"$product","quantity":2}]}`},
		{Name: "ok-cancel", Op: "POST /api/v1/orders/{id}/cancel", Caller: "customer", Param: "$placed",
			Body: `{"note":"changed my mind"}`},
		{Name: "ok-ship", Op: "POST /api/v1/orders/{id}/ship", Caller: "admin", Param: "$paid"},
		{Name: "ok-deliver", Op: "POST /api/v1/orders/{id}/deliver", Caller: "admin", Param: "$shipped"},
		{Name: "ok-dlq-replay", Op: "POST /api/v1/admin/dlq/order/replay", Caller: "admin", Body: `{"dry_run":true}`},
		{Name: "ok-dlq-replay-one", Op: "POST /api/v1/admin/dlq/order/{offset}/replay", Caller: "admin",
			Param: "0", Query: "dry_run=true"},
		{Name: "bad-place-huge-quantity", Op: "POST /api/v1/orders", Caller: "customer",
			Body: `{"lines":[{"product_id":"$product","quantity":9223372036854775807}]}`},
		{Name: "bad-place-priced-by-client", Op: "POST /api/v1/orders", Caller: "customer",
			Body: `{"lines":[{"product_id":"$product","quantity":1,"unit_price_minor":1}]}`},
		{Name: "any-place-many-lines", Op: "POST /api/v1/orders", Caller: "customer",
			Body: `{"lines":[{"product_id":"$product","quantity":1},{"product_id":"$product","quantity":1},{"product_id":"` + anyUUID + `","quantity":1}]}`},
		{Name: "any-cancel-not-json", Op: "POST /api/v1/orders/{id}/cancel", Caller: "admin", Param: "$paid", Body: "note"},
	}
	for _, s := range seeds[:2] {
		seeds = append(seeds, fuzztest.Spoiled(s)...)
	}
	fuzztest.Requests(f, seeds, func(tb testing.TB) fuzztest.API {
		o := fuzzOrder(tb, "placed", "paid", "shipped")
		values := map[string]string{"product": fuzzProduct}
		for k, v := range o.orders {
			values[k] = v
		}
		return fuzztest.API{
			Spec: "../../api/openapi.yaml", Handler: o.Engine, Log: o.Log,
			Callers: []fuzztest.Caller{{Name: "anonymous"}, {Name: "customer", Token: o.tokens["customer"]},
				{Name: "admin", Token: o.tokens["admin"]}, {Name: "seller", Token: o.tokens["seller"]}},
			Values: values,
		}
	})
}

func FuzzEvents(f *testing.F) {
	eur := &eventsv1.Money{AmountMinor: 1999, Currency: "EUR"}
	ev := func(name, typ, order string, m proto.Message) fuzztest.Event {
		return fuzztest.Event{Name: name, Type: typ, Key: order, Payload: fuzztest.Payload(m)}
	}
	seeds := []fuzztest.Event{
		ev("ok-inventory-reserved", eventsv1.TypeInventoryReserved, "$placed", &eventsv1.InventoryReserved{OrderId: "$placed",
			ReservationId: anyUUID, ExpiresAt: timestamppb.New(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)),
			Lines: []*eventsv1.ReservedLine{{ProductId: fuzzProduct, Quantity: 1}}, UserId: fuzzCustomer, Total: eur}),
		ev("ok-inventory-rejected", eventsv1.TypeInventoryRejected, "$rejected", &eventsv1.InventoryRejected{OrderId: "$rejected",
			Reason: "OUT_OF_STOCK", ShortLines: []*eventsv1.ShortLine{{ProductId: fuzzProduct, Requested: 1, Available: 0}}}),
		ev("ok-reservation-expired", eventsv1.TypeReservationExpired, "$expired", &eventsv1.ReservationExpired{OrderId: "$expired", ReservationId: anyUUID}),
		ev("ok-payment-success", eventsv1.TypePaymentSuccess, "$reserved", &eventsv1.PaymentSucceeded{OrderId: "$reserved", PaymentId: anyUUID, Amount: eur}),
		ev("ok-payment-failed", eventsv1.TypePaymentFailed, "$failed", &eventsv1.PaymentFailed{OrderId: "$failed", PaymentId: anyUUID, ReasonCode: "GATEWAY_TIMEOUT", Amount: eur}),
		ev("ok-inventory-confirmed", eventsv1.TypeInventoryConfirmed, "$paid", &eventsv1.InventoryConfirmed{OrderId: "$paid", ReservationId: anyUUID}),
		ev("ok-inventory-released", eventsv1.TypeInventoryReleased, "$paid", &eventsv1.InventoryReleased{OrderId: "$paid", ReservationId: anyUUID, Reason: "ORDER_CANCELLED"}),
		ev("ok-payment-initiated", eventsv1.TypePaymentInitiated, "$paid", &eventsv1.PaymentInitiated{OrderId: "$paid", PaymentId: anyUUID, Amount: eur}),
		ev("ok-payment-refunded", eventsv1.TypePaymentRefunded, "$paid", &eventsv1.PaymentRefunded{OrderId: "$paid", PaymentId: anyUUID, RefundId: anyUUID, Reason: "ADMIN"}),
		ev("ok-payment-voided", eventsv1.TypePaymentVoided, "$paid", &eventsv1.PaymentVoided{OrderId: "$paid", PaymentId: anyUUID, Reason: "ORDER_CANCELLED"}),
		ev("ok-product-upserted", eventsv1.TypeProductUpserted, newProduct, &eventsv1.ProductUpserted{ProductId: newProduct, Sku: "FUZZ-2",
			Name: "Fuzz 2", SellerId: fuzzSeller, Status: "ACTIVE", Version: 1, Price: eur}),
		ev("ok-product-price-changed", eventsv1.TypeProductPriceChanged, fuzzProduct, &eventsv1.ProductPriceChanged{ProductId: fuzzProduct,
			NewPrice: &eventsv1.Money{AmountMinor: 2499, Currency: "EUR"}, Version: 2}),
		ev("ok-product-archived", eventsv1.TypeProductArchived, newProduct, &eventsv1.ProductArchived{ProductId: newProduct, Version: 2}),
		ev("bad-payment-success-unknown-order", eventsv1.TypePaymentSuccess, anyUUID, &eventsv1.PaymentSucceeded{OrderId: anyUUID, PaymentId: anyUUID}),
		ev("any-inventory-rejected-nul-reason", eventsv1.TypeInventoryRejected, "$placed", &eventsv1.InventoryRejected{OrderId: "$placed", Reason: "A\x00"}),
		ev("any-product-upserted-huge-price", eventsv1.TypeProductUpserted, newProduct, &eventsv1.ProductUpserted{ProductId: newProduct,
			Sku: "FUZZ-3", Name: "x", SellerId: fuzzSeller, Status: "ACTIVE", Version: 1 << 62, Price: &eventsv1.Money{AmountMinor: -1 << 63, Currency: "€"}}),
	}
	for _, s := range seeds[:13] {
		seeds = append(seeds, fuzztest.SpoiledEvents(s.Type, s.Key, s.Payload)...)
	}
	fuzztest.Events(f, seeds, func(tb testing.TB) fuzztest.Consumer {
		o := fuzzOrder(tb, "placed", "rejected", "expired", "reserved", "failed", "paid")
		return fuzztest.Consumer{Consumer: o.Consumer, Log: o.Log, Values: o.orders}
	})
}
