package validate

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// The SHOP_GATEWAY_* values compose and the chart give the gateway pass its
// renderer's checks (deploy/gateway/render.sh, which the image runs at
// start), and name the paths the gateway image has.
func TestGatewaySettingsRender(t *testing.T) {
	sets := map[string]map[string]string{}
	compose := loadCompose(t)
	sets["compose"] = composeEnv(compose.Services["gateway"].Environment)
	for _, vs := range valueSets[:2] {
		r := render(t, vs.args...)
		sets["chart, "+vs.name+" values"] = configOf(t, r, r.deployments[name("gateway")])
	}
	image := imagePaths(t)
	for where, env := range sets {
		t.Run(where, func(t *testing.T) {
			for _, k := range []string{"SHOP_GATEWAY_STOREFRONT_ROOT", "SHOP_GATEWAY_ADMIN_ROOT", "SHOP_GATEWAY_DOCS_ROOT", "SHOP_GATEWAY_STATE_DIR"} {
				if !image[env[k]] {
					t.Errorf("%s=%q is not a directory the gateway image has or writes (%v)", k, env[k], keys(image))
				}
			}
			if env["SHOP_GATEWAY_LISTEN"] != "8080" {
				t.Errorf("SHOP_GATEWAY_LISTEN=%q; the image exposes 8080 and runs unprivileged", env["SHOP_GATEWAY_LISTEN"])
			}
			// Render here: the apps' roots stand in as the placeholders,
			// the njs module as an empty file, the state under a temp dir.
			tmp := t.TempDir()
			njs := filepath.Join(tmp, "ngx_http_js_module.so")
			if err := os.WriteFile(njs, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			local := map[string]string{
				"SHOP_GATEWAY_STOREFRONT_ROOT": path(t, "deploy/gateway/placeholder/storefront"),
				"SHOP_GATEWAY_ADMIN_ROOT":      path(t, "deploy/gateway/placeholder/admin"),
				"SHOP_GATEWAY_DOCS_ROOT":       path(t, "deploy/gateway/placeholder/storefront"),
				"SHOP_GATEWAY_NJS_MODULE":      njs,
				"SHOP_GATEWAY_STATE_DIR":       filepath.Join(tmp, "state"),
			}
			cmd := exec.Command(path(t, "deploy/gateway/render.sh"), filepath.Join(tmp, "conf"))
			cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
			for k, v := range env {
				if l, ok := local[k]; ok {
					v = l
				}
				cmd.Env = append(cmd.Env, k+"="+v)
			}
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("render.sh refuses these settings: %v\n%s", err, out)
			}
			conf, err := os.ReadFile(filepath.Join(tmp, "conf", "nginx.conf"))
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(conf), "${SHOP_GATEWAY_") {
				t.Error("the rendered configuration still has placeholders")
			}
		})
	}
}

// imagePaths are the directories the gateway image has (its COPY
// destinations) and the state directory its ENV names.
func imagePaths(t *testing.T) map[string]bool {
	t.Helper()
	df := parseDockerfile(t, "deploy/docker/gateway.Dockerfile")
	final := df.stages[len(df.stages)-1]
	paths := map[string]bool{}
	for _, c := range commands[*instructions.CopyCommand](final) {
		paths[strings.TrimSuffix(c.DestPath, "/")] = true
	}
	for _, e := range commands[*instructions.EnvCommand](final) {
		for _, kv := range e.Env {
			if kv.Key == "SHOP_GATEWAY_STATE_DIR" {
				paths[kv.Value] = true
			}
		}
	}
	return paths
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
