package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/shop-oss/shop/scripts/internal/procstack"
)

// shop drives the running stack over HTTP.
type shop struct {
	st       *procstack.Stack
	http     *http.Client
	admin    string
	seller   string
	tokens   []string // one per customer
	products []string
	scarce   string
}

func newShop(st *procstack.Stack) *shop {
	return &shop{st: st, http: &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 0},
	}}
}

// call makes a JSON request and decodes a JSON object answer.
func (s *shop) call(ctx context.Context, method, url, token string, body any, headers ...string) (int, map[string]any, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := s.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return 0, nil, err
	}
	out := map[string]any{}
	if len(raw) > 0 && raw[0] == '{' {
		if err := json.Unmarshal(raw, &out); err != nil {
			return res.StatusCode, nil, fmt.Errorf("%s %s: bad JSON: %w", method, url, err)
		}
	}
	return res.StatusCode, out, nil
}

func (s *shop) must(ctx context.Context, want int, method, url, token string, body any, headers ...string) (map[string]any, error) {
	code, out, err := s.call(ctx, method, url, token, body, headers...)
	if err != nil {
		return nil, err
	}
	if code != want {
		return nil, fmt.Errorf("%s %s: %d %v, want %d", method, url, code, out, want)
	}
	return out, nil
}

func (s *shop) login(ctx context.Context, email, password string) (string, error) {
	out, err := s.must(ctx, 200, "POST", s.st.APIURL("identity")+"/api/v1/auth/login", "", map[string]string{"email": email, "password": password})
	if err != nil {
		return "", err
	}
	return out["access_token"].(string), nil
}

func (s *shop) setUp(ctx context.Context, o options) error {
	var err error
	if s.admin, err = s.login(ctx, "admin@shop.local", "admin-demo-pass"); err != nil {
		return err
	}
	if s.seller, err = s.login(ctx, "seller@shop.local", "seller-demo-pass"); err != nil {
		return err
	}
	for i := range o.products {
		id, err := s.product(ctx, fmt.Sprintf("Load product %d", i), int64(500+100*i), 1_000_000)
		if err != nil {
			return err
		}
		s.products = append(s.products, id)
	}
	if s.scarce, err = s.product(ctx, "Scarce product", 9900, o.scarceStock); err != nil {
		return err
	}
	s.tokens = make([]string, o.customers)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for i := range o.customers {
		wg.Go(func() {
			email := fmt.Sprintf("load-%d-%s@shop.local", i, uuid.NewString()[:8])
			pw := "load-customer-" + uuid.NewString()
			_, err := s.must(ctx, 201, "POST", s.st.APIURL("identity")+"/api/v1/auth/register", "",
				map[string]string{"email": email, "password": pw, "display_name": fmt.Sprintf("Load %d", i)})
			if err == nil {
				s.tokens[i], err = s.login(ctx, email, pw)
			}
			if err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		return errs[0]
	}
	return nil
}

// product creates an ACTIVE product with onHand units and waits until
// inventory and order know it.
func (s *shop) product(ctx context.Context, name string, price, onHand int64) (string, error) {
	p, err := s.must(ctx, 201, "POST", s.st.APIURL("catalog")+"/api/v1/products", s.seller, map[string]any{
		"sku": "LOAD-" + uuid.NewString()[:8], "name": name, "price_minor": price, "currency": "EUR", "status": "ACTIVE",
	})
	if err != nil {
		return "", err
	}
	id := p["id"].(string)
	deadline := time.Now().Add(60 * time.Second)
	for {
		code, _, err := s.call(ctx, "PUT", s.st.APIURL("inventory")+"/api/v1/inventory/"+id, s.admin, map[string]any{"on_hand": onHand})
		if err != nil {
			return "", err
		}
		if code == 200 {
			break
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("inventory never learned product %s", id)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for {
		var n int
		if err := s.queryRow(ctx, "order", "SELECT count(*) FROM products WHERE id = $1", []any{id}, &n); err != nil {
			return "", err
		}
		if n == 1 {
			return id, nil
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("order never learned product %s", id)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (s *shop) queryRow(ctx context.Context, service, sql string, args []any, dest ...any) error {
	conn, err := pgx.Connect(ctx, s.st.Proc(service).DSN)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	if err := conn.QueryRow(ctx, sql, args...).Scan(dest...); err != nil {
		return fmt.Errorf("%s: %w", service, err)
	}
	return nil
}

// runResult is what the customers measured.
type runResult struct {
	errors      []string // the first few, for the report
	start, end  time.Time
	placed      int
	placeErrors int
	payErrors   int
	placeLat    []time.Duration
	confirmLat  []time.Duration
}

// load runs the customers for o.duration.
func (s *shop) load(ctx context.Context, o options) (runResult, error) {
	res := runResult{start: time.Now()}
	end := res.start.Add(o.duration)
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	for _, token := range s.tokens {
		wg.Go(func() {
			for time.Now().Before(end) {
				placeLat, confirmLat, placed, payErr, err := s.customerRound(ctx, token)
				mu.Lock()
				if err != nil && len(res.errors) < 5 {
					res.errors = append(res.errors, err.Error())
				}
				switch {
				case placed && err != nil:
					res.payErrors++
				case err != nil:
					res.placeErrors++
				case placed:
					res.placed++
					res.placeLat = append(res.placeLat, placeLat)
					if payErr {
						res.payErrors++
					} else if confirmLat > 0 {
						res.confirmLat = append(res.confirmLat, confirmLat)
					}
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	res.end = time.Now()
	return res, nil
}

// customerRound places one order of 1–3 products (sometimes the scarce one)
// and pays for it once its payment exists.
func (s *shop) customerRound(ctx context.Context, token string) (placeLat, confirmLat time.Duration, placed, payErr bool, err error) {
	n := 1 + rand.IntN(3)
	picked := map[string]bool{}
	var lines []map[string]any
	if rand.IntN(10) == 0 {
		picked[s.scarce] = true
		lines = append(lines, map[string]any{"product_id": s.scarce, "quantity": 1})
	}
	for len(lines) < n {
		p := s.products[rand.IntN(len(s.products))]
		if !picked[p] {
			picked[p] = true
			lines = append(lines, map[string]any{"product_id": p, "quantity": 1 + rand.IntN(2)})
		}
	}
	return s.orderAndPay(ctx, token, lines)
}

// orderAndPay places one order of lines and pays for it once its payment
// exists, as a storefront does.
func (s *shop) orderAndPay(ctx context.Context, token string, lines []map[string]any) (placeLat, confirmLat time.Duration, placed, payErr bool, err error) {
	t0 := time.Now()
	code, out, err := s.call(ctx, "POST", s.st.APIURL("order")+"/api/v1/orders", token, map[string]any{"lines": lines}, "Idempotency-Key", uuid.NewString())
	placeLat = time.Since(t0)
	if err != nil || code != 201 {
		return placeLat, 0, false, false, fmt.Errorf("place order: %d %v %v", code, out, err)
	}
	orderID := out["id"].(string)

	// Wait for the saga to create the payment as a storefront does: one
	// long poll (Prefer: wait) that answers once the payment exists. An
	// empty answer means the order closed (the scarce product sold out) or
	// the wait ran out; the order's status says which.
	deadline := time.Now().Add(30 * time.Second)
	var paymentID string
	for paymentID == "" {
		code, page, err := s.call(ctx, "GET", s.st.APIURL("payment")+"/api/v1/payments?orderId="+orderID, token, nil, "Prefer", "wait=10")
		if err == nil && code == 200 {
			if items, _ := page["items"].([]any); len(items) > 0 {
				paymentID = items[0].(map[string]any)["id"].(string)
				break
			}
		}
		code, order, err := s.call(ctx, "GET", s.st.APIURL("order")+"/api/v1/orders/"+orderID, token, nil)
		if err == nil && code == 200 && order["status"] == "CANCELLED" {
			return placeLat, 0, true, false, nil // the report counts cancellations
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return placeLat, 0, true, false, nil // stuck (the report finds out), or the run stopped
		}
		if err != nil || code != 200 {
			time.Sleep(100 * time.Millisecond) // do not spin on a failing service
		}
	}
	t1 := time.Now()
	key := uuid.NewString()
	for attempt := 0; ; attempt++ {
		code, out, err = s.call(ctx, "POST", s.st.APIURL("payment")+"/api/v1/payments/confirm", token,
			map[string]any{"payment_id": paymentID, "card_number": "4242424242424242"}, "Idempotency-Key", key)
		// A 409 payment-busy (another request holds the payment) or a
		// network error is retried with the same key, as a client should.
		if err == nil && code != http.StatusConflict || attempt == 5 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	confirmLat = time.Since(t1)
	if err != nil || code != 200 {
		return placeLat, 0, true, true, fmt.Errorf("confirm order %s: %d %v %v", orderID, code, out, err)
	}
	return placeLat, confirmLat, true, false, nil
}

// baseline has the customers read one order by ID for d: the HTTP and
// authentication ceiling of the same stack, measured in the same run. With
// the gateway in front, the same reads go through it and then straight to
// the order service, so that its cost is known.
func (s *shop) baseline(ctx context.Context, clients int, d time.Duration) (baseline, error) {
	var b baseline
	p := s.products[0]
	out, err := s.must(ctx, 201, "POST", s.st.APIURL("order")+"/api/v1/orders", s.tokens[0],
		map[string]any{"lines": []map[string]any{{"product_id": p, "quantity": 1}}}, "Idempotency-Key", uuid.NewString())
	if err != nil {
		return b, err
	}
	path := "/api/v1/orders/" + out["id"].(string)
	if b.direct, err = s.readRate(ctx, s.st.URL("order")+path, clients, d); err != nil {
		return b, err
	}
	if s.st.Gateway != nil {
		if b.gateway, err = s.readRate(ctx, s.st.Gateway.URL+path, clients, d); err != nil {
			return b, err
		}
	}
	// The order was only read; cancel it so that it waits for nothing.
	if _, err := s.must(ctx, 200, "POST", s.st.APIURL("order")+path+"/cancel", s.tokens[0], map[string]any{"note": "load generator baseline"}, "Idempotency-Key", uuid.NewString()); err != nil {
		return b, fmt.Errorf("cancel the baseline's order: %w", err)
	}
	return b, nil
}

// baseline is the rate of order reads straight at the order service, and
// through the gateway (0 when the run bypasses it).
type baseline struct {
	direct, gateway float64
}

// readRate is how many 200s clients get per second reading url for d.
func (s *shop) readRate(ctx context.Context, url string, clients int, d time.Duration) (float64, error) {
	var (
		mu    sync.Mutex
		count int
		wg    sync.WaitGroup
	)
	end := time.Now().Add(d)
	for range clients {
		wg.Go(func() {
			n := 0
			for time.Now().Before(end) {
				if code, _, err := s.call(ctx, "GET", url, s.tokens[0], nil); err == nil && code == 200 {
					n++
				}
			}
			mu.Lock()
			count += n
			mu.Unlock()
		})
	}
	wg.Wait()
	if count == 0 {
		return 0, fmt.Errorf("no read of %s succeeded", url)
	}
	return float64(count) / d.Seconds(), nil
}

// settle waits, up to timeout, until no order of the run is in CREATED or
// PAYMENT_PENDING (paid orders wait for nothing more), and then until
// inventory has confirmed the paid orders' reservations (its stock agrees
// with the paid orders). What is still open is then reported as stuck, and
// a stock that still disagrees as oversold.
func (s *shop) settle(ctx context.Context, since time.Time, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		var open int
		if err := s.queryRow(ctx, "order", "SELECT count(*) FROM orders WHERE status IN ('CREATED','PAYMENT_PENDING') AND created_at >= $1",
			[]any{since}, &open); err != nil {
			return err
		}
		if open == 0 {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	for time.Now().Before(deadline) {
		mismatched, _, _, err := s.stockCheck(ctx)
		if err != nil {
			return err
		}
		if len(mismatched) == 0 {
			return nil
		}
		time.Sleep(500 * time.Millisecond)
	}
	return nil
}

func percentile(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(q*float64(len(s))+0.999999) - 1
	return s[max(0, min(len(s)-1, i))].Round(100 * time.Microsecond)
}
