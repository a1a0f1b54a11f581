package identityapi

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/shop-oss/shop/pkg/web"
	"github.com/shop-oss/shop/services/identity/internal/identity"
)

func (h *Handler) register(c *gin.Context) {
	var req registerRequest
	if !web.Bind(c, &req) {
		return
	}
	reg, err := h.svc.Register(c.Request.Context(), identity.RegisterInput{Email: req.Email, Password: req.Password,
		DisplayName: req.DisplayName, Role: req.Role, ClientIP: c.ClientIP()})
	if err != nil {
		fail(c, err)
		return
	}
	out := registerResponse{userResponse: toUserResponse(reg.User)}
	if reg.Application != nil {
		a := toApplicationResponse(*reg.Application)
		out.SellerApplication = &a
	}
	c.Header("Location", "/api/v1/users/me")
	c.JSON(http.StatusCreated, out)
}

func (h *Handler) login(c *gin.Context) {
	var req loginRequest
	if !web.Bind(c, &req) {
		return
	}
	s, err := h.svc.Login(c.Request.Context(), identity.LoginInput{Email: req.Email, Password: req.Password, ClientIP: c.ClientIP()})
	if err != nil {
		fail(c, err)
		return
	}
	noStore(c)
	c.JSON(http.StatusOK, toTokenResponse(s, time.Now()))
}

func (h *Handler) refresh(c *gin.Context) {
	var req refreshRequest
	if !web.Bind(c, &req) {
		return
	}
	s, err := h.svc.Refresh(c.Request.Context(), req.RefreshToken, c.ClientIP())
	if err != nil {
		fail(c, err)
		return
	}
	noStore(c)
	c.JSON(http.StatusOK, toTokenResponse(s, time.Now()))
}

func (h *Handler) logout(c *gin.Context) {
	var req refreshRequest
	if !web.Bind(c, &req) {
		return
	}
	if err := h.svc.Logout(c.Request.Context(), req.RefreshToken, c.ClientIP()); err != nil {
		fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (h *Handler) logoutAll(c *gin.Context) {
	withCaller(c, func(who identity.Caller) {
		if err := h.svc.LogoutAll(c.Request.Context(), who); err != nil {
			fail(c, err)
			return
		}
		c.Status(http.StatusNoContent)
	})
}

func (h *Handler) me(c *gin.Context) {
	withCaller(c, func(who identity.Caller) {
		u, err := h.svc.Me(c.Request.Context(), who)
		if err != nil {
			fail(c, err)
			return
		}
		c.JSON(http.StatusOK, toUserResponse(u))
	})
}

func (h *Handler) updateMe(c *gin.Context) {
	var req updateMeRequest
	if !web.Bind(c, &req) {
		return
	}
	withCaller(c, func(who identity.Caller) {
		u, err := h.svc.UpdateMe(c.Request.Context(), who, identity.ProfileChange{DisplayName: req.DisplayName,
			CurrentPassword: req.CurrentPassword, NewPassword: req.NewPassword})
		if err != nil {
			fail(c, err)
			return
		}
		c.JSON(http.StatusOK, toUserResponse(u))
	})
}

func (h *Handler) listUsers(c *gin.Context) {
	var q listUsersQuery
	if !web.BindQuery(c, &q) {
		return
	}
	withCaller(c, func(who identity.Caller) {
		page, err := h.svc.ListUsers(c.Request.Context(), who, identity.ListQuery{Query: q.Q, Role: q.Role,
			Limit: q.Limit, Cursor: q.Cursor})
		if err != nil {
			fail(c, err)
			return
		}
		out := userListResponse{Items: make([]userResponse, len(page.Users)), NextCursor: page.NextCursor}
		for i, u := range page.Users {
			out.Items[i] = toUserResponse(u)
		}
		c.JSON(http.StatusOK, out)
	})
}

func (h *Handler) changeRole(c *gin.Context) {
	id, ok := pathID(c)
	if !ok {
		return
	}
	var req changeRoleRequest
	if !web.Bind(c, &req) {
		return
	}
	withCaller(c, func(who identity.Caller) {
		u, err := h.svc.ChangeRole(c.Request.Context(), who, id, identity.Role(req.Role))
		if err != nil {
			fail(c, err)
			return
		}
		c.JSON(http.StatusOK, toUserResponse(u))
	})
}

func (h *Handler) disable(c *gin.Context) {
	id, ok := pathID(c)
	if !ok {
		return
	}
	var req disableRequest
	// The body is optional: no body means no reason.
	if c.Request.ContentLength != 0 && !web.Bind(c, &req) {
		return
	}
	withCaller(c, func(who identity.Caller) {
		u, err := h.svc.Disable(c.Request.Context(), who, id, req.Reason)
		if err != nil {
			fail(c, err)
			return
		}
		c.JSON(http.StatusOK, toUserResponse(u))
	})
}

func (h *Handler) enable(c *gin.Context) {
	id, ok := pathID(c)
	if !ok {
		return
	}
	withCaller(c, func(who identity.Caller) {
		u, err := h.svc.Enable(c.Request.Context(), who, id)
		if err != nil {
			fail(c, err)
			return
		}
		c.JSON(http.StatusOK, toUserResponse(u))
	})
}

// authCheck answers 204 to a request whose bearer token authn accepted:
// the same verification every service runs, revocation included. The
// gateway caches the answer briefly, keyed by a hash of the token.
func (h *Handler) authCheck(c *gin.Context) {
	c.Status(http.StatusNoContent)
}

// jwks serves the public keys. Caches may keep it briefly: a rotated-in key
// is published (keys.Config.PublishDelay) before it signs anything.
func (h *Handler) jwks(c *gin.Context) {
	c.Header("Cache-Control", "public, max-age=30")
	c.JSON(http.StatusOK, h.keys.JWKS(time.Now()))
}
