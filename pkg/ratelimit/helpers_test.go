package ratelimit_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/go-redis/redis_rate/v10"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/shop-oss/shop/pkg/auth"
	"github.com/shop-oss/shop/pkg/ratelimit"
	"github.com/shop-oss/shop/pkg/web"
)

// newEngine is one replica: the standard engine with lim's middleware on
// GET /api/v1/products. A request's X-Test-User header stands in for an
// authenticated user.
func newEngine(lim *ratelimit.Limiter, limit redis_rate.Limit, key ratelimit.KeyFunc) *gin.Engine {
	return newEngineWith(lim.Middleware(limit, key))
}

// newEngineWith is newEngine with the limiting middleware given.
func newEngineWith(limiting gin.HandlerFunc) *gin.Engine {
	gin.SetMode(gin.TestMode)
	e, err := web.NewEngine(web.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		panic(err) // no trusted proxies given: cannot fail
	}
	fakeAuth := func(c *gin.Context) {
		if id := c.GetHeader("X-Test-User"); id != "" {
			p := auth.Principal{UserID: id, Role: auth.RoleCustomer}
			c.Request = c.Request.WithContext(auth.WithPrincipal(c.Request.Context(), p))
		}
	}
	e.GET("/api/v1/products", fakeAuth, limiting, func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"ok": true})
	})
	return e
}

func get(e http.Handler, ip, user string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, "/api/v1/products", nil)
	req.RemoteAddr = ip + ":40000"
	if user != "" {
		req.Header.Set("X-Test-User", user)
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec
}

// counter reads one limiter's value of a counter from reg.
func counter(t *testing.T, reg prometheus.Gatherer, name, limiter string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "limiter" && l.GetValue() == limiter {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}
