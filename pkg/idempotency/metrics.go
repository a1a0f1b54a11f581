package idempotency

import (
	"errors"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	requests *prometheus.CounterVec
}

// newMetrics returns the package's counter, registered with reg (nil skips
// registration). When another Store registered it already, that one is used.
func newMetrics(reg prometheus.Registerer, log *slog.Logger) *metrics {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "idempotency_requests_total",
		Help: "Requests carrying an Idempotency-Key, by outcome (first, replayed, conflict, mismatch, taken_over).",
	}, []string{"outcome"})
	if reg != nil {
		c = register(reg, log, c)
	}
	for _, o := range []outcome{outcomeFirst, outcomeReplayed, outcomeConflict, outcomeMismatch, outcomeTakenOver} {
		c.WithLabelValues(string(o)) // export every outcome from zero
	}
	return &metrics{requests: c}
}

func (m *metrics) observe(o outcome) { m.requests.WithLabelValues(string(o)).Inc() }

func register(reg prometheus.Registerer, log *slog.Logger, c *prometheus.CounterVec) *prometheus.CounterVec {
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
	log.Error("register idempotency metrics; they will not be exported", "error", err.Error())
	return c
}
