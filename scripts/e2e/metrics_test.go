package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"
	"gopkg.in/yaml.v3"

	"github.com/shop-oss/shop/pkg/config"
)

// observability is where the alert rules and the dashboards live, shared by
// make obs-up, compose and the chart.
const observability = "../../charts/shop/files"

// TestDashboardsAndAlertsNameExportedMetrics runs a few sagas (paid, paid
// after a declined card, cancelled by the customer, an idempotent replay),
// scrapes every service, and checks that every PromQL expression of the
// alert rules and the dashboards parses and names only metrics that the
// services export (issue 28), and that the metrics the saga should move
// did move.
func TestDashboardsAndAlertsNameExportedMetrics(t *testing.T) {
	exprs := observedExpressions(t)
	s := openShop(t, map[string]map[string]string{"order": {"SHOP_ORDER_STUCK_INTERVAL": "1s"}})
	product := s.product(t, "Metrics lamp", 1500, 20)

	paid := s.order(t, s.customer, line{product, 1})
	s.waitStatus(t, paid, "PAYMENT_PENDING")
	if code := s.pay(t, paid, "4000000000000002"); code != 402 {
		t.Fatalf("declined card: %d", code)
	}
	if code := s.pay(t, paid, "4242424242424242"); code != 200 {
		t.Fatalf("pay: %d", code)
	}
	s.waitStatus(t, paid, "PAID")

	cancelled := s.order(t, s.customer, line{product, 2})
	s.waitStatus(t, cancelled, "PAYMENT_PENDING")
	must(t, 200, "POST", s.url("order")+"/api/v1/orders/"+cancelled+"/cancel", s.customer, nil)
	s.waitStatus(t, cancelled, "CANCELLED")

	for range 2 { // a miss, then a hit
		must(t, 200, "GET", s.url("catalog")+"/api/v1/products/"+product, "", nil)
	}

	key := uuid.NewString()
	body := map[string]any{"lines": []map[string]any{{"product_id": product, "quantity": 1}}}
	for i := range 2 {
		code, _, replayed := callReplayed(t, "POST", s.url("order")+"/api/v1/orders", s.customer, body, key)
		if code != 201 || replayed != (i == 1) {
			t.Fatalf("idempotent order %d: %d, replayed %v", i, code, replayed)
		}
	}

	// The per-status gauge is refreshed every second here; wait for it to
	// see the paid order, then scrape everything.
	eventually(t, "orders_by_status to count the paid and the cancelled order", 30*time.Second, func() bool {
		fams := scrape(t, s.url("order"))
		return value(fams, "orders_by_status", map[string]string{"status": "PAID"}) >= 1 &&
			value(fams, "orders_by_status", map[string]string{"status": "CANCELLED"}) >= 1
	})
	exported := map[string]bool{"up": true} // Prometheus's own, per target
	all := map[string]map[string]*dto.MetricFamily{}
	for _, name := range config.ServiceNames {
		fams := scrape(t, s.url(name))
		all[name] = fams
		for _, f := range fams {
			for _, n := range seriesNames(f) {
				exported[n] = true
			}
		}
	}

	for _, e := range exprs {
		for _, name := range e.metrics {
			if !exported[name] {
				t.Errorf("%s: %q names %s, which no service exports", e.where, e.expr, name)
			}
		}
	}

	moved := []struct {
		service, metric string
		labels          map[string]string
	}{
		{"order", "orders_created_total", nil},
		{"order", "order_transitions_total", map[string]string{"to": "PAID"}},
		{"order", "order_saga_stage_seconds_count", map[string]string{"stage": "reserved"}},
		{"order", "order_saga_stage_seconds_count", map[string]string{"stage": "paid"}},
		{"order", "order_saga_stage_seconds_count", map[string]string{"stage": "cancelled", "reason": "CUSTOMER_REQUEST"}},
		{"order", "orders_by_status", map[string]string{"status": "CANCELLED"}},
		{"order", "idempotency_requests_total", map[string]string{"outcome": "replayed"}},
		{"order", "outbox_published_total", nil},
		{"order", "consumer_events_total", map[string]string{"group": "order", "type": "INVENTORY_RESERVED", "outcome": "handled"}},
		{"order", "http_requests_total", map[string]string{"route": "/api/v1/orders", "status": "201"}},
		{"order", "http_request_duration_seconds_count", map[string]string{"route": "/api/v1/orders"}},
		{"inventory", "consumer_events_total", map[string]string{"group": "inventory", "type": "ORDER_CREATED", "outcome": "handled"}},
		{"payment", "payments_total", map[string]string{"outcome": "declined"}},
		{"payment", "payments_total", map[string]string{"outcome": "succeeded"}},
		{"payment", "payment_gateway_request_duration_seconds_count", map[string]string{"operation": "charge"}},
		{"catalog", "catalog_cache_lookups_total", map[string]string{"kind": "product", "result": "hit"}},
	}
	for _, m := range moved {
		if v := value(all[m.service], m.metric, m.labels); v <= 0 {
			t.Errorf("%s %s%v did not move: %v", m.service, m.metric, m.labels, v)
		}
	}
	// Read on scrape: present, and at rest after the run.
	for _, name := range config.ServiceNames {
		for _, metric := range []string{"outbox_backlog_rows", "dlq_depth", "dlq_messages"} {
			if _, ok := all[name][metric]; !ok {
				t.Errorf("%s does not export %s", name, metric)
			}
		}
		if v := value(all[name], "dlq_depth", nil); v != 0 {
			t.Errorf("%s dlq_depth %v after a clean run", name, v)
		}
	}
	if f := all["order"]["consumer_lag"]; f == nil || !hasLabels(f, map[string]string{"group": "order", "topic": "inventory.events"}) {
		t.Errorf("order exports no consumer_lag of inventory.events: %v", f)
	}
}

// expression is a PromQL expression of a rule or a dashboard panel, with
// the metric names it selects.
type expression struct {
	where, expr string
	metrics     []string
}

// observedExpressions parses every expression of the alert rules and the
// dashboards (Grafana's $__rate_interval and friends read as 1m) and
// returns them with the metrics each selects.
func observedExpressions(t *testing.T) []expression {
	t.Helper()
	var out []expression
	promql := parser.NewParser(parser.Options{})
	grafana := strings.NewReplacer("$__rate_interval", "1m", "$__interval", "1m", "$__range", "1h")
	add := func(where, expr string) {
		e, err := promql.ParseExpr(grafana.Replace(expr))
		if err != nil {
			t.Errorf("%s: %q does not parse: %v", where, expr, err)
			return
		}
		var names []string
		parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
			if vs, ok := n.(*parser.VectorSelector); ok && !slices.Contains(names, vs.Name) {
				names = append(names, vs.Name)
			}
			return nil
		})
		if len(names) == 0 {
			t.Errorf("%s: %q selects no metric by name", where, expr)
		}
		out = append(out, expression{where: where, expr: expr, metrics: names})
	}

	var rules struct {
		Groups []struct {
			Rules []struct {
				Alert, Record, Expr string
			}
		}
	}
	raw, err := os.ReadFile(filepath.Join(observability, "alerts.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(raw, &rules); err != nil {
		t.Fatal(err)
	}
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			add("alert "+r.Alert+r.Record, r.Expr)
		}
	}
	files, err := filepath.Glob(filepath.Join(observability, "dashboards", "*.json"))
	if err != nil || len(files) < 7 {
		t.Fatalf("dashboards: %v %v", files, err)
	}
	for _, f := range files {
		var d struct {
			Panels []struct {
				Title   string
				Targets []struct{ Expr string }
			}
		}
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, &d); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, p := range d.Panels {
			for _, target := range p.Targets {
				add(filepath.Base(f)+" / "+p.Title, target.Expr)
			}
		}
	}
	if len(out) < 50 {
		t.Fatalf("only %d expressions found", len(out))
	}
	return out
}

// scrape reads a service's /metrics.
func scrape(t *testing.T, base string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("scrape %s: %d %v", base, resp.StatusCode, err)
	}
	tp := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := tp.TextToMetricFamilies(strings.NewReader(string(raw)))
	if err != nil {
		t.Fatalf("scrape %s: %v", base, err)
	}
	return fams
}

// seriesNames are the names a family's series have in PromQL: a histogram
// or summary is its _bucket (or quantiles), _sum and _count.
func seriesNames(f *dto.MetricFamily) []string {
	n := f.GetName()
	switch f.GetType() {
	case dto.MetricType_HISTOGRAM:
		return []string{n + "_bucket", n + "_sum", n + "_count"}
	case dto.MetricType_SUMMARY:
		return []string{n, n + "_sum", n + "_count"}
	}
	return []string{n}
}

// value sums the series of metric (a histogram's _count included) whose
// labels include labels; -1 when there is none.
func value(fams map[string]*dto.MetricFamily, metric string, labels map[string]string) float64 {
	name, count := metric, false
	if base, ok := strings.CutSuffix(metric, "_count"); ok && fams[metric] == nil {
		name, count = base, true
	}
	f := fams[name]
	if f == nil {
		return -1
	}
	sum, found := 0.0, false
	for _, m := range f.GetMetric() {
		if !matches(m, labels) {
			continue
		}
		found = true
		switch {
		case count && m.GetHistogram() != nil:
			sum += float64(m.GetHistogram().GetSampleCount())
		case m.GetCounter() != nil:
			sum += m.GetCounter().GetValue()
		case m.GetGauge() != nil:
			sum += m.GetGauge().GetValue()
		}
	}
	if !found {
		return -1
	}
	return sum
}

func hasLabels(f *dto.MetricFamily, labels map[string]string) bool {
	return slices.ContainsFunc(f.GetMetric(), func(m *dto.Metric) bool { return matches(m, labels) })
}

func matches(m *dto.Metric, labels map[string]string) bool {
	for k, v := range labels {
		if !slices.ContainsFunc(m.GetLabel(), func(l *dto.LabelPair) bool { return l.GetName() == k && l.GetValue() == v }) {
			return false
		}
	}
	return true
}
