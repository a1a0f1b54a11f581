package web

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/shop-oss/shop/pkg/logging"
	"github.com/shop-oss/shop/pkg/problem"
	"github.com/shop-oss/shop/pkg/tracing"
)

// maxIDLen bounds IDs accepted from clients so a caller cannot inflate logs.
const maxIDLen = 128

// requestIDs takes X-Request-ID and X-Correlation-ID from the request (or
// makes a request ID) and puts them in the request context and the response
// headers, with a log scope (logging.WithScope) and the order the route
// names, if any (orderIDParam).
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
		ctx := logging.WithScope(logging.WithCorrelationID(logging.WithRequestID(c.Request.Context(), rid), cid))
		if id := orderIDParam(c); id != "" {
			ctx = logging.WithOrderID(ctx, id)
		}
		c.Request = c.Request.WithContext(ctx)
		c.Header(logging.HeaderRequestID, rid)
		c.Header(logging.HeaderCorrelationID, cid)
		c.Next()
	}
}

// orderIDParam is the order a request's route names: the :id after
// /orders/ (the order service's routes), or an orderId path or query
// parameter (inventory's reservation, payment's list). A value that is not
// a UUID is not logged as one.
func orderIDParam(c *gin.Context) string {
	id := c.Param("orderId")
	if id == "" && strings.Contains(c.FullPath(), "/orders/:id") {
		id = c.Param("id")
	}
	if id == "" && c.Request.URL.RawQuery != "" {
		id = c.Query("orderId")
	}
	if _, err := uuid.Parse(id); err != nil || len(id) != 36 {
		return ""
	}
	return id
}

// traced runs each request in a server span, the child of the caller's
// traceparent if it sent one, named by its route ("POST /api/v1/orders").
// Its attributes are only computed when the span records. The operational
// routes get none: a probe every few seconds and a scrape every 15 s per
// replica would otherwise be most of the traces in the backend, each a
// trace of one span that says nothing about the shop.
func traced(tracer trace.Tracer) gin.HandlerFunc {
	return func(c *gin.Context) {
		route := c.FullPath()
		if operational[route] {
			c.Next()
			return
		}
		if route == "" {
			route = "unmatched"
		}
		ctx := tracing.FromHTTP(c.Request.Context(), c.Request.Header)
		ctx, span := tracer.Start(ctx, c.Request.Method+" "+route, trace.WithSpanKind(trace.SpanKindServer))
		defer span.End()
		c.Request = c.Request.WithContext(ctx)
		c.Next()
		if !span.IsRecording() {
			return
		}
		status := c.Writer.Status()
		span.SetAttributes(
			attribute.String("http.request.method", c.Request.Method),
			attribute.String("http.route", route),
			attribute.Int("http.response.status_code", status),
			attribute.String("shop.request_id", logging.RequestID(ctx)),
		)
		if id := logging.OrderID(ctx); id != "" {
			span.SetAttributes(attribute.String("shop.order_id", id))
		}
		if status >= 500 {
			span.SetStatus(codes.Error, http.StatusText(status))
		}
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
