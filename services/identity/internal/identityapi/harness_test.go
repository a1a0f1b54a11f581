package identityapi_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"gorm.io/gorm"

	"github.com/shop-oss/shop/pkg/auth"
	"github.com/shop-oss/shop/pkg/event"
	"github.com/shop-oss/shop/pkg/openapitest"
	"github.com/shop-oss/shop/pkg/testkit"
	"github.com/shop-oss/shop/proto-events/eventsv1"
	"github.com/shop-oss/shop/services/identity/internal/app"
	"github.com/shop-oss/shop/services/identity/internal/keys"
)

// fixture is a running identity service on a fresh database, Redis and
// broker. It signs with a key the test holds (SHOP_IDENTITY_SIGNING_KEY_FILE),
// so tests can forge tokens with identity's own key material, and its
// SHOP_JWKS_URL points at itself, as in production.
type fixture struct {
	t      *testing.T
	stack  *testkit.Stack
	cfg    app.Config
	db     *gorm.DB
	base   string
	spec   *openapitest.Spec
	client *http.Client
	key    ed25519.PrivateKey
	kid    string
	logs   *testkit.LogBuffer
}

// start runs identity with test settings, overridden by env (an empty
// value unsets a variable).
func start(t *testing.T, env map[string]string) *fixture {
	t.Helper()
	st := testkit.NewStack(t)
	addr := fmt.Sprintf("127.0.0.1:%d", testkit.FreePort(t))
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pemBytes, err := keys.MarshalPrivateKeyPEM(priv)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "signing.pem")
	if err := os.WriteFile(keyFile, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{
		"SHOP_HTTP_ADDR":                 addr,
		"SHOP_JWKS_URL":                  "http://" + addr + "/.well-known/jwks.json",
		"SHOP_IDENTITY_BCRYPT_COST":      "4",
		"SHOP_IDENTITY_SIGNING_KEY_FILE": keyFile,
		"SHOP_IDENTITY_LOGIN_SLOWDOWN":   "0s",
		// The per-client limits get a test of their own; elsewhere every
		// call comes from 127.0.0.1.
		"SHOP_IDENTITY_LOGIN_PER_MINUTE":    "1000",
		"SHOP_IDENTITY_REGISTER_PER_MINUTE": "1000",
		"SHOP_IDENTITY_SESSION_PER_MINUTE":  "1000",
		// The test client stands for the gateway, which sets
		// X-Forwarded-For: tests name their clients' addresses that way.
		"SHOP_TRUSTED_PROXIES": "127.0.0.1",
	}
	for k, v := range env {
		vars[k] = v
	}
	var cfg app.Config
	st.Config(t, "identity", &cfg, vars)
	logs := &testkit.LogBuffer{}
	svc, err := app.New(context.Background(), cfg, app.Options{LogOutput: io.MultiWriter(logs, testkit.LogOutput(t))})
	if err != nil {
		t.Fatalf("app.New: %v", err)
	}
	base := testkit.Run(t, svc)
	spec := openapitest.Load(t, "../../api/openapi.yaml")
	return &fixture{t: t, stack: st, cfg: cfg, db: svc.DB, base: base, spec: spec, client: spec.Client(t),
		key: priv, kid: keys.Thumbprint(priv.Public().(ed25519.PublicKey)), logs: logs}
}

// response is an answer, decoded.
type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

// str returns a string field of the body.
func (r response) str(field string) string {
	s, _ := r.body[field].(string)
	return s
}

// problemType is the slug of a problem answer.
func (r response) problemType() string {
	return strings.TrimPrefix(r.str("type"), "urn:shop:problem:")
}

// fields returns the field names of a validation problem.
func (r response) fields() map[string]string {
	out := map[string]string{}
	errs, _ := r.body["errors"].([]any)
	for _, e := range errs {
		m, _ := e.(map[string]any)
		f, _ := m["field"].(string)
		msg, _ := m["message"].(string)
		out[f] = msg
	}
	return out
}

// request is one call; headers are name, value pairs.
type request struct {
	method, path, token string
	body                any
	headers             []string
}

// do makes the call through the spec-validating client.
func (f *fixture) do(r request) response {
	f.t.Helper()
	req := testkit.JSONRequest(f.t, r.method, f.base+r.path, r.token, r.body, r.headers...)
	res, err := f.client.Do(req)
	if err != nil {
		f.t.Fatalf("%s %s: %v", r.method, r.path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := response{status: res.StatusCode, header: res.Header, raw: string(raw)}
	_ = json.Unmarshal(raw, &out.body)
	return out
}

func (f *fixture) post(path, token string, body any, headers ...string) response {
	f.t.Helper()
	return f.do(request{method: http.MethodPost, path: path, token: token, body: body, headers: headers})
}

func (f *fixture) get(path, token string) response {
	f.t.Helper()
	return f.do(request{method: http.MethodGet, path: path, token: token})
}

func (f *fixture) patch(path, token string, body any) response {
	f.t.Helper()
	return f.do(request{method: http.MethodPatch, path: path, token: token, body: body})
}

// expect fails the test unless r has status (and, for problems, slug).
func expect(t *testing.T, what string, r response, status int, slug ...string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: status %d, want %d; body %s", what, r.status, status, r.raw)
	}
	if len(slug) > 0 && r.problemType() != slug[0] {
		t.Fatalf("%s: problem %q, want %q; body %s", what, r.problemType(), slug[0], r.raw)
	}
}

// account is a registered user with its current tokens.
type account struct {
	id, email, password string
	access, refresh     string
}

// register creates an account with role ("" for the default) and logs in.
func (f *fixture) register(name, role string) account {
	f.t.Helper()
	a := account{email: name + "@example.com", password: "pass-" + name + "-0123456789"}
	body := map[string]any{"email": a.email, "password": a.password, "display_name": name}
	if role != "" {
		body["role"] = role
	}
	r := f.post("/api/v1/auth/register", "", body)
	expect(f.t, "register "+name, r, http.StatusCreated)
	a.id = r.str("id")
	return f.login(a)
}

// login logs a in and keeps the tokens.
func (f *fixture) login(a account) account {
	f.t.Helper()
	r := f.post("/api/v1/auth/login", "", map[string]any{"email": a.email, "password": a.password})
	expect(f.t, "login "+a.email, r, http.StatusOK)
	a.access, a.refresh = r.str("access_token"), r.str("refresh_token")
	return a
}

// verifier is a pkg/auth verifier of identity's JWKS, as another service
// has, without the token cache and with a short refresh interval.
func (f *fixture) verifier() *auth.Verifier {
	f.t.Helper()
	v, err := auth.NewVerifier(context.Background(), auth.Config{JWKSURL: f.base + "/.well-known/jwks.json",
		MinRefreshInterval: 10 * time.Millisecond, CacheSize: -1}, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(v.Close)
	return v
}

// count runs a count query.
func (f *fixture) count(query string, args ...any) int64 {
	f.t.Helper()
	var n int64
	if err := f.db.Raw(query, args...).Scan(&n).Error; err != nil {
		f.t.Fatal(err)
	}
	return n
}

// events reads identity.events from the start until want events have
// arrived, then briefly for more.
func (f *fixture) events(want int) []event.Event {
	f.t.Helper()
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers: []string{f.stack.Broker.Addr()}, GroupID: fmt.Sprintf("test-%d", time.Now().UnixNano()),
		Topic: eventsv1.TopicIdentity, StartOffset: kafka.FirstOffset, MaxWait: 100 * time.Millisecond,
		HeartbeatInterval: time.Second,
	})
	defer r.Close()
	var out []event.Event
	read := func(timeout time.Duration) error {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		m, err := r.FetchMessage(ctx)
		if err != nil {
			return err
		}
		e, err := event.FromMessage(m)
		if err != nil {
			f.t.Fatalf("malformed event on %s: %v", eventsv1.TopicIdentity, err)
		}
		out = append(out, e)
		return nil
	}
	deadline := time.Now().Add(20 * time.Second)
	for len(out) < want {
		if err := read(time.Until(deadline)); err != nil {
			f.t.Fatalf("read %s: %d of %d events: %v", eventsv1.TopicIdentity, len(out), want, err)
		}
	}
	for read(500*time.Millisecond) == nil {
	}
	return out
}

// refusals runs, as subtests named for their status, the refusals every
// administrator's action on a user shares: a malformed user ID (400), an
// unknown user (404), the administrator acting on themselves (409) and a
// customer acting (403). send sends the action on the user with the ID.
func refusals(t *testing.T, f *fixture, admin account, action string, send func(id, token string) response) {
	t.Helper()
	t.Run(action+"400", func(t *testing.T) {
		expect(t, "bad id", send("nope", admin.access), http.StatusBadRequest, "validation")
	})
	t.Run(action+"404", func(t *testing.T) {
		expect(t, "unknown", send("0190f3c4-8a7e-7b1c-9d2e-3f4a5b6c7d8e", admin.access), http.StatusNotFound, "user-not-found")
	})
	t.Run(action+"409", func(t *testing.T) {
		expect(t, "self", send(admin.id, admin.access), http.StatusConflict, "self-modification")
	})
	t.Run(action+"403", func(t *testing.T) {
		c := f.register(action+"-customer", "")
		expect(t, "customer", send(admin.id, c.access), http.StatusForbidden, "forbidden")
	})
}
