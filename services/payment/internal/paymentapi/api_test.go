package paymentapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/shop-oss/shop/pkg/event"
	"github.com/shop-oss/shop/proto-events/eventsv1"
	"github.com/shop-oss/shop/services/payment/internal/payment"
	"github.com/shop-oss/shop/services/payment/internal/paymentdb"
	"github.com/shop-oss/shop/services/payment/internal/paymenttest"
)

func TestConfirmTestCards(t *testing.T) {
	e := start(t)
	cases := []struct {
		name, card string
		status     int
		slug       string // problem type when not 200
		final      string
		reason     string
		attempts   int
		events     []string
	}{
		{"confirm200success", paymenttest.Cards.Success, 200, "", "SUCCEEDED", "", 1,
			[]string{eventsv1.TypePaymentInitiated, eventsv1.TypePaymentSuccess}},
		{"confirm200timeoutRetriedThenSuccess", paymenttest.Cards.TimeoutThenSuccess, 200, "", "SUCCEEDED", "", 3,
			[]string{eventsv1.TypePaymentInitiated, eventsv1.TypePaymentSuccess}},
		// A decline by the card leaves the payment open for another card:
		// no event, the saga waits.
		{"confirm402declined", paymenttest.Cards.Declined, 402, "card-declined", "PENDING", "CARD_DECLINED", 1,
			[]string{eventsv1.TypePaymentInitiated}},
		{"confirm402insufficientFunds", paymenttest.Cards.Insufficient, 402, "insufficient-funds", "PENDING", "INSUFFICIENT_FUNDS", 1,
			[]string{eventsv1.TypePaymentInitiated}},
		{"confirm402gatewayTimeout", paymenttest.Cards.AlwaysTimeout, 402, "gateway-timeout", "FAILED", "GATEWAY_TIMEOUT", 4,
			[]string{eventsv1.TypePaymentInitiated, eventsv1.TypePaymentFailed}},
		{"confirm402unknownCardDeclined", "4012888888881881", 402, "card-declined", "PENDING", "CARD_DECLINED", 1,
			[]string{eventsv1.TypePaymentInitiated}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := e.pending(t, 1250, time.Now().Add(15*time.Minute))
			if c.status == 200 {
				var got paymentJSON
				if res := e.confirm(t, p.ID, c.card, &got); res.StatusCode != 200 {
					t.Fatalf("confirm: %d", res.StatusCode)
				}
			} else {
				var prob problemJSON
				wantProblem(t, e.confirm(t, p.ID, c.card, &prob), prob, c.status, c.slug)
				if !strings.Contains(prob.Detail, c.reason) {
					t.Errorf("detail %q does not name %s", prob.Detail, c.reason)
				}
			}
			var got paymentJSON
			e.f.Call(t, http.MethodGet, "/api/v1/payments/"+p.ID, e.token, nil, &got)
			if got.Status != c.final || got.FailureReason != c.reason || got.Attempts != c.attempts ||
				got.CardLast4 != c.card[len(c.card)-4:] || e.f.Gateway.Attempts(p.ID) != c.attempts {
				t.Fatalf("after confirm: %+v (gateway attempts %d)", got, e.f.Gateway.Attempts(p.ID))
			}
			published := e.f.Published(t, p.OrderID, len(c.events))
			if types := paymenttest.Types(published); !slices.Equal(types, c.events) {
				t.Fatalf("published %v, want %v", types, c.events)
			}
			last := published[len(published)-1]
			if last.Key != p.OrderID || last.CorrelationID != p.OrderID {
				t.Errorf("event key %q correlation %q, want the order ID", last.Key, last.CorrelationID)
			}
			switch c.final {
			case "PENDING":
				if last.Type != eventsv1.TypePaymentInitiated {
					t.Fatalf("after a decline: %s", last.Type)
				}
			case "FAILED":
				m, err := event.DecodeAs[*eventsv1.PaymentFailed](last)
				if err != nil || m.GetReasonCode() != c.reason || m.GetPaymentId() != p.ID || m.GetAmount().GetAmountMinor() != 1250 {
					t.Fatalf("PAYMENT_FAILED %v %v", m, err)
				}
			default:
				m, err := event.DecodeAs[*eventsv1.PaymentSucceeded](last)
				if err != nil || m.GetPaymentId() != p.ID || m.GetAmount().GetAmountMinor() != 1250 || m.GetAmount().GetCurrency() != "EUR" {
					t.Fatalf("PAYMENT_SUCCESS %v %v", m, err)
				}
			}
		})
	}
}

func TestMetrics(t *testing.T) {
	e := start(t)
	e.paid(t, 100)
	q := e.pending(t, 100, time.Now().Add(time.Hour))
	e.confirm(t, q.ID, paymenttest.Cards.AlwaysTimeout, nil)
	res := e.f.Call(t, http.MethodGet, "/metrics", "", nil, nil)
	body, _ := io.ReadAll(res.Body)
	for _, want := range []string{
		`payments_total{outcome="succeeded",reason=""} 1`,
		`payments_total{outcome="failed",reason="GATEWAY_TIMEOUT"} 1`,
		`payment_gateway_request_duration_seconds_count{operation="charge",result="approved"} 1`,
		`payment_gateway_request_duration_seconds_count{operation="charge",result="no_answer"} 4`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func TestConfirmRefused(t *testing.T) {
	e := start(t)
	p := e.pending(t, 1000, time.Now().Add(15*time.Minute))
	body := func(id, card string) map[string]any { return map[string]any{"payment_id": id, "card_number": card} }
	var prob problemJSON

	t.Run("confirm400badCard", func(t *testing.T) {
		wantProblem(t, e.post(t, "/confirm", e.token, body(p.ID, "4242424242424241"), &prob), prob, 400, "validation")
	})
	t.Run("confirm400missingField", func(t *testing.T) {
		wantProblem(t, e.post(t, "/confirm", e.token, map[string]any{"payment_id": p.ID}, &prob), prob, 400, "validation")
	})
	t.Run("confirm400unknownField", func(t *testing.T) {
		b := body(p.ID, paymenttest.Cards.Success)
		b["cvc"] = "123"
		wantProblem(t, e.post(t, "/confirm", e.token, b, &prob), prob, 400, "validation")
	})
	t.Run("confirm400noIdempotencyKey", func(t *testing.T) {
		res := e.f.Call(t, http.MethodPost, "/api/v1/payments/confirm", e.token, body(p.ID, paymenttest.Cards.Success), &prob)
		wantProblem(t, res, prob, 400, "idempotency-key-missing")
	})
	t.Run("confirm401", func(t *testing.T) {
		wantProblem(t, e.post(t, "/confirm", "", body(p.ID, paymenttest.Cards.Success), &prob), prob, 401, "unauthorized")
	})
	t.Run("confirm404otherCustomer", func(t *testing.T) {
		res := e.post(t, "/confirm", e.other, body(p.ID, paymenttest.Cards.Success), &prob)
		wantProblem(t, res, prob, 404, "payment-not-found")
	})
	t.Run("confirm404unknown", func(t *testing.T) {
		wantProblem(t, e.post(t, "/confirm", e.token, body(uuid.NewString(), paymenttest.Cards.Success), &prob), prob, 404, "payment-not-found")
	})
	t.Run("confirm409alreadyCaptured", func(t *testing.T) {
		if res := e.confirm(t, p.ID, paymenttest.Cards.Success, nil); res.StatusCode != 200 {
			t.Fatalf("first confirm %d", res.StatusCode)
		}
		wantProblem(t, e.confirm(t, p.ID, paymenttest.Cards.Success, &prob), prob, 409, "payment-already-captured")
		if n := e.f.Gateway.Charges(p.ID); n != 1 {
			t.Fatalf("%d charges", n)
		}
	})
	t.Run("confirm409failed", func(t *testing.T) {
		q := e.pending(t, 1000, time.Now().Add(15*time.Minute))
		e.confirm(t, q.ID, paymenttest.Cards.AlwaysTimeout, nil)
		wantProblem(t, e.confirm(t, q.ID, paymenttest.Cards.Success, &prob), prob, 409, "payment-failed")
	})
	t.Run("confirm200anotherCardAfterDeclines", func(t *testing.T) {
		q := e.pending(t, 1000, time.Now().Add(15*time.Minute))
		for _, card := range []string{paymenttest.Cards.Declined, paymenttest.Cards.Insufficient} {
			if res := e.confirm(t, q.ID, card, nil); res.StatusCode != 402 {
				t.Fatalf("decline: %d", res.StatusCode)
			}
		}
		var got paymentJSON
		if res := e.confirm(t, q.ID, paymenttest.Cards.Success, &got); res.StatusCode != 200 {
			t.Fatalf("the card after two declines: %d", res.StatusCode)
		}
		if got.Status != "SUCCEEDED" || got.Attempts != 3 || got.CardLast4 != "4242" || e.f.Gateway.Charges(q.ID) != 1 {
			t.Fatalf("after the good card: %+v (charges %d)", got, e.f.Gateway.Charges(q.ID))
		}
		published := e.f.Published(t, q.OrderID, 2)
		if types := paymenttest.Types(published); !slices.Equal(types, []string{eventsv1.TypePaymentInitiated, eventsv1.TypePaymentSuccess}) {
			t.Fatalf("published %v", types)
		}
	})
	t.Run("confirm409reservationExpired", func(t *testing.T) {
		q := e.pending(t, 1000, time.Now().Add(-time.Second))
		wantProblem(t, e.confirm(t, q.ID, paymenttest.Cards.Success, &prob), prob, 409, "reservation-expired")
		if e.f.Gateway.Attempts(q.ID) != 0 {
			t.Fatal("the gateway was called for an expired reservation")
		}
	})
	t.Run("confirm409voided", func(t *testing.T) {
		q := e.pending(t, 1000, time.Now().Add(15*time.Minute))
		e.f.Apply(t, paymenttest.Expired(t, q.OrderID))
		wantProblem(t, e.confirm(t, q.ID, paymenttest.Cards.Success, &prob), prob, 409, "payment-voided")
		if e.f.Gateway.Attempts(q.ID) != 0 {
			t.Fatal("the gateway was called for a voided payment")
		}
	})
}

// 20 concurrent confirms of one payment: exactly one charge.
func TestConfirmConcurrentChargesOnce(t *testing.T) {
	e := start(t)
	p := e.pending(t, 4200, time.Now().Add(15*time.Minute))
	var wg sync.WaitGroup
	codes := make(chan int, 20)
	for range 20 {
		wg.Go(func() {
			var prob problemJSON
			res := e.confirm(t, p.ID, paymenttest.Cards.Success, nil)
			_ = json.NewDecoder(res.Body).Decode(&prob)
			if res.StatusCode == 409 && prob.Type != "urn:shop:problem:payment-busy" && prob.Type != "urn:shop:problem:payment-already-captured" {
				t.Errorf("409 %s", prob.Type)
			}
			codes <- res.StatusCode
		})
	}
	wg.Wait()
	close(codes)
	count := map[int]int{}
	for c := range codes {
		count[c]++
	}
	if count[200] != 1 || count[409] != 19 {
		t.Fatalf("statuses %v, want one 200 and 19 409", count)
	}
	if n := e.f.Gateway.Charges(p.ID); n != 1 {
		t.Fatalf("%d charges at the gateway, want 1", n)
	}
	types := paymenttest.Types(e.f.Published(t, p.OrderID, 2))
	if !slices.Equal(types, []string{eventsv1.TypePaymentInitiated, eventsv1.TypePaymentSuccess}) {
		t.Fatalf("published %v", types)
	}
}

func TestIdempotencyKeys(t *testing.T) {
	e := start(t)
	p := e.pending(t, 1000, time.Now().Add(15*time.Minute))
	key := uuid.NewString()
	body := map[string]any{"payment_id": p.ID, "card_number": paymenttest.Cards.Success}
	var first, again paymentJSON
	res := e.f.Call(t, http.MethodPost, "/api/v1/payments/confirm", e.token, body, &first, "Idempotency-Key", key)
	if res.StatusCode != 200 {
		t.Fatalf("confirm %d", res.StatusCode)
	}
	t.Run("confirm200recordedWithTheCapture", func(t *testing.T) {
		// The answer was rendered before the capture was written, and its
		// record written with it: the answer, the record and the payment
		// as read now agree.
		var answered, stored, now map[string]any
		e.f.Call(t, http.MethodPost, "/api/v1/payments/confirm", e.token, body, &answered, "Idempotency-Key", key) // a replay
		e.f.Call(t, http.MethodGet, "/api/v1/payments/"+p.ID, e.token, nil, &now)
		var rec struct {
			State          string
			ResponseStatus int
			ResponseBody   []byte
		}
		if err := e.f.Svc.DB.Raw("SELECT state, response_status, response_body FROM idempotency_keys WHERE key = ?", key).Scan(&rec).Error; err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(rec.ResponseBody, &stored); err != nil || rec.State != "completed" || rec.ResponseStatus != 200 {
			t.Fatalf("record %s %d %s (%v)", rec.State, rec.ResponseStatus, rec.ResponseBody, err)
		}
		if !reflect.DeepEqual(answered, stored) || !reflect.DeepEqual(stored, now) {
			t.Fatalf("answered %v\nrecorded %v\nread now %v", answered, stored, now)
		}
	})
	t.Run("confirm200replayed", func(t *testing.T) {
		res := e.f.Call(t, http.MethodPost, "/api/v1/payments/confirm", e.token, body, &again, "Idempotency-Key", key)
		if res.StatusCode != 200 || res.Header.Get("Idempotent-Replayed") != "true" || again.ID != first.ID || again.Status != first.Status {
			t.Fatalf("replay: %d %q %+v", res.StatusCode, res.Header.Get("Idempotent-Replayed"), again)
		}
		if e.f.Gateway.Charges(p.ID) != 1 || e.f.Gateway.Attempts(p.ID) != 1 {
			t.Fatal("the replay reached the gateway")
		}
	})
	t.Run("confirm422otherBody", func(t *testing.T) {
		var prob problemJSON
		other := map[string]any{"payment_id": p.ID, "card_number": paymenttest.Cards.Declined}
		res := e.f.Call(t, http.MethodPost, "/api/v1/payments/confirm", e.token, other, &prob, "Idempotency-Key", key)
		wantProblem(t, res, prob, 422, "idempotency-key-reused")
	})
	t.Run("refund422otherBody", func(t *testing.T) {
		k := uuid.NewString()
		b := map[string]any{"payment_id": p.ID, "amount_minor": 100}
		if res := e.f.Call(t, http.MethodPost, "/api/v1/payments/refund", e.admin, b, nil, "Idempotency-Key", k); res.StatusCode != 201 {
			t.Fatalf("refund %d", res.StatusCode)
		}
		res := e.f.Call(t, http.MethodPost, "/api/v1/payments/refund", e.admin, b, nil, "Idempotency-Key", k)
		if res.StatusCode != 201 || res.Header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("refund replay %d", res.StatusCode)
		}
		var prob problemJSON
		b["amount_minor"] = 200
		wantProblem(t, e.f.Call(t, http.MethodPost, "/api/v1/payments/refund", e.admin, b, &prob, "Idempotency-Key", k), prob, 422, "idempotency-key-reused")
		var got paymentJSON
		e.f.Call(t, http.MethodGet, "/api/v1/payments/"+p.ID, e.admin, nil, &got)
		if got.RefundedMinor != 100 {
			t.Fatalf("refunded %d after a refund and its replay, want 100", got.RefundedMinor)
		}
	})
	t.Run("confirm400thenCorrectedSameKey", func(t *testing.T) {
		// A refused request records nothing: the corrected one may use its
		// key (issue 22 item 3: it was 422 idempotency-key-reused).
		q := e.pending(t, 1000, time.Now().Add(15*time.Minute))
		k := uuid.NewString()
		var prob problemJSON
		bad := map[string]any{"payment_id": q.ID, "card_number": "4242424242424241"}
		wantProblem(t, e.f.Call(t, http.MethodPost, "/api/v1/payments/confirm", e.token, bad, &prob, "Idempotency-Key", k), prob, 400, "validation")
		var paid paymentJSON
		good := map[string]any{"payment_id": q.ID, "card_number": paymenttest.Cards.Success}
		res := e.f.Call(t, http.MethodPost, "/api/v1/payments/confirm", e.token, good, &paid, "Idempotency-Key", k)
		if res.StatusCode != 200 || res.Header.Get("Idempotent-Replayed") != "" || paid.Status != "SUCCEEDED" {
			t.Fatalf("corrected request with the refused one's key: %d %q %+v", res.StatusCode, res.Header.Get("Idempotent-Replayed"), paid)
		}
	})
	t.Run("confirm402declinedReplayed", func(t *testing.T) {
		// A decline is the outcome of a charge, committed: its retry is
		// the same 402, replayed, not the payment-failed of a new run.
		q := e.pending(t, 1000, time.Now().Add(15*time.Minute))
		k := uuid.NewString()
		declined := map[string]any{"payment_id": q.ID, "card_number": paymenttest.Cards.Declined}
		var prob, again problemJSON
		wantProblem(t, e.f.Call(t, http.MethodPost, "/api/v1/payments/confirm", e.token, declined, &prob, "Idempotency-Key", k), prob, 402, "card-declined")
		res := e.f.Call(t, http.MethodPost, "/api/v1/payments/confirm", e.token, declined, &again, "Idempotency-Key", k)
		wantProblem(t, res, again, 402, "card-declined")
		if res.Header.Get("Idempotent-Replayed") != "true" || e.f.Gateway.Attempts(q.ID) != 1 {
			t.Fatalf("retry of a declined confirm: replayed %q, %d gateway attempts; want true, 1",
				res.Header.Get("Idempotent-Replayed"), e.f.Gateway.Attempts(q.ID))
		}
	})
	t.Run("initiate422otherBody", func(t *testing.T) {
		k := uuid.NewString()
		e.f.Call(t, http.MethodPost, "/api/v1/payments/initiate", e.token, map[string]any{"order_id": p.OrderID}, nil, "Idempotency-Key", k)
		var prob problemJSON
		res := e.f.Call(t, http.MethodPost, "/api/v1/payments/initiate", e.token, map[string]any{"order_id": uuid.NewString()}, &prob, "Idempotency-Key", k)
		wantProblem(t, res, prob, 422, "idempotency-key-reused")
	})
}

func TestInitiate(t *testing.T) {
	e := start(t)
	p := e.pending(t, 999, time.Now().Add(15*time.Minute))
	var prob problemJSON
	t.Run("initiate200sameEachTime", func(t *testing.T) {
		var again paymentJSON
		if res := e.post(t, "/initiate", e.token, map[string]any{"order_id": p.OrderID}, &again); res.StatusCode != 200 || again.ID != p.ID {
			t.Fatalf("%d %+v", res.StatusCode, again)
		}
		if res := e.post(t, "/initiate", e.admin, map[string]any{"order_id": p.OrderID}, &again); res.StatusCode != 200 || again.ID != p.ID {
			t.Fatalf("admin: %d %+v", res.StatusCode, again)
		}
	})
	t.Run("initiate400", func(t *testing.T) {
		wantProblem(t, e.post(t, "/initiate", e.token, map[string]any{"order_id": "42"}, &prob), prob, 400, "validation")
	})
	t.Run("initiate401", func(t *testing.T) {
		wantProblem(t, e.post(t, "/initiate", "", map[string]any{"order_id": p.OrderID}, &prob), prob, 401, "unauthorized")
	})
	t.Run("initiate404unknownOrder", func(t *testing.T) {
		wantProblem(t, e.post(t, "/initiate", e.token, map[string]any{"order_id": uuid.NewString()}, &prob), prob, 404, "order-not-found")
	})
	t.Run("initiate404otherCustomer", func(t *testing.T) {
		wantProblem(t, e.post(t, "/initiate", e.other, map[string]any{"order_id": p.OrderID}, &prob), prob, 404, "order-not-found")
	})
	// Only an order that an older payment service knew from ORDER_CREATED
	// can be known and not reserved: INVENTORY_RESERVED brings the owner.
	t.Run("initiate409notReserved", func(t *testing.T) {
		order := uuid.NewString()
		e.f.KnownToOlderService(t, order, e.customer, 100)
		wantProblem(t, e.post(t, "/initiate", e.token, map[string]any{"order_id": order}, &prob), prob, 409, "order-not-ready")
	})
	t.Run("initiate409closed", func(t *testing.T) {
		order := uuid.NewString()
		// The reservation arrived after the cancellation: no payment.
		e.f.Apply(t, paymenttest.Cancelled(t, order, "CUSTOMER_REQUEST", false), paymenttest.Reserved(t, order, e.customer, 100, time.Now().Add(time.Hour)))
		wantProblem(t, e.post(t, "/initiate", e.token, map[string]any{"order_id": order}, &prob), prob, 409, "order-closed")
	})
}

func TestRefund(t *testing.T) {
	e := start(t)
	p := e.paid(t, 1000)
	refund := func(token string, body map[string]any, out any) *http.Response {
		return e.post(t, "/refund", token, body, out)
	}
	var prob problemJSON
	t.Run("refund201partial", func(t *testing.T) {
		var got struct {
			Refund struct {
				ID          string `json:"id"`
				AmountMinor int64  `json:"amount_minor"`
				Reason      string `json:"reason"`
				CreatedBy   string `json:"created_by"`
			} `json:"refund"`
			Payment paymentJSON `json:"payment"`
		}
		res := refund(e.admin, map[string]any{"payment_id": p.ID, "amount_minor": 300, "reason": "DAMAGED_ITEM"}, &got)
		if res.StatusCode != 201 || got.Refund.AmountMinor != 300 || got.Refund.Reason != "DAMAGED_ITEM" || got.Refund.CreatedBy == "" ||
			got.Payment.Status != "PARTIALLY_REFUNDED" || got.Payment.RefundedMinor != 300 || len(got.Payment.Refunds) != 1 {
			t.Fatalf("%d %+v", res.StatusCode, got)
		}
	})
	t.Run("refund409exceedsPaid", func(t *testing.T) {
		wantProblem(t, refund(e.admin, map[string]any{"payment_id": p.ID, "amount_minor": 701}, &prob), prob, 409, "refund-exceeds-paid")
	})
	t.Run("refund201rest", func(t *testing.T) {
		var got struct {
			Payment paymentJSON `json:"payment"`
		}
		if res := refund(e.admin, map[string]any{"payment_id": p.ID}, &got); res.StatusCode != 201 ||
			got.Payment.Status != "REFUNDED" || got.Payment.RefundedMinor != 1000 {
			t.Fatalf("%d %+v", res.StatusCode, got)
		}
		types := paymenttest.Types(e.f.Published(t, p.OrderID, 4))
		want := []string{eventsv1.TypePaymentInitiated, eventsv1.TypePaymentSuccess, eventsv1.TypePaymentRefunded, eventsv1.TypePaymentRefunded}
		if !slices.Equal(types, want) {
			t.Fatalf("published %v, want %v", types, want)
		}
	})
	t.Run("refund409nothingLeft", func(t *testing.T) {
		wantProblem(t, refund(e.admin, map[string]any{"payment_id": p.ID}, &prob), prob, 409, "refund-exceeds-paid")
	})
	t.Run("refund409notCaptured", func(t *testing.T) {
		q := e.pending(t, 1000, time.Now().Add(15*time.Minute))
		wantProblem(t, refund(e.admin, map[string]any{"payment_id": q.ID}, &prob), prob, 409, "payment-not-captured")
	})
	t.Run("refund400", func(t *testing.T) {
		wantProblem(t, refund(e.admin, map[string]any{"payment_id": p.ID, "amount_minor": 0}, &prob), prob, 400, "validation")
		wantProblem(t, refund(e.admin, map[string]any{"payment_id": p.ID, "reason": "lower case"}, &prob), prob, 400, "validation")
	})
	t.Run("refund401", func(t *testing.T) {
		wantProblem(t, refund("", map[string]any{"payment_id": p.ID}, &prob), prob, 401, "unauthorized")
	})
	t.Run("refund403customer", func(t *testing.T) {
		wantProblem(t, refund(e.token, map[string]any{"payment_id": p.ID}, &prob), prob, 403, "forbidden")
	})
	t.Run("refund404", func(t *testing.T) {
		wantProblem(t, refund(e.admin, map[string]any{"payment_id": uuid.NewString()}, &prob), prob, 404, "payment-not-found")
	})
}

// Concurrent partial refunds never exceed what was paid.
func TestRefundConcurrentNeverExceedsPaid(t *testing.T) {
	e := start(t)
	p := e.paid(t, 1000)
	var wg sync.WaitGroup
	codes := make(chan int, 10)
	for range 10 {
		wg.Go(func() {
			codes <- e.post(t, "/refund", e.admin, map[string]any{"payment_id": p.ID, "amount_minor": 300}, nil).StatusCode
		})
	}
	wg.Wait()
	close(codes)
	count := map[int]int{}
	for c := range codes {
		count[c]++
	}
	var got paymentJSON
	e.f.Call(t, http.MethodGet, "/api/v1/payments/"+p.ID, e.admin, nil, &got)
	if count[201] != 3 || count[409] != 7 || got.RefundedMinor != 900 || len(got.Refunds) != 3 {
		t.Fatalf("statuses %v, refunded %d in %d refunds", count, got.RefundedMinor, len(got.Refunds))
	}
	if n := e.f.Gateway.Refunded("ch_" + strings.ReplaceAll(p.ID, "-", "")); n != 900 {
		t.Fatalf("the gateway refunded %d, want 900", n)
	}
}

func TestGetAndList(t *testing.T) {
	e := start(t)
	mine := []paymentJSON{e.pending(t, 100, time.Now().Add(time.Hour)), e.pending(t, 200, time.Now().Add(time.Hour)), e.paid(t, 300)}
	var prob problemJSON
	t.Run("get200owner", func(t *testing.T) {
		var got paymentJSON
		if res := e.f.Call(t, http.MethodGet, "/api/v1/payments/"+mine[2].ID, e.token, nil, &got); res.StatusCode != 200 || got.Status != "SUCCEEDED" {
			t.Fatalf("%d %+v", res.StatusCode, got)
		}
	})
	t.Run("get200admin", func(t *testing.T) {
		if res := e.f.Call(t, http.MethodGet, "/api/v1/payments/"+mine[0].ID, e.admin, nil, nil); res.StatusCode != 200 {
			t.Fatal(res.StatusCode)
		}
	})
	t.Run("get404otherCustomer", func(t *testing.T) {
		wantProblem(t, e.f.Call(t, http.MethodGet, "/api/v1/payments/"+mine[0].ID, e.other, nil, &prob), prob, 404, "payment-not-found")
	})
	t.Run("get400badID", func(t *testing.T) {
		wantProblem(t, e.f.Call(t, http.MethodGet, "/api/v1/payments/nope", e.token, nil, &prob), prob, 400, "validation")
	})
	t.Run("get401", func(t *testing.T) {
		wantProblem(t, e.f.Call(t, http.MethodGet, "/api/v1/payments/"+mine[0].ID, "", nil, &prob), prob, 401, "unauthorized")
	})
	type list struct {
		Items      []paymentJSON `json:"items"`
		NextCursor string        `json:"next_cursor"`
	}
	t.Run("list200byOrder", func(t *testing.T) {
		var got list
		e.f.Call(t, http.MethodGet, "/api/v1/payments?orderId="+mine[1].OrderID, e.token, nil, &got)
		if len(got.Items) != 1 || got.Items[0].ID != mine[1].ID {
			t.Fatalf("owner by order: %+v", got)
		}
		e.f.Call(t, http.MethodGet, "/api/v1/payments?orderId="+mine[1].OrderID, e.other, nil, &got)
		if len(got.Items) != 0 {
			t.Fatalf("another customer sees %+v", got)
		}
		e.f.Call(t, http.MethodGet, "/api/v1/payments?orderId="+mine[1].OrderID, e.admin, nil, &got)
		if len(got.Items) != 1 {
			t.Fatalf("admin by order: %+v", got)
		}
	})
	t.Run("list200pagedAndFiltered", func(t *testing.T) {
		var seen []string
		path := "/api/v1/payments?limit=2"
		for {
			var got list
			if res := e.f.Call(t, http.MethodGet, path, e.token, nil, &got); res.StatusCode != 200 {
				t.Fatal(res.StatusCode)
			}
			for _, p := range got.Items {
				seen = append(seen, p.ID)
			}
			if got.NextCursor == "" {
				break
			}
			path = "/api/v1/payments?limit=2&cursor=" + got.NextCursor
		}
		want := []string{mine[2].ID, mine[1].ID, mine[0].ID}
		if !slices.Equal(seen, want) {
			t.Fatalf("pages %v, want newest first %v", seen, want)
		}
		var got list
		e.f.Call(t, http.MethodGet, "/api/v1/payments?status=SUCCEEDED", e.token, nil, &got)
		if len(got.Items) != 1 || got.Items[0].ID != mine[2].ID {
			t.Fatalf("by status: %+v", got)
		}
	})
	t.Run("list400", func(t *testing.T) {
		wantProblem(t, e.f.Call(t, http.MethodGet, "/api/v1/payments?cursor=bad", e.token, nil, &prob), prob, 400, "validation")
		wantProblem(t, e.f.Call(t, http.MethodGet, "/api/v1/payments?limit=1000", e.token, nil, &prob), prob, 400, "validation")
		wantProblem(t, e.f.Call(t, http.MethodGet, "/api/v1/payments?orderId=x", e.token, nil, &prob), prob, 400, "validation")
	})
	t.Run("list401", func(t *testing.T) {
		wantProblem(t, e.f.Call(t, http.MethodGet, "/api/v1/payments", "", nil, &prob), prob, 401, "unauthorized")
	})
}

// TestListWaitsForThePayment: with orderId and "Prefer: wait", the list
// waits for the payment the saga creates, woken when the consumer commits
// it (the fixture's long polls never look again on their own within a
// test), and answers early when waiting cannot help.
func TestListWaitsForThePayment(t *testing.T) {
	e := start(t)
	type list struct {
		Items []paymentJSON `json:"items"`
	}
	type answer struct {
		res     *http.Response
		got     list
		elapsed time.Duration
	}
	wait := func(token, orderID, prefer string) chan answer {
		ch := make(chan answer, 1)
		go func() {
			var a answer
			t0 := time.Now()
			a.res = e.f.Call(t, http.MethodGet, "/api/v1/payments?orderId="+orderID, token, nil, &a.got, "Prefer", prefer)
			a.elapsed = time.Since(t0)
			ch <- a
		}()
		return ch
	}
	// waiting reports whether a request is still waiting after a moment.
	waiting := func(ch chan answer) bool {
		select {
		case a := <-ch:
			ch <- a
			return false
		case <-time.After(300 * time.Millisecond):
			return true
		}
	}

	t.Run("woken by the payment", func(t *testing.T) {
		order := uuid.NewString()
		ch := wait(e.token, order, "wait=10")
		if !waiting(ch) {
			t.Fatal("answered before the order had a payment")
		}
		e.f.Publish(t, paymenttest.Reserved(t, order, e.customer, 1500, time.Now().Add(time.Hour)))
		a := <-ch
		if a.res.StatusCode != 200 || len(a.got.Items) != 1 || a.got.Items[0].Status != "PENDING" || a.got.Items[0].AmountMinor != 1500 {
			t.Fatalf("%d %+v", a.res.StatusCode, a.got)
		}
		if h := a.res.Header.Get("Preference-Applied"); h != "wait=10" {
			t.Fatalf("Preference-Applied %q", h)
		}
		if a.elapsed >= 10*time.Second {
			t.Fatalf("answered only when the wait ended (%s): the wake-up did not arrive", a.elapsed)
		}
	})
	t.Run("woken by the cancellation", func(t *testing.T) {
		order := uuid.NewString()
		ch := wait(e.token, order, "wait=10")
		if !waiting(ch) {
			t.Fatal("answered before anything happened")
		}
		e.f.Publish(t, paymenttest.Cancelled(t, order, "OUT_OF_STOCK", false))
		a := <-ch
		if a.res.StatusCode != 200 || len(a.got.Items) != 0 || a.elapsed >= 10*time.Second {
			t.Fatalf("%d %+v after %s", a.res.StatusCode, a.got, a.elapsed)
		}
	})
	t.Run("no wait when it cannot help", func(t *testing.T) {
		closed := uuid.NewString()
		e.f.Apply(t, paymenttest.Cancelled(t, closed, "OUT_OF_STOCK", false))
		mine := e.pending(t, 900, time.Now().Add(time.Hour))
		voided := e.pending(t, 800, time.Now().Add(time.Hour))
		e.f.Apply(t, paymenttest.Cancelled(t, voided.OrderID, "CUSTOMER", false))
		for name, c := range map[string]struct {
			token, order string
			items        int
		}{
			"closed order":                {e.token, closed, 0},
			"closed order with a payment": {e.token, voided.OrderID, 1},
			"another's order":             {e.other, mine.OrderID, 0},
			"payment already there":       {e.token, mine.OrderID, 1},
		} {
			a := <-wait(c.token, c.order, "wait=10")
			if a.res.StatusCode != 200 || len(a.got.Items) != c.items || a.elapsed >= 5*time.Second {
				t.Fatalf("%s: %d %+v after %s", name, a.res.StatusCode, a.got, a.elapsed)
			}
		}
	})
	t.Run("without a usable preference it does not wait", func(t *testing.T) {
		order := uuid.NewString()
		for _, prefer := range []string{"", "wait=abc", "wait=0", "respond-async"} {
			a := <-wait(e.token, order, prefer)
			if a.res.StatusCode != 200 || len(a.got.Items) != 0 || a.res.Header.Get("Preference-Applied") != "" || a.elapsed >= 5*time.Second {
				t.Fatalf("Prefer %q: %d %+v, applied %q, after %s", prefer, a.res.StatusCode, a.got, a.res.Header.Get("Preference-Applied"), a.elapsed)
			}
		}
	})
}

// TestWakeUpsReachOtherReplicas: a replica's long poll may wait for a
// payment that another replica's consumer creates, so the service carries
// its wake-ups over Redis ("payment.wakeup"): the payment's order ID is
// published when the consumer commits it.
func TestWakeUpsReachOtherReplicas(t *testing.T) {
	e := start(t)
	opts, err := redis.ParseURL(e.f.Stack.Redis.URL())
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opts)
	defer rdb.Close()
	sub := rdb.Subscribe(context.Background(), "payment.wakeup")
	defer sub.Close()
	if _, err := sub.Receive(context.Background()); err != nil { // the subscription is live
		t.Fatal(err)
	}
	order := uuid.NewString()
	e.f.Publish(t, paymenttest.Reserved(t, order, e.customer, 1500, time.Now().Add(time.Hour)))
	deadline := time.After(30 * time.Second)
	for {
		select {
		case m := <-sub.Channel():
			if strings.Contains(m.Payload, order) {
				return
			}
		case <-deadline:
			t.Fatal("no wake-up for the order reached Redis")
		}
	}
}

// A confirm whose receipt cannot be made still writes the capture: the card
// is charged, so the payment must say so.
func TestConfirmWritesTheCaptureWithoutItsReceipt(t *testing.T) {
	e := start(t)
	p := e.pending(t, 1200, time.Now().Add(15*time.Minute))
	svc, err := payment.New(payment.Options{Store: paymentdb.New(e.f.Svc.DB, e.f.Svc.DB), Gateway: e.f.Gateway})
	if err != nil {
		t.Fatal(err)
	}
	got, err := svc.Confirm(context.Background(), payment.Actor{UserID: e.customer}, payment.ConfirmInput{
		PaymentID: p.ID, CardNumber: paymenttest.Cards.Success,
		Receipt: func(payment.Payment) (payment.Receipt, error) { return nil, errors.New("no receipt today") },
	})
	if err != nil || got.Status != payment.StatusSucceeded {
		t.Fatalf("confirm: %+v, %v; want SUCCEEDED", got, err)
	}
	var status string
	if err := e.f.Svc.DB.Raw("SELECT status FROM payments WHERE id = ?", p.ID).Scan(&status).Error; err != nil || status != "SUCCEEDED" {
		t.Fatalf("stored status %q (%v); want SUCCEEDED", status, err)
	}
	if n := e.f.Gateway.Charges(p.ID); n != 1 {
		t.Fatalf("%d charges; want 1", n)
	}
}
