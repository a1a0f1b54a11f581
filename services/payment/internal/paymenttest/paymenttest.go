// Package paymenttest is the payment service's test fixture: the real
// service (PostgreSQL, Redis, broker) built by app.New and served on a free
// port, a gateway that counts charges, helpers that make saga events,
// deliver them to the service (through the broker, or straight through the
// handlers in a transaction), read payment.events back, and call the API
// with a spec-checked client. Only tests import it.
package paymenttest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/segmentio/kafka-go"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
	"gorm.io/gorm"

	"github.com/shop-oss/shop/pkg/auth"
	"github.com/shop-oss/shop/pkg/consumer"
	"github.com/shop-oss/shop/pkg/event"
	"github.com/shop-oss/shop/pkg/openapitest"
	"github.com/shop-oss/shop/pkg/service"
	"github.com/shop-oss/shop/pkg/testkit"
	"github.com/shop-oss/shop/proto-events/eventsv1"
	"github.com/shop-oss/shop/services/payment/internal/app"
	"github.com/shop-oss/shop/services/payment/internal/gateway"
	"github.com/shop-oss/shop/services/payment/internal/payment"
	"github.com/shop-oss/shop/services/payment/internal/paymentdb"
	"github.com/shop-oss/shop/services/payment/internal/paymentevents"
)

// Fixture is one running payment service and its infrastructure.
type Fixture struct {
	Stack   *testkit.Stack
	Svc     *service.Service
	Config  app.Config
	Base    string
	Spec    *openapitest.Spec
	Gateway *CountingGateway
	// Handlers are the event handlers over the service's database, to apply
	// events without the broker.
	Handlers *paymentevents.Handlers
}

// Start runs the payment service with the test gateway settings (backoff
// 1 ms) and env overrides.
func Start(t testing.TB, specPath string, env map[string]string) *Fixture {
	t.Helper()
	st := testkit.NewStack(t)
	vars := map[string]string{
		"SHOP_PAYMENT_GATEWAY_BACKOFF":     "1ms",
		"SHOP_PAYMENT_GATEWAY_BACKOFF_MAX": "4ms",
		// Off unless a test sets it: the tests confirm many payments for
		// a few users.
		"SHOP_PAYMENT_CONFIRM_PER_MINUTE": "0",
	}
	for k, v := range env {
		vars[k] = v
	}
	var cfg app.Config
	st.Config(t, "payment", &cfg, vars)
	gw := &CountingGateway{Next: cfg.Gateway()}
	// Long polls look again only when woken (or after a minute): a test of
	// one proves the wake-up.
	svc, err := app.New(context.Background(), cfg, app.Options{LogOutput: testkit.LogOutput(t), Gateway: gw, WaitRecheck: time.Minute})
	if err != nil {
		t.Fatalf("app.New: %v", err)
	}
	base := testkit.Run(t, svc)
	direct, err := payment.New(payment.Options{
		Store: paymentdb.New(svc.DB, svc.DB), Gateway: gw, Retry: cfg.Retry(), Log: svc.Log,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &Fixture{
		Stack: st, Svc: svc, Config: cfg, Base: base, Spec: openapitest.Load(t, specPath),
		Gateway: gw, Handlers: paymentevents.New(direct, nil),
	}
}

// CountingGateway counts the approved charges per payment of the gateway it
// wraps: the proof that a payment was charged at most once.
type CountingGateway struct {
	Next payment.Gateway

	mu       sync.Mutex
	charges  map[string]int
	attempts map[string]int
	refunded map[string]int64
}

// Charge passes the charge on and counts it.
func (g *CountingGateway) Charge(ctx context.Context, req payment.ChargeRequest) (payment.ChargeResult, error) {
	res, err := g.Next.Charge(ctx, req)
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.charges == nil {
		g.charges, g.attempts = map[string]int{}, map[string]int{}
	}
	g.attempts[req.PaymentID]++
	if err == nil && res.Approved {
		g.charges[req.PaymentID]++
	}
	return res, err
}

// Refund passes the refund on and sums it per charge.
func (g *CountingGateway) Refund(ctx context.Context, req payment.RefundRequest) error {
	err := g.Next.Refund(ctx, req)
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.refunded == nil {
		g.refunded = map[string]int64{}
	}
	if err == nil {
		g.refunded[req.ChargeID] += req.Amount.AmountMinor
	}
	return err
}

// Charges is how many approved charges the payment had at the gateway.
func (g *CountingGateway) Charges(paymentID string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.charges[paymentID]
}

// Attempts is how many charge attempts the payment had.
func (g *CountingGateway) Attempts(paymentID string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.attempts[paymentID]
}

// Refunded is the total the gateway refunded on a payment's charge.
func (g *CountingGateway) Refunded(chargeID string) int64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.refunded[chargeID]
}

// Event makes an event of msg keyed by key.
func Event(t testing.TB, key string, msg proto.Message) event.Event {
	t.Helper()
	e, err := event.New(context.Background(), key, msg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// OrderCreated is ORDER_CREATED for one line of total minor EUR.
func OrderCreated(t testing.TB, orderID, userID string, total int64) event.Event {
	return Event(t, orderID, &eventsv1.OrderCreated{
		OrderId: orderID, UserId: userID,
		Lines: []*eventsv1.OrderLine{{ProductId: uuid.NewString(), Quantity: 1,
			UnitPrice: &eventsv1.Money{AmountMinor: total, Currency: "EUR"}}},
		Total: &eventsv1.Money{AmountMinor: total, Currency: "EUR"},
	})
}

// Reserved is INVENTORY_RESERVED expiring at expires, for an order of
// userID's of total minor EUR.
func Reserved(t testing.TB, orderID, userID string, total int64, expires time.Time) event.Event {
	return Event(t, orderID, &eventsv1.InventoryReserved{
		OrderId: orderID, ReservationId: uuid.NewString(), ExpiresAt: timestamppb.New(expires),
		Lines:  []*eventsv1.ReservedLine{{ProductId: uuid.NewString(), Quantity: 1}},
		UserId: userID, Total: &eventsv1.Money{AmountMinor: total, Currency: "EUR"},
	})
}

// ReservedWithoutOrder is INVENTORY_RESERVED as an inventory older than
// its owner and total fields sends it (or a staff reservation that named
// neither).
func ReservedWithoutOrder(t testing.TB, orderID string, expires time.Time) event.Event {
	return Event(t, orderID, &eventsv1.InventoryReserved{
		OrderId: orderID, ReservationId: uuid.NewString(), ExpiresAt: timestamppb.New(expires),
		Lines: []*eventsv1.ReservedLine{{ProductId: uuid.NewString(), Quantity: 1}},
	})
}

// KnownToOlderService records the order's owner and total in the order
// projection as a payment service older than INVENTORY_RESERVED's owner
// and total fields did when it consumed ORDER_CREATED.
func (f *Fixture) KnownToOlderService(t testing.TB, orderID, userID string, total int64) {
	t.Helper()
	err := f.Svc.DB.Exec(`INSERT INTO order_projection (order_id, user_id, total_minor, currency) VALUES (?, ?, ?, 'EUR')`,
		orderID, userID, total).Error
	if err != nil {
		t.Fatal(err)
	}
}

// Expired is RESERVATION_EXPIRED.
func Expired(t testing.TB, orderID string) event.Event {
	return Event(t, orderID, &eventsv1.ReservationExpired{OrderId: orderID, ReservationId: uuid.NewString()})
}

// Cancelled is ORDER_CANCELLED without the order's owner and total (which
// is enough for a payment that holds no captured money).
func Cancelled(t testing.TB, orderID, reason string, paid bool) event.Event {
	return Event(t, orderID, &eventsv1.OrderCancelled{OrderId: orderID, Reason: reason, Paid: paid})
}

// CancelledOf is ORDER_CANCELLED as the order service publishes it, with
// the order's owner and total (EUR).
func CancelledOf(t testing.TB, orderID, userID string, total int64, reason string, paid bool) event.Event {
	return Event(t, orderID, &eventsv1.OrderCancelled{OrderId: orderID, UserId: userID, Reason: reason, Paid: paid,
		Total: &eventsv1.Money{AmountMinor: total, Currency: "EUR"}})
}

// Apply delivers events to the handlers directly, each in its own
// transaction (as the consumer would, minus the inbox), and fails the test
// on an error.
func (f *Fixture) Apply(t testing.TB, events ...event.Event) {
	t.Helper()
	for _, e := range events {
		if err := f.ApplyErr(e); err != nil {
			t.Fatalf("apply %s: %v", e.Type, err)
		}
	}
}

// ApplyErr delivers one event to its handler in a transaction.
func (f *Fixture) ApplyErr(e event.Event) error {
	h := map[string]consumer.Handler{
		eventsv1.TypeOrderCancelled:     f.Handlers.OrderCancelled,
		eventsv1.TypeInventoryReserved:  f.Handlers.InventoryReserved,
		eventsv1.TypeReservationExpired: f.Handlers.ReservationExpired,
	}[e.Type]
	if h == nil {
		return fmt.Errorf("payment handles no %s", e.Type)
	}
	ctx := e.Context(context.Background())
	return f.Svc.DB.Transaction(func(tx *gorm.DB) error { return h(ctx, tx, e) })
}

// Publish produces events to the broker, as their producers' relays would.
func (f *Fixture) Publish(t testing.TB, events ...event.Event) {
	t.Helper()
	msgs := make([]kafka.Message, len(events))
	for i, e := range events {
		msgs[i] = e.Message()
	}
	w := f.Svc.Broker.Writer()
	defer w.Close()
	if err := w.WriteMessages(context.Background(), msgs...); err != nil {
		t.Fatalf("publish: %v", err)
	}
}

// Published reads payment.events until want events keyed by orderID have
// arrived (failing after 20 s), then 300 ms more to catch extras, and
// returns their types in order.
func (f *Fixture) Published(t testing.TB, orderID string, want int) []event.Event {
	t.Helper()
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers: f.Svc.Broker.Brokers, GroupID: "reader-" + uuid.NewString(), Topic: eventsv1.TopicPayment,
		StartOffset: kafka.FirstOffset, MaxWait: 100 * time.Millisecond, HeartbeatInterval: time.Second,
	})
	defer r.Close()
	var out []event.Event
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	settle := time.Time{}
	for {
		if len(out) >= want && settle.IsZero() {
			settle = time.Now().Add(300 * time.Millisecond)
			var c2 context.CancelFunc
			ctx, c2 = context.WithDeadline(ctx, settle)
			defer c2()
		}
		m, err := r.FetchMessage(ctx)
		if err != nil {
			if len(out) < want {
				t.Fatalf("payment.events for %s: got %d of %d events: %v", orderID, len(out), want, err)
			}
			return out
		}
		if string(m.Key) != orderID {
			continue
		}
		e, err := event.FromMessage(m)
		if err != nil {
			t.Fatalf("payment.events: %v", err)
		}
		out = append(out, e)
	}
}

// Types lists the events' types.
func Types(events []event.Event) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = e.Type
	}
	return out
}

// Token returns a bearer token for a user of role.
func (f *Fixture) Token(t testing.TB, userID string, role auth.Role) string {
	return f.Stack.Issuer.Token(t, userID, role)
}

// Call makes an HTTP call through the spec-checked client and decodes a
// JSON answer into out (when not nil). header is name, value pairs.
func (f *Fixture) Call(t testing.TB, method, path, token string, body any, out any, header ...string) *http.Response {
	t.Helper()
	req := testkit.JSONRequest(t, method, f.Base+path, token, body, header...)
	res, err := f.Spec.Client(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	res.Body = io.NopCloser(bytes.NewReader(raw))
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s → %d: decode %s: %v", method, path, res.StatusCode, raw, err)
		}
	}
	return res
}

// Cards re-exports the test cards for the tests' tables.
var Cards = struct{ Success, Declined, Insufficient, TimeoutThenSuccess, AlwaysTimeout string }{
	gateway.CardSuccess, gateway.CardDeclined, gateway.CardInsufficientFunds,
	gateway.CardTimeoutThenSuccess, gateway.CardAlwaysTimeout,
}
