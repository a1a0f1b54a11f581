// Package paymentapi is the payment service's HTTP API (api/openapi.yaml):
// gin handlers that decode and validate requests, call the payment
// Service, and write responses; domain errors become problems through the
// Errors table, in one place.
package paymentapi

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/shop-oss/shop/pkg/auth"
	"github.com/shop-oss/shop/pkg/idempotency"
	"github.com/shop-oss/shop/pkg/problem"
	"github.com/shop-oss/shop/pkg/web"
	"github.com/shop-oss/shop/services/payment/internal/payment"
)

// Errors maps the payment domain's errors to problems.
var Errors = []problem.Mapping{
	{Err: payment.ErrPaymentNotFound, Status: http.StatusNotFound, Slug: "payment-not-found", Title: "Payment not found"},
	{Err: payment.ErrOrderNotFound, Status: http.StatusNotFound, Slug: "order-not-found", Title: "Order not found",
		Detail: true},
	{Err: payment.ErrOrderNotReady, Status: http.StatusConflict, Slug: "order-not-ready", Title: "Order not reserved yet", Detail: true},
	{Err: payment.ErrOrderClosed, Status: http.StatusConflict, Slug: "order-closed", Title: "Order closed", Detail: true},
	{Err: payment.ErrReservationExpired, Status: http.StatusConflict, Slug: "reservation-expired", Title: "Reservation expired", Detail: true},
	{Err: payment.ErrPaymentBusy, Status: http.StatusConflict, Slug: "payment-busy", Title: "Payment being processed", Detail: true},
	{Err: payment.ErrPaymentVoided, Status: http.StatusConflict, Slug: "payment-voided", Title: "Payment voided", Detail: true},
	{Err: payment.ErrPaymentFailed, Status: http.StatusConflict, Slug: "payment-failed", Title: "Payment failed", Detail: true},
	{Err: payment.ErrAlreadyCaptured, Status: http.StatusConflict, Slug: "payment-already-captured", Title: "Payment already captured", Detail: true},
	{Err: payment.ErrNotCaptured, Status: http.StatusConflict, Slug: "payment-not-captured", Title: "Payment not captured", Detail: true},
	{Err: payment.ErrRefundExceedsPaid, Status: http.StatusConflict, Slug: "refund-exceeds-paid", Title: "Refund exceeds what was paid", Detail: true},
	{Err: payment.ErrStateChanged, Status: http.StatusConflict, Slug: "payment-state-changed", Title: "Payment changed concurrently", Detail: true},
	{Err: payment.ErrForbidden, Status: http.StatusForbidden, Slug: auth.SlugForbidden, Title: "Forbidden"},
	{Err: payment.ErrCardDeclined, Status: http.StatusPaymentRequired, Slug: "card-declined", Title: "Card declined", Detail: true},
	{Err: payment.ErrInsufficientFunds, Status: http.StatusPaymentRequired, Slug: "insufficient-funds", Title: "Insufficient funds", Detail: true},
	{Err: payment.ErrGatewayTimeout, Status: http.StatusPaymentRequired, Slug: "gateway-timeout", Title: "Payment gateway timed out", Detail: true},
	{Err: payment.ErrGatewayError, Status: http.StatusPaymentRequired, Slug: "gateway-error", Title: "Payment gateway error", Detail: true},
	{Err: payment.ErrGatewayUnavailable, Status: http.StatusBadGateway, Slug: "gateway-unavailable", Title: "Payment gateway unavailable", Detail: true},
}

// Mount adds the payment routes to api (/api/v1). authn authenticates;
// idempotent is the Idempotency-Key middleware (mounted after authn);
// confirmLimit, when not nil, is the per-user rate limit of confirm (card
// testing: trying card numbers one after another), before idempotent.
func Mount(api *gin.RouterGroup, authn, idempotent, confirmLimit gin.HandlerFunc, svc *payment.Service) {
	h := handlers{svc: svc}
	g := api.Group("/payments", authn)
	g.GET("", h.list)
	g.GET("/:id", h.get)
	g.POST("/initiate", idempotent, h.initiate)
	confirm := []gin.HandlerFunc{idempotent, h.confirm}
	if confirmLimit != nil {
		confirm = append([]gin.HandlerFunc{confirmLimit}, confirm...)
	}
	g.POST("/confirm", confirm...)
	g.POST("/refund", auth.RequireRole(auth.RoleAdmin), idempotent, h.refund)
}

type handlers struct {
	svc *payment.Service
}

func actor(c *gin.Context) payment.Actor {
	p, _ := auth.FromContext(c.Request.Context())
	return payment.Actor{UserID: p.UserID, Admin: p.IsAdmin()}
}

type initiateRequest struct {
	OrderID string `json:"order_id" validate:"required,uuid"`
}

func (h handlers) initiate(c *gin.Context) {
	var req initiateRequest
	if !web.Bind(c, &req) {
		return
	}
	p, err := h.svc.Initiate(c.Request.Context(), actor(c), strings.ToLower(req.OrderID))
	if err != nil {
		web.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, toResponse(p))
}

type confirmRequest struct {
	PaymentID  string `json:"payment_id" validate:"required,uuid"`
	CardNumber string `json:"card_number" validate:"required,max=32"`
}

func (h handlers) confirm(c *gin.Context) {
	var req confirmRequest
	if !web.Bind(c, &req) {
		return
	}
	in := payment.ConfirmInput{PaymentID: strings.ToLower(req.PaymentID), CardNumber: req.CardNumber}
	// The key's record of a successful charge is completed with the
	// capture, in its statement (the middleware completes the others).
	held, ok := idempotency.HeldFrom(c.Request.Context())
	var sent []byte
	if ok {
		in.Receipt = func(p payment.Payment) (payment.Receipt, error) {
			body, err := json.Marshal(toResponse(p))
			if err != nil {
				return nil, fmt.Errorf("render payment %s: %w", p.ID, err)
			}
			r, err := held.Completed(http.StatusOK, map[string]string{"Content-Type": jsonContentType}, body)
			if err != nil {
				return nil, err
			}
			sent = body // the answer, once the capture (and its receipt) commits
			return r, nil
		}
	}
	p, err := h.svc.Confirm(c.Request.Context(), actor(c), in)
	switch {
	case err != nil && ok && p.ID != "":
		// A decline (or a gateway failure) is not a refusal: the gateway
		// was called and the attempt's outcome committed with the payment,
		// which Confirm returns with the error. Its 402 is recorded, so that
		// a retry with the key gets the same answer without another charge
		// attempt; another card is another request, with a new key.
		held.Applied()
		web.Fail(c, err)
	case err != nil:
		web.Fail(c, err)
	case sent != nil:
		held.Done()
		c.Data(http.StatusOK, jsonContentType, sent)
	default:
		c.JSON(http.StatusOK, toResponse(p))
	}
}

// jsonContentType is what gin's JSON answers carry.
const jsonContentType = "application/json; charset=utf-8"

type refundRequest struct {
	PaymentID string `json:"payment_id" validate:"required,uuid"`
	// AmountMinor absent refunds all that remains.
	AmountMinor *int64 `json:"amount_minor" validate:"omitempty,gt=0"`
	Reason      string `json:"reason" validate:"omitempty,min=2,max=64,uppercase"`
}

type refundResult struct {
	Refund  refundResponse  `json:"refund"`
	Payment paymentResponse `json:"payment"`
}

func (h handlers) refund(c *gin.Context) {
	var req refundRequest
	if !web.Bind(c, &req) {
		return
	}
	in := payment.RefundInput{PaymentID: strings.ToLower(req.PaymentID), Reason: req.Reason}
	if req.AmountMinor != nil {
		in.AmountMinor = *req.AmountMinor
	}
	p, r, err := h.svc.Refund(c.Request.Context(), actor(c), in)
	if err != nil {
		web.Fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, refundResult{Refund: toRefundResponse(r), Payment: toResponse(p)})
}

type getURI struct {
	ID string `uri:"id" validate:"uuid"`
}

func (h handlers) get(c *gin.Context) {
	uri := getURI{ID: c.Param("id")}
	if !web.Valid(c, &uri) {
		return
	}
	p, err := h.svc.Get(c.Request.Context(), actor(c), strings.ToLower(uri.ID))
	if err != nil {
		web.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, toResponse(p))
}

type listQuery struct {
	OrderID string `form:"orderId" validate:"omitempty,uuid"`
	Status  string `form:"status" validate:"omitempty,oneof=PENDING SUCCEEDED FAILED VOIDED PARTIALLY_REFUNDED REFUNDED"`
	Limit   int    `form:"limit" validate:"omitempty,min=1,max=100"`
	Cursor  string `form:"cursor" validate:"omitempty,max=200"`
}

type listResponse struct {
	Items      []paymentResponse `json:"items"`
	NextCursor string            `json:"next_cursor,omitempty"`
}

func (h handlers) list(c *gin.Context) {
	var q listQuery
	if !web.BindQuery(c, &q) {
		return
	}
	f := payment.ListFilter{OrderID: strings.ToLower(q.OrderID), Status: payment.Status(q.Status), Limit: q.Limit}
	if q.Cursor != "" {
		cur, err := decodeCursor(q.Cursor)
		if err != nil {
			web.Fail(c, err)
			return
		}
		f.After = &cur
	}
	var (
		page payment.Page
		err  error
	)
	if wait := web.PreferWait(c, payment.MaxWait); wait > 0 && f.OrderID != "" {
		web.AppliedWait(c, wait)
		page, err = h.svc.ListWait(c.Request.Context(), actor(c), f, wait)
	} else {
		page, err = h.svc.List(c.Request.Context(), actor(c), f)
	}
	if err != nil {
		web.Fail(c, err)
		return
	}
	out := listResponse{Items: make([]paymentResponse, len(page.Items))}
	for i, p := range page.Items {
		out.Items[i] = toResponse(p)
	}
	if page.Next != nil {
		out.NextCursor = encodeCursor(*page.Next)
	}
	c.JSON(http.StatusOK, out)
}

// A cursor is opaque to clients: base64url of "<created_at µs>|<id>".
func encodeCursor(c payment.Cursor) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(c.CreatedAt.UnixMicro(), 10) + "|" + c.ID))
}

func decodeCursor(s string) (payment.Cursor, error) {
	bad := problem.Validation(problem.Field("cursor", "is not a cursor returned by this API"))
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return payment.Cursor{}, bad
	}
	micros, id, ok := strings.Cut(string(raw), "|")
	n, err := strconv.ParseInt(micros, 10, 64)
	if !ok || err != nil || web.Validate(getURI{ID: id}) != nil {
		return payment.Cursor{}, bad
	}
	return payment.Cursor{CreatedAt: time.UnixMicro(n).UTC(), ID: id}, nil
}

type paymentResponse struct {
	ID            string           `json:"id"`
	OrderID       string           `json:"order_id"`
	UserID        string           `json:"user_id"`
	ReservationID string           `json:"reservation_id,omitempty"`
	AmountMinor   int64            `json:"amount_minor"`
	Currency      string           `json:"currency"`
	Status        string           `json:"status"`
	RefundedMinor int64            `json:"refunded_minor"`
	FailureReason string           `json:"failure_reason,omitempty"`
	VoidReason    string           `json:"void_reason,omitempty"`
	CardLast4     string           `json:"card_last4,omitempty"`
	Attempts      int              `json:"attempts"`
	CapturedAt    *time.Time       `json:"captured_at,omitempty"`
	CreatedAt     time.Time        `json:"created_at"`
	UpdatedAt     time.Time        `json:"updated_at"`
	Refunds       []refundResponse `json:"refunds"`
}

type refundResponse struct {
	ID          string    `json:"id"`
	PaymentID   string    `json:"payment_id"`
	AmountMinor int64     `json:"amount_minor"`
	Currency    string    `json:"currency"`
	Reason      string    `json:"reason"`
	CreatedBy   string    `json:"created_by,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
}

func toResponse(p payment.Payment) paymentResponse {
	out := paymentResponse{
		ID: p.ID, OrderID: p.OrderID, UserID: p.UserID, ReservationID: p.ReservationID,
		AmountMinor: p.Amount.AmountMinor, Currency: p.Amount.Currency, Status: string(p.Status),
		RefundedMinor: p.RefundedMinor, FailureReason: p.FailureReason, VoidReason: p.VoidReason,
		CardLast4: p.CardLast4, Attempts: p.Attempts, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt,
		Refunds: make([]refundResponse, len(p.Refunds)),
	}
	if !p.CapturedAt.IsZero() {
		t := p.CapturedAt
		out.CapturedAt = &t
	}
	for i, r := range p.Refunds {
		out.Refunds[i] = toRefundResponse(r)
	}
	return out
}

func toRefundResponse(r payment.Refund) refundResponse {
	return refundResponse{
		ID: r.ID, PaymentID: r.PaymentID, AmountMinor: r.AmountMinor, Currency: r.Currency,
		Reason: r.Reason, CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt,
	}
}
