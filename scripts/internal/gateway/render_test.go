package gateway_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// render runs deploy/gateway/render.sh with env (and valid app roots unless
// env names them) and returns the configuration, or its output on failure.
func render(t *testing.T, env map[string]string) (string, error) {
	t.Helper()
	dir := t.TempDir()
	ph := filepath.Join(root, "deploy/gateway/placeholder")
	vars := map[string]string{
		"SHOP_GATEWAY_STOREFRONT_ROOT": filepath.Join(ph, "storefront"),
		"SHOP_GATEWAY_ADMIN_ROOT":      filepath.Join(ph, "admin"),
		"SHOP_GATEWAY_DOCS_ROOT":       filepath.Join(ph, "storefront"), // any directory with an index.html
		"SHOP_GATEWAY_STATE_DIR":       filepath.Join(dir, "state"),
	}
	for k, v := range env {
		vars[k] = v
	}
	cmd := exec.Command(filepath.Join(root, "deploy/gateway/render.sh"), filepath.Join(dir, "conf"))
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	for k, v := range vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), err
	}
	conf, err := os.ReadFile(filepath.Join(dir, "conf", "nginx.conf"))
	if err != nil {
		t.Fatal(err)
	}
	if test, err := exec.Command("nginx", "-t", "-q", "-e", "/dev/stderr", "-p", vars["SHOP_GATEWAY_STATE_DIR"],
		"-c", filepath.Join(dir, "conf", "nginx.conf")).CombinedOutput(); err != nil {
		t.Fatalf("nginx -t of the rendered configuration: %v\n%s", err, test)
	}
	return string(conf), nil
}

// Every placeholder is filled, nginx's own variables are left alone, and
// the defaults are the contract's (gateway on 8080, services on
// 8081-8085, edge authentication on).
func TestRenderFillsEveryPlaceholder(t *testing.T) {
	conf, err := render(t, map[string]string{"SHOP_GATEWAY_TRUSTED_NETWORKS": "10.0.0.0/8, 192.0.2.1"})
	if err != nil {
		t.Fatalf("render: %v\n%s", err, conf)
	}
	if strings.Contains(conf, "${") {
		i := strings.Index(conf, "${")
		t.Errorf("a placeholder is left: %q", conf[i:min(len(conf), i+60)])
	}
	for _, want := range []string{
		"listen 8080 default_server;", "server 127.0.0.1:8081;", "server 127.0.0.1:8085;",
		"auth_request /_shop/auth;", "set_real_ip_from 10.0.0.0/8;", "set_real_ip_from 192.0.2.1;",
		"$remote_addr", "$shop_request_id", "proxy_bind off;",
	} {
		if !strings.Contains(conf, want) {
			t.Errorf("the configuration lacks %q", want)
		}
	}
	off, err := render(t, map[string]string{"SHOP_GATEWAY_EDGE_AUTH": "off"})
	if err != nil || strings.Contains(off, "auth_request /_shop/auth;") || !strings.Contains(off, "auth_request off;") {
		t.Errorf("SHOP_GATEWAY_EDGE_AUTH=off: %v, edge authentication still on", err)
	}
}

// A bad value stops the renderer with a message naming the variable.
func TestRenderRefusesBadValues(t *testing.T) {
	for name, value := range map[string]string{
		"SHOP_GATEWAY_EDGE_AUTH":        "maybe",
		"SHOP_GATEWAY_CATALOG_ADDR":     "catalog",
		"SHOP_GATEWAY_LISTEN":           "localhost",
		"SHOP_GATEWAY_API_RATE":         "fast",
		"SHOP_GATEWAY_AUTH_BURST":       "0",
		"SHOP_GATEWAY_READ_TIMEOUT":     "a minute",
		"SHOP_GATEWAY_TRUSTED_NETWORKS": "lb.example",
		"SHOP_GATEWAY_PROXY_BIND":       "gateway;",
		"SHOP_GATEWAY_STOREFRONT_ROOT":  "/nonexistent",
		"SHOP_GATEWAY_BODY_LIMIT":       "1 MB",
	} {
		out, err := render(t, map[string]string{name: value})
		if err == nil || !strings.Contains(out, name) {
			t.Errorf("%s=%q: %v %q, want a failure naming it", name, value, err, out)
		}
	}
}
