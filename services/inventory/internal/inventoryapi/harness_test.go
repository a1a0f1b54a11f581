package inventoryapi_test

import (
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

	"github.com/shop-oss/shop/pkg/auth"
	"github.com/shop-oss/shop/pkg/broker"
	"github.com/shop-oss/shop/pkg/event"
	"github.com/shop-oss/shop/pkg/openapitest"
	"github.com/shop-oss/shop/pkg/testkit"
	"github.com/shop-oss/shop/proto-events/eventsv1"
	"github.com/shop-oss/shop/services/inventory/internal/app"
)

var (
	adminID  = "00000000-0000-7000-8000-000000000001"
	sellerID = "00000000-0000-7000-8000-000000000002"
	buyerID  = "00000000-0000-7000-8000-000000000003"
)

// harness is one running inventory service with its stack.
type harness struct {
	t      *testing.T
	st     *testkit.Stack
	base   string
	spec   *openapitest.Spec
	client *http.Client
	bc     broker.Config
	tokens map[string]string
	dsn    string             // the service's database
	logs   *testkit.LogBuffer // the service's logs
}

func start(t *testing.T, env map[string]string) *harness {
	t.Helper()
	st := testkit.NewStack(t)
	var cfg app.Config
	st.Config(t, "inventory", &cfg, env)
	logs := &testkit.LogBuffer{}
	svc, err := app.New(context.Background(), cfg, app.Options{LogOutput: io.MultiWriter(testkit.LogOutput(t), logs)})
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{logs: logs, t: t, st: st, base: testkit.Run(t, svc), spec: openapitest.Load(t, "../../api/openapi.yaml"),
		bc: broker.Config{Brokers: []string{st.Broker.Addr()}, ClientID: "test"}, dsn: cfg.DatabaseURL}
	h.client = h.spec.Client(t)
	h.tokens = map[string]string{
		"admin":    st.Issuer.Token(t, adminID, auth.RoleAdmin),
		"seller":   st.Issuer.Token(t, sellerID, auth.RoleSeller),
		"other":    st.Issuer.Token(t, uuid.NewString(), auth.RoleSeller),
		"customer": st.Issuer.Token(t, buyerID, auth.RoleCustomer),
	}
	return h
}

// call makes an HTTP call as who ("" for anonymous) and decodes the JSON
// answer into out (when not nil); it returns the status.
func (h *harness) call(method, path, who string, body any, out any, headers ...string) int {
	h.t.Helper()
	res, err := h.client.Do(testkit.JSONRequest(h.t, method, h.base+path, h.tokens[who], body, headers...))
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			h.t.Fatalf("%s %s: decode %s: %v", method, path, b, err)
		}
	}
	return res.StatusCode
}

// key is a fresh Idempotency-Key header pair.
func key() []string { return []string{"Idempotency-Key", uuid.NewString()} }

// publish writes events to their topics as their producers would.
func (h *harness) publish(key string, msgs ...proto.Message) []event.Event {
	h.t.Helper()
	var out []event.Event
	var kms []kafka.Message
	for _, m := range msgs {
		e, err := event.New(context.Background(), key, m)
		if err != nil {
			h.t.Fatal(err)
		}
		out = append(out, e)
		kms = append(kms, e.Message())
	}
	h.produce(kms...)
	return out
}

func (h *harness) produce(msgs ...kafka.Message) {
	h.t.Helper()
	w := h.bc.Writer()
	defer w.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		h.t.Fatalf("produce: %v", err)
	}
}

// product makes a product known through catalog's event and gives it
// onHand units as its seller; it returns the product ID.
func (h *harness) product(onHand int64) string {
	h.t.Helper()
	id := uuid.NewString()
	h.publish(id, &eventsv1.ProductUpserted{ProductId: id, Sku: "SKU-" + id[:8], SellerId: sellerID, Status: "ACTIVE", Version: 1})
	h.waitFor("product "+id, func() bool {
		return h.call(http.MethodGet, "/api/v1/inventory/"+id, "", nil, nil) == http.StatusOK
	})
	if onHand > 0 {
		if s := h.call(http.MethodPut, "/api/v1/inventory/"+id, "seller", map[string]any{"on_hand": onHand}, nil); s != http.StatusOK {
			h.t.Fatalf("set stock: %d", s)
		}
	}
	return id
}

type stockView struct {
	ProductID string `json:"product_id"`
	Available int64  `json:"available"`
	OnHand    *int64 `json:"on_hand"`
	Reserved  *int64 `json:"reserved"`
	InStock   bool   `json:"in_stock"`
	LowStock  bool   `json:"low_stock"`
	Status    string `json:"status"`
}

func (h *harness) stock(id string) stockView {
	h.t.Helper()
	var s stockView
	if st := h.call(http.MethodGet, "/api/v1/inventory/"+id, "admin", nil, &s); st != http.StatusOK {
		h.t.Fatalf("get stock %s: %d", id, st)
	}
	return s
}

func (h *harness) waitStock(id string, onHand, reserved int64) {
	h.t.Helper()
	var last stockView
	h.waitFor("stock of "+id, func() bool {
		last = h.stock(id)
		return *last.OnHand == onHand && *last.Reserved == reserved
	}, func() {
		h.t.Logf("last: on hand %d, reserved %d; want %d, %d", *last.OnHand, *last.Reserved, onHand, reserved)
	})
}

func (h *harness) waitFor(what string, cond func() bool, onFail ...func()) {
	h.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			for _, f := range onFail {
				f()
			}
			h.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// pages follows a list's cursors from path (which has a query already)
// as who, and returns field of every item, in order.
func (h *harness) pages(t *testing.T, path, who, field string) []string {
	t.Helper()
	var all []string
	cursor := ""
	for range 10 {
		var page struct {
			Items      []map[string]any
			NextCursor *string `json:"next_cursor"`
		}
		if st := h.call(http.MethodGet, path+cursor, who, nil, &page); st != http.StatusOK {
			t.Fatalf("GET %s: status %d", path+cursor, st)
		}
		for _, it := range page.Items {
			all = append(all, fmt.Sprint(it[field]))
		}
		if page.NextCursor == nil {
			break
		}
		cursor = "&cursor=" + *page.NextCursor
	}
	return all
}

type problemView struct {
	Type   string `json:"type"`
	Detail string `json:"detail"`
	Errors []struct {
		Field, Message string
	} `json:"errors"`
}

// topic collects every message of a topic from the beginning, in the
// background, until the test ends.
type topic struct {
	mu   sync.Mutex
	msgs []event.Event
}

func (h *harness) watch(name string) *topic {
	h.t.Helper()
	tp := &topic{}
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers: h.bc.Brokers, GroupID: "watch-" + uuid.NewString(), Topic: name,
		StartOffset: kafka.FirstOffset, MaxWait: 100 * time.Millisecond, HeartbeatInterval: time.Second,
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			m, err := r.FetchMessage(ctx)
			if err != nil {
				return
			}
			if e, err := event.FromMessage(m); err == nil {
				tp.mu.Lock()
				tp.msgs = append(tp.msgs, e)
				tp.mu.Unlock()
			}
		}
	}()
	h.t.Cleanup(func() { cancel(); <-done; r.Close() })
	return tp
}

// of returns the events of a type with a key (any key when key is "").
func (tp *topic) of(typ, key string) []event.Event {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	var out []event.Event
	for _, e := range tp.msgs {
		if e.Type == typ && (key == "" || e.Key == key) {
			out = append(out, e)
		}
	}
	return out
}

// wait waits until the topic has n events of a type and key, then a moment
// more to catch any extra, and returns them.
func (h *harness) wait(tp *topic, typ, key string, n int) []event.Event {
	h.t.Helper()
	h.waitFor(typ+" for "+key, func() bool { return len(tp.of(typ, key)) >= n })
	time.Sleep(300 * time.Millisecond)
	got := tp.of(typ, key)
	if len(got) != n {
		h.t.Fatalf("%d %s events for %s, want %d", len(got), typ, key, n)
	}
	return got
}
