package orderapi_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/shop-oss/shop/services/order/internal/order"
	"github.com/shop-oss/shop/services/order/internal/ordertest"
)

// BenchmarkPlaceOrder measures POST /api/v1/orders end to end (auth,
// idempotency key, pricing from the replica through its cache, one
// statement with the order, its items, its timeline entry and
// ORDER_CREATED in the outbox), beside
// GET /healthz on the same server as the floor of one HTTP round trip.
//
//	go test -run '^$' -bench PlaceOrder ./internal/app/
func BenchmarkPlaceOrder(b *testing.B) {
	e := newEnv(b, map[string]string{"SHOP_LOG_LEVEL": "warn"})
	e.Catalog()
	client := &http.Client{} // unvalidated: measure the service, not the spec checks
	body := []byte(fmt.Sprintf(`{"lines":[{"product_id":%q,"quantity":2},{"product_id":%q,"quantity":1}]}`, ordertest.Alpha, ordertest.Beta))
	token := "Bearer " + e.Tokens[ordertest.CustomerID]
	var seq atomic.Int64
	send := func(b *testing.B, req *http.Request, want int) {
		res, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != want {
			b.Fatalf("%s %s: %d", req.Method, req.URL.Path, res.StatusCode)
		}
	}
	place := func(b *testing.B) {
		req, _ := http.NewRequest("POST", e.Base+"/api/v1/orders", bytes.NewReader(body))
		req.Header.Set("Authorization", token)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", fmt.Sprintf("bench-%d", seq.Add(1)))
		send(b, req, http.StatusCreated)
	}
	b.Run("baseline-GET-healthz", func(b *testing.B) {
		for b.Loop() {
			req, _ := http.NewRequest("GET", e.Base+"/healthz", nil)
			send(b, req, http.StatusOK)
		}
	})
	if err := e.Svc.DB.Exec("CREATE TABLE bench_commits (id bigint GENERATED ALWAYS AS IDENTITY, at timestamptz DEFAULT now())").Error; err != nil {
		b.Fatal(err)
	}
	b.Run("baseline-one-row-commit", func(b *testing.B) {
		for b.Loop() {
			if err := e.Svc.DB.Exec("INSERT INTO bench_commits DEFAULT VALUES").Error; err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("domain-Place", func(b *testing.B) {
		actor := order.Actor{ID: ordertest.CustomerID, Role: order.RoleCustomer}
		lines := []order.LineInput{{ProductID: ordertest.Alpha, Quantity: 2}, {ProductID: ordertest.Beta, Quantity: 1}}
		for b.Loop() {
			_, _, err := e.Orders.Place(context.Background(), actor, order.PlaceInput{IdempotencyKey: fmt.Sprintf("bench-%d", seq.Add(1)), Lines: lines})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("POST-orders", func(b *testing.B) {
		for b.Loop() {
			place(b)
		}
	})
	b.Run("POST-orders-4-clients", func(b *testing.B) {
		b.SetParallelism(2) // 2 × GOMAXPROCS(2) = 4 clients
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				place(b)
			}
		})
	})
}
