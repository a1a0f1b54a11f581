package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/shop-oss/shop/services/order/internal/order"
)

// metrics implements order.Metrics with Prometheus, and owns the gauges of
// the orders' state (per status, stuck per status), refreshed
// periodically rather than on each request.
type metrics struct {
	created     prometheus.Counter
	transitions *prometheus.CounterVec
	saga        prometheus.Histogram
	stages      *prometheus.HistogramVec
	stuck       *prometheus.GaugeVec
	byStatus    *prometheus.GaugeVec
}

// sagaBuckets span a saga that is done in milliseconds to one that waits
// for a customer's card or a reservation's expiry.
var sagaBuckets = []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 900, 1800, 3600}

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
			Buckets: sagaBuckets[:14],
		}),
		stages: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "order_saga_stage_seconds",
			Help: "Time from placing an order to each stage of its saga: stage reserved (PAYMENT_PENDING), paid, or cancelled with its reason " +
				"(OUT_OF_STOCK, PAYMENT_FAILED, RESERVATION_EXPIRED, SAGA_TIMEOUT, CUSTOMER_REQUEST, ADMIN).",
			Buckets: sagaBuckets,
		}, []string{"stage", "reason"}),
		stuck: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "orders_stuck",
			Help: "Orders longer than their status's SLA in a status waiting on the saga (refreshed periodically).",
		}, []string{"status"}),
		byStatus: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "orders_by_status",
			Help: "Orders in each status now (refreshed periodically).",
		}, []string{"status"}),
	}
	reg.MustRegister(m.created, m.transitions, m.saga, m.stages, m.stuck, m.byStatus)
	return m
}

func (m *metrics) OrderCreated() { m.created.Inc() }

func (m *metrics) Transition(from, to order.Status, reason string, sinceCreated float64) {
	m.transitions.WithLabelValues(string(from), string(to)).Inc()
	stage := ""
	switch to {
	case order.StatusPaymentPending:
		stage = "reserved"
	case order.StatusPaid:
		stage = "paid"
		m.saga.Observe(sinceCreated)
	case order.StatusCancelled:
		stage = "cancelled"
	}
	if stage != "" && sinceCreated > 0 {
		m.stages.WithLabelValues(stage, reason).Observe(sinceCreated)
	}
}

// watchState refreshes the stuck-orders and orders-per-status gauges at
// once and then every interval, until ctx ends. A failed count is logged
// and the gauges keep their last values: the next round tries again.
func (m *metrics) watchState(ctx context.Context, svc *order.Service, interval time.Duration, log *slog.Logger) error {
	for _, st := range svc.SLAStatuses() {
		m.stuck.WithLabelValues(string(st)).Set(0)
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		m.refresh(ctx, svc, log)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func (m *metrics) refresh(ctx context.Context, svc *order.Service, log *slog.Logger) {
	stuck, err := svc.StuckCounts(ctx)
	switch {
	case err != nil && ctx.Err() == nil:
		log.WarnContext(ctx, "refresh stuck-orders gauge", "error", err.Error())
	case err == nil:
		for st, n := range stuck {
			m.stuck.WithLabelValues(string(st)).Set(float64(n))
		}
	}
	counts, err := svc.StatusCounts(ctx)
	switch {
	case err != nil && ctx.Err() == nil:
		log.WarnContext(ctx, "refresh orders-per-status gauge", "error", err.Error())
	case err == nil:
		for st, n := range counts {
			m.byStatus.WithLabelValues(string(st)).Set(float64(n))
		}
	}
}
