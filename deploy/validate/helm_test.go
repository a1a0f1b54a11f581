package validate

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
)

const chartDir = "charts/shop"

var helmBin struct {
	once sync.Once
	path string
	err  error
	out  []byte
}

// helm returns the project's Helm binary (deploy/validate/helm.sh builds it
// the first time).
func helm(t *testing.T) string {
	t.Helper()
	helmBin.once.Do(func() {
		cmd := exec.Command(path(t, "deploy/validate/helm.sh"))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		helmBin.path, helmBin.err, helmBin.out = strings.TrimSpace(string(out)), err, stderr.Bytes()
	})
	if helmBin.err != nil {
		t.Fatalf("deploy/validate/helm.sh: %v\n%s", helmBin.err, helmBin.out)
	}
	return helmBin.path
}

func runHelm(t *testing.T, args ...string) ([]byte, error) {
	t.Helper()
	cmd := exec.Command(helm(t), args...)
	cmd.Dir = root(t)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("helm %s: %w\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	return out, nil
}

// valueSets are the values the chart is rendered with: the defaults, the
// production-like file, and that with the remaining switches flipped.
var valueSets = []struct {
	name string
	args []string
}{
	{"default", nil},
	{"production", []string{"-f", chartDir + "/values-production.yaml"}},
	{"production, client certificate, no migration Job, no NetworkPolicy", []string{"-f", chartDir + "/values-production.yaml",
		"--set", "kafka.tls.clientCertSecret=shop-kafka-client", "--set", "migrations.job=false", "--set", "networkPolicy.enabled=false"}},
}

// release is a rendered chart, decoded strictly into the Kubernetes API
// types (and the Prometheus Operator's).
type release struct {
	objects      []runtime.Object
	deployments  map[string]*appsv1.Deployment
	configMaps   map[string]*corev1.ConfigMap
	services     map[string]*corev1.Service
	jobs         map[string]*batchv1.Job
	hpas         map[string]*autoscalingv2.HorizontalPodAutoscaler
	pdbs         []*policyv1.PodDisruptionBudget
	netpols      []*networkingv1.NetworkPolicy
	pods         []*corev1.Pod
	ingresses    []*networkingv1.Ingress
	monitors     []*monitoringv1.ServiceMonitor
	rules        []*monitoringv1.PrometheusRule
	serviceAccts map[string]*corev1.ServiceAccount
}

var strictDecoder = func() runtime.Decoder {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		panic(err)
	}
	if err := monitoringv1.AddToScheme(s); err != nil {
		panic(err)
	}
	// Strict: an unknown or duplicated field is an error, not ignored.
	return serializer.NewCodecFactory(s, serializer.EnableStrict).UniversalDeserializer()
}()

func render(t *testing.T, args ...string) *release {
	t.Helper()
	out, err := runHelm(t, append([]string{"template", "shop", chartDir, "--namespace", "shop"}, args...)...)
	if err != nil {
		t.Fatal(err)
	}
	r := &release{
		deployments: map[string]*appsv1.Deployment{}, configMaps: map[string]*corev1.ConfigMap{},
		services: map[string]*corev1.Service{}, jobs: map[string]*batchv1.Job{},
		hpas: map[string]*autoscalingv2.HorizontalPodAutoscaler{}, serviceAccts: map[string]*corev1.ServiceAccount{},
	}
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(out)))
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(bytes.TrimSpace(stripComments(doc))) == 0 {
			continue
		}
		obj, gvk, err := strictDecoder.Decode(doc, nil, nil)
		if err != nil {
			t.Fatalf("a rendered manifest does not decode strictly: %v\n%s", err, doc)
		}
		r.objects = append(r.objects, obj)
		switch o := obj.(type) {
		case *appsv1.Deployment:
			r.deployments[o.Name] = o
		case *corev1.ConfigMap:
			r.configMaps[o.Name] = o
		case *corev1.Service:
			r.services[o.Name] = o
		case *batchv1.Job:
			r.jobs[o.Name] = o
		case *autoscalingv2.HorizontalPodAutoscaler:
			r.hpas[o.Spec.ScaleTargetRef.Name] = o
		case *policyv1.PodDisruptionBudget:
			r.pdbs = append(r.pdbs, o)
		case *networkingv1.NetworkPolicy:
			r.netpols = append(r.netpols, o)
		case *corev1.Pod:
			r.pods = append(r.pods, o)
		case *networkingv1.Ingress:
			r.ingresses = append(r.ingresses, o)
		case *monitoringv1.ServiceMonitor:
			r.monitors = append(r.monitors, o)
		case *monitoringv1.PrometheusRule:
			r.rules = append(r.rules, o)
		case *corev1.ServiceAccount:
			r.serviceAccts[o.Name] = o
		default:
			t.Errorf("unexpected kind %s in the chart", gvk)
		}
	}
	return r
}

func stripComments(doc []byte) []byte {
	var out []byte
	for _, line := range bytes.Split(doc, []byte("\n")) {
		if !bytes.HasPrefix(bytes.TrimSpace(line), []byte("#")) {
			out = append(out, line...)
			out = append(out, '\n')
		}
	}
	return out
}

func TestHelmLint(t *testing.T) {
	for _, vs := range valueSets {
		if _, err := runHelm(t, append([]string{"lint", "--strict", chartDir}, vs.args...)...); err != nil {
			t.Errorf("%s values: %v", vs.name, err)
		}
	}
}

// values.schema.json rejects bad values before anything is rendered.
func TestHelmSchemaRejectsBadValues(t *testing.T) {
	for _, c := range []struct {
		set, want string
	}{
		{"services.order.replicas=two", "/services/order/replicas"},
		{"kafka.brokers=null", "brokers"},
		{"services.identity.existingSecret=", "/services/identity/existingSecret"},
		{"kafka.sasl.mechanism=SCRAM-SHA-1", "/kafka/sasl/mechanism"},
		{"services.catalog.prot=8082", "prot"},
		{"image.tag=latest", "/image/tag"},
		{"env.SHOP_LOG_LEVEL=null", ""}, // removing a key is fine...
		{"env.LOG_LEVEL=debug", "LOG_LEVEL"},
	} {
		_, err := runHelm(t, "template", "shop", chartDir, "--set", c.set)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("--set %s: %v", c.set, err)
		case c.want != "" && err == nil:
			t.Errorf("--set %s: helm template accepted it", c.set)
		case c.want != "" && !strings.Contains(err.Error(), c.want):
			t.Errorf("--set %s: the error does not name %s: %v", c.set, c.want, err)
		}
	}
}

func TestHelmManifests(t *testing.T) {
	for _, vs := range valueSets {
		t.Run(vs.name, func(t *testing.T) {
			r := render(t, vs.args...)
			checkWorkloads(t, r)
			checkWiring(t, r)
		})
	}
}

func name(component string) string { return "shop-" + component }

// checkWorkloads: every pod of the chart is locked down, sized and probed.
func checkWorkloads(t *testing.T, r *release) {
	t.Helper()
	type workload struct {
		kind, name string
		spec       corev1.PodSpec
		probes     bool
	}
	var all []workload
	for n, d := range r.deployments {
		all = append(all, workload{"Deployment", n, d.Spec.Template.Spec, true})
	}
	for n, j := range r.jobs {
		all = append(all, workload{"Job", n, j.Spec.Template.Spec, false})
	}
	for _, p := range r.pods {
		all = append(all, workload{"Pod", p.Name, p.Spec, false})
	}
	for _, w := range all {
		where := w.kind + " " + w.name
		ps := w.spec.SecurityContext
		if ps == nil || ps.RunAsNonRoot == nil || !*ps.RunAsNonRoot || ps.RunAsUser == nil || *ps.RunAsUser == 0 {
			t.Errorf("%s: the pod must run as a non-root UID (runAsNonRoot, runAsUser)", where)
		}
		if ps == nil || ps.SeccompProfile == nil || ps.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
			t.Errorf("%s: seccomp profile must be RuntimeDefault", where)
		}
		if w.spec.AutomountServiceAccountToken == nil || *w.spec.AutomountServiceAccountToken {
			t.Errorf("%s: mounts a service account token it has no use for", where)
		}
		if len(w.spec.Containers) == 0 {
			t.Errorf("%s: no containers", where)
		}
		for _, c := range w.spec.Containers {
			where := where + " container " + c.Name
			repo, tag, ok := strings.Cut(c.Image[strings.LastIndex(c.Image, "/")+1:], ":")
			if !ok || tag == "" || tag == "latest" || repo == "" {
				t.Errorf("%s: image %q must carry a version tag", where, c.Image)
			}
			sc := c.SecurityContext
			switch {
			case sc == nil:
				t.Errorf("%s: no security context", where)
			case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
				t.Errorf("%s: allowPrivilegeEscalation must be false", where)
			case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
				t.Errorf("%s: the root file system must be read-only", where)
			case sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0:
				t.Errorf("%s: must drop ALL capabilities and add none", where)
			case sc.Privileged != nil && *sc.Privileged:
				t.Errorf("%s: privileged", where)
			}
			req, lim := c.Resources.Requests, c.Resources.Limits
			if req.Cpu().IsZero() || req.Memory().IsZero() || lim.Memory().IsZero() {
				t.Errorf("%s: resources must request CPU and memory and limit memory, got %v", where, c.Resources)
			}
			if !w.probes {
				continue
			}
			for probe, p := range map[string]*corev1.Probe{"startup": c.StartupProbe, "liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
				if p == nil || p.HTTPGet == nil {
					t.Errorf("%s: no HTTP %s probe", where, probe)
					continue
				}
				if !slices.ContainsFunc(c.Ports, func(cp corev1.ContainerPort) bool { return cp.Name == p.HTTPGet.Port.String() }) {
					t.Errorf("%s: the %s probe's port %s is not a container port", where, probe, p.HTTPGet.Port.String())
				}
			}
		}
	}
}

// checkWiring: the objects that point at each other agree.
func checkWiring(t *testing.T, r *release) {
	t.Helper()
	components := append(slices.Clone(services), "gateway")
	for _, comp := range components {
		d := r.deployments[name(comp)]
		if d == nil {
			t.Errorf("no Deployment %s", name(comp))
			continue
		}
		pods := labels.Set(d.Spec.Template.Labels)
		if !selects(d.Spec.Selector, pods) {
			t.Errorf("%s: the selector does not select its own pods", d.Name)
		}
		c := d.Spec.Template.Spec.Containers[0]
		port := c.Ports[0].ContainerPort

		svc := r.services[d.Name]
		if svc == nil || !labels.SelectorFromSet(svc.Spec.Selector).Matches(pods) || svc.Spec.Ports[0].TargetPort.String() != "http" {
			t.Errorf("%s: no Service that selects its pods on the http port", d.Name)
		}
		if !slices.ContainsFunc(r.pdbs, func(p *policyv1.PodDisruptionBudget) bool { return selects(p.Spec.Selector, pods) }) {
			t.Errorf("%s: no PodDisruptionBudget", d.Name)
		}
		if len(r.netpols) > 0 && !slices.ContainsFunc(r.netpols, func(p *networkingv1.NetworkPolicy) bool { return selects(&p.Spec.PodSelector, pods) }) {
			t.Errorf("%s: no NetworkPolicy", d.Name)
		}
		replicas := int32(1)
		if d.Spec.Replicas != nil {
			replicas = *d.Spec.Replicas
		}
		if hpa := r.hpas[d.Name]; hpa != nil {
			if d.Spec.Replicas != nil {
				t.Errorf("%s: sets replicas although an HPA scales it (each upgrade would reset the count)", d.Name)
			}
			replicas = *hpa.Spec.MinReplicas
		}
		if sa := d.Spec.Template.Spec.ServiceAccountName; r.serviceAccts[sa] == nil {
			t.Errorf("%s: service account %q is not in the chart", d.Name, sa)
		}
		cm := configOf(t, r, d)
		if comp == "gateway" {
			if replicas < 2 {
				t.Errorf("%s: %d replica(s); the gateway is the one way in", d.Name, replicas)
			}
			for _, s := range services {
				if got, want := cm["SHOP_GATEWAY_"+strings.ToUpper(s)+"_ADDR"], fmt.Sprintf("%s:%d", name(s), r.services[name(s)].Spec.Ports[0].Port); got != want {
					t.Errorf("gateway: SHOP_GATEWAY_%s_ADDR %q, want %q", strings.ToUpper(s), got, want)
				}
			}
			if cm["SHOP_GATEWAY_LISTEN"] != fmt.Sprint(port) {
				t.Errorf("gateway: listens on %q, its container port is %d", cm["SHOP_GATEWAY_LISTEN"], port)
			}
			continue
		}
		if _, p, _ := net.SplitHostPort(cm["SHOP_HTTP_ADDR"]); p != fmt.Sprint(port) {
			t.Errorf("%s: SHOP_HTTP_ADDR %q but container port %d", d.Name, cm["SHOP_HTTP_ADDR"], port)
		}
		if want := fmt.Sprintf("http://%s:%d/.well-known/jwks.json", name("identity"), r.services[name("identity")].Spec.Ports[0].Port); cm["SHOP_JWKS_URL"] != want {
			t.Errorf("%s: SHOP_JWKS_URL %q, want %q", d.Name, cm["SHOP_JWKS_URL"], want)
		}
		job := r.jobs[d.Name+"-migrate"]
		switch {
		case job == nil && cm["SHOP_DATABASE_MIGRATE"] != "true":
			t.Errorf("%s: neither a migration Job nor SHOP_DATABASE_MIGRATE=true", d.Name)
		case job != nil:
			if cm["SHOP_DATABASE_MIGRATE"] != "false" {
				t.Errorf("%s: migrates at start although its migration Job does", d.Name)
			}
			if hook := job.Annotations["helm.sh/hook"]; hook != "pre-install,pre-upgrade" {
				t.Errorf("%s: hook %q, want pre-install,pre-upgrade", job.Name, hook)
			}
			jc := job.Spec.Template.Spec.Containers[0]
			if !slices.Equal(jc.Args, []string{"migrate"}) || jc.Image != c.Image {
				t.Errorf("%s: runs %s %v, want the service's image with migrate", job.Name, jc.Image, jc.Args)
			}
			// The migrate command loads and checks the same configuration.
			jobOnly, deploymentOnly := missingAndExtra(envOf(t, r, &job.Spec.Template.Spec), shopKeys(envOf(t, r, &d.Spec.Template.Spec)))
			jobOnly = slices.DeleteFunc(jobOnly, func(k string) bool { return !strings.HasPrefix(k, "SHOP_") })
			if len(jobOnly)+len(deploymentOnly) > 0 {
				t.Errorf("%s: its SHOP_* settings differ from the Deployment's: only the Job has %v, only the Deployment %v", job.Name, jobOnly, deploymentOnly)
			}
		}
	}
	checkHelmTest(t, r)
}

// selects reports whether sel selects pods with these labels.
func selects(sel *metav1.LabelSelector, pods labels.Set) bool {
	s, err := metav1.LabelSelectorAsSelector(sel)
	return err == nil && !s.Empty() && s.Matches(pods)
}

// checkHelmTest: `helm test` probes the gateway and every service's /readyz.
func checkHelmTest(t *testing.T, r *release) {
	t.Helper()
	if len(r.pods) != 1 || r.pods[0].Annotations["helm.sh/hook"] != "test" {
		t.Fatalf("want one helm test pod, got %d", len(r.pods))
	}
	args := r.pods[0].Spec.Containers[0].Args
	if args[0] != "healthcheck" {
		t.Errorf("the test pod runs %v, want healthcheck URL...", args)
	}
	gw := r.services[name("gateway")]
	want := []string{fmt.Sprintf("http://%s:%d/healthz", gw.Name, gw.Spec.Ports[0].Port)}
	for _, s := range services {
		want = append(want, fmt.Sprintf("http://%s:%d/readyz", name(s), r.services[name(s)].Spec.Ports[0].Port))
	}
	for _, u := range want {
		if !slices.Contains(args, u) {
			t.Errorf("the test pod does not check %s (it checks %v)", u, args[1:])
		}
	}
}

// configOf returns the settings of a Deployment's ConfigMap.
func configOf(t *testing.T, r *release, d *appsv1.Deployment) map[string]string {
	t.Helper()
	for _, from := range d.Spec.Template.Spec.Containers[0].EnvFrom {
		if from.ConfigMapRef != nil {
			cm := r.configMaps[from.ConfigMapRef.Name]
			if cm == nil {
				t.Fatalf("%s: ConfigMap %s is not in the chart", d.Name, from.ConfigMapRef.Name)
			}
			return cm.Data
		}
	}
	t.Fatalf("%s: takes no ConfigMap", d.Name)
	return nil
}

// envOf returns the environment a pod's first container gets: its
// ConfigMaps' keys and its env entries (values only where literal).
func envOf(t *testing.T, r *release, spec *corev1.PodSpec) map[string]string {
	t.Helper()
	env := map[string]string{}
	c := spec.Containers[0]
	for _, from := range c.EnvFrom {
		if from.ConfigMapRef == nil {
			t.Fatalf("container %s: envFrom other than a ConfigMap", c.Name)
		}
		cm := r.configMaps[from.ConfigMapRef.Name]
		if cm == nil {
			t.Fatalf("container %s: ConfigMap %s is not in the chart", c.Name, from.ConfigMapRef.Name)
		}
		for k, v := range cm.Data {
			env[k] = v
		}
	}
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}
	return env
}

// The production-like values: replicated topics that need two in-sync
// replicas, SASL over TLS to the brokers, two or more replicas of every
// service.
func TestHelmProductionValues(t *testing.T) {
	r := render(t, "-f", chartDir+"/values-production.yaml")
	for _, s := range services {
		d := r.deployments[name(s)]
		cm := configOf(t, r, d)
		for k, want := range map[string]string{
			"SHOP_TOPIC_REPLICATION_FACTOR": "3", "SHOP_TOPIC_MIN_INSYNC_REPLICAS": "2",
			"SHOP_BROKER_SASL_MECHANISM": "SCRAM-SHA-512", "SHOP_BROKER_TLS": "true",
		} {
			if cm[k] != want {
				t.Errorf("%s: %s=%q, want %q", d.Name, k, cm[k], want)
			}
		}
		min := int32(0)
		if d.Spec.Replicas != nil {
			min = *d.Spec.Replicas
		}
		if hpa := r.hpas[d.Name]; hpa != nil {
			min = *hpa.Spec.MinReplicas
		}
		if min < 2 {
			t.Errorf("%s: at least %d replica(s); want 2 or more", d.Name, min)
		}
		if ca := cm["SHOP_BROKER_TLS_CA_FILE"]; ca == "" || !mounts(d, ca) {
			t.Errorf("%s: the broker CA file %q is not mounted", d.Name, ca)
		}
	}
	if len(r.ingresses) != 1 || len(r.monitors) != 1 {
		t.Errorf("want an Ingress and a ServiceMonitor, got %d and %d", len(r.ingresses), len(r.monitors))
	}
}

// mounts reports whether a Deployment's container mounts a volume at a
// directory that holds file.
func mounts(d *appsv1.Deployment, file string) bool {
	for _, m := range d.Spec.Template.Spec.Containers[0].VolumeMounts {
		if strings.HasPrefix(file, strings.TrimSuffix(m.MountPath, "/")+"/") {
			return true
		}
	}
	return false
}
