// Package inventoryapi serves the inventory HTTP API under /api/v1/inventory
// (see api/openapi.yaml): availability for everyone, stock management for
// a product's seller and admins, and the reservation operations of the saga
// for staff tools. Handlers decode and validate, call the domain, and answer
// errors through web.Fail and the Errors table.
package inventoryapi

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/shop-oss/shop/pkg/auth"
	"github.com/shop-oss/shop/pkg/problem"
	"github.com/shop-oss/shop/pkg/web"
	"github.com/shop-oss/shop/services/inventory/internal/inventory"
)

// Handler serves the API.
type Handler struct {
	svc *inventory.Service
}

// New returns the handlers.
func New(svc *inventory.Service) *Handler { return &Handler{svc: svc} }

// Mount adds the routes to api (/api/v1). idempotent is the Idempotency-Key
// middleware; it requires the key on every POST that changes stock.
func Mount(api *gin.RouterGroup, h *Handler, v *auth.Verifier, idempotent gin.HandlerFunc) {
	g := api.Group("/inventory")
	admin := []gin.HandlerFunc{auth.Authenticate(v), auth.RequireRole(auth.RoleAdmin)}
	staff := []gin.HandlerFunc{auth.Authenticate(v), auth.RequireRole(auth.RoleAdmin, auth.RoleSeller)}
	with := func(mw []gin.HandlerFunc, hs ...gin.HandlerFunc) []gin.HandlerFunc {
		return append(append([]gin.HandlerFunc{}, mw...), hs...)
	}

	g.POST("/reserve", with(admin, idempotent, h.reserve)...)
	g.POST("/confirm", with(admin, idempotent, h.confirm)...)
	g.POST("/release", with(admin, idempotent, h.release)...)
	g.GET("/reservations/:orderId", with(admin, h.reservation)...)
	g.GET("/reservations", with(staff, h.active)...)

	g.GET("", with(staff, h.list)...)
	g.GET("/:productId", auth.Optional(v), h.get)
	g.PUT("/:productId", with(staff, h.set)...)
	g.POST("/:productId/adjust", with(staff, idempotent, h.adjust)...)
	g.GET("/:productId/movements", with(staff, h.movements)...)
}

func (h *Handler) reserve(c *gin.Context) {
	var req reserveRequest
	if !web.Bind(c, &req) {
		return
	}
	res, err := h.svc.Reserve(c.Request.Context(), req.toDomain())
	if err != nil {
		web.Fail(c, err)
		return
	}
	status := http.StatusCreated
	if !res.Created {
		status = http.StatusOK
	}
	c.JSON(status, toReservationJSON(res.Reservation))
}

func (h *Handler) confirm(c *gin.Context) {
	var req orderRequest
	if !web.Bind(c, &req) {
		return
	}
	out, err := h.svc.Confirm(c.Request.Context(), uuid.MustParse(req.OrderID), inventory.FromStaff)
	if err != nil {
		web.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, toReservationJSON(out.Reservation))
}

func (h *Handler) release(c *gin.Context) {
	var req releaseRequest
	if !web.Bind(c, &req) {
		return
	}
	if req.Reason == "" {
		req.Reason = inventory.ReasonStaff
	}
	out, err := h.svc.Release(c.Request.Context(), uuid.MustParse(req.OrderID), req.Reason, inventory.FromStaff)
	if err != nil {
		web.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, toReservationJSON(out.Reservation))
}

func (h *Handler) reservation(c *gin.Context) {
	id, ok := pathID(c, "orderId")
	if !ok {
		return
	}
	r, err := h.svc.Reservation(c.Request.Context(), id)
	if err != nil {
		web.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, toReservationJSON(r))
}

// get answers availability to anyone (the storefront shows it); the
// product's seller and admins also see the figures behind it.
func (h *Handler) get(c *gin.Context) {
	id, ok := pathID(c, "productId")
	if !ok {
		return
	}
	s, err := h.svc.Stock(c.Request.Context(), id)
	if err == nil && !actor(c).CanSee(s) {
		err = fmt.Errorf("stock of product %s: %w", id, inventory.ErrProductNotFound)
	}
	if err != nil {
		web.Fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-cache")
	c.JSON(http.StatusOK, toStockJSON(s, h.svc.LowStockThreshold(), actor(c).CanManage(s)))
}

func (h *Handler) set(c *gin.Context) {
	id, ok := pathID(c, "productId")
	if !ok {
		return
	}
	var req setStockRequest
	if !web.Bind(c, &req) {
		return
	}
	s, err := h.svc.SetStock(c.Request.Context(), actor(c), id, *req.OnHand, req.LowStockThreshold)
	if err != nil {
		web.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, toStockJSON(s, h.svc.LowStockThreshold(), true))
}

func (h *Handler) adjust(c *gin.Context) {
	id, ok := pathID(c, "productId")
	if !ok {
		return
	}
	var req adjustRequest
	if !web.Bind(c, &req) {
		return
	}
	kind := inventory.MoveAdjusted
	if req.Kind != "" {
		kind = inventory.MovementKind(req.Kind)
	}
	s, err := h.svc.Adjust(c.Request.Context(), actor(c), id, kind, req.Delta, req.Reason)
	if err != nil {
		web.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, toStockJSON(s, h.svc.LowStockThreshold(), true))
}

type stockPage struct {
	Items      []stockJSON `json:"items"`
	NextCursor *string     `json:"next_cursor"`
}

// list is the stock dashboard: admins see every product (or one seller's),
// sellers their own.
func (h *Handler) list(c *gin.Context) {
	var q listQuery
	if !web.BindQuery(c, &q) {
		return
	}
	after, err := productCursor(q.Cursor)
	if err != nil {
		web.Fail(c, err)
		return
	}
	f := inventory.StockFilter{LowOnly: q.LowStock, After: after, Limit: q.limit()}
	a := actor(c)
	switch {
	case !a.Admin:
		f.SellerID = a.UserID
	case q.SellerID != "":
		f.SellerID = uuid.MustParse(q.SellerID)
	}
	rows, err := h.svc.ListStock(c.Request.Context(), f)
	if err != nil {
		web.Fail(c, err)
		return
	}
	page := stockPage{Items: make([]stockJSON, len(rows))}
	for i, s := range rows {
		page.Items[i] = toStockJSON(s, h.svc.LowStockThreshold(), true)
	}
	if len(rows) == f.Limit {
		next := encodeCursor("p", rows[len(rows)-1].ProductID.String())
		page.NextCursor = &next
	}
	c.JSON(http.StatusOK, page)
}

type movementPage struct {
	Items      []movementJSON `json:"items"`
	NextCursor *string        `json:"next_cursor"`
}

func (h *Handler) movements(c *gin.Context) {
	id, ok := pathID(c, "productId")
	if !ok {
		return
	}
	var q pageQuery
	if !web.BindQuery(c, &q) {
		return
	}
	before, err := movementCursor(q.Cursor)
	if err != nil {
		web.Fail(c, err)
		return
	}
	ms, err := h.svc.Movements(c.Request.Context(), actor(c), id, before, q.limit())
	if err != nil {
		web.Fail(c, err)
		return
	}
	page := movementPage{Items: make([]movementJSON, len(ms))}
	for i, m := range ms {
		page.Items[i] = toMovementJSON(m)
	}
	if len(ms) == q.limit() {
		next := encodeCursor("m", strconv.FormatInt(ms[len(ms)-1].ID, 10))
		page.NextCursor = &next
	}
	c.JSON(http.StatusOK, page)
}

// actor is the caller as the domain sees it; anonymous callers are the zero
// Actor, which manages nothing.
func actor(c *gin.Context) inventory.Actor {
	p, ok := auth.FromContext(c.Request.Context())
	if !ok {
		return inventory.Actor{}
	}
	id, _ := uuid.Parse(p.UserID)
	return inventory.Actor{UserID: id, Admin: p.IsAdmin()}
}

func pathID(c *gin.Context, name string) (uuid.UUID, bool) {
	id, err := uuid.Parse(c.Param(name))
	if err != nil {
		web.Fail(c, problem.Validation(problem.Field(name, "must be a UUID")))
		return uuid.Nil, false
	}
	return id, true
}
