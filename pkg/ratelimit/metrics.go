package ratelimit

import (
	"errors"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	rejected *prometheus.CounterVec
	failures *prometheus.CounterVec
}

// newMetrics returns the package's counters, registered with reg. Every
// Limiter of a process shares them (labelled by limiter name): when another
// Limiter registered them already, the registered ones are used.
func newMetrics(reg prometheus.Registerer, log *slog.Logger) metrics {
	return metrics{
		rejected: register(reg, log, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ratelimit_rejected_total",
			Help: "Requests rejected by a rate limiter.",
		}, []string{"limiter"})),
		failures: register(reg, log, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ratelimit_errors_total",
			Help: "Rate limiter failures (Redis unreachable), each decided by the in-process limiter instead.",
		}, []string{"limiter"})),
	}
}

func register(reg prometheus.Registerer, log *slog.Logger, c *prometheus.CounterVec) *prometheus.CounterVec {
	if reg == nil {
		return c
	}
	err := reg.Register(c)
	if err == nil {
		return c
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(*prometheus.CounterVec); ok {
			return existing
		}
	}
	log.Error("register rate limit metrics; they will not be exported", "error", err.Error())
	return c
}
