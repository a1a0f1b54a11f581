package paymentapi_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/shop-oss/shop/pkg/auth"
	"github.com/shop-oss/shop/services/payment/internal/paymenttest"
)

const spec = "../../api/openapi.yaml"

type paymentJSON struct {
	ID            string `json:"id"`
	OrderID       string `json:"order_id"`
	UserID        string `json:"user_id"`
	AmountMinor   int64  `json:"amount_minor"`
	Currency      string `json:"currency"`
	Status        string `json:"status"`
	RefundedMinor int64  `json:"refunded_minor"`
	FailureReason string `json:"failure_reason"`
	VoidReason    string `json:"void_reason"`
	CardLast4     string `json:"card_last4"`
	Attempts      int    `json:"attempts"`
	Refunds       []struct {
		ID          string `json:"id"`
		AmountMinor int64  `json:"amount_minor"`
		Reason      string `json:"reason"`
		CreatedBy   string `json:"created_by"`
	} `json:"refunds"`
}

type problemJSON struct {
	Type   string `json:"type"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
}

type env struct {
	f        *paymenttest.Fixture
	customer string // user ID
	token    string // the customer's
	other    string // another customer's token
	admin    string // an admin's token
}

func start(t testing.TB) *env {
	f := paymenttest.Start(t, spec, nil)
	customer := uuid.NewString()
	return &env{
		f: f, customer: customer,
		token: f.Token(t, customer, auth.RoleCustomer),
		other: f.Token(t, uuid.NewString(), auth.RoleCustomer),
		admin: f.Token(t, uuid.NewString(), auth.RoleAdmin),
	}
}

// pending makes an order of total for the customer, reserved until
// expires, and returns its payment (PENDING).
func (e *env) pending(t testing.TB, total int64, expires time.Time) paymentJSON {
	t.Helper()
	order := uuid.NewString()
	e.f.Apply(t, paymenttest.Reserved(t, order, e.customer, total, expires))
	var p paymentJSON
	if res := e.post(t, "/initiate", e.token, map[string]any{"order_id": order}, &p); res.StatusCode != http.StatusOK {
		t.Fatalf("initiate: %d", res.StatusCode)
	}
	if p.Status != "PENDING" || p.AmountMinor != total || p.UserID != e.customer {
		t.Fatalf("new payment %+v", p)
	}
	return p
}

func (e *env) post(t testing.TB, path, token string, body, out any, header ...string) *http.Response {
	t.Helper()
	return e.f.Call(t, http.MethodPost, "/api/v1/payments"+path, token, body, out,
		append([]string{"Idempotency-Key", uuid.NewString()}, header...)...)
}

func (e *env) confirm(t testing.TB, paymentID, card string, out any) *http.Response {
	t.Helper()
	return e.post(t, "/confirm", e.token, map[string]any{"payment_id": paymentID, "card_number": card}, out)
}

func (e *env) paid(t *testing.T, total int64) paymentJSON {
	t.Helper()
	p := e.pending(t, total, time.Now().Add(15*time.Minute))
	if res := e.confirm(t, p.ID, paymenttest.Cards.Success, &p); res.StatusCode != http.StatusOK {
		t.Fatalf("confirm: %d", res.StatusCode)
	}
	return p
}

func wantProblem(t *testing.T, res *http.Response, p problemJSON, status int, slug string) {
	t.Helper()
	if res.StatusCode != status || p.Type != "urn:shop:problem:"+slug {
		t.Fatalf("got %d %s (%s), want %d %s", res.StatusCode, p.Type, p.Detail, status, slug)
	}
}
