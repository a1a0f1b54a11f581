package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/shop-oss/shop/pkg/config"
	"github.com/shop-oss/shop/scripts/internal/gateway"
	"github.com/shop-oss/shop/scripts/internal/procstack"
)

// root is the repository; binDir holds the service binaries, built once
// per test run.
var root, binDir string

func TestMain(m *testing.M) {
	var err error
	if root, err = procstack.RepoRoot(); err == nil {
		binDir, err = os.MkdirTemp("", "shop-gateway-bin-")
	}
	if err == nil {
		err = procstack.Build(root, binDir)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(binDir)
	os.Exit(code)
}

// newStack starts the five services with the gateway in front (gw's Root,
// Dir and Upstreams are filled in); env adds settings per service.
func newStack(t *testing.T, gw gateway.Options, env map[string]map[string]string) *procstack.Stack {
	t.Helper()
	if env == nil {
		env = map[string]map[string]string{}
	}
	if env["identity"] == nil {
		env["identity"] = map[string]string{}
	}
	env["identity"]["SHOP_IDENTITY_BCRYPT_COST"] = "4"
	gw.Root = root
	st, err := procstack.Start(context.Background(), procstack.Options{BinDir: binDir, WorkDir: t.TempDir(), Env: env, Gateway: &gw})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, name := range append(config.ServiceNames, "gateway") {
				t.Logf("--- %s log (last lines):\n%s", name, st.Tail(name, 20))
			}
		}
		if err := st.Close(); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return st
}

// extraGateway starts another gateway in front of st's services, with its
// own settings (env: SHOP_GATEWAY_* variables).
func extraGateway(t *testing.T, st *procstack.Stack, opts gateway.Options) *gateway.Gateway {
	t.Helper()
	opts.Root, opts.Dir = root, t.TempDir()
	opts.Upstreams = map[string]string{}
	for _, name := range config.ServiceNames {
		opts.Upstreams[name] = strings.TrimPrefix(st.URL(name), "http://")
	}
	g, err := gateway.Start(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := g.Stop(); err != nil {
			t.Errorf("gateway: %v", err)
		}
	})
	return g
}

// reply is an HTTP answer.
type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) json(t *testing.T) map[string]any {
	t.Helper()
	out := map[string]any{}
	if err := json.Unmarshal(r.body, &out); err != nil {
		t.Fatalf("not a JSON object (%d): %s", r.status, r.body)
	}
	return out
}

func (r reply) str(t *testing.T, field string) string {
	t.Helper()
	s, _ := r.json(t)[field].(string)
	return s
}

var client = &http.Client{
	Timeout:       30 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// do makes a request; body is JSON unless it is a string or []byte;
// headers come in name, value pairs.
func do(t *testing.T, method, url, token string, body any, headers ...string) reply {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] != "" { // "": not sent
			req.Header.Set(headers[i], headers[i+1])
		}
	}
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: read: %v", method, url, err)
	}
	return reply{status: res.StatusCode, header: res.Header, body: raw}
}

// expectProblem fails the test unless r is an application/problem+json
// answer with status and the problem type urn:shop:problem:<slug>.
func expectProblem(t *testing.T, what string, r reply, status int, slug string) {
	t.Helper()
	if r.status != status || r.header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("%s: %d %s, want %d application/problem+json: %s", what, r.status, r.header.Get("Content-Type"), status, r.body)
	}
	var p struct {
		Type      string `json:"type"`
		Status    int    `json:"status"`
		RequestID string `json:"request_id"`
	}
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatalf("%s: the problem is not JSON: %s", what, r.body)
	}
	if p.Type != "urn:shop:problem:"+slug || p.Status != status || p.RequestID != r.header.Get("X-Request-ID") {
		t.Fatalf("%s: problem %+v, want type %s, status %d, request_id %q", what, p, slug, status, r.header.Get("X-Request-ID"))
	}
}

// newID is a request ID that no other request has.
func newID(what string) string { return "test-" + what + "-" + uuid.NewString() }

// logLine waits until a line of the file contains every one of parts and
// returns it (a service writes its access line after its answer is sent, and
// nginx right after).
func logLine(t *testing.T, path string, parts ...string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if line, ok := findLine(path, parts...); ok {
			return line
		}
		if time.Now().After(deadline) {
			t.Fatalf("no line with %q in %s; last lines:\n%s", parts, filepath.Base(path), gateway.Tail(path, 10))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// hasLine reports whether a line of the file holds every one of parts now.
func hasLine(t *testing.T, path string, parts ...string) bool {
	t.Helper()
	_, ok := findLine(path, parts...)
	return ok
}

func findLine(path string, parts ...string) (string, bool) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", false
	}
lines:
	for _, line := range strings.Split(string(data), "\n") {
		for _, p := range parts {
			if !strings.Contains(line, p) {
				continue lines
			}
		}
		return line, true
	}
	return "", false
}

// accessEntry is the gateway's access log line of a request ID, decoded.
func accessEntry(t *testing.T, g *gateway.Gateway, requestID string) map[string]any {
	t.Helper()
	line := logLine(t, g.AccessLog, `"request_id":"`+requestID+`"`)
	out := map[string]any{}
	if err := json.Unmarshal([]byte(line), &out); err != nil {
		t.Fatalf("access log line is not JSON: %v\n%s", err, line)
	}
	return out
}

// login returns an access token, logging in through base.
func login(t *testing.T, base, email, password string) string {
	t.Helper()
	r := do(t, "POST", base+"/api/v1/auth/login", "", map[string]string{"email": email, "password": password})
	if r.status != http.StatusOK {
		t.Fatalf("login %s: %d %s", email, r.status, r.body)
	}
	return r.str(t, "access_token")
}
