package web

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Check reports whether one dependency is reachable.
type Check func(ctx context.Context) error

// Health serves /healthz (the process is alive), /readyz (every dependency
// answers, and the service is not shutting down) and /metrics.
type Health struct {
	checks   map[string]Check
	timeout  time.Duration
	log      *slog.Logger
	draining atomic.Bool
}

// NewHealth returns Health over the named checks, each given timeout; log
// receives the errors of failing checks.
func NewHealth(checks map[string]Check, timeout time.Duration, log *slog.Logger) *Health {
	return &Health{checks: checks, timeout: timeout, log: log}
}

// Drain makes /readyz fail from now on, so load balancers stop sending new
// requests before the server shuts down.
func (h *Health) Drain() { h.draining.Store(true) }

// operational are Health's routes: for the platform (probes, scrapes), not
// the shop's clients; they are not traced.
var operational = map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true}

// Mount adds the endpoints to e.
func (h *Health) Mount(e *gin.Engine, gatherer prometheus.Gatherer) {
	e.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	e.GET("/readyz", h.ready)
	e.GET("/metrics", gin.WrapH(promhttp.HandlerFor(gatherer, promhttp.HandlerOpts{})))
}

func (h *Health) ready(c *gin.Context) {
	if h.draining.Load() {
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "draining"})
		return
	}
	results := h.Run(c.Request.Context())
	status, code := "ok", http.StatusOK
	for _, r := range results {
		if r != "ok" {
			status, code = "unavailable", http.StatusServiceUnavailable
		}
	}
	c.JSON(code, gin.H{"status": status, "checks": results})
}

// Run runs every check concurrently and returns "ok" or "unavailable" per
// name. The errors are logged, never returned: their text (addresses, user
// names, driver messages) is not for whoever can reach /readyz.
func (h *Health) Run(ctx context.Context) map[string]string {
	ctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	var (
		mu  sync.Mutex
		wg  sync.WaitGroup
		out = make(map[string]string, len(h.checks))
	)
	for name, check := range h.checks {
		wg.Go(func() {
			res := "ok"
			if err := check(ctx); err != nil {
				res = "unavailable"
				h.log.WarnContext(ctx, "readiness check failed", "check", name, "error", err.Error())
			}
			mu.Lock()
			out[name] = res
			mu.Unlock()
		})
	}
	wg.Wait()
	return out
}
