package paymentapi_test

import (
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkConfirm measures POST /payments/confirm end to end (auth,
// idempotency key, row lock, simulated gateway, conditional update, outbox)
// on distinct payments, in parallel. BenchmarkGetPayment is the baseline of
// the same run: an authenticated read of one payment.
func BenchmarkConfirm(b *testing.B) {
	e := start(b)
	ids := make([]string, b.N)
	for i := range ids {
		ids[i] = e.pending(b, 1000, time.Now().Add(time.Hour)).ID
	}
	var next atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := ids[next.Add(1)-1]
			if res := e.confirm(b, id, "4242424242424242", nil); res.StatusCode != http.StatusOK {
				b.Errorf("confirm %d", res.StatusCode)
			}
		}
	})
}

func BenchmarkGetPayment(b *testing.B) {
	e := start(b)
	id := e.pending(b, 1000, time.Now().Add(time.Hour)).ID
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if res := e.f.Call(b, http.MethodGet, "/api/v1/payments/"+id, e.token, nil, nil); res.StatusCode != http.StatusOK {
				b.Errorf("get %d", res.StatusCode)
			}
		}
	})
}
