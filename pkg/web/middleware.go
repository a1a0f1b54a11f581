package web

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/shop-oss/shop/pkg/logging"
	"github.com/shop-oss/shop/pkg/problem"
)

// maxIDLen bounds IDs accepted from clients so a caller cannot inflate logs.
const maxIDLen = 128

// requestIDs takes X-Request-ID, X-Correlation-ID and traceparent from the
// request (or makes a request ID) and puts them in the request context and
// the response headers.
func requestIDs() gin.HandlerFunc {
	return func(c *gin.Context) {
		rid := cleanID(c.GetHeader(logging.HeaderRequestID))
		if rid == "" {
			rid = uuid.Must(uuid.NewV7()).String()
		}
		cid := cleanID(c.GetHeader(logging.HeaderCorrelationID))
		if cid == "" {
			cid = rid
		}
		ctx := logging.WithCorrelationID(logging.WithRequestID(c.Request.Context(), rid), cid)
		if tp := cleanID(c.GetHeader(logging.HeaderTraceparent)); tp != "" {
			ctx = logging.WithTraceparent(ctx, tp)
		}
		c.Request = c.Request.WithContext(ctx)
		c.Header(logging.HeaderRequestID, rid)
		c.Header(logging.HeaderCorrelationID, cid)
		c.Next()
	}
}

func cleanID(s string) string {
	if len(s) > maxIDLen {
		return ""
	}
	for _, r := range s {
		if r < 0x21 || r > 0x7e {
			return ""
		}
	}
	return s
}

// accessLog writes one line per request. Query strings are left out: they can
// carry personal data, and the route names the endpoint.
func accessLog(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		status := c.Writer.Status()
		level := slog.LevelInfo
		if status >= 500 {
			level = slog.LevelError
		}
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		log.LogAttrs(c.Request.Context(), level, "http request",
			slog.String("method", c.Request.Method),
			slog.String("route", route),
			slog.Int("status", status),
			slog.Int("bytes", c.Writer.Size()),
			slog.Duration("duration", time.Since(start)),
			slog.String("client_ip", c.ClientIP()),
		)
	}
}

// recovery turns a panic into a logged stack and a 500 problem.
func recovery(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			rec := recover()
			if rec == nil {
				return
			}
			if err, ok := rec.(error); ok && errors.Is(err, http.ErrAbortHandler) {
				panic(rec) // the client went away; let net/http handle it quietly
			}
			log.ErrorContext(c.Request.Context(), "panic in handler",
				"panic", fmt.Sprint(rec), "stack", string(debug.Stack()))
			if !c.Writer.Written() {
				WriteProblem(c, problem.Internal)
			}
			c.Abort()
		}()
		c.Next()
	}
}

// bodyLimit makes reads past limit bytes fail; Bind reports that as 413.
func bodyLimit(limit int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.ContentLength > limit {
			Fail(c, errBodyTooLarge(limit))
			return
		}
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit)
		c.Next()
	}
}

func errBodyTooLarge(limit int64) error {
	return problem.Errorf(http.StatusRequestEntityTooLarge, "body-too-large", "Request body too large",
		"the body must not exceed %d bytes", limit)
}
