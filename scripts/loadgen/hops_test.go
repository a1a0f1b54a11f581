package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// The hop figures are the means of what a service's histograms observed
// between two scrapes, as the services expose them.
func TestHopReportsAreMeansBetweenTwoScrapes(t *testing.T) {
	reg := prometheus.NewRegistry()
	age := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "consumer_event_age_seconds", ConstLabels: prometheus.Labels{"group": "g"}})
	batch := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "consumer_batch_seconds", ConstLabels: prometheus.Labels{"group": "g"}})
	lag := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "outbox_commit_to_publish_seconds"})
	events := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "consumer_events_total"}, []string{"outcome"})
	// The revocation consumer's figures are not the saga's: ignored.
	revAge := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "consumer_event_age_seconds", ConstLabels: prometheus.Labels{"group": "g.revocations"}})
	revBatch := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "consumer_batch_seconds", ConstLabels: prometheus.Labels{"group": "g.revocations"}})
	reg.MustRegister(age, batch, lag, events, revAge, revBatch)
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer srv.Close()
	s := &shop{http: &http.Client{Timeout: 5 * time.Second}}
	ctx := context.Background()

	age.Observe(10) // before the window: not counted, also as slow
	batch.Observe(10)
	events.WithLabelValues("handled").Add(7)
	before, err := s.scrape(ctx, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	age.Observe(0.1)
	age.Observe(0.3)
	age.Observe(0.5) // in the 0.5 s bucket (DefBuckets): not over it
	age.Observe(0.7)
	age.Observe(1.4)
	batch.Observe(0.02)
	revAge.Observe(30)
	revBatch.Observe(0.001)
	revBatch.Observe(0.001)
	events.WithLabelValues("handled").Add(5)
	events.WithLabelValues("duplicate").Add(1)
	lag.Observe(0.004)
	after, err := s.scrape(ctx, srv.URL)
	if err != nil {
		t.Fatal(err)
	}

	reps := hopReports(map[string]hopTotals{"order": before}, map[string]hopTotals{"order": after})
	var got hopReport
	for _, r := range reps {
		if r.service == "order" {
			got = r
		}
	}
	// DefBuckets' largest bound up to slowLimit is 0.5 s.
	want := hopReport{service: "order", age: 600 * time.Millisecond, batch: 20 * time.Millisecond, lag: 4 * time.Millisecond,
		eventsPerBatch: 6, hasAge: true, hasBatch: true, hasRelay: true,
		ageSlow: 2, ageSlowBound: 500 * time.Millisecond, lagSlowBound: 500 * time.Millisecond}
	if got != want {
		t.Errorf("report %+v; want %+v", got, want)
	}
	if s := got.String(); s != "order: relay 4ms (0 over 500ms), event age when handled 600ms (2 over 500ms), batch 20ms (6.0 events)" {
		t.Errorf("printed %q", s)
	}
	for _, r := range reps {
		if r.service != "order" && r.String() != r.service+": nothing measured" {
			t.Errorf("a service without readings printed %q", r.String())
		}
	}
}
