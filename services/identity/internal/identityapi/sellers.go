package identityapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/shop-oss/shop/pkg/web"
	"github.com/shop-oss/shop/services/identity/internal/identity"
)

func (h *Handler) applyForSeller(c *gin.Context) {
	var req applyRequest
	// The body is optional: no body means no note.
	if c.Request.ContentLength != 0 && !web.Bind(c, &req) {
		return
	}
	withCaller(c, func(who identity.Caller) {
		a, created, err := h.svc.ApplyForSeller(c.Request.Context(), who, req.Note)
		if err != nil {
			fail(c, err)
			return
		}
		status := http.StatusOK // the pending application filed before
		if created {
			status = http.StatusCreated
			c.Header("Location", "/api/v1/users/me/seller-application")
		}
		c.JSON(status, toApplicationResponse(a))
	})
}

func (h *Handler) mySellerApplication(c *gin.Context) {
	withCaller(c, func(who identity.Caller) {
		a, err := h.svc.MySellerApplication(c.Request.Context(), who)
		if err != nil {
			fail(c, err)
			return
		}
		c.JSON(http.StatusOK, toApplicationResponse(a))
	})
}

func (h *Handler) listSellerApplications(c *gin.Context) {
	var q listApplicationsQuery
	if !web.BindQuery(c, &q) {
		return
	}
	withCaller(c, func(who identity.Caller) {
		page, err := h.svc.ListSellerApplications(c.Request.Context(), who,
			identity.ApplicationQuery{Status: q.Status, Limit: q.Limit, Cursor: q.Cursor})
		if err != nil {
			fail(c, err)
			return
		}
		out := applicationListResponse{Items: make([]applicationResponse, len(page.Applications)), NextCursor: page.NextCursor}
		for i, a := range page.Applications {
			out.Items[i] = toApplicationResponse(a)
		}
		c.JSON(http.StatusOK, out)
	})
}

func (h *Handler) approveSellerApplication(c *gin.Context) {
	id, ok := pathID(c)
	if !ok {
		return
	}
	withCaller(c, func(who identity.Caller) {
		a, err := h.svc.ApproveSellerApplication(c.Request.Context(), who, id)
		if err != nil {
			fail(c, err)
			return
		}
		c.JSON(http.StatusOK, toApplicationResponse(a))
	})
}

func (h *Handler) rejectSellerApplication(c *gin.Context) {
	id, ok := pathID(c)
	if !ok {
		return
	}
	var req rejectRequest
	if c.Request.ContentLength != 0 && !web.Bind(c, &req) {
		return
	}
	withCaller(c, func(who identity.Caller) {
		a, err := h.svc.RejectSellerApplication(c.Request.Context(), who, id, req.Reason)
		if err != nil {
			fail(c, err)
			return
		}
		c.JSON(http.StatusOK, toApplicationResponse(a))
	})
}
