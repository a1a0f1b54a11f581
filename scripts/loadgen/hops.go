package main

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// sagaServices are the services whose consumers and relays carry the saga.
var sagaServices = []string{"inventory", "order", "payment"}

// hopTotals are a service's cumulative event-bus figures, read from its
// /metrics: sums (seconds) and counts of the histograms, and events handled.
type hopTotals struct {
	ageSum, ageCount     float64 // consumer_event_age_seconds: event written → handled
	batchSum, batchCount float64 // consumer_batch_seconds: one batch's transaction
	events               float64 // consumer_events_total
	lagSum, lagCount     float64 // outbox_commit_to_publish_seconds: outbox row → broker ack
	// ageSlow and lagSlow count the events slower than ageSlowBound and
	// lagSlowBound (the histograms' largest bucket bounds up to slowLimit):
	// the tail that a saga p99 far above its p95 comes from.
	ageSlow, lagSlow           float64
	ageSlowBound, lagSlowBound float64
}

// slowLimit is the time above which a hop's events count as slow (rounded
// down to a bucket bound of the service's histogram).
const slowLimit = 0.512

// hopStats reads every saga service's totals.
func (s *shop) hopStats(ctx context.Context) (map[string]hopTotals, error) {
	out := map[string]hopTotals{}
	for _, svc := range sagaServices {
		t, err := s.scrape(ctx, s.st.URL(svc)+"/metrics")
		if err != nil {
			return nil, fmt.Errorf("%s: %w", svc, err)
		}
		out[svc] = t
	}
	return out, nil
}

func (s *shop) scrape(ctx context.Context, url string) (hopTotals, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return hopTotals{}, err
	}
	res, err := s.http.Do(req)
	if err != nil {
		return hopTotals{}, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return hopTotals{}, fmt.Errorf("GET %s: %s", url, res.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(res.Body)
	if err != nil {
		return hopTotals{}, fmt.Errorf("parse %s: %w", url, err)
	}
	for _, name := range []string{"consumer_event_age_seconds", "consumer_batch_seconds", "consumer_events_total"} {
		dropRevocationGroup(families[name])
	}
	var t hopTotals
	t.ageSum, t.ageCount = histogram(families["consumer_event_age_seconds"])
	t.batchSum, t.batchCount = histogram(families["consumer_batch_seconds"])
	t.lagSum, t.lagCount = histogram(families["outbox_commit_to_publish_seconds"])
	t.ageSlow, t.ageSlowBound = above(families["consumer_event_age_seconds"], slowLimit)
	t.lagSlow, t.lagSlowBound = above(families["outbox_commit_to_publish_seconds"], slowLimit)
	if f := families["consumer_events_total"]; f != nil {
		for _, m := range f.GetMetric() {
			t.events += m.GetCounter().GetValue()
		}
	}
	return t, nil
}

// dropRevocationGroup removes from f the series of a service's revocation
// consumer (group "<service>.revocations", pkg/service): the hops are the
// saga consumer's, and the revocation group's batches of skipped login
// events would dilute them.
func dropRevocationGroup(f *dto.MetricFamily) {
	if f == nil {
		return
	}
	f.Metric = slices.DeleteFunc(f.Metric, func(m *dto.Metric) bool {
		for _, l := range m.GetLabel() {
			if l.GetName() == "group" && strings.HasSuffix(l.GetValue(), ".revocations") {
				return true
			}
		}
		return false
	})
}

// histogram adds up a histogram family's series.
func histogram(f *dto.MetricFamily) (sum, count float64) {
	if f == nil {
		return 0, 0
	}
	for _, m := range f.GetMetric() {
		sum += m.GetHistogram().GetSampleSum()
		count += float64(m.GetHistogram().GetSampleCount())
	}
	return sum, count
}

// above counts a histogram family's observations above bound, the largest
// bucket bound not over limit (0 when no bucket is that small).
func above(f *dto.MetricFamily, limit float64) (n, bound float64) {
	if f == nil {
		return 0, 0
	}
	for _, m := range f.GetMetric() {
		h := m.GetHistogram()
		var within float64
		for _, b := range h.GetBucket() {
			if b.GetUpperBound() <= limit && b.GetUpperBound() >= bound {
				bound, within = b.GetUpperBound(), float64(b.GetCumulativeCount())
			}
		}
		n += float64(h.GetSampleCount()) - within
	}
	return n, bound
}

// hopReport is the per-service means over the window between two readings.
type hopReport struct {
	service                    string
	age, batch, lag            time.Duration
	eventsPerBatch             float64
	hasAge, hasBatch, hasRelay bool
	// ageSlow and lagSlow are how many events took longer than
	// ageSlowBound and lagSlowBound.
	ageSlow, lagSlow           int
	ageSlowBound, lagSlowBound time.Duration
}

func hopReports(before, after map[string]hopTotals) []hopReport {
	var out []hopReport
	for _, svc := range sagaServices {
		a, b := before[svc], after[svc]
		r := hopReport{service: svc}
		if n := b.ageCount - a.ageCount; n > 0 {
			r.age, r.hasAge = seconds((b.ageSum-a.ageSum)/n), true
			r.ageSlow, r.ageSlowBound = int(b.ageSlow-a.ageSlow), seconds(b.ageSlowBound)
		}
		if n := b.batchCount - a.batchCount; n > 0 {
			r.batch, r.hasBatch = seconds((b.batchSum-a.batchSum)/n), true
			r.eventsPerBatch = (b.events - a.events) / n
		}
		if n := b.lagCount - a.lagCount; n > 0 {
			r.lag, r.hasRelay = seconds((b.lagSum-a.lagSum)/n), true
			r.lagSlow, r.lagSlowBound = int(b.lagSlow-a.lagSlow), seconds(b.lagSlowBound)
		}
		out = append(out, r)
	}
	return out
}

func seconds(s float64) time.Duration {
	return time.Duration(s * float64(time.Second)).Round(100 * time.Microsecond)
}

func (r hopReport) String() string {
	var parts []string
	if r.hasRelay {
		parts = append(parts, fmt.Sprintf("relay %v (%d over %v)", r.lag, r.lagSlow, r.lagSlowBound))
	}
	if r.hasAge {
		parts = append(parts, fmt.Sprintf("event age when handled %v (%d over %v)", r.age, r.ageSlow, r.ageSlowBound))
	}
	if r.hasBatch {
		parts = append(parts, fmt.Sprintf("batch %v (%.1f events)", r.batch, r.eventsPerBatch))
	}
	if len(parts) == 0 {
		return r.service + ": nothing measured"
	}
	return r.service + ": " + strings.Join(parts, ", ")
}
