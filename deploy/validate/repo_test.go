package validate

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
)

// services are the five services, each with its image, Deployment and
// compose service of the same name.
var services = []string{"identity", "catalog", "inventory", "order", "payment"}

// root is the repository's root (this package is deploy/validate).
func root(t testing.TB) string {
	t.Helper()
	dir, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "go.work")); err != nil {
		t.Fatalf("repository root not found from %s: %v", dir, err)
	}
	return dir
}

func path(t testing.TB, rel string) string { return filepath.Join(root(t), rel) }

// testVersion is what the test stamps into the binaries it builds.
const testVersion = "0.0.0-validate"

var built struct {
	once sync.Once
	dir  string
	err  error
	log  []byte
}

// binaries builds every service with deploy/docker/gobuild.sh, the script
// the Dockerfile runs (so with exactly its flags), once per test run, and
// returns the directory that holds them.
func binaries(t testing.TB) string {
	t.Helper()
	built.once.Do(func() {
		built.dir, built.err = os.MkdirTemp("", "shop-validate-bin-")
		if built.err != nil {
			return
		}
		for _, s := range services {
			cmd := exec.Command(path(t, "deploy/docker/gobuild.sh"), s, filepath.Join(built.dir, s))
			cmd.Env = append(os.Environ(), "VERSION="+testVersion, "REVISION=validate-revision")
			out, err := cmd.CombinedOutput()
			if err != nil {
				built.err, built.log = err, append(built.log, out...)
				return
			}
		}
	})
	if built.err != nil {
		t.Fatalf("deploy/docker/gobuild.sh (the images' build) failed: %v\n%s", built.err, built.log)
	}
	return built.dir
}

// settingsRead returns the SHOP_* settings a service reads, as its binary
// lists them (`<service> settings`, from its config struct).
func settingsRead(t testing.TB, service string) map[string]string {
	t.Helper()
	out, err := exec.Command(filepath.Join(binaries(t), service), "settings").Output()
	if err != nil {
		t.Fatalf("%s settings: %v", service, err)
	}
	settings := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		name, def, ok := strings.Cut(sc.Text(), "=")
		if !ok || !strings.HasPrefix(name, "SHOP_") {
			t.Fatalf("%s settings: unexpected line %q", service, sc.Text())
		}
		settings[name] = def
	}
	if len(settings) < 20 {
		t.Fatalf("%s settings: only %d settings listed:\n%s", service, len(settings), out)
	}
	return settings
}

// gatewaySettings returns the SHOP_GATEWAY_* settings the gateway's
// renderer reads: each has a default line `: "${SHOP_GATEWAY_X:=...}"`.
func gatewaySettings(t testing.TB) map[string]string {
	t.Helper()
	src, err := os.ReadFile(path(t, "deploy/gateway/render.sh"))
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`(?m)^: "\$\{(SHOP_GATEWAY_[A-Z0-9_]+):=([^}]*)\}"$`)
	settings := map[string]string{}
	for _, m := range re.FindAllStringSubmatch(string(src), -1) {
		settings[m[1]] = m[2]
	}
	if len(settings) < 10 {
		t.Fatalf("deploy/gateway/render.sh: found only %d SHOP_GATEWAY_* defaults", len(settings))
	}
	return settings
}

// missingAndExtra compares the settings a program reads with the ones a
// deployment provides.
func missingAndExtra(read map[string]string, provided map[string]bool) (missing, extra []string) {
	for name := range read {
		if !provided[name] {
			missing = append(missing, name)
		}
	}
	for name := range provided {
		if _, ok := read[name]; !ok {
			extra = append(extra, name)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	return missing, extra
}
