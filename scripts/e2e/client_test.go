package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// call makes a JSON request and returns the status and the decoded body.
func call(t *testing.T, method, url, token string, body any, headers ...string) (int, map[string]any) {
	t.Helper()
	return callWith(t, method, url, token, body, nil, headers...)
}

// callWith is call that hands the response's headers to seeHeader (when
// not nil).
func callWith(t *testing.T, method, url, token string, body any, seeHeader func(map[string][]string), headers ...string) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	if seeHeader != nil {
		seeHeader(res.Header)
	}
	raw, _ := io.ReadAll(res.Body)
	out := map[string]any{}
	if len(raw) > 0 && raw[0] == '{' {
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("%s %s: bad JSON %q", method, url, raw)
		}
	}
	return res.StatusCode, out
}

// must is call that fails the test unless the status is want.
func must(t *testing.T, want int, method, url, token string, body any, headers ...string) map[string]any {
	t.Helper()
	code, out := call(t, method, url, token, body, headers...)
	if code != want {
		t.Fatalf("%s %s: %d %v, want %d", method, url, code, out, want)
	}
	return out
}

// eventually retries cond until it holds or timeout passes.
func eventually(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// query runs a one-row query on a service's own database.
func (s *stack) query(t *testing.T, service, sql string, args []any, dest ...any) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, s.Proc(service).DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if err := conn.QueryRow(ctx, sql, args...).Scan(dest...); err != nil {
		t.Fatalf("%s: %s: %v", service, sql, err)
	}
}

// shop is a stack with demo users seeded and logged in.
type shop struct {
	*stack
	admin, seller, customer string // access tokens
	customerID              string
	// secrets are what the run sent that must never be stored or
	// logged in clear or under an unkeyed hash.
	secrets secrets
}

// secrets records the card numbers, passwords and tokens of a run, and
// the requests that carried a card number.
type secrets struct {
	mu                      sync.Mutex
	cards, passwords, token []string
	cardRequests            []sentRequest
}

// sentRequest is a request as sent: method, path, query and body.
type sentRequest struct {
	method, path, query string
	body                []byte
}

func (sc *secrets) add(list *[]string, v string) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if v != "" && !slices.Contains(*list, v) {
		*list = append(*list, v)
	}
}

func openShop(t *testing.T, extra map[string]map[string]string) *shop {
	t.Helper()
	if extra == nil {
		extra = map[string]map[string]string{}
	}
	if extra["identity"] == nil {
		extra["identity"] = map[string]string{}
	}
	extra["identity"]["SHOP_IDENTITY_BCRYPT_COST"] = "4"
	s := &shop{stack: newStack(t, extra)}
	s.run("identity", "seed")
	s.admin = s.login(t, "admin@shop.local", "admin-demo-pass")
	s.seller = s.login(t, "seller@shop.local", "seller-demo-pass")
	s.customer = s.login(t, "customer@shop.local", "customer-demo-pass")
	s.customerID = "00000000-0000-7000-8000-000000000003"
	return s
}

func (s *shop) login(t *testing.T, email, password string) string {
	t.Helper()
	out := must(t, 200, "POST", s.url("identity")+"/api/v1/auth/login", "", map[string]string{"email": email, "password": password})
	s.secrets.add(&s.secrets.passwords, password)
	refresh, _ := out["refresh_token"].(string)
	s.secrets.add(&s.secrets.token, refresh)
	s.secrets.add(&s.secrets.token, out["access_token"].(string))
	return out["access_token"].(string)
}

// product creates an ACTIVE product of the demo seller priced priceMinor EUR
// with onHand units, and waits until inventory and order know it.
func (s *shop) product(t *testing.T, name string, priceMinor, onHand int64) string {
	t.Helper()
	p := must(t, 201, "POST", s.url("catalog")+"/api/v1/products", s.seller, map[string]any{
		"sku": "E2E-" + uuid.NewString()[:8], "name": name, "price_minor": priceMinor, "currency": "EUR", "status": "ACTIVE",
	})
	id := p["id"].(string)
	eventually(t, "inventory to learn product "+name, 30*time.Second, func() bool {
		code, _ := call(t, "PUT", s.url("inventory")+"/api/v1/inventory/"+id, s.admin, map[string]any{"on_hand": onHand})
		return code == 200
	})
	eventually(t, "order to learn product "+name, 30*time.Second, func() bool {
		var n int
		s.query(t, "order", "SELECT count(*) FROM products WHERE id = $1", []any{id}, &n)
		return n == 1
	})
	return id
}

type line struct {
	product  string
	quantity int
}

// order places an order as the customer and returns its ID.
func (s *shop) order(t *testing.T, token string, lines ...line) string {
	t.Helper()
	body := map[string]any{}
	var ls []map[string]any
	for _, l := range lines {
		ls = append(ls, map[string]any{"product_id": l.product, "quantity": l.quantity})
	}
	body["lines"] = ls
	out := must(t, 201, "POST", s.url("order")+"/api/v1/orders", token, body, "Idempotency-Key", uuid.NewString())
	return out["id"].(string)
}

func (s *shop) orderStatus(t *testing.T, id string) string {
	t.Helper()
	var st string
	s.query(t, "order", "SELECT status FROM orders WHERE id = $1", []any{id}, &st)
	return st
}

func (s *shop) waitStatus(t *testing.T, id, want string) {
	t.Helper()
	eventually(t, fmt.Sprintf("order %s to be %s", id, want), 60*time.Second, func() bool { return s.orderStatus(t, id) == want })
}

// payment returns the order's payment ID and status (waiting for it).
func (s *shop) payment(t *testing.T, orderID string) (id, status string) {
	t.Helper()
	eventually(t, "a payment for order "+orderID, 60*time.Second, func() bool {
		var n int
		s.query(t, "payment", "SELECT count(*) FROM payments WHERE order_id = $1", []any{orderID}, &n)
		return n == 1
	})
	s.query(t, "payment", "SELECT id::text, status FROM payments WHERE order_id = $1", []any{orderID}, &id, &status)
	return id, status
}

func (s *shop) paymentStatus(t *testing.T, orderID string) (status string, refunded int64) {
	t.Helper()
	s.query(t, "payment", "SELECT status, refunded_minor FROM payments WHERE order_id = $1", []any{orderID}, &status, &refunded)
	return status, refunded
}

func (s *shop) waitPaymentStatus(t *testing.T, orderID, want string) {
	t.Helper()
	eventually(t, "payment of "+orderID+" to be "+want, 60*time.Second, func() bool {
		st, _ := s.paymentStatus(t, orderID)
		return st == want
	})
}

func (s *shop) stock(t *testing.T, product string) (onHand, reserved int64) {
	t.Helper()
	s.query(t, "inventory", "SELECT on_hand, reserved FROM stock WHERE product_id = $1", []any{product}, &onHand, &reserved)
	return onHand, reserved
}

func (s *shop) waitStock(t *testing.T, product string, onHand, reserved int64) {
	t.Helper()
	eventually(t, fmt.Sprintf("stock of %s to be %d on hand, %d reserved", product, onHand, reserved), 60*time.Second, func() bool {
		o, r := s.stock(t, product)
		return o == onHand && r == reserved
	})
}

// pay confirms the order's payment with card and returns the HTTP status.
func (s *shop) pay(t *testing.T, orderID, card string) int {
	t.Helper()
	pid, _ := s.payment(t, orderID)
	body := map[string]any{"payment_id": pid, "card_number": card}
	sent, err := json.Marshal(body) // what call sends
	if err != nil {
		t.Fatal(err)
	}
	s.secrets.add(&s.secrets.cards, card)
	s.secrets.mu.Lock()
	s.secrets.cardRequests = append(s.secrets.cardRequests, sentRequest{method: "POST", path: "/api/v1/payments/confirm", body: sent})
	s.secrets.mu.Unlock()
	code, _ := call(t, "POST", s.url("payment")+"/api/v1/payments/confirm", s.customer, body, "Idempotency-Key", uuid.NewString())
	return code
}

// timeline returns the order's timeline entries as "kind:to" plus the event types.
func (s *shop) timeline(t *testing.T, orderID string) []map[string]any {
	t.Helper()
	out := must(t, 200, "GET", s.url("order")+"/api/v1/orders/"+orderID+"/timeline", s.admin, nil)
	var entries []map[string]any
	for _, e := range out["entries"].([]any) {
		entries = append(entries, e.(map[string]any))
	}
	return entries
}

// eventTypes lists the event types the timeline names.
func eventTypes(entries []map[string]any) map[string]bool {
	types := map[string]bool{}
	for _, e := range entries {
		if ev, ok := e["event"].(map[string]any); ok {
			types[ev["type"].(string)] = true
		}
	}
	return types
}
