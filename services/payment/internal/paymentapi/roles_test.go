package paymentapi_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/shop-oss/shop/pkg/auth"
	"github.com/shop-oss/shop/services/payment/internal/paymenttest"
)

// An administrator may pay another user's pending payment (a payment taken
// by phone: the documented "owner or staff"); the payment stays the
// customer's. A seller is not payment staff: to a seller, as to another
// customer, someone else's payment does not exist.
func TestConfirmOfAnotherUsersPayment(t *testing.T) {
	e := start(t)
	seller := e.f.Token(t, uuid.NewString(), auth.RoleSeller)
	body := func(id string) map[string]any {
		return map[string]any{"payment_id": id, "card_number": paymenttest.Cards.Success}
	}

	t.Run("confirm404seller", func(t *testing.T) {
		p := e.pending(t, 1500, time.Now().Add(15*time.Minute))
		var prob problemJSON
		wantProblem(t, e.post(t, "/confirm", seller, body(p.ID), &prob), prob, 404, "payment-not-found")
		if n := e.f.Gateway.Attempts(p.ID); n != 0 {
			t.Fatalf("the gateway was called %d times for a seller's refused confirm", n)
		}
	})
	t.Run("confirm200admin", func(t *testing.T) {
		p := e.pending(t, 2500, time.Now().Add(15*time.Minute))
		var got paymentJSON
		if res := e.post(t, "/confirm", e.admin, body(p.ID), &got); res.StatusCode != http.StatusOK {
			t.Fatalf("admin confirms the customer's payment: %d", res.StatusCode)
		}
		if got.Status != "SUCCEEDED" || got.UserID != e.customer || got.AmountMinor != 2500 {
			t.Fatalf("payment after the admin's confirm: %+v; want SUCCEEDED, still the customer's", got)
		}
		if n := e.f.Gateway.Charges(p.ID); n != 1 {
			t.Fatalf("%d charges, want 1", n)
		}
		var again problemJSON
		wantProblem(t, e.confirm(t, p.ID, paymenttest.Cards.Success, &again), again, 409, "payment-already-captured")
	})
}
