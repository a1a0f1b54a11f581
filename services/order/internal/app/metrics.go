package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/shop-oss/shop/services/order/internal/order"
)

// metrics implements order.Metrics with Prometheus, and owns the
// stuck-orders gauge.
type metrics struct {
	created     prometheus.Counter
	transitions *prometheus.CounterVec
	saga        prometheus.Histogram
	stuck       *prometheus.GaugeVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		created: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "orders_created_total", Help: "Orders placed.",
		}),
		transitions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "order_transitions_total", Help: "Order status changes, by from and to status.",
		}, []string{"from", "to"}),
		saga: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "order_saga_created_to_paid_seconds",
			Help:    "Time from placing an order to its PAID status.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 900},
		}),
		stuck: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "orders_stuck",
			Help: "Orders longer than their status's SLA in a status waiting on the saga (refreshed periodically).",
		}, []string{"status"}),
	}
	reg.MustRegister(m.created, m.transitions, m.saga, m.stuck)
	return m
}

func (m *metrics) OrderCreated() { m.created.Inc() }

func (m *metrics) Transition(from, to order.Status, sagaSeconds float64) {
	m.transitions.WithLabelValues(string(from), string(to)).Inc()
	if to == order.StatusPaid {
		m.saga.Observe(sagaSeconds)
	}
}

// watchStuck refreshes the stuck gauge at once and then every interval,
// until ctx ends. A failed count is logged and the gauge keeps its last
// values: the next round tries again.
func (m *metrics) watchStuck(ctx context.Context, svc *order.Service, interval time.Duration, log *slog.Logger) error {
	for _, st := range svc.SLAStatuses() {
		m.stuck.WithLabelValues(string(st)).Set(0)
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		counts, err := svc.StuckCounts(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			log.WarnContext(ctx, "refresh stuck-orders gauge", "error", err.Error())
		case err == nil:
			for st, n := range counts {
				m.stuck.WithLabelValues(string(st)).Set(float64(n))
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
