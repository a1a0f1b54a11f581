package web

import (
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/shop-oss/shop/pkg/logging"
	"github.com/shop-oss/shop/pkg/problem"
)

// errorsKey holds the engine's error responder in each gin context.
const errorsKey = "shop.web.errors"

// responder maps errors to problems and logs the unknown ones: the one
// place a service's errors become responses.
type responder struct {
	log *slog.Logger
	m   *problem.Mapper
}

func (r *responder) respond(c *gin.Context, err error) {
	p, known := r.m.Map(err)
	if !known {
		r.log.ErrorContext(c.Request.Context(), "request failed", "error", err.Error(),
			"method", c.Request.Method, "route", c.FullPath())
	} else if p.Status >= http.StatusInternalServerError {
		r.log.WarnContext(c.Request.Context(), "request failed", "status", p.Status, "error", err.Error())
	}
	WriteProblem(c, p)
}

// Fail answers the request with the problem for err and aborts the chain.
// The response is written at once, so middleware around the handler (such
// as idempotency-key capture) sees it.
func Fail(c *gin.Context, err error) {
	_ = c.Error(err)
	if r, ok := c.Get(errorsKey); ok && !c.Writer.Written() {
		r.(*responder).respond(c, err)
	}
	c.Abort()
}

// WriteProblem writes p as application/problem+json. Middleware that must
// answer before any handler (auth, rate limits) may call it directly.
func WriteProblem(c *gin.Context, p problem.Problem) {
	if p.RequestID == "" {
		p.RequestID = logging.RequestID(c.Request.Context())
	}
	if p.Instance == "" {
		p.Instance = c.Request.URL.Path
	}
	c.Header("Content-Type", problem.ContentType)
	c.Header("Cache-Control", "no-store")
	c.AbortWithStatusJSON(p.Status, p)
}

// errorWriter installs the responder for Fail, and answers errors recorded
// with c.Error but never written, after the handler has run.
func errorWriter(log *slog.Logger, m *problem.Mapper) gin.HandlerFunc {
	r := &responder{log: log, m: m}
	return func(c *gin.Context) {
		c.Set(errorsKey, r)
		c.Next()
		if len(c.Errors) > 0 && !c.Writer.Written() {
			r.respond(c, c.Errors.Last().Err)
		}
	}
}
