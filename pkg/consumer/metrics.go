package consumer

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	events       *prometheus.CounterVec
	retries      prometheus.Counter
	age          prometheus.Histogram
	batchSeconds prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer, group string) *metrics {
	labels := prometheus.Labels{"group": group}
	m := &metrics{
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "consumer_events_total", ConstLabels: labels,
			Help: "Consumed events by type and outcome (handled, duplicate, skipped, dead_lettered).",
		}, []string{"type", "outcome"}),
		retries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "consumer_retries_total", ConstLabels: labels,
			Help: "Retries of failed event handlers.",
		}),
		age: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "consumer_event_age_seconds", ConstLabels: labels,
			Help:    "Time from an event's occurrence to the commit of its effect here.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16),
		}),
		batchSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "consumer_batch_seconds", ConstLabels: labels,
			Help:    "Duration of one batch transaction.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
	}
	if reg != nil {
		reg.MustRegister(m.events, m.retries, m.age, m.batchSeconds)
	}
	return m
}
