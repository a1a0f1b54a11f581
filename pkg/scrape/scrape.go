// Package scrape builds Prometheus collectors whose figures are read when
// Prometheus scrapes (from the database or the broker) rather than kept up
// to date by the code that changes them: what is stored or what the broker
// holds is the truth, and reading it costs nothing between scrapes.
//
// A read is bounded by a timeout. One that fails is counted in its own
// <name>_scrape_errors_total counter and logged, and its gauges are left
// out of that scrape (a missing series, which an alert can see), instead of
// reporting a stale or partial figure.
package scrape

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Read reads the figures and gives each to set: a gauge of desc with its
// variable labels' values, in desc's order.
type Read func(ctx context.Context, set func(desc *prometheus.Desc, value float64, labels ...string)) error

// Collector is a prometheus.Collector of gauges read at scrape time.
type Collector struct {
	what    string
	log     *slog.Logger
	timeout time.Duration
	gauges  []*prometheus.Desc
	read    Read
	errors  prometheus.Counter
}

// New returns the collector of gauges that read reads within timeout.
// what names the figures in the log line of a failed read ("the outbox
// backlog"); errors is the counter of failed reads.
func New(what string, errors prometheus.CounterOpts, timeout time.Duration, log *slog.Logger, read Read, gauges ...*prometheus.Desc) *Collector {
	return &Collector{what: what, log: log, timeout: timeout, gauges: gauges, read: read, errors: prometheus.NewCounter(errors)}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.gauges {
		ch <- d
	}
	c.errors.Describe(ch)
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	defer c.errors.Collect(ch)
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	var read []prometheus.Metric
	err := c.read(ctx, func(desc *prometheus.Desc, value float64, labels ...string) {
		m, err := prometheus.NewConstMetric(desc, prometheus.GaugeValue, value, labels...)
		if err != nil {
			panic(err) // a desc and labels that do not match: a programming error, as MustNewConstMetric
		}
		read = append(read, m)
	})
	if err != nil {
		c.errors.Inc()
		c.log.Warn("read "+c.what+" for /metrics", "error", err.Error())
		return
	}
	for _, m := range read {
		ch <- m
	}
}
