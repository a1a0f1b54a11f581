package catalogapi

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/shop-oss/shop/pkg/problem"
	"github.com/shop-oss/shop/pkg/web"
	"github.com/shop-oss/shop/services/catalog/internal/catalog"
)

type listQuery struct {
	Q        string `form:"q"`
	Category string `form:"category" validate:"max=300"`
	Seller   string `form:"seller" validate:"omitempty,uuid"`
	MinPrice *int64 `form:"min_price" validate:"omitempty,gte=0"`
	MaxPrice *int64 `form:"max_price" validate:"omitempty,gte=0"`
	Currency string `form:"currency"`
	Status   string `form:"status"`
	Sort     string `form:"sort"`
	Limit    int    `form:"limit"`
	Cursor   string `form:"cursor" validate:"max=1024"`
}

func (h *handler) listProducts(c *gin.Context) {
	var q listQuery
	if !web.BindQuery(c, &q) {
		return
	}
	f := catalog.ListFilter{
		Q: q.Q, Category: q.Category, MinPrice: q.MinPrice, MaxPrice: q.MaxPrice,
		Currency: q.Currency, Status: catalog.Status(q.Status), Sort: catalog.Sort(q.Sort),
		Limit: q.Limit, Cursor: q.Cursor,
	}
	if q.Seller != "" {
		f.Seller = uuid.MustParse(q.Seller) // validated above
	}
	page, err := h.svc.ListProducts(c.Request.Context(), actor(c), f)
	if err != nil {
		web.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, toProductPage(page))
}

func (h *handler) getProduct(c *gin.Context) {
	id, ok := pathID(c, catalog.ErrProductNotFound)
	if !ok {
		return
	}
	p, err := h.svc.GetProduct(c.Request.Context(), actor(c), id)
	if err != nil {
		web.Fail(c, err)
		return
	}
	c.Header("ETag", etag(p.Version))
	// Drafts are per viewer, so a signed-in viewer's answer is private. An
	// anonymous viewer sees only what everyone sees, so a shared cache (the
	// gateway's micro-cache) may keep that answer for a second. Browsers
	// revalidate with If-None-Match either way.
	if actor(c).ID == uuid.Nil {
		c.Header("Cache-Control", "public, max-age=0, s-maxage=1")
	} else {
		c.Header("Cache-Control", "private, no-cache")
	}
	if notModified(c, p.Version) {
		c.Status(http.StatusNotModified)
		return
	}
	body, ok := h.rendered.Get(p.ID, p.Version)
	if !ok {
		if body, err = json.Marshal(toProductResponse(p)); err != nil {
			web.Fail(c, fmt.Errorf("render product %s: %w", p.ID, err))
			return
		}
		h.rendered.Put(p.ID, p.Version, body)
	}
	c.Data(http.StatusOK, "application/json; charset=utf-8", body)
}

func (h *handler) createProduct(c *gin.Context) {
	var b productBody
	if !web.Bind(c, &b) {
		return
	}
	in := catalog.NewProduct{Fields: b.fields(), SellerID: parseOptionalID(b.SellerID)}
	p, err := h.svc.CreateProduct(c.Request.Context(), actor(c), in)
	if err != nil {
		web.Fail(c, err)
		return
	}
	c.Header("Location", "/api/v1/products/"+p.ID.String())
	writeProduct(c, http.StatusCreated, p)
}

func (h *handler) replaceProduct(c *gin.Context) {
	id, pre, ok := writeTarget(c, true)
	if !ok {
		return
	}
	var b productBody
	if !web.Bind(c, &b) {
		return
	}
	if b.SellerID != nil {
		web.Fail(c, problem.Validation(problem.Field("seller_id", "cannot be changed")))
		return
	}
	p, err := h.svc.ReplaceProduct(c.Request.Context(), actor(c), id, pre, b.fields())
	h.respond(c, p, err)
}

func (h *handler) patchProduct(c *gin.Context) {
	id, pre, ok := writeTarget(c, true)
	if !ok {
		return
	}
	patch, err := decodePatch(c.Request.Body)
	if err != nil {
		web.Fail(c, err)
		return
	}
	p, err := h.svc.PatchProduct(c.Request.Context(), actor(c), id, pre, patch)
	h.respond(c, p, err)
}

func (h *handler) setPrice(c *gin.Context) {
	id, pre, ok := writeTarget(c, false)
	if !ok {
		return
	}
	var b priceBody
	if !web.Bind(c, &b) {
		return
	}
	p, err := h.svc.SetPrice(c.Request.Context(), actor(c), id, pre, catalog.Money{Minor: *b.PriceMinor, Currency: b.Currency})
	h.respond(c, p, err)
}

func (h *handler) archiveProduct(c *gin.Context) {
	id, pre, ok := writeTarget(c, false)
	if !ok {
		return
	}
	p, err := h.svc.ArchiveProduct(c.Request.Context(), actor(c), id, pre)
	h.respond(c, p, err)
}

func (h *handler) priceHistory(c *gin.Context) {
	id, ok := pathID(c, catalog.ErrProductNotFound)
	if !ok {
		return
	}
	var q struct {
		Limit  int    `form:"limit"`
		Cursor string `form:"cursor" validate:"max=100"`
	}
	if !web.BindQuery(c, &q) {
		return
	}
	page, err := h.svc.PriceHistory(c.Request.Context(), actor(c), id, q.Cursor, q.Limit)
	if err != nil {
		web.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, toPriceHistoryPage(page))
}

// writeTarget reads what every product write starts with: the product ID
// and the If-Match precondition (required for PUT and PATCH). It answers
// and returns false when either is wrong.
func writeTarget(c *gin.Context, required bool) (uuid.UUID, catalog.Precondition, bool) {
	id, ok := pathID(c, catalog.ErrProductNotFound)
	if !ok {
		return uuid.Nil, catalog.Precondition{}, false
	}
	pre, err := precondition(c, required)
	if err != nil {
		web.Fail(c, err)
		return uuid.Nil, catalog.Precondition{}, false
	}
	return id, pre, true
}

// respond writes the result of a product write.
func (h *handler) respond(c *gin.Context, p catalog.Product, err error) {
	if err != nil {
		web.Fail(c, err)
		return
	}
	writeProduct(c, http.StatusOK, p)
}

func writeProduct(c *gin.Context, status int, p catalog.Product) {
	c.Header("ETag", etag(p.Version))
	c.JSON(status, toProductResponse(p))
}
