package inventorydb_test

import (
	"testing"

	"github.com/google/uuid"

	"github.com/shop-oss/shop/services/inventory/internal/inventory"
)

// BenchmarkReserve measures one-line reservations (each a transaction with
// its ledger entry and outbox event) from parallel goroutines, spread over
// many products and on one hot product. scripts/bench/inventory measures
// the whole service from outside, beside a pgbench baseline.
func BenchmarkReserve(b *testing.B) {
	e := newEnv(b)
	spread := make([]uuid.UUID, 200)
	for i := range spread {
		spread[i] = e.product(inventory.MaxOnHand)
	}
	hot := e.product(inventory.MaxOnHand)
	for _, bc := range []struct {
		name    string
		product func(i int) uuid.UUID
	}{
		{"spread", func(i int) uuid.UUID { return spread[i%len(spread)] }},
		{"hot", func(int) uuid.UUID { return hot }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetParallelism(4)
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					i++
					res, err := e.svc.Reserve(e.ctx, inventory.ReserveRequest{OrderID: uuid.New(), Lines: []inventory.Line{{ProductID: bc.product(i), Quantity: 1}}})
					if err != nil || !res.Created {
						b.Fatal(err)
					}
				}
			})
		})
	}
	e.checkInvariants()
}
