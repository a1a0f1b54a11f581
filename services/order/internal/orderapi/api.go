// Package orderapi is the order service's HTTP API (gin): it decodes and
// validates requests, turns the caller's token into a domain Actor, calls
// the domain and writes JSON (errors go through web.Fail and the service's
// one error mapping). The contract is api/openapi.yaml.
package orderapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/shop-oss/shop/pkg/auth"
	"github.com/shop-oss/shop/pkg/idempotency"
	"github.com/shop-oss/shop/pkg/problem"
	"github.com/shop-oss/shop/pkg/web"
	"github.com/shop-oss/shop/services/order/internal/order"
)

// Errors maps the domain's errors to problems: the one place they get an
// HTTP shape.
var Errors = []problem.Mapping{
	{Err: order.ErrNotFound, Status: http.StatusNotFound, Slug: "order-not-found", Title: "Order not found"},
	{Err: order.ErrForbidden, Status: http.StatusForbidden, Slug: "forbidden", Title: "Forbidden", Detail: true},
	{Err: order.ErrIllegalTransition, Status: http.StatusConflict, Slug: "illegal-transition", Title: "Order is not in a state that allows this", Detail: true},
	{Err: order.ErrInvalidCursor, Status: http.StatusBadRequest, Slug: "invalid-cursor", Title: "Invalid cursor", Detail: true},
	{Err: order.ErrTooManyOpenOrders, Status: http.StatusConflict, Slug: "too-many-open-orders", Title: "Too many unpaid orders", Detail: true},
	{Err: order.ErrTooManyOpenUnits, Status: http.StatusConflict, Slug: "too-many-open-units", Title: "Too many units in unpaid orders", Detail: true},
}

// Handler serves the order endpoints.
type Handler struct {
	svc *order.Service
}

// Mount adds the routes under api (/api/v1). placeLimit is the per-user
// rate limit of POST /orders (nil for none), before its Idempotency-Key
// middleware idempotent (idempotency.InTransaction: the handler writes the
// key's record with the order, see create). changed, when not nil, is told
// the order ID after a request changed the order (it wakes the order's
// streams, see MountStreams).
func Mount(api *gin.RouterGroup, verifier *auth.Verifier, placeLimit, idempotent gin.HandlerFunc, changed func(orderID string), svc *order.Service) {
	h := &Handler{svc: svc}
	g := api.Group("/orders", auth.Authenticate(verifier))
	place := []gin.HandlerFunc{auth.RequireRole(auth.RoleCustomer)}
	if placeLimit != nil {
		place = append(place, placeLimit)
	}
	g.POST("", append(place, idempotent, h.create)...)
	g.GET("", auth.RequireRole(auth.RoleAdmin, auth.RoleSeller), h.list)
	g.GET("/stats", auth.RequireRole(auth.RoleAdmin), h.stats)
	g.GET("/stats/daily", auth.RequireRole(auth.RoleAdmin, auth.RoleSeller), h.daily)
	g.GET("/user/:userId", h.listForUser)
	g.GET("/:id", h.get)
	g.GET("/:id/timeline", h.timeline)
	g.POST("/:id/cancel", WakeAfter(changed), h.cancel)
	g.POST("/:id/ship", WakeAfter(changed), h.fulfil(svc.Ship))
	g.POST("/:id/deliver", WakeAfter(changed), h.fulfil(svc.Deliver))
}

// actor is the authenticated caller (Authenticate guarantees one).
func actor(c *gin.Context) order.Actor {
	p, _ := auth.FromContext(c.Request.Context())
	return order.Actor{ID: p.UserID, Role: order.Role(p.Role)}
}

// lineRequest and createRequest have no validate tags: the domain checks
// the lines (ValidateLines), so that the rules live in one place.
type lineRequest struct {
	ProductID string `json:"product_id"`
	Quantity  int    `json:"quantity"`
}

type createRequest struct {
	Lines []lineRequest `json:"lines"`
}

func (h *Handler) create(c *gin.Context) {
	var req createRequest
	if !web.Bind(c, &req) {
		return
	}
	key, _ := idempotency.KeyFrom(c.Request.Context())
	in := order.PlaceInput{IdempotencyKey: key, Lines: make([]order.LineInput, len(req.Lines))}
	for i, l := range req.Lines {
		in.Lines[i] = order.LineInput{ProductID: strings.ToLower(l.ProductID), Quantity: l.Quantity}
	}
	ctx := c.Request.Context()
	pending, ok := idempotency.PendingFrom(ctx)
	if !ok {
		web.Fail(c, errors.New("POST /orders is mounted without idempotency.InTransaction"))
		return
	}
	// The key's record (this answer) is written with the order, in its
	// statement: the answer is rendered from the checked order before it
	// is written. Answers that place nothing (a 4xx) are not recorded: a
	// retry runs the checks again.
	var created answer
	in.Receipt = func(o order.Order) (order.Receipt, error) {
		var err error
		if created, err = placedAnswer(o); err != nil {
			return nil, err
		}
		return pending.Completed(http.StatusCreated, created.header, created.body)
	}
	o, isNew, err := h.svc.Place(ctx, actor(c), in)
	switch {
	case errors.Is(err, order.ErrReceiptRefused):
		pending.Answer(c) // another request with the key was first
		return
	case err != nil:
		web.Fail(c, err)
		return
	case isNew:
		pending.Recorded()
	default:
		// The key's record had expired (or was lost) but the order
		// exists: answer with it as it is now, the answer its first
		// request would give today. Nothing is recorded.
		if created, err = placedAnswer(o); err != nil {
			web.Fail(c, err)
			return
		}
	}
	for name, v := range created.header {
		c.Header(name, v)
	}
	c.Data(http.StatusCreated, created.header["Content-Type"], created.body)
}

// answer is a rendered response: the headers a replay repeats, and the body.
type answer struct {
	header map[string]string
	body   []byte
}

// placedAnswer is the 201 of POST /orders for o, as gin's JSON would
// render it.
func placedAnswer(o order.Order) (answer, error) {
	body, err := json.Marshal(toOrder(o))
	if err != nil {
		return answer{}, fmt.Errorf("render order %s: %w", o.ID, err)
	}
	return answer{
		header: map[string]string{"Content-Type": "application/json; charset=utf-8", "Location": "/api/v1/orders/" + o.ID},
		body:   body,
	}, nil
}

func (h *Handler) get(c *gin.Context) {
	o, err := h.svc.Get(c.Request.Context(), actor(c), c.Param("id"))
	if err != nil {
		web.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, toOrder(o))
}

func (h *Handler) timeline(c *gin.Context) {
	id := c.Param("id")
	entries, err := h.svc.Timeline(c.Request.Context(), actor(c), id)
	if err != nil {
		web.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, toTimeline(id, entries))
}

type cancelRequest struct {
	Note string `json:"note" validate:"max=500"`
}

func (h *Handler) cancel(c *gin.Context) {
	var req cancelRequest
	// The body is optional: a bare POST cancels.
	if c.Request.ContentLength != 0 && !web.Bind(c, &req) {
		return
	}
	o, err := h.svc.Cancel(c.Request.Context(), actor(c), c.Param("id"), req.Note)
	if err != nil {
		web.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, toOrder(o))
}

// fulfil answers a ship or deliver request with the order after do.
func (h *Handler) fulfil(do func(context.Context, order.Actor, string) (order.Order, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		o, err := do(c.Request.Context(), actor(c), c.Param("id"))
		if err != nil {
			web.Fail(c, err)
			return
		}
		c.JSON(http.StatusOK, toOrder(o))
	}
}

type pageQuery struct {
	// Limit is a pointer so that limit=0 is refused rather than taken as
	// absent.
	Limit  *int   `form:"limit" validate:"omitempty,min=1,max=100"`
	Cursor string `form:"cursor" validate:"max=512"`
}

func (q pageQuery) page() order.Page {
	p := order.Page{Cursor: q.Cursor}
	if q.Limit != nil {
		p.Limit = *q.Limit
	}
	return p
}

type userListQuery struct {
	pageQuery
	Status string `form:"status"`
}

func (h *Handler) listForUser(c *gin.Context) {
	var q userListQuery
	if !web.BindQuery(c, &q) {
		return
	}
	userID := c.Param("userId")
	if uuid.Validate(userID) != nil {
		web.Fail(c, problem.Validation(problem.Field("userId", "must be a UUID")))
		return
	}
	page, err := h.svc.ListForUser(c.Request.Context(), actor(c), userID, order.Status(q.Status), q.page())
	if err != nil {
		web.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, toPage(page))
}

type listQuery struct {
	pageQuery
	Status string `form:"status"`
	UserID string `form:"user_id"`
	From   string `form:"from"`
	To     string `form:"to"`
	Stuck  bool   `form:"stuck"`
}

func (h *Handler) list(c *gin.Context) {
	var q listQuery
	if !web.BindQuery(c, &q) {
		return
	}
	from, to, ok := timeRange(c, q.From, q.To)
	if !ok {
		return
	}
	f := order.Filter{Status: order.Status(q.Status), UserID: q.UserID, From: from, To: to, Stuck: q.Stuck}
	page, err := h.svc.List(c.Request.Context(), actor(c), f, q.page())
	if err != nil {
		web.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, toPage(page))
}

type statsQuery struct {
	From string `form:"from"`
	To   string `form:"to"`
}

func (h *Handler) stats(c *gin.Context) {
	var q statsQuery
	if !web.BindQuery(c, &q) {
		return
	}
	from, to, ok := timeRange(c, q.From, q.To)
	if !ok {
		return
	}
	st, err := h.svc.Stats(c.Request.Context(), actor(c), from, to)
	if err != nil {
		web.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, toStats(st))
}

// timeRange parses the RFC 3339 bounds of a date filter; on failure it
// answers 400 naming the bad parameter.
func timeRange(c *gin.Context, fromS, toS string) (from, to time.Time, ok bool) {
	var fields []problem.FieldError
	parse := func(name, s string) time.Time {
		if s == "" {
			return time.Time{}
		}
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			fields = append(fields, problem.Field(name, "must be an RFC 3339 date-time, e.g. 2026-01-31T00:00:00Z"))
		}
		return t
	}
	from, to = parse("from", fromS), parse("to", toS)
	if len(fields) > 0 {
		web.Fail(c, problem.Validation(fields...))
		return time.Time{}, time.Time{}, false
	}
	return from, to, true
}
