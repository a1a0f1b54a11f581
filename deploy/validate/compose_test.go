package validate

import (
	"context"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

// loadCompose loads deploy/compose/compose.yaml (and the given overlays)
// the way `docker compose` does, with .env.example as the .env file and
// every profile on, and validates it against the compose specification.
func loadCompose(t *testing.T, files ...string) *types.Project {
	t.Helper()
	dir := path(t, "deploy/compose")
	paths := []string{filepath.Join(dir, "compose.yaml")}
	for _, f := range files {
		paths = append(paths, filepath.Join(dir, f))
	}
	opts, err := cli.NewProjectOptions(paths,
		cli.WithWorkingDirectory(dir),
		cli.WithEnvFiles(filepath.Join(dir, ".env.example")),
		cli.WithDotEnv,
		cli.WithProfiles([]string{"*"}),
	)
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatalf("compose %v: %v", files, err)
	}
	return p
}

// oneShot are the compose services that run once (the demo seeds).
func oneShot(s types.ServiceConfig) bool { return s.Restart == "no" }

func env(s types.ServiceConfig, name string) string {
	if v := s.Environment[name]; v != nil {
		return *v
	}
	return ""
}

func TestCompose(t *testing.T) {
	for _, variant := range [][]string{nil, {"compose.secure.yaml"}} {
		t.Run(strings.Join(append([]string{"compose.yaml"}, variant...), "+"), func(t *testing.T) {
			p := loadCompose(t, variant...)
			for _, want := range append([]string{"redpanda", "console", "postgres", "redis", "gateway"}, services...) {
				if _, ok := p.Services[want]; !ok {
					t.Errorf("compose has no %s service", want)
				}
			}
			for name, s := range p.Services {
				checkComposeService(t, p, name, s)
			}
			checkComposeWiring(t, p)
		})
	}
}

var pinnedImage = regexp.MustCompile(`^[a-z0-9./_-]+:v?[0-9]+(\.[0-9]+)*[a-z0-9.+_-]*$`)

func checkComposeService(t *testing.T, p *types.Project, name string, s types.ServiceConfig) {
	t.Helper()
	if s.Build != nil {
		ctx := s.Build.Context
		if _, err := os.Stat(filepath.Join(ctx, s.Build.Dockerfile)); err != nil {
			t.Errorf("%s: build: %v", name, err)
		}
		if ctx != root(t) {
			t.Errorf("%s: build context %s; the Dockerfiles expect the repository's root", name, ctx)
		}
		if s.Build.Dockerfile == "deploy/docker/Dockerfile" && s.Build.Args["SERVICE"] == nil {
			t.Errorf("%s: build without the SERVICE argument", name)
		}
		if arg := s.Build.Args["SERVICE"]; arg != nil && *arg != name {
			t.Errorf("%s: builds the image of %s", name, *arg)
		}
		if want := ":" + p.Environment["SHOP_VERSION"]; !strings.HasSuffix(s.Image, want) {
			t.Errorf("%s: image %s is not tagged with SHOP_VERSION", name, s.Image)
		}
	} else if ours := builtImages(p); ours[s.Image] {
		// The seeds run an image another service builds.
	} else if !pinnedImage.MatchString(s.Image) || strings.Contains(s.Image, "latest") {
		t.Errorf("%s: image %q: pin it by version (name:1.2.3), never latest", name, s.Image)
	}
	if oneShot(s) {
		return
	}
	if s.HealthCheck == nil || s.HealthCheck.Disable || len(s.HealthCheck.Test) < 2 {
		t.Errorf("%s: no health check", name)
	} else if s.Build != nil && s.Build.Dockerfile == "deploy/docker/Dockerfile" {
		if got := strings.Join(s.HealthCheck.Test, " "); got != "CMD /usr/local/bin/shop healthcheck" {
			t.Errorf("%s: health check %q; the image has no shell: CMD /usr/local/bin/shop healthcheck", name, got)
		}
	}
	if s.Restart == "" {
		t.Errorf("%s: no restart policy", name)
	}
	for dep, d := range s.DependsOn {
		target, ok := p.Services[dep]
		if !ok {
			t.Errorf("%s: depends on unknown service %s", name, dep)
			continue
		}
		want := types.ServiceConditionHealthy
		if oneShot(target) {
			want = types.ServiceConditionCompletedSuccessfully
		}
		if d.Condition != want {
			t.Errorf("%s: depends on %s with %q; want %q", name, dep, d.Condition, want)
		}
	}
	for _, v := range s.Volumes {
		if v.Type == types.VolumeTypeVolume {
			if _, ok := p.Volumes[v.Source]; !ok {
				t.Errorf("%s: volume %s is not a declared named volume", name, v.Source)
			}
		}
		// The Docker socket is the host's (Alloy reads the containers'
		// logs through it), not a file of the repository.
		if v.Type == types.VolumeTypeBind && v.Source != "/var/run/docker.sock" {
			if _, err := os.Stat(v.Source); err != nil {
				t.Errorf("%s: bind mount: %v", name, err)
			}
		}
	}
}

// builtImages are the images the project builds itself.
func builtImages(p *types.Project) map[string]bool {
	images := map[string]bool{}
	for _, s := range p.Services {
		if s.Build != nil {
			images[s.Image] = true
		}
	}
	return images
}

// checkComposeWiring: the addresses the services are given are the ones
// the other containers listen on.
func checkComposeWiring(t *testing.T, p *types.Project) {
	t.Helper()
	published := map[uint64]string{}
	for name, s := range p.Services {
		for _, port := range s.Ports {
			hp, err := strconv.ParseUint(port.Published, 10, 16)
			if err != nil {
				t.Errorf("%s: published port %q: %v", name, port.Published, err)
				continue
			}
			if other, dup := published[hp]; dup {
				t.Errorf("host port %d is published by %s and %s", hp, other, name)
			}
			published[hp] = name
		}
	}
	if published[8080] != "gateway" {
		t.Errorf("localhost:8080 is %q's, want the gateway's", published[8080])
	}

	ports := map[string]string{}
	for _, name := range services {
		s := p.Services[name]
		_, port, err := net.SplitHostPort(env(s, "SHOP_HTTP_ADDR"))
		if err != nil {
			t.Errorf("%s: SHOP_HTTP_ADDR %q: %v", name, env(s, "SHOP_HTTP_ADDR"), err)
		}
		ports[name] = port
		db, err := url.Parse(env(s, "SHOP_DATABASE_URL"))
		if err != nil || db.Hostname() != "postgres" || db.User.Username() != "shop_"+name {
			t.Errorf("%s: SHOP_DATABASE_URL %q: want its own role shop_%s on the postgres service", name, env(s, "SHOP_DATABASE_URL"), name)
		}
		if env(s, "SHOP_DATABASE_CREATE") != "false" {
			t.Errorf("%s: SHOP_DATABASE_CREATE must be false (the roles cannot create databases; postgres/init-databases.sh does)", name)
		}
		if got := env(s, "SHOP_KAFKA_BROKERS"); got != "redpanda:9092" {
			t.Errorf("%s: SHOP_KAFKA_BROKERS %q; want Redpanda's internal listener redpanda:9092", name, got)
		}
		if got := env(s, "SHOP_REDIS_URL"); !strings.HasPrefix(got, "redis://redis:6379/") {
			t.Errorf("%s: SHOP_REDIS_URL %q", name, got)
		}
		if got, want := env(s, "SHOP_TRUSTED_PROXIES"), gatewayIP(p); got != want {
			t.Errorf("%s: SHOP_TRUSTED_PROXIES %q; want the gateway's address %q only", name, got, want)
		}
	}
	for _, name := range services {
		if got, want := env(p.Services[name], "SHOP_JWKS_URL"), "http://identity:"+ports["identity"]+"/.well-known/jwks.json"; got != want {
			t.Errorf("%s: SHOP_JWKS_URL %q, want %q", name, got, want)
		}
		gw := "SHOP_GATEWAY_" + strings.ToUpper(name) + "_ADDR"
		if got, want := env(p.Services["gateway"], gw), name+":"+ports[name]; got != want {
			t.Errorf("gateway: %s %q, want %q", gw, got, want)
		}
	}
	if p.Services["gateway"].Build == nil || p.Services["gateway"].Build.Dockerfile != "deploy/docker/gateway.Dockerfile" {
		t.Error("gateway: not built from deploy/docker/gateway.Dockerfile")
	}
	rp := strings.Join(p.Services["redpanda"].Command, " ")
	for _, want := range []string{"--mode=dev-container", "internal://redpanda:9092", "external://localhost:19092"} {
		if !strings.Contains(rp, want) {
			t.Errorf("redpanda: command %q lacks %s", rp, want)
		}
	}
}

func gatewayIP(p *types.Project) string {
	if n := p.Services["gateway"].Networks["default"]; n != nil {
		return n.Ipv4Address
	}
	return ""
}

// The secure variant turns SASL on for every client of the broker.
func TestComposeSecureVariant(t *testing.T) {
	p := loadCompose(t, "compose.secure.yaml")
	if p.Name != "shop-secure" {
		t.Errorf("the secure variant's project is %q; want its own (shop-secure), so that it never reuses the plain broker's volume", p.Name)
	}
	for _, name := range append([]string{"identity-seed", "catalog-seed", "inventory-seed"}, services...) {
		s := p.Services[name]
		if env(s, "SHOP_BROKER_SASL_MECHANISM") != "SCRAM-SHA-512" || env(s, "SHOP_BROKER_SASL_USERNAME") != "shop" ||
			env(s, "SHOP_BROKER_SASL_PASSWORD") == "" {
			t.Errorf("%s: SASL settings %q %q (password set: %v)", name, env(s, "SHOP_BROKER_SASL_MECHANISM"),
				env(s, "SHOP_BROKER_SASL_USERNAME"), env(s, "SHOP_BROKER_SASL_PASSWORD") != "")
		}
	}
	user := env(p.Services["redpanda"], "RP_BOOTSTRAP_USER")
	if want := "shop:" + p.Environment["SHOP_BROKER_SASL_PASSWORD"] + ":SCRAM-SHA-512"; user != want {
		t.Errorf("redpanda: RP_BOOTSTRAP_USER %q, want %q", user, want)
	}
	if env(p.Services["console"], "KAFKA_SASL_ENABLED") != "true" {
		t.Error("console: SASL is off")
	}
}
