package web

import (
	"fmt"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"

	"github.com/shop-oss/shop/pkg/problem"
	"github.com/shop-oss/shop/pkg/tracing"
)

// DefaultBodyLimit caps request bodies unless Options says otherwise.
const DefaultBodyLimit = 1 << 20

// Options configures NewEngine.
type Options struct {
	Logger   *slog.Logger
	Registry prometheus.Registerer
	// Errors maps the service's domain errors; nil maps only the built-ins.
	Errors *problem.Mapper
	// BodyLimit caps request bodies in bytes (DefaultBodyLimit when 0).
	BodyLimit int64
	// TrustedProxies may set X-Forwarded-For (the gateway's addresses or
	// CIDRs); from anyone else the header is ignored, so a client cannot
	// pick its own IP for rate limits. Empty trusts no proxy.
	TrustedProxies []string
	// Tracer starts each request's server span (package tracing); nil
	// gives spans IDs and records nothing.
	Tracer trace.Tracer
}

// NewEngine returns a gin engine with the standard middleware chain:
// IDs → trace span → metrics → access log → recovery → error writer → body limit.
func NewEngine(opts Options) (*gin.Engine, error) {
	if opts.BodyLimit <= 0 {
		opts.BodyLimit = DefaultBodyLimit
	}
	// gin's mode is process-wide; debug mode only prints route tables.
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.HandleMethodNotAllowed = true
	e.ContextWithFallback = true // c.Request.Context() values reach c.Value / domain calls given c
	if err := e.SetTrustedProxies(opts.TrustedProxies); err != nil {
		return nil, fmt.Errorf("trusted proxies: %w", err)
	}
	m := newHTTPMetrics(opts.Registry)
	e.Use(
		requestIDs(),
		traced(tracing.TracerOr(opts.Tracer)),
		m.middleware(),
		accessLog(opts.Logger),
		recovery(opts.Logger),
		errorWriter(opts.Logger, opts.Errors),
		bodyLimit(opts.BodyLimit),
	)
	e.NoRoute(func(c *gin.Context) {
		Fail(c, problem.Errorf(http.StatusNotFound, "route-not-found", "Not Found", "no route for %s %s", c.Request.Method, c.Request.URL.Path))
	})
	e.NoMethod(func(c *gin.Context) {
		Fail(c, problem.Errorf(http.StatusMethodNotAllowed, "method-not-allowed", "Method Not Allowed", "%s is not allowed on %s", c.Request.Method, c.Request.URL.Path))
	})
	return e, nil
}
