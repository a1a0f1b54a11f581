package validate

import (
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/compose-spec/compose-go/v2/types"
)

// The observability files: one alert rule file and the dashboards, which
// make obs-up, compose and the chart all use (docs/OBSERVABILITY.md).
const (
	alertsFile    = "charts/shop/files/alerts.yaml"
	dashboardsDir = "charts/shop/files/dashboards"
)

// TestAlertRules checks the rules with promtool and runs their unit tests:
// each alert fires when it should and clears when the condition goes.
func TestAlertRules(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatal("promtool is missing: make deps installs it (Debian package prometheus)")
	}
	for _, args := range [][]string{{"check", "rules", alertsFile}, {"test", "rules", strings.TrimSuffix(alertsFile, ".yaml") + "_test.yaml"}} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = root(t)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

type ruleFile struct {
	Groups []struct {
		Name  string
		Rules []struct {
			Alert, Expr string
		}
	}
}

func readRules(t *testing.T) ruleFile {
	t.Helper()
	raw, err := os.ReadFile(path(t, alertsFile))
	if err != nil {
		t.Fatal(err)
	}
	var rf ruleFile
	if err := yaml.Unmarshal(raw, &rf); err != nil {
		t.Fatal(err)
	}
	return rf
}

func dashboardFiles(t *testing.T) map[string][]byte {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(path(t, dashboardsDir), "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no dashboards in %s: %v", dashboardsDir, err)
	}
	out := map[string][]byte{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var d struct {
			UID, Title string
			Panels     []json.RawMessage
		}
		if err := json.Unmarshal(raw, &d); err != nil || d.UID == "" || len(d.Panels) == 0 {
			t.Errorf("%s: not a dashboard with a uid and panels: %v", f, err)
		}
		out[filepath.Base(f)] = raw
	}
	for _, want := range []string{"shop-saga.json", "shop-event-bus.json"} {
		if out[want] == nil {
			t.Errorf("no dashboard %s", want)
		}
	}
	for _, s := range services {
		if out["shop-"+s+".json"] == nil {
			t.Errorf("no dashboard for %s", s)
		}
	}
	return out
}

// TestHelmObservability renders the chart with the ServiceMonitor, the
// PrometheusRule and the dashboards on: the rule is the rule file, each
// dashboard a ConfigMap with the sidecar's label, and the ServiceMonitor
// names each job after its service, as the rules expect.
func TestHelmObservability(t *testing.T) {
	r := render(t, "--set", "metrics.serviceMonitor.enabled=true", "--set", "metrics.prometheusRule.enabled=true",
		"--set", "metrics.dashboards.enabled=true", "--set", "metrics.prometheusRule.labels.release=prom")
	if len(r.rules) != 1 {
		t.Fatalf("want one PrometheusRule, got %d", len(r.rules))
	}
	pr := r.rules[0]
	if pr.Labels["release"] != "prom" {
		t.Errorf("PrometheusRule labels %v: want release=prom", pr.Labels)
	}
	rf := readRules(t)
	if len(pr.Spec.Groups) != len(rf.Groups) {
		t.Fatalf("PrometheusRule has %d groups, the rule file %d", len(pr.Spec.Groups), len(rf.Groups))
	}
	for i, g := range rf.Groups {
		got := pr.Spec.Groups[i]
		if got.Name != g.Name || len(got.Rules) != len(g.Rules) {
			t.Errorf("group %s: rendered as %s with %d rules, want %d", g.Name, got.Name, len(got.Rules), len(g.Rules))
			continue
		}
		for j, rule := range g.Rules {
			if got.Rules[j].Alert != rule.Alert || got.Rules[j].Expr.String() != rule.Expr {
				t.Errorf("rule %s: rendered as %s %q", rule.Alert, got.Rules[j].Alert, got.Rules[j].Expr.String())
			}
		}
	}

	files := dashboardFiles(t)
	found := 0
	for _, cm := range r.configMaps {
		for key, data := range cm.Data {
			want, ok := files[key]
			if !ok {
				continue
			}
			found++
			if cm.Labels["grafana_dashboard"] != "1" {
				t.Errorf("%s: labels %v, want the sidecar's grafana_dashboard=1", cm.Name, cm.Labels)
			}
			if strings.TrimSpace(data) != strings.TrimSpace(string(want)) {
				t.Errorf("%s: %s differs from %s", cm.Name, key, dashboardsDir)
			}
		}
	}
	if found != len(files) {
		t.Errorf("%d dashboards shipped as ConfigMaps, want %d", found, len(files))
	}

	if len(r.monitors) != 1 || r.monitors[0].Spec.JobLabel != "app.kubernetes.io/component" {
		t.Fatalf("want one ServiceMonitor naming jobs by app.kubernetes.io/component: %+v", r.monitors)
	}
	for _, s := range services {
		if got := r.services[name(s)].Labels["app.kubernetes.io/component"]; got != s {
			t.Errorf("Service %s: component label %q, so its job would not be %q", name(s), got, s)
		}
	}

	// Off by default.
	d := render(t)
	if len(d.rules) != 0 || len(d.monitors) != 0 {
		t.Errorf("defaults render %d PrometheusRules and %d ServiceMonitors; want none", len(d.rules), len(d.monitors))
	}
	for _, cm := range d.configMaps {
		if cm.Labels["grafana_dashboard"] != "" {
			t.Errorf("defaults render dashboard %s", cm.Name)
		}
	}
}

// TestComposeObservability checks the obs profile: Prometheus loads the
// chart's rule file and scrapes each service under a job of its name at
// its port; Grafana gets the dashboards and data sources that point at the
// profile's services; every service reads OTEL_EXPORTER_OTLP_ENDPOINT, and
// the trace backend listens where make compose-up OBS=1 points it.
func TestComposeObservability(t *testing.T) {
	p := loadCompose(t)
	for _, s := range []string{"prometheus", "grafana", "loki", "alloy", "jaeger"} {
		svc, ok := p.Services[s]
		if !ok {
			t.Errorf("compose has no %s service", s)
			continue
		}
		if !slices.Contains(svc.Profiles, "obs") {
			t.Errorf("%s: profiles %v, want obs", s, svc.Profiles)
		}
	}
	mounted := func(svc, target string) string {
		for _, v := range p.Services[svc].Volumes {
			if v.Type == types.VolumeTypeBind && v.Target == target {
				return v.Source
			}
		}
		t.Errorf("%s mounts nothing at %s", svc, target)
		return ""
	}
	if got := mounted("prometheus", "/etc/prometheus/rules/alerts.yaml"); got != path(t, alertsFile) {
		t.Errorf("prometheus loads rules from %s, want %s", got, alertsFile)
	}
	if got := mounted("grafana", "/var/lib/grafana/dashboards/shop"); got != path(t, dashboardsDir) {
		t.Errorf("grafana's dashboards come from %s, want %s", got, dashboardsDir)
	}

	var prom struct {
		RuleFiles     []string `json:"rule_files"`
		ScrapeConfigs []struct {
			JobName       string `json:"job_name"`
			StaticConfigs []struct {
				Targets []string
			} `json:"static_configs"`
		} `json:"scrape_configs"`
	}
	readYAML(t, mounted("prometheus", "/etc/prometheus/prometheus.yml"), &prom)
	if !slices.Equal(prom.RuleFiles, []string{"/etc/prometheus/rules/alerts.yaml"}) {
		t.Errorf("prometheus rule_files %v", prom.RuleFiles)
	}
	jobs := map[string][]string{}
	for _, sc := range prom.ScrapeConfigs {
		for _, st := range sc.StaticConfigs {
			jobs[sc.JobName] = append(jobs[sc.JobName], st.Targets...)
		}
	}
	for _, s := range services {
		_, port, _ := net.SplitHostPort(env(p.Services[s], "SHOP_HTTP_ADDR"))
		if want := []string{s + ":" + port}; !slices.Equal(jobs[s], want) {
			t.Errorf("prometheus job %s scrapes %v, want %v", s, jobs[s], want)
		}
		if _, ok := p.Services[s].Environment["OTEL_EXPORTER_OTLP_ENDPOINT"]; !ok {
			t.Errorf("%s: OTEL_EXPORTER_OTLP_ENDPOINT is not set (empty turns traces off)", s)
		}
	}

	var ds struct {
		Datasources []struct {
			UID, Type, URL string
		}
	}
	readYAML(t, filepath.Join(mounted("grafana", "/etc/grafana/provisioning"), "datasources", "datasources.yaml"), &ds)
	types := map[string]bool{}
	for _, d := range ds.Datasources {
		types[d.Type] = true
		host := strings.TrimPrefix(d.URL, "http://")
		host, _, _ = strings.Cut(host, ":")
		if _, ok := p.Services[host]; !ok {
			t.Errorf("data source %s points at %s, not a compose service", d.UID, d.URL)
		}
	}
	for _, want := range []string{"prometheus", "loki", "jaeger"} {
		if !types[want] {
			t.Errorf("grafana has no %s data source", want)
		}
	}
	if got := p.Services["jaeger"].Environment["COLLECTOR_OTLP_ENABLED"]; got == nil || *got != "true" {
		t.Error("jaeger does not take OTLP (COLLECTOR_OTLP_ENABLED)")
	}
	if mounted("alloy", "/var/run/docker.sock") == "" {
		t.Error("alloy cannot read the containers' logs")
	}
}

func readYAML(t *testing.T, file string, v any) {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(raw, v); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
}
