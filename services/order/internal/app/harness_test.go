package app_test

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
	adminID    = "00000000-0000-7000-8000-000000000001"
	sellerID   = "00000000-0000-7000-8000-000000000002"
	customerID = "00000000-0000-7000-8000-000000000003"
	otherID    = "00000000-0000-7000-8000-000000000004" // another customer
	seller2ID  = "00000000-0000-7000-8000-000000000005" // another seller
)

// env is one running order service on a test stack, with what the tests
// need around it: tokens, a spec-checked client, a producer for the topics
// the service consumes, a recorder of order.events, and the domain over the
// same database for driving events directly.
type env struct {
	t      testing.TB
	stack  *testkit.Stack
	cfg    app.Config
	svc    *service.Service
	base   string
	spec   *openapitest.Spec
	client *http.Client
	writer *kafka.Writer
	// published records order.events as the relay publishes them.
	published *recorder
	// orders and handlers run over the service's database, as the consumer
	// would, for tests that race events against requests.
	orders   *order.Service
	handlers *orderevents.Handlers
	store    *orderdb.Store

	tokens map[string]string
}

func newEnv(t testing.TB, vars map[string]string) *env {
	t.Helper()
	st := testkit.NewStack(t)
	e := &env{t: t, stack: st, tokens: map[string]string{}}
	// The per-customer limits are off unless a test sets them: the tests
	// place many orders for a few users (limits_test.go tests them).
	all := map[string]string{"SHOP_LOG_LEVEL": "info",
		"SHOP_ORDER_MAX_OPEN_ORDERS": "0", "SHOP_ORDER_MAX_OPEN_UNITS": "0", "SHOP_ORDER_PLACE_PER_MINUTE": "0"}
	for k, v := range vars {
		all[k] = v
	}
	st.Config(t, "order", &e.cfg, all)
	var err error
	e.svc, err = app.New(context.Background(), e.cfg, app.Options{LogOutput: testkit.LogOutput(t)})
	if err != nil {
		t.Fatalf("app.New: %v", err)
	}
	e.base = testkit.Run(t, e.svc)
	e.spec = loadSpec(t)
	e.client = e.spec.Client(t)
	bc := broker.Config{Brokers: []string{st.Broker.Addr()}, ClientID: "test"}
	e.writer = bc.Writer()
	t.Cleanup(func() { _ = e.writer.Close() })
	e.published = record(t, bc, eventsv1.TopicOrder)
	e.store = orderdb.New(e.svc.DB, e.svc.DB)
	e.orders = order.NewService(e.store, app.DomainConfig(e.cfg), nil)
	e.handlers = orderevents.New(e.orders, e.store, nil)
	for id, role := range map[string]auth.Role{
		adminID: auth.RoleAdmin, sellerID: auth.RoleSeller, seller2ID: auth.RoleSeller,
		customerID: auth.RoleCustomer, otherID: auth.RoleCustomer,
	} {
		e.tokens[id] = st.Issuer.Token(t, id, role)
	}
	return e
}

// spec is shared by every test of the package, so that TestMain can check
// that the tests together called every operation.
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

// TestMain fails the run when an operation of the spec was never called
// (with a successful or failing status) by any test that ran.
func TestMain(m *testing.M) {
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
	os.Exit(code)
}

// response is a finished HTTP exchange.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// problemType is the problem's type slug ("" when the body is none).
func (r response) problemType() string {
	var p struct{ Type string }
	_ = json.Unmarshal(r.body, &p)
	return strings.TrimPrefix(p.Type, "urn:shop:problem:")
}

// do sends a request as user ("" for anonymous); body is JSON-encoded
// unless it is a string; headers are name, value pairs.
func (e *env) do(method, path, user string, body any, headers ...string) response {
	e.t.Helper()
	token := ""
	if user != "" {
		token = e.tokens[user]
	}
	req := testkit.JSONRequest(e.t, method, e.base+path, token, body, headers...)
	res, err := e.client.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, header: res.Header, body: b}
}

// orderJSON is the API's order, as the tests read it.
type orderJSON struct {
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

type entryJSON struct {
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

// product publishes PRODUCT_UPSERTED for an ACTIVE product.
func (e *env) product(id, sku, name string, amount int64, currency, seller string, version int64) {
	e.t.Helper()
	e.produce(id, &eventsv1.ProductUpserted{
		ProductId: id, Sku: sku, Name: name, SellerId: seller, Status: "ACTIVE", Version: version,
		Price: &eventsv1.Money{AmountMinor: amount, Currency: currency},
	})
}

// newEvent wraps msg for key.
func newEvent(t testing.TB, key string, msg proto.Message) event.Event {
	t.Helper()
	ev, err := event.New(context.Background(), key, msg)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// produce publishes msg for key on its topic, bypassing any outbox (as the
// owning service's relay would), and returns the event.
func (e *env) produce(key string, msg proto.Message) event.Event {
	e.t.Helper()
	ev := newEvent(e.t, key, msg)
	e.produceEvents(ev)
	return ev
}

func (e *env) produceEvents(evs ...event.Event) {
	e.t.Helper()
	msgs := make([]kafka.Message, len(evs))
	for i, ev := range evs {
		msgs[i] = ev.Message()
	}
	if err := e.writer.WriteMessages(context.Background(), msgs...); err != nil {
		e.t.Fatalf("produce: %v", err)
	}
}

// applyDirect runs the consumer's handler for ev in a transaction of its
// own, bypassing the inbox (as a redelivery the inbox missed would).
func (e *env) applyDirect(ev event.Event) error {
	h := e.handlers.Saga
	if ev.Topic == eventsv1.TopicCatalog {
		h = e.handlers.Catalog
	}
	return e.svc.DB.Transaction(func(tx *gorm.DB) error {
		return h(ev.Context(context.Background()), tx, ev)
	})
}

// eventually polls cond until it holds, failing after timeout.
func eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// status reads an order's status from the database.
func (e *env) status(id string) string {
	e.t.Helper()
	var s string
	if err := e.svc.DB.Raw("SELECT status FROM orders WHERE id = ?", id).Scan(&s).Error; err != nil {
		e.t.Fatal(err)
	}
	return s
}

func (e *env) waitStatus(id, want string) {
	e.t.Helper()
	eventually(e.t, 10*time.Second, "order "+id+" did not become "+want, func() bool { return e.status(id) == want })
}

// historyCount counts an order's timeline entries.
func (e *env) historyCount(id string) int {
	e.t.Helper()
	var n int
	if err := e.svc.DB.Raw("SELECT count(*) FROM order_history WHERE order_id = ?", id).Scan(&n).Error; err != nil {
		e.t.Fatal(err)
	}
	return n
}

// timeline reads an order's timeline over HTTP as the admin.
func (e *env) timeline(id string) []entryJSON {
	e.t.Helper()
	r := e.do("GET", "/api/v1/orders/"+id+"/timeline", adminID, nil)
	if r.status != http.StatusOK {
		e.t.Fatalf("timeline: %d %s", r.status, r.body)
	}
	var tl struct{ Entries []entryJSON }
	r.json(e.t, &tl)
	return tl.Entries
}

// place places an order for user and returns it.
func (e *env) place(user string, lines ...any) orderJSON {
	e.t.Helper()
	r := e.do("POST", "/api/v1/orders", user, map[string]any{"lines": lines}, "Idempotency-Key", uuid.NewString())
	if r.status != http.StatusCreated {
		e.t.Fatalf("place: %d %s", r.status, r.body)
	}
	var o orderJSON
	r.json(e.t, &o)
	return o
}

func line(product string, qty int) map[string]any {
	return map[string]any{"product_id": product, "quantity": qty}
}

// metric returns the value of a counter, gauge or histogram count in the
// service's registry whose labels include the given ones (0 when absent).
func (e *env) metric(name string, labels map[string]string) float64 {
	e.t.Helper()
	return gather(e.t, e.svc.Registry, name, labels)
}

func gather(t testing.TB, reg prometheus.Gatherer, name string, labels map[string]string) float64 {
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

// recorder collects the messages of a topic, read by a consumer group of its
// own from the start, until the test ends.
type recorder struct {
	mu   sync.Mutex
	msgs []kafka.Message
}

func record(t testing.TB, bc broker.Config, topic string) *recorder {
	t.Helper()
	rec := &recorder{}
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers: bc.Brokers, GroupID: "test-recorder-" + uuid.NewString(), Topic: topic,
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

// of returns the recorded events for key, decoded, optionally of one type.
func (rec *recorder) of(t testing.TB, key, eventType string) []event.Event {
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

// wait waits until n events of type for key were published, and returns
// them.
func (rec *recorder) wait(t testing.TB, key, eventType string, n int) []event.Event {
	t.Helper()
	var got []event.Event
	eventually(t, 15*time.Second, "no "+eventType+" published for "+key, func() bool {
		got = rec.of(t, key, eventType)
		return len(got) >= n
	})
	return got
}
