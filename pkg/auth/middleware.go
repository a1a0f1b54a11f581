package auth

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/shop-oss/shop/pkg/problem"
	"github.com/shop-oss/shop/pkg/web"
)

// Problem slugs of the middleware's answers.
const (
	SlugUnauthorized = "unauthorized"
	SlugForbidden    = "forbidden"
)

// Authenticate requires a valid `Authorization: Bearer <token>` header. It
// stores the Principal in the request context (see FromContext) and answers
// 401 otherwise.
func Authenticate(v *Verifier) gin.HandlerFunc {
	return func(c *gin.Context) {
		authenticate(c, v, false)
	}
}

// Optional authenticates the request when it has an Authorization header
// and lets it through as anonymous (no Principal) when it has none. A header
// that does not hold a valid bearer token is still answered 401: a client
// that sends credentials wants to know that they are bad.
func Optional(v *Verifier) gin.HandlerFunc {
	return func(c *gin.Context) {
		authenticate(c, v, true)
	}
}

func authenticate(c *gin.Context, v *Verifier, optional bool) {
	header := c.GetHeader("Authorization")
	if header == "" && optional {
		return
	}
	raw, ok := bearerToken(header)
	if !ok {
		unauthorized(c, v, errMissingToken)
		return
	}
	p, err := v.Verify(c.Request.Context(), raw)
	if err != nil {
		unauthorized(c, v, err)
		return
	}
	c.Request = c.Request.WithContext(WithPrincipal(c.Request.Context(), p))
}

// bearerToken returns the token of an "Authorization: Bearer <token>"
// header value (the scheme is case-insensitive, RFC 7235).
func bearerToken(header string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != "" && !strings.ContainsAny(token, " \t")
}

// unauthorized answers 401 with a short detail that never echoes the token,
// and logs the reason only.
func unauthorized(c *gin.Context, v *Verifier, err error) {
	ctx := c.Request.Context()
	detail := "The access token is invalid."
	challenge := `Bearer error="invalid_token"`
	switch {
	case errors.Is(err, errMissingToken):
		// RFC 6750 §3.1: no error code when no credentials were sent.
		detail = "An access token is required (Authorization: Bearer <token>)."
		challenge = "Bearer"
		v.log.DebugContext(ctx, "access token missing")
	case errors.Is(err, ErrKeysUnavailable):
		detail = "The access token cannot be verified yet; retry shortly."
		v.log.InfoContext(ctx, "access token rejected", "reason", reason(err))
	default:
		switch {
		case errors.Is(err, ErrExpired):
			detail = "The access token has expired."
		case errors.Is(err, ErrRevoked):
			// A demoted user's refresh gets a token of the new role; a
			// disabled user's is refused.
			detail = "The access token was revoked because the account changed; refresh it or log in again."
		}
		v.log.DebugContext(ctx, "access token rejected", "reason", reason(err))
	}
	c.Header("WWW-Authenticate", challenge)
	web.WriteProblem(c, problem.New(http.StatusUnauthorized, SlugUnauthorized, "Unauthorized", detail))
}

// RequireRole lets through only a request whose Principal has one of roles.
// It answers 403 to a caller with another role, and 401 to an anonymous
// one; place it after Authenticate (or Optional).
func RequireRole(roles ...Role) gin.HandlerFunc {
	return func(c *gin.Context) {
		p, ok := FromContext(c.Request.Context())
		if !ok {
			c.Header("WWW-Authenticate", "Bearer")
			web.WriteProblem(c, problem.New(http.StatusUnauthorized, SlugUnauthorized, "Unauthorized",
				"An access token is required (Authorization: Bearer <token>)."))
			return
		}
		if !p.HasRole(roles...) {
			web.WriteProblem(c, problem.New(http.StatusForbidden, SlugForbidden, "Forbidden",
				"Your role does not allow this action."))
		}
	}
}
