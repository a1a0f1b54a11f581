// Package identityapi is the identity service's HTTP API: gin handlers that
// decode and validate requests, call the identity domain, and write JSON or
// RFC 9457 problems; plus the JWKS endpoint.
package identityapi

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/shop-oss/shop/pkg/auth"
	"github.com/shop-oss/shop/pkg/problem"
	"github.com/shop-oss/shop/pkg/web"
	"github.com/shop-oss/shop/services/identity/internal/identity"
	"github.com/shop-oss/shop/services/identity/internal/keys"
)

// Errors maps the domain's errors to problems (service.Options.Errors).
var Errors = []problem.Mapping{
	{Err: identity.ErrEmailTaken, Status: http.StatusConflict, Slug: "email-taken", Title: "Email address already registered", Detail: true},
	{Err: identity.ErrInvalidCredentials, Status: http.StatusUnauthorized, Slug: "invalid-credentials", Title: "Invalid credentials", Detail: true},
	{Err: identity.ErrAccountDisabled, Status: http.StatusForbidden, Slug: "account-disabled", Title: "Account disabled", Detail: true},
	// The reason (unknown, expired, revoked, reused) is not told: the
	// client's only remedy is the same, logging in again.
	{Err: identity.ErrInvalidRefreshToken, Status: http.StatusUnauthorized, Slug: "invalid-refresh-token", Title: "Invalid refresh token"},
	{Err: identity.ErrLoginThrottled, Status: http.StatusTooManyRequests, Slug: "login-throttled", Title: "Too many failed logins", Detail: true},
	{Err: identity.ErrUserNotFound, Status: http.StatusNotFound, Slug: "user-not-found", Title: "User not found", Detail: true},
	{Err: identity.ErrNotAdmin, Status: http.StatusForbidden, Slug: "forbidden", Title: "Forbidden", Detail: true},
	{Err: identity.ErrSelfModification, Status: http.StatusConflict, Slug: "self-modification", Title: "Cannot modify own account", Detail: true},
	{Err: identity.ErrApplicationNotFound, Status: http.StatusNotFound, Slug: "seller-application-not-found", Title: "Seller application not found", Detail: true},
	{Err: identity.ErrApplicationDecided, Status: http.StatusConflict, Slug: "seller-application-decided", Title: "Seller application already decided", Detail: true},
	{Err: identity.ErrAlreadySeller, Status: http.StatusConflict, Slug: "already-seller", Title: "Already a seller", Detail: true},
}

// KeySet serves the public signing keys.
type KeySet interface {
	JWKS(now time.Time) keys.JWKS
}

// Limits are the stricter per-client rate limits of the /auth routes
// (each may be nil: no extra limit).
type Limits struct {
	Login, Register, Session gin.HandlerFunc
}

// Handler serves the API.
type Handler struct {
	svc      *identity.Service
	verifier *auth.Verifier
	keys     KeySet
}

// Mount adds every route: /api/v1/... on api, the JWKS on engine.
func Mount(engine *gin.Engine, api *gin.RouterGroup, svc *identity.Service, verifier *auth.Verifier, ks KeySet, l Limits) {
	h := &Handler{svc: svc, verifier: verifier, keys: ks}
	authn := auth.Authenticate(verifier)
	a := api.Group("/auth")
	a.POST("/register", orPass(l.Register), h.register)
	a.POST("/login", orPass(l.Login), h.login)
	a.POST("/refresh", orPass(l.Session), h.refresh)
	a.POST("/logout", orPass(l.Session), h.logout)
	a.POST("/logout-all", orPass(l.Session), authn, h.logoutAll)

	u := api.Group("/users", authn)
	u.GET("/me", h.me)
	u.PATCH("/me", h.updateMe)
	u.GET("/me/seller-application", h.mySellerApplication)
	u.POST("/me/seller-application", h.applyForSeller)
	admin := u.Group("", auth.RequireRole(auth.RoleAdmin))
	admin.GET("", h.listUsers)
	admin.PATCH("/:id/role", h.changeRole)
	admin.POST("/:id/disable", h.disable)
	admin.POST("/:id/enable", h.enable)
	admin.GET("/seller-applications", h.listSellerApplications)
	admin.POST("/seller-applications/:id/approve", h.approveSellerApplication)
	admin.POST("/seller-applications/:id/reject", h.rejectSellerApplication)

	engine.GET("/.well-known/jwks.json", h.jwks)
	// The gateway's edge authentication (nginx auth_request). Outside
	// /api/v1, so the gateway's checks spend no client's API budget; the
	// gateway does not route /internal/ from outside.
	engine.GET("/internal/auth/check", authn, h.authCheck)
}

func orPass(h gin.HandlerFunc) gin.HandlerFunc {
	if h == nil {
		return func(*gin.Context) {}
	}
	return h
}

// caller is the authenticated user of c (after auth.Authenticate).
func caller(c *gin.Context) (identity.Caller, bool) {
	p, ok := auth.FromContext(c.Request.Context())
	if !ok {
		return identity.Caller{}, false
	}
	id, err := uuid.Parse(p.UserID)
	if err != nil {
		return identity.Caller{}, false
	}
	return identity.Caller{UserID: id, TokenID: p.TokenID, ClientIP: c.ClientIP()}, true
}

// withCaller runs fn with the caller, or answers 401.
func withCaller(c *gin.Context, fn func(identity.Caller)) {
	who, ok := caller(c)
	if !ok {
		web.Fail(c, problem.Errorf(http.StatusUnauthorized, auth.SlugUnauthorized, "Unauthorized", "An access token is required."))
		return
	}
	fn(who)
}

// pathID parses the {id} path parameter.
func pathID(c *gin.Context) (uuid.UUID, bool) {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		web.Fail(c, problem.Validation(problem.Field("id", "must be a UUID")))
		return uuid.Nil, false
	}
	return id, true
}

// fail answers err, adding Retry-After to a throttled login.
func fail(c *gin.Context, err error) {
	var throttled *identity.ThrottledError
	if errors.As(err, &throttled) {
		c.Header("Retry-After", strconv.Itoa(throttled.RetrySeconds()))
	}
	web.Fail(c, err)
}

// noStore marks a response that carries credentials as uncacheable
// (RFC 6749 §5.1).
func noStore(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	c.Header("Pragma", "no-cache")
}
