// Package ordertest is the order service's test harness, shared by the
// HTTP tests (orderapi) and the saga tests (app): the service wired as main
// wires it on a test stack, a spec-checked client, a producer and a
// Recorder of events, and the test catalog. Only tests import it.
package ordertest

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"
	"google.golang.org/protobuf/proto"
	"gorm.io/gorm"

	"github.com/shop-oss/shop/pkg/auth"
	"github.com/shop-oss/shop/pkg/broker"
	"github.com/shop-oss/shop/pkg/event"
	"github.com/shop-oss/shop/pkg/openapitest"
	"github.com/shop-oss/shop/pkg/service"
	"github.com/shop-oss/shop/pkg/testkit"
	"github.com/shop-oss/shop/proto-events/eventsv1"
	"github.com/shop-oss/shop/services/order/internal/app"
	"github.com/shop-oss/shop/services/order/internal/order"
	"github.com/shop-oss/shop/services/order/internal/orderdb"
	"github.com/shop-oss/shop/services/order/internal/orderevents"
)

// The demo users' IDs, and a few more.
const (
	AdminID    = "00000000-0000-7000-8000-000000000001"
	SellerID   = "00000000-0000-7000-8000-000000000002"
	CustomerID = "00000000-0000-7000-8000-000000000003"
	OtherID    = "00000000-0000-7000-8000-000000000004" // another customer
	Seller2ID  = "00000000-0000-7000-8000-000000000005" // another seller
)

// Env is one running order service on a test stack, with what the tests
// need around it: tokens, a spec-checked client, a producer for the topics
// the service consumes, a Recorder of order.events, and the domain over the
// same database for driving events directly.
type Env struct {
	T      testing.TB
	Stack  *testkit.Stack
	Cfg    app.Config
	Svc    *service.Service
	Base   string
	Spec   *openapitest.Spec
	Client *http.Client
	Writer *kafka.Writer
	// Published records order.events as the relay publishes them.
	Published *Recorder
	// Orders and Handlers run over the service's database, as the consumer
	// would, for tests that race events against requests.
	Orders   *order.Service
	Handlers *orderevents.Handlers
	Store    *orderdb.Store

	Tokens map[string]string
}

// New starts the service with the settings vars (besides the test
// stack's) and returns its Env.
func New(t testing.TB, vars map[string]string) *Env {
	t.Helper()
	st := testkit.NewStack(t)
	e := &Env{T: t, Stack: st, Tokens: map[string]string{}}
	// The per-customer limits are off unless a test sets them: the tests
	// place many orders for a few users (limits_test.go tests them).
	all := map[string]string{"SHOP_LOG_LEVEL": "info",
		"SHOP_ORDER_MAX_OPEN_ORDERS": "0", "SHOP_ORDER_MAX_OPEN_UNITS": "0", "SHOP_ORDER_PLACE_PER_MINUTE": "0"}
	for k, v := range vars {
		all[k] = v
	}
	st.Config(t, "order", &e.Cfg, all)
	var err error
	e.Svc, err = app.New(context.Background(), e.Cfg, app.Options{LogOutput: testkit.LogOutput(t)})
	if err != nil {
		t.Fatalf("app.New: %v", err)
	}
	e.Base = testkit.Run(t, e.Svc)
	e.Spec = loadSpec(t)
	e.Client = e.Spec.Client(t)
	bc := broker.Config{Brokers: []string{st.Broker.Addr()}, ClientID: "test"}
	e.Writer = bc.Writer()
	t.Cleanup(func() { _ = e.Writer.Close() })
	e.Published = NewRecorder(t, bc, eventsv1.TopicOrder)
	e.Store = orderdb.New(e.Svc.DB, e.Svc.DB)
	e.Orders = order.NewService(e.Store, app.DomainConfig(e.Cfg), nil)
	e.Handlers = orderevents.New(e.Orders, e.Store, nil)
	for id, role := range map[string]auth.Role{
		AdminID: auth.RoleAdmin, SellerID: auth.RoleSeller, Seller2ID: auth.RoleSeller,
		CustomerID: auth.RoleCustomer, OtherID: auth.RoleCustomer,
	} {
		e.Tokens[id] = st.Issuer.Token(t, id, role)
	}
	return e
}

// spec is shared by every test of a package (the document is read once),
// so that its TestMain can check that the tests together called every
// operation (CoveringTheSpec).
var (
	specOnce sync.Once
	spec     *openapitest.Spec
)

func loadSpec(t testing.TB) *openapitest.Spec {
	specOnce.Do(func() { spec = openapitest.Load(t, "../../api/openapi.yaml") })
	if spec == nil {
		t.Fatal("the OpenAPI document did not load")
	}
	return spec
}

// CoveringTheSpec runs the tests of m (TestMain's) and fails the run when
// an operation of the spec was never called (with a successful or failing
// status) by any test that ran. It returns the exit code.
func CoveringTheSpec(m *testing.M) int {
	code := m.Run()
	if code == 0 && spec != nil && !testing.Short() && flag.Lookup("test.run").Value.String() == "" {
		covered := strings.Join(spec.Covered(), "\n")
		for _, op := range spec.Operations() {
			if !strings.Contains(covered, op+" ") {
				fmt.Fprintf(os.Stderr, "FAIL: no test called %s\n", op)
				code = 1
			}
		}
	}
	return code
}

// Response is a finished HTTP exchange.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v.
func (r Response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// ProblemType is the problem's type slug ("" when the body is none).
func (r Response) ProblemType() string {
	var p struct{ Type string }
	_ = json.Unmarshal(r.Body, &p)
	return strings.TrimPrefix(p.Type, "urn:shop:problem:")
}

// Do sends a request as user ("" for anonymous); body is JSON-encoded
// unless it is a string; headers are name, value pairs.
func (e *Env) Do(method, path, user string, body any, headers ...string) Response {
	e.T.Helper()
	token := ""
	if user != "" {
		token = e.Tokens[user]
	}
	req := testkit.JSONRequest(e.T, method, e.Base+path, token, body, headers...)
	res, err := e.Client.Do(req)
	if err != nil {
		e.T.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return Response{Status: res.StatusCode, Header: res.Header, Body: b}
}

// OrderJSON is the API's order, as the tests read it.
type OrderJSON struct {
	ID     string `json:"id"`
	UserID string `json:"user_id"`
	Status string `json:"status"`
	Total  struct {
		AmountMinor int64  `json:"amount_minor"`
		Currency    string `json:"currency"`
	} `json:"total"`
	ItemCount int `json:"item_count"`
	Items     []struct {
		ProductID string `json:"product_id"`
		SKU       string `json:"sku"`
		Name      string `json:"name"`
		Quantity  int    `json:"quantity"`
		UnitPrice struct {
			AmountMinor int64 `json:"amount_minor"`
		} `json:"unit_price"`
	} `json:"items"`
	SellerID     string `json:"seller_id"`
	CancelReason string `json:"cancel_reason"`
}

// EntryJSON is a timeline entry of the API.
type EntryJSON struct {
	At     time.Time `json:"at"`
	Kind   string    `json:"kind"`
	From   string    `json:"from"`
	To     string    `json:"to"`
	Reason string    `json:"reason"`
	Actor  *struct {
		ID string `json:"id"`
	} `json:"actor"`
	Event *struct {
		ID   string `json:"id"`
		Type string `json:"type"`
	} `json:"event"`
	Emitted *struct {
		ID   string `json:"id"`
		Type string `json:"type"`
	} `json:"emitted"`
	Detail map[string]string `json:"detail"`
}

// Product publishes PRODUCT_UPSERTED for an ACTIVE product.
func (e *Env) Product(id, sku, name string, amount int64, currency, seller string, version int64) {
	e.T.Helper()
	e.Produce(id, &eventsv1.ProductUpserted{
		ProductId: id, Sku: sku, Name: name, SellerId: seller, Status: "ACTIVE", Version: version,
		Price: &eventsv1.Money{AmountMinor: amount, Currency: currency},
	})
}

// NewEvent wraps msg for key.
func NewEvent(t testing.TB, key string, msg proto.Message) event.Event {
	t.Helper()
	ev, err := event.New(context.Background(), key, msg)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// Produce publishes msg for key on its topic, bypassing any outbox (as the
// owning service's relay would), and returns the event.
func (e *Env) Produce(key string, msg proto.Message) event.Event {
	e.T.Helper()
	ev := NewEvent(e.T, key, msg)
	e.ProduceEvents(ev)
	return ev
}

// ProduceEvents publishes evs, bypassing any outbox.
func (e *Env) ProduceEvents(evs ...event.Event) {
	e.T.Helper()
	msgs := make([]kafka.Message, len(evs))
	for i, ev := range evs {
		msgs[i] = ev.Message()
	}
	if err := e.Writer.WriteMessages(context.Background(), msgs...); err != nil {
		e.T.Fatalf("produce: %v", err)
	}
}

// ApplyDirect runs the consumer's handler for ev in a transaction of its
// own, bypassing the inbox (as a redelivery the inbox missed would).
func (e *Env) ApplyDirect(ev event.Event) error {
	h := e.Handlers.Saga
	if ev.Topic == eventsv1.TopicCatalog {
		h = e.Handlers.Catalog
	}
	return e.Svc.DB.Transaction(func(tx *gorm.DB) error {
		return h(ev.Context(context.Background()), tx, ev)
	})
}

// Status reads an order's status from the database.
func (e *Env) Status(id string) string {
	e.T.Helper()
	var s string
	if err := e.Svc.DB.Raw("SELECT status FROM orders WHERE id = ?", id).Scan(&s).Error; err != nil {
		e.T.Fatal(err)
	}
	return s
}

// WaitStatus waits until the order is in status want.
func (e *Env) WaitStatus(id, want string) {
	e.T.Helper()
	testkit.Eventually(e.T, 10*time.Second, "order "+id+" did not become "+want, func() bool { return e.Status(id) == want })
}

// HistoryCount counts an order's timeline entries.
func (e *Env) HistoryCount(id string) int {
	e.T.Helper()
	var n int
	if err := e.Svc.DB.Raw("SELECT count(*) FROM order_history WHERE order_id = ?", id).Scan(&n).Error; err != nil {
		e.T.Fatal(err)
	}
	return n
}

// Timeline reads an order's timeline over HTTP as the admin.
func (e *Env) Timeline(id string) []EntryJSON {
	e.T.Helper()
	r := e.Do("GET", "/api/v1/orders/"+id+"/timeline", AdminID, nil)
	if r.Status != http.StatusOK {
		e.T.Fatalf("timeline: %d %s", r.Status, r.Body)
	}
	var tl struct{ Entries []EntryJSON }
	r.JSON(e.T, &tl)
	return tl.Entries
}

// Place places an order for user and returns it.
func (e *Env) Place(user string, lines ...any) OrderJSON {
	e.T.Helper()
	r := e.Do("POST", "/api/v1/orders", user, map[string]any{"lines": lines}, "Idempotency-Key", uuid.NewString())
	if r.Status != http.StatusCreated {
		e.T.Fatalf("place: %d %s", r.Status, r.Body)
	}
	var o OrderJSON
	r.JSON(e.T, &o)
	return o
}

// Line is one line of a placement.
func Line(product string, qty int) map[string]any {
	return map[string]any{"product_id": product, "quantity": qty}
}

// Metric returns the value of a counter, gauge or histogram count in the
// service's registry whose labels include the given ones (0 when absent).
func (e *Env) Metric(name string, labels map[string]string) float64 {
	e.T.Helper()
	return Gather(e.T, e.Svc.Registry, name, labels)
}

// Gather is Metric over any registry.
func Gather(t testing.TB, reg prometheus.Gatherer, name string, labels map[string]string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	total := 0.0
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	metrics:
		for _, m := range f.GetMetric() {
			have := map[string]string{}
			for _, l := range m.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			for k, v := range labels {
				if have[k] != v {
					continue metrics
				}
			}
			switch {
			case m.GetCounter() != nil:
				total += m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				total += m.GetGauge().GetValue()
			case m.GetHistogram() != nil:
				total += float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return total
}

// Recorder collects the messages of a topic, read by a consumer group of its
// own from the start, until the test ends.
type Recorder struct {
	mu   sync.Mutex
	msgs []kafka.Message
}

// NewRecorder records topic until the test ends.
func NewRecorder(t testing.TB, bc broker.Config, topic string) *Recorder {
	t.Helper()
	rec := &Recorder{}
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers: bc.Brokers, GroupID: "test-Recorder-" + uuid.NewString(), Topic: topic,
		StartOffset: kafka.FirstOffset, MaxWait: 100 * time.Millisecond, HeartbeatInterval: time.Second,
		JoinGroupBackoff: 200 * time.Millisecond,
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			m, err := r.ReadMessage(ctx)
			if err != nil {
				return
			}
			rec.mu.Lock()
			rec.msgs = append(rec.msgs, m)
			rec.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		_ = r.Close()
	})
	return rec
}

// Of returns the recorded events for key, decoded, optionally of one type.
func (rec *Recorder) Of(t testing.TB, key, eventType string) []event.Event {
	t.Helper()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	var out []event.Event
	for _, m := range rec.msgs {
		if string(m.Key) != key {
			continue
		}
		ev, err := event.FromMessage(m)
		if err != nil {
			t.Fatalf("published a malformed event: %v", err)
		}
		if eventType == "" || ev.Type == eventType {
			out = append(out, ev)
		}
	}
	return out
}

// Wait waits until n events of type for key were published, and returns
// them.
func (rec *Recorder) Wait(t testing.TB, key, eventType string, n int) []event.Event {
	t.Helper()
	var got []event.Event
	testkit.Eventually(t, 15*time.Second, "no "+eventType+" published for "+key, func() bool {
		got = rec.Of(t, key, eventType)
		return len(got) >= n
	})
	return got
}

// The test catalog (Catalog).
const (
	Alpha    = "0190f5a8-0000-7000-8000-00000000000a"
	Beta     = "0190f5a8-0000-7000-8000-00000000000b"
	Dollar   = "0190f5a8-0000-7000-8000-00000000000c"
	Other    = "0190f5a8-0000-7000-8000-00000000000d" // another seller's
	Archived = "0190f5a8-0000-7000-8000-00000000000e"
	Draft    = "0190f5a8-0000-7000-8000-00000000000f"
	Unpriced = "0190f5a8-0000-7000-8000-000000000010"
	Unknown  = "0190f5a8-0000-7000-8000-000000000011"
)

// Catalog publishes the test catalog on catalog.events and waits until the
// replica has it.
func (e *Env) Catalog() {
	e.T.Helper()
	e.Product(Alpha, "ALPHA", "Alpha", 1999, "EUR", SellerID, 1)
	e.Product(Beta, "BETA", "Beta", 500, "EUR", SellerID, 1)
	e.Product(Dollar, "DOLLAR", "Dollar", 700, "USD", SellerID, 1)
	e.Product(Other, "OTHER", "Other", 300, "EUR", Seller2ID, 1)
	e.Product(Archived, "ARCH", "Archived", 100, "EUR", SellerID, 1)
	e.Produce(Archived, &eventsv1.ProductArchived{ProductId: Archived, Version: 2})
	e.Produce(Draft, &eventsv1.ProductUpserted{ProductId: Draft, Sku: "DRAFT", Name: "Draft", SellerId: SellerID,
		Status: "DRAFT", Version: 1, Price: &eventsv1.Money{AmountMinor: 100, Currency: "EUR"}})
	e.Produce(Unpriced, &eventsv1.ProductUpserted{ProductId: Unpriced, Sku: "FREE", Name: "Unpriced", SellerId: SellerID,
		Status: "ACTIVE", Version: 1})
	testkit.Eventually(e.T, 20*time.Second, "the replica did not receive the catalog", func() bool {
		var n int
		e.Svc.DB.Raw("SELECT count(*) FROM products WHERE version = 2 OR id <> ?", Archived).Scan(&n)
		return n == 7
	})
}

// Pay drives an order to PAID through inventory's and payment's events.
func (e *Env) Pay(id string) {
	e.T.Helper()
	e.Produce(id, &eventsv1.InventoryReserved{OrderId: id, ReservationId: uuid.NewString()})
	e.WaitStatus(id, "PAYMENT_PENDING")
	var total eventsv1.Money
	if err := e.Svc.DB.Raw("SELECT total_minor AS amount_minor, currency FROM orders WHERE id = ?", id).Scan(&total).Error; err != nil {
		e.T.Fatal(err)
	}
	e.Produce(id, &eventsv1.PaymentSucceeded{OrderId: id, PaymentId: uuid.NewString(), Amount: &total})
	e.WaitStatus(id, "PAID")
}

// Euros is an amount in EUR.
func Euros(amount int64) *eventsv1.Money {
	return &eventsv1.Money{AmountMinor: amount, Currency: "EUR"}
}

// The saga events of another service about order id, as they publish them.

// Reserved is INVENTORY_RESERVED of order id.
func Reserved(id string) proto.Message {
	return &eventsv1.InventoryReserved{OrderId: id, ReservationId: uuid.NewString(),
		Lines: []*eventsv1.ReservedLine{{ProductId: Alpha, Quantity: 1}}}
}

// Rejected is INVENTORY_REJECTED of order id.
func Rejected(id string) proto.Message {
	return &eventsv1.InventoryRejected{OrderId: id, Reason: "OUT_OF_STOCK",
		ShortLines: []*eventsv1.ShortLine{{ProductId: Alpha, Requested: 1, Available: 0}}}
}

// Expired is RESERVATION_EXPIRED of order id.
func Expired(id string) proto.Message {
	return &eventsv1.ReservationExpired{OrderId: id, ReservationId: uuid.NewString()}
}

// Confirmed is INVENTORY_CONFIRMED of order id.
func Confirmed(id string) proto.Message {
	return &eventsv1.InventoryConfirmed{OrderId: id, ReservationId: uuid.NewString()}
}

// Released is INVENTORY_RELEASED of order id.
func Released(id string) proto.Message {
	return &eventsv1.InventoryReleased{OrderId: id, ReservationId: uuid.NewString(), Reason: "PAYMENT_FAILED"}
}

// Initiated is PAYMENT_INITIATED of order id.
func Initiated(id string) proto.Message {
	return &eventsv1.PaymentInitiated{OrderId: id, PaymentId: uuid.NewString(), Amount: Euros(1999)}
}

// Succeeded is PAYMENT_SUCCESS of order id.
func Succeeded(id string) proto.Message {
	return &eventsv1.PaymentSucceeded{OrderId: id, PaymentId: uuid.NewString(), Amount: Euros(1999)}
}

// Failed is PAYMENT_FAILED of order id.
func Failed(id string) proto.Message {
	return &eventsv1.PaymentFailed{OrderId: id, PaymentId: uuid.NewString(), ReasonCode: "CARD_DECLINED", Amount: Euros(1999)}
}

// Refunded is PAYMENT_REFUNDED of order id.
func Refunded(id string) proto.Message {
	return &eventsv1.PaymentRefunded{OrderId: id, PaymentId: uuid.NewString(), RefundId: uuid.NewString(),
		Amount: Euros(1999), Reason: "ORDER_CANCELLED"}
}

// Voided is PAYMENT_VOIDED of order id.
func Voided(id string) proto.Message {
	return &eventsv1.PaymentVoided{OrderId: id, PaymentId: uuid.NewString(), Amount: Euros(1999), Reason: "RESERVATION_EXPIRED"}
}

// Feed publishes the event and waits until the order's timeline records
// it.
func (e *Env) Feed(id string, msg proto.Message) event.Event {
	e.T.Helper()
	ev := e.Produce(id, msg)
	e.WaitRecorded(id, ev)
	return ev
}

// WaitRecorded waits until the order's timeline records ev.
func (e *Env) WaitRecorded(id string, ev event.Event) {
	e.T.Helper()
	testkit.Eventually(e.T, 10*time.Second, ev.Type+" not recorded for "+id, func() bool {
		var n int
		e.Svc.DB.Raw("SELECT count(*) FROM order_history WHERE order_id = ? AND event_id = ?", id, ev.ID).Scan(&n)
		return n == 1
	})
}
