package paymentapi_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/shop-oss/shop/pkg/auth"
	"github.com/shop-oss/shop/services/payment/internal/paymenttest"
)

// POST /payments/confirm is limited per user (card testing tries card
// numbers one after another, issue 24 item 5): past
// SHOP_PAYMENT_CONFIRM_PER_MINUTE a user gets 429 rate-limited with
// Retry-After and a detail naming the limit, before the card reaches the
// gateway; another user keeps their own budget.
func TestConfirmIsRateLimitedPerUser(t *testing.T) {
	f := paymenttest.Start(t, spec, map[string]string{"SHOP_PAYMENT_CONFIRM_PER_MINUTE": "3"})
	customer := uuid.NewString()
	token := f.Token(t, customer, auth.RoleCustomer)
	order := uuid.NewString()
	f.Apply(t, paymenttest.Reserved(t, order, customer, 1000, time.Now().Add(time.Hour)))
	var id string
	f.Svc.DB.Raw("SELECT id FROM payments WHERE order_id = ?", order).Scan(&id)
	confirm := func(token, card string) *http.Response {
		return f.Call(t, http.MethodPost, "/api/v1/payments/confirm", token,
			map[string]string{"payment_id": id, "card_number": card}, nil, "Idempotency-Key", uuid.NewString())
	}
	for i := range 3 { // declined cards: the payment stays open for the next
		if res := confirm(token, paymenttest.Cards.Declined); res.StatusCode != http.StatusPaymentRequired {
			t.Fatalf("attempt %d: %d", i+1, res.StatusCode)
		}
	}
	charges := f.Gateway.Attempts(id)
	res := confirm(token, paymenttest.Cards.Success)
	body, _ := io.ReadAll(res.Body)
	var p struct{ Type, Detail string }
	_ = json.Unmarshal(body, &p)
	if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" ||
		p.Type != "urn:shop:problem:rate-limited" || !strings.Contains(p.Detail, "3 payment confirmations per user per minute") {
		t.Fatalf("fourth attempt: %d Retry-After %q %s", res.StatusCode, res.Header.Get("Retry-After"), body)
	}
	if got := f.Gateway.Attempts(id); got != charges {
		t.Fatalf("the refused attempt reached the gateway: %d attempts, then %d", charges, got)
	}
	// Another user's budget is their own (their confirm of this payment is
	// refused by the ownership rule, not by the limit).
	if res := confirm(f.Token(t, uuid.NewString(), auth.RoleCustomer), paymenttest.Cards.Success); res.StatusCode == http.StatusTooManyRequests {
		t.Fatalf("another user limited: %d", res.StatusCode)
	}
}
