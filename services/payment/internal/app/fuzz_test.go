package app_test

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/shop-oss/shop/pkg/auth"
	"github.com/shop-oss/shop/pkg/fuzztest"
	"github.com/shop-oss/shop/pkg/service"
	"github.com/shop-oss/shop/proto-events/eventsv1"
	"github.com/shop-oss/shop/services/payment/internal/app"
)

// The fixtures' fixed IDs, so that seeds (protobuf payloads among them)
// can name them.
const (
	customerID = "0190f000-0000-7000-8000-00000000c001"
	adminID    = "0190f000-0000-7000-8000-00000000a001"
	openOrder  = "0190f000-0000-7000-8000-000000000101" // a PENDING payment
	paidOrder  = "0190f000-0000-7000-8000-000000000102" // a SUCCEEDED payment
	newOrder   = "0190f000-0000-7000-8000-000000000103" // known to the events' seeds only
)

// fuzzPayment runs the payment service with a fast gateway (no latency,
// retries in milliseconds) for the fuzz targets.
func fuzzPayment(tb testing.TB) fuzztest.Service {
	return fuzztest.Start(tb, "payment", map[string]string{
		"SHOP_PAYMENT_GATEWAY_BACKOFF": "1ms", "SHOP_PAYMENT_GATEWAY_BACKOFF_MAX": "2ms",
		"SHOP_PAYMENT_GATEWAY_ATTEMPT_TIMEOUT": "50ms",
		// Off: the fuzzer confirms far more often than a customer may
		// (the limit has its own test).
		"SHOP_PAYMENT_CONFIRM_PER_MINUTE": "0",
	}, func(cfg app.Config, log io.Writer) (*service.Service, error) {
		return app.New(context.Background(), cfg, app.Options{LogOutput: log})
	})
}

// reserved is INVENTORY_RESERVED of one of the customer's orders, 19.99 EUR.
func reserved(order string) *eventsv1.InventoryReserved {
	return &eventsv1.InventoryReserved{
		OrderId: order, ReservationId: order[:len(order)-4] + "beef", ExpiresAt: timestamppb.New(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)),
		Lines:  []*eventsv1.ReservedLine{{ProductId: "0190f000-0000-7000-8000-0000000000f1", Quantity: 1}},
		UserId: customerID, Total: &eventsv1.Money{AmountMinor: 1999, Currency: "EUR"},
	}
}

func FuzzWriteRequests(f *testing.F) {
	seeds := []fuzztest.Request{
		{Name: "ok-initiate", Op: "POST /api/v1/payments/initiate", Caller: "customer",
			Body: `{"order_id":"$order"}`},
		{Name: "ok-confirm", Op: "POST /api/v1/payments/confirm", Caller: "customer",
			Body: `{"payment_id":"$payment","card_number":"4242 4242 4242 4242"}`},
		{Name: "ok-refund", Op: "POST /api/v1/payments/refund", Caller: "admin",
			Body: `{"payment_id":"$paid_payment","amount_minor":100,"reason":"GOODWILL"}`},
		{Name: "ok-dlq-replay", Op: "POST /api/v1/admin/dlq/payment/replay", Caller: "admin",
			Body: `{"dry_run":true}`},
		{Name: "ok-dlq-replay-one", Op: "POST /api/v1/admin/dlq/payment/{offset}/replay", Caller: "admin",
			Param: "0", Query: "dry_run=true"},
		{Name: "bad-dlq-replay-offset", Op: "POST /api/v1/admin/dlq/payment/{offset}/replay", Caller: "admin",
			Param: "not-an-offset", Query: "dry_run=maybe"},
		{Name: "any-confirm-huge-card", Op: "POST /api/v1/payments/confirm", Caller: "customer",
			Body: `{"payment_id":"$payment","card_number":"4242424242424242424242424242424242424242"}`},
		{Name: "any-refund-max-int64", Op: "POST /api/v1/payments/refund", Caller: "admin",
			Body: `{"payment_id":"$paid_payment","amount_minor":9223372036854775807}`},
		{Name: "any-initiate-other-headers", Op: "POST /api/v1/payments/initiate", Caller: "customer",
			Headers: "Idempotency-Key: \nContent-Type: text/plain", Body: `{"order_id":"$order"}`},
	}
	for _, s := range seeds[:3] {
		seeds = append(seeds, fuzztest.Spoiled(s)...)
	}
	fuzztest.Requests(f, seeds, func(tb testing.TB) fuzztest.API {
		s := fuzzPayment(tb)
		customer := s.Stack.Issuer.Token(tb, customerID, auth.RoleCustomer)
		admin := s.Stack.Issuer.Token(tb, adminID, auth.RoleAdmin)
		s.Apply(tb, openOrder, reserved(openOrder))
		s.Apply(tb, paidOrder, reserved(paidOrder))
		var open, paid struct {
			Items []struct{ ID string } `json:"items"`
		}
		s.Call(tb, http.StatusOK, "GET", "/api/v1/payments?orderId="+openOrder, customer, nil, &open)
		s.Call(tb, http.StatusOK, "GET", "/api/v1/payments?orderId="+paidOrder, customer, nil, &paid)
		if len(open.Items) != 1 || len(paid.Items) != 1 {
			tb.Fatalf("setup: payments %v and %v, want one each", open, paid)
		}
		s.Call(tb, http.StatusOK, "POST", "/api/v1/payments/confirm", customer,
			map[string]string{"payment_id": paid.Items[0].ID, "card_number": "4242424242424242"}, nil,
			"Idempotency-Key", "setup-confirm")
		return fuzztest.API{
			Spec: "../../api/openapi.yaml", Handler: s.Engine, Log: s.Log,
			Callers: []fuzztest.Caller{
				{Name: "anonymous"}, {Name: "customer", Token: customer}, {Name: "admin", Token: admin},
				{Name: "seller", Token: s.Stack.Issuer.Token(tb, "0190f000-0000-7000-8000-00000000b001", auth.RoleSeller)},
			},
			Values: map[string]string{"order": openOrder, "payment": open.Items[0].ID, "paid_payment": paid.Items[0].ID},
		}
	})
}

func FuzzEvents(f *testing.F) {
	seeds := []fuzztest.Event{
		{Name: "ok-inventory-reserved", Type: eventsv1.TypeInventoryReserved, Key: newOrder,
			Payload: fuzztest.Payload(reserved(newOrder))},
		{Name: "ok-order-cancelled", Type: eventsv1.TypeOrderCancelled, Key: newOrder,
			Payload: fuzztest.Payload(&eventsv1.OrderCancelled{OrderId: newOrder, UserId: customerID, Reason: "CUSTOMER_REQUEST", Paid: true})},
		{Name: "ok-reservation-expired", Type: eventsv1.TypeReservationExpired, Key: newOrder,
			Payload: fuzztest.Payload(&eventsv1.ReservationExpired{OrderId: newOrder, ReservationId: newOrder})},
		{Name: "bad-inventory-reserved-negative-total", Type: eventsv1.TypeInventoryReserved, Key: newOrder,
			Payload: fuzztest.Payload(&eventsv1.InventoryReserved{OrderId: newOrder, ReservationId: newOrder,
				UserId: customerID, Total: &eventsv1.Money{AmountMinor: -1, Currency: "EUR"}})},
		{Name: "any-inventory-reserved-huge-total", Type: eventsv1.TypeInventoryReserved, Key: newOrder,
			Payload: fuzztest.Payload(&eventsv1.InventoryReserved{OrderId: newOrder, ReservationId: newOrder,
				UserId: customerID, Total: &eventsv1.Money{AmountMinor: 1<<63 - 1, Currency: "EUR"}})},
		{Name: "any-order-cancelled-nul-reason", Type: eventsv1.TypeOrderCancelled, Key: newOrder,
			Payload: fuzztest.Payload(&eventsv1.OrderCancelled{OrderId: newOrder, Reason: "a\x00b"})},
	}
	for _, s := range seeds[:3] {
		seeds = append(seeds, fuzztest.SpoiledEvents(s.Type, s.Key, s.Payload)...)
	}
	fuzztest.Events(f, seeds, func(tb testing.TB) fuzztest.Consumer {
		s := fuzzPayment(tb)
		return fuzztest.Consumer{Consumer: s.Consumer, Log: s.Log}
	})
}
