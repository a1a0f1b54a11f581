package gateway_test

import (
	"bytes"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/shop-oss/shop/pkg/config"
	"github.com/shop-oss/shop/scripts/internal/gateway"
)

// apps writes a storefront and an admin build the way Vite lays them out:
// index.html and hashed assets.
func apps(t *testing.T) (storefront, admin string) {
	t.Helper()
	dir := t.TempDir()
	storefront, admin = filepath.Join(dir, "storefront"), filepath.Join(dir, "admin")
	files := map[string]string{
		"storefront/index.html":            "<!doctype html><title>test storefront</title>",
		"storefront/assets/app-1a2b3c.js":  strings.Repeat("console.log('storefront');\n", 100),
		"storefront/favicon.svg":           "<svg xmlns='http://www.w3.org/2000/svg'/>",
		"admin/index.html":                 "<!doctype html><title>test admin</title>",
		"admin/assets/admin-9f8e7d.js":     "console.log('admin');",
		"admin/assets/admin-9f8e7d.css":    "body{}",
		"storefront/assets/style-44aa.css": "body{}",
	}
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return storefront, admin
}

// TestGateway runs the whole shop behind the gateway, as `make up` does,
// and checks each promise of the gateway against the real services.
func TestGateway(t *testing.T) {
	storefront, admin := apps(t)
	st := newStack(t, gateway.Options{StorefrontRoot: storefront, AdminRoot: admin,
		// Long enough that the cache test below cannot see an expiry.
		Env: map[string]string{"SHOP_GATEWAY_AUTH_CACHE_TTL": "1h"}}, nil)
	if err := st.Seed(); err != nil {
		t.Fatal(err)
	}
	g := st.Gateway
	base := g.URL
	customer := login(t, base, "customer@shop.local", "customer-demo-pass")
	seller := login(t, base, "seller@shop.local", "seller-demo-pass")
	adminToken := login(t, base, "admin@shop.local", "admin-demo-pass")
	customerID := do(t, "GET", base+"/api/v1/users/me", customer, nil).str(t, "id")
	products := do(t, "GET", base+"/api/v1/products", "", nil).json(t)["items"].([]any)
	if len(products) == 0 {
		t.Fatal("the demo catalog is empty")
	}
	product := products[0].(map[string]any)["id"].(string)
	addr := func(name string) string { return strings.TrimPrefix(st.URL(name), "http://") }

	t.Run("each prefix reaches its service", func(t *testing.T) {
		routes := []struct {
			method, path, token, service string
			body                         any
		}{
			{"POST", "/api/v1/auth/login", "", "identity", map[string]string{"email": "nobody@shop.local", "password": "not the password"}},
			{"GET", "/api/v1/users/me", customer, "identity", nil},
			{"GET", "/api/v1/me", customer, "identity", nil},
			{"GET", "/.well-known/jwks.json", "", "identity", nil},
			// (with a token: an anonymous read may come from the micro-cache)
			{"GET", "/api/v1/products", customer, "catalog", nil},
			{"GET", "/api/v1/products/" + product, customer, "catalog", nil},
			{"GET", "/api/v1/products/" + product + "/prices", seller, "catalog", nil},
			{"GET", "/api/v1/categories", customer, "catalog", nil},
			{"GET", "/api/v1/inventory/" + product, "", "inventory", nil},
			{"GET", "/api/v1/inventory", adminToken, "inventory", nil},
			{"GET", "/api/v1/orders/user/" + customerID, customer, "order", nil},
			{"GET", "/api/v1/orders/" + uuid.NewString() + "/timeline", customer, "order", nil},
			{"GET", "/api/v1/payments?orderId=" + uuid.NewString(), customer, "payment", nil},
		}
		for _, s := range config.ServiceNames {
			routes = append(routes, struct {
				method, path, token, service string
				body                         any
			}{"GET", "/api/v1/admin/dlq/" + s, adminToken, s, nil})
		}
		for _, rt := range routes {
			id := newID("route")
			r := do(t, rt.method, base+rt.path, rt.token, rt.body, "X-Request-ID", id)
			if r.status >= 500 {
				t.Errorf("%s %s: %d %s", rt.method, rt.path, r.status, r.body)
				continue
			}
			if got := accessEntry(t, g, id)["upstream"]; got != addr(rt.service) {
				t.Errorf("%s %s went to %v, want %s at %s", rt.method, rt.path, got, rt.service, addr(rt.service))
			}
			logLine(t, st.LogPath(rt.service), `"request_id":"`+id+`"`, `"msg":"http request"`)
		}
	})

	t.Run("nginx's own errors under /api/ are problems", func(t *testing.T) {
		expectProblem(t, "unknown API route", do(t, "GET", base+"/api/v1/shipments", "", nil), 404, "route-not-found")
		expectProblem(t, "unknown version", do(t, "GET", base+"/api/v2/products", "", nil), 404, "route-not-found")
		// identity's token check is for the gateway only
		expectProblem(t, "internal route", do(t, "GET", base+"/internal/auth/check", customer, nil), 404, "route-not-found")
		big := bytes.Repeat([]byte("x"), 2<<20)
		for _, path := range []string{"/api/v1/orders", "/api/v1/auth/login", "/api/v1/products"} {
			id := newID("big")
			expectProblem(t, "2 MiB to "+path, do(t, "POST", base+path, customer, big, "X-Request-ID", id), 413, "body-too-large")
			if up := accessEntry(t, g, id)["upstream"]; up != "" {
				t.Errorf("2 MiB to %s reached %v", path, up)
			}
		}
	})

	t.Run("SPA fallback and caching of the apps", func(t *testing.T) {
		for _, c := range []struct{ path, want, cache string }{
			{"/", "test storefront", "no-cache"},
			{"/orders/01a2-deep-link", "test storefront", "no-cache"},
			{"/products/x?sort=price", "test storefront", "no-cache"},
			{"/admin/", "test admin", "no-cache"},
			{"/admin/orders/42/timeline", "test admin", "no-cache"},
			{"/assets/app-1a2b3c.js", "console.log('storefront')", "public, max-age=31536000, immutable"},
			{"/admin/assets/admin-9f8e7d.js", "console.log('admin')", "public, max-age=31536000, immutable"},
			{"/favicon.svg", "<svg", "no-cache"},
		} {
			r := do(t, "GET", base+c.path, "", nil)
			if r.status != 200 || !strings.Contains(string(r.body), c.want) || r.header.Get("Cache-Control") != c.cache {
				t.Errorf("%s: %d, Cache-Control %q, body %.60s; want %q and %q", c.path, r.status, r.header.Get("Cache-Control"), r.body, c.want, c.cache)
			}
		}
		if r := do(t, "GET", base+"/admin", "", nil); r.status != http.StatusMovedPermanently || r.header.Get("Location") != "/admin/" {
			t.Errorf("/admin: %d Location %q", r.status, r.header.Get("Location"))
		}
		// A missing asset is a 404, not the app's page with a 200.
		for _, path := range []string{"/assets/app-000000.js", "/admin/assets/gone.css"} {
			if r := do(t, "GET", base+path, "", nil); r.status != 404 {
				t.Errorf("%s: %d, want 404", path, r.status)
			}
		}
		r := do(t, "GET", base+"/assets/app-1a2b3c.js", "", nil, "Accept-Encoding", "gzip")
		if r.header.Get("Content-Encoding") != "gzip" || r.header.Get("Content-Type") != "application/javascript; charset=utf-8" {
			t.Errorf("a script: Content-Encoding %q, Content-Type %q", r.header.Get("Content-Encoding"), r.header.Get("Content-Type"))
		}
	})

	t.Run("/docs/ loads and lists the five services' documents", func(t *testing.T) {
		if r := do(t, "GET", base+"/docs", "", nil); r.status != http.StatusMovedPermanently || r.header.Get("Location") != "/docs/" {
			t.Errorf("/docs: %d Location %q", r.status, r.header.Get("Location"))
		}
		page := do(t, "GET", base+"/docs/", "", nil)
		if page.status != 200 || !strings.Contains(string(page.body), `id="swagger-ui"`) {
			t.Fatalf("/docs/: %d %.200s", page.status, page.body)
		}
		for _, script := range regexp.MustCompile(`(?:src|href)="\.?/?([a-z0-9.-]+\.(?:js|css))"`).FindAllStringSubmatch(string(page.body), -1) {
			if r := do(t, "GET", base+"/docs/"+script[1], "", nil); r.status != 200 || len(r.body) == 0 {
				t.Errorf("/docs/%s: %d", script[1], r.status)
			}
		}
		init := string(do(t, "GET", base+"/docs/swagger-initializer.js", "", nil).body)
		listed := regexp.MustCompile(`url: "specs/([a-z]+)\.yaml"`).FindAllStringSubmatch(init, -1)
		if len(listed) != len(config.ServiceNames) {
			t.Fatalf("the initializer lists %d documents, want %d:\n%s", len(listed), len(config.ServiceNames), init)
		}
		for i, s := range config.ServiceNames {
			if listed[i][1] != s {
				t.Errorf("document %d is %s, want %s", i, listed[i][1], s)
			}
			want, err := os.ReadFile(filepath.Join(root, "services", s, "api", "openapi.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			if r := do(t, "GET", base+"/docs/specs/"+s+".yaml", "", nil); r.status != 200 || !bytes.Equal(r.body, want) {
				t.Errorf("/docs/specs/%s.yaml: %d, %d bytes, want the %d of services/%s/api/openapi.yaml", s, r.status, len(r.body), len(want), s)
			}
		}
	})

	t.Run("security headers", func(t *testing.T) {
		for _, path := range []string{"/", "/admin/", "/docs/", "/api/v1/products", "/api/v1/nowhere", "/assets/app-1a2b3c.js"} {
			r := do(t, "GET", base+path, "", nil)
			for name, want := range map[string]string{
				"X-Content-Type-Options": "nosniff",
				"Referrer-Policy":        "strict-origin-when-cross-origin",
				"X-Frame-Options":        "DENY",
			} {
				if got := r.header.Get(name); got != want {
					t.Errorf("%s: %s %q, want %q", path, name, got, want)
				}
			}
			csp := r.header.Get("Content-Security-Policy")
			if !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "unsafe-eval") {
				t.Errorf("%s: CSP %q", path, csp)
			}
			if r.header.Get("Strict-Transport-Security") != "" {
				t.Errorf("%s: HSTS sent without SHOP_GATEWAY_HSTS", path)
			}
		}
		if csp := do(t, "GET", base+"/", "", nil).header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") ||
			!strings.Contains(csp, "connect-src 'self'") || strings.Contains(csp, "unsafe-inline") {
			t.Errorf("the apps' CSP %q: scripts and requests to this origin only, nothing inline", csp)
		}
		hsts := extraGateway(t, st, gateway.Options{Env: map[string]string{"SHOP_GATEWAY_HSTS": "max-age=31536000; includeSubDomains"}})
		if got := do(t, "GET", hsts.URL+"/", "", nil).header.Get("Strict-Transport-Security"); got != "max-age=31536000; includeSubDomains" {
			t.Errorf("with SHOP_GATEWAY_HSTS: Strict-Transport-Security %q", got)
		}
	})

	t.Run("a request ID reaches the service's log and comes back", func(t *testing.T) {
		id := newID("rid")
		r := do(t, "GET", base+"/api/v1/products/"+product, "", nil, "X-Request-ID", id)
		if r.header.Get("X-Request-ID") != id {
			t.Errorf("X-Request-ID %q, want the client's %q", r.header.Get("X-Request-ID"), id)
		}
		logLine(t, st.LogPath("catalog"), `"request_id":"`+id+`"`)
		accessEntry(t, g, id)

		// None, or a malformed one: the gateway makes one, and the service
		// logs that.
		for _, sent := range []string{"", "two words", strings.Repeat("x", 200)} {
			r := do(t, "GET", base+"/api/v1/inventory/"+product, "", nil, "X-Request-ID", sent)
			got := r.header.Get("X-Request-ID")
			if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(got) {
				t.Errorf("sent %q: X-Request-ID %q, want nginx's own", sent, got)
				continue
			}
			logLine(t, st.LogPath("inventory"), `"request_id":"`+got+`"`)
			if e := accessEntry(t, g, got); e["upstream"] != addr("inventory") || e["upstream_response_time"] == "" {
				t.Errorf("access log line %v: want the upstream and its timings", e)
			}
		}
	})

	t.Run("edge authentication", func(t *testing.T) {
		order := "/api/v1/orders/" + uuid.NewString()
		var refused []string
		for _, c := range []struct{ what, header, slug, challenge string }{
			{"no token", "", "unauthorized", "Bearer"},
			{"a malformed token", "Bearer not-a-token", "unauthorized", `Bearer error="invalid_token"`},
			{"a forged token", "Bearer " + forge(customer), "unauthorized", `Bearer error="invalid_token"`},
			{"another scheme", "Basic YWRtaW46YWRtaW4=", "unauthorized", "Bearer"},
		} {
			id := newID("edge")
			r := do(t, "GET", base+order, "", nil, "Authorization", c.header, "X-Request-ID", id)
			expectProblem(t, c.what, r, 401, c.slug)
			if got := r.header.Values("WWW-Authenticate"); len(got) != 1 || got[0] != c.challenge {
				t.Errorf("%s: WWW-Authenticate %q, want [%q]", c.what, got, c.challenge)
			}
			if e := accessEntry(t, g, id); e["upstream"] != "" {
				t.Errorf("%s: nginx passed it to %v", c.what, e["upstream"])
			}
			refused = append(refused, id)
		}
		// A write to a public-read route needs a token too.
		id := newID("edge-write")
		expectProblem(t, "anonymous POST /products", do(t, "POST", base+"/api/v1/products", "", map[string]any{"name": "x"}, "X-Request-ID", id), 401, "unauthorized")
		refused = append(refused, id)

		// A good token passes, and its check is remembered: the second
		// request is not asked about again. (A new token: the customer's
		// is remembered already.)
		fresh := login(t, base, "customer@shop.local", "customer-demo-pass")
		first, second := newID("edge-ok"), newID("edge-ok-again")
		for _, id := range []string{first, second} {
			if r := do(t, "GET", base+order, fresh, nil, "X-Request-ID", id); r.status != 404 {
				t.Errorf("a good token: %d %s, want the order service's 404", r.status, r.body)
			}
			logLine(t, st.LogPath("order"), `"request_id":"`+id+`"`)
		}
		logLine(t, st.LogPath("identity"), `"request_id":"`+first+`"`, `"route":"/internal/auth/check"`)
		if hasLine(t, st.LogPath("identity"), `"request_id":"`+second+`"`) {
			t.Error("the second request with the same token was checked again")
		}
		// The order service has logged the good requests, sent after the
		// refused ones: none of those reached it.
		for _, id := range refused {
			if hasLine(t, st.LogPath("order"), id) || hasLine(t, st.LogPath("catalog"), id) {
				t.Errorf("refused request %s reached a service", id)
			}
		}
		// The edge's cache holds no token.
		files := 0
		err := filepath.WalkDir(filepath.Join(g.StateDir(), "cache", "auth"), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			files++
			data, err := os.ReadFile(path)
			if err == nil && (bytes.Contains(data, []byte(customer)) || bytes.Contains(data, []byte(fresh))) {
				t.Errorf("%s holds the bearer token", path)
			}
			return err
		})
		if err != nil || files == 0 {
			t.Errorf("the edge-authentication cache: %d files, %v", files, err)
		}

		// Switched off, the service answers for itself.
		off := extraGateway(t, st, gateway.Options{EdgeAuthOff: true})
		id = newID("edge-off")
		expectProblem(t, "edge off, no token", do(t, "GET", off.URL+order, "", nil, "X-Request-ID", id), 401, "unauthorized")
		logLine(t, st.LogPath("order"), `"request_id":"`+id+`"`)
	})

	t.Run("the micro-cache serves anonymous reads only, never a draft", func(t *testing.T) {
		path := base + "/api/v1/products/" + product
		cached := false
		for range 3 { // a stored answer lives a second: one of three back-to-back reads finds it
			id := newID("cache")
			if r := do(t, "GET", path, "", nil, "X-Request-ID", id); r.status != 200 || r.header.Get("X-Request-ID") != id {
				t.Fatalf("anonymous read: %d, X-Request-ID %q", r.status, r.header.Get("X-Request-ID"))
			}
			if accessEntry(t, g, id)["cache"] == "HIT" {
				cached = true
				break
			}
		}
		if !cached {
			t.Error("no anonymous read of a product was served from the micro-cache")
		}
		id := newID("cache-token")
		if r := do(t, "GET", path, customer, nil, "X-Request-ID", id); r.status != 200 {
			t.Fatalf("read with a token: %d", r.status)
		}
		if c := accessEntry(t, g, id)["cache"]; c != "BYPASS" {
			t.Errorf("a read with a token: cache %v, want BYPASS", c)
		}

		// A draft: its owner sees it; nobody else, before or after.
		body := map[string]any{"sku": "GW-DRAFT-" + uuid.NewString()[:8], "name": "Gateway draft", "description": "not for sale yet",
			"price_minor": 1000, "currency": "EUR", "status": "DRAFT"}
		created := do(t, "POST", base+"/api/v1/products", seller, body)
		if created.status != 201 {
			t.Fatalf("create a draft: %d %s", created.status, created.body)
		}
		draft := base + "/api/v1/products/" + created.str(t, "id")
		for i := range 3 {
			if r := do(t, "GET", draft, "", nil); r.status != 404 {
				t.Errorf("anonymous read %d of a draft: %d %s", i, r.status, r.body)
			}
			id := newID("draft-owner")
			if r := do(t, "GET", draft, seller, nil, "X-Request-ID", id); r.status != 200 {
				t.Errorf("the owner's read %d of the draft: %d", i, r.status)
			}
			if c := accessEntry(t, g, id)["cache"]; c != "BYPASS" {
				t.Errorf("the owner's read: cache %v, want BYPASS", c)
			}
			if r := do(t, "GET", draft, customer, nil); r.status != 404 {
				t.Errorf("a customer's read %d of a draft: %d", i, r.status)
			}
		}
	})

	t.Run("rate limits at the edge answer 429 problems with Retry-After", func(t *testing.T) {
		// At 2/min with a burst of 1, two requests pass and the third waits.
		api := extraGateway(t, st, gateway.Options{Env: map[string]string{"SHOP_GATEWAY_API_RATE": "2r/m", "SHOP_GATEWAY_API_BURST": "1"}})
		for i := range 2 {
			if r := do(t, "GET", api.URL+"/api/v1/categories", "", nil); r.status != 200 {
				t.Fatalf("API request %d: %d", i, r.status)
			}
		}
		id := newID("429")
		r := do(t, "GET", api.URL+"/api/v1/categories", "", nil, "X-Request-ID", id)
		expectProblem(t, "third API request", r, 429, "rate-limited")
		if got := r.header.Values("Retry-After"); len(got) != 1 || got[0] != "30" {
			t.Errorf("Retry-After %q, want [30] (one request's interval at 2/min)", got)
		}
		if up := accessEntry(t, api, id)["upstream"]; up != "" {
			t.Errorf("a refused request reached %v", up)
		}
		if r := do(t, "GET", api.URL+"/", "", nil); r.status != 200 {
			t.Errorf("the apps are not rate-limited: %d", r.status)
		}

		authGW := extraGateway(t, st, gateway.Options{Env: map[string]string{"SHOP_GATEWAY_AUTH_RATE": "1r/m", "SHOP_GATEWAY_AUTH_BURST": "1"}})
		refresh := map[string]string{"refresh_token": "not-a-refresh-token"}
		for i := range 2 {
			if r := do(t, "POST", authGW.URL+"/api/v1/auth/refresh", "", refresh); r.status != 401 {
				t.Fatalf("refresh %d: %d %s, want identity's 401", i, r.status, r.body)
			}
		}
		r = do(t, "POST", authGW.URL+"/api/v1/auth/refresh", "", refresh)
		expectProblem(t, "third refresh", r, 429, "rate-limited")
		if got := r.header.Values("Retry-After"); len(got) != 1 || got[0] != "60" {
			t.Errorf("Retry-After %q, want [60]", got)
		}
		if r := do(t, "GET", authGW.URL+"/api/v1/categories", "", nil); r.status != 200 {
			t.Errorf("the rest of the API keeps its own budget: %d", r.status)
		}
	})

	t.Run("an order walks to PAID through the gateway", func(t *testing.T) {
		walkToPaid(t, base, customer, product)
	})

	t.Run("a stopped service is a 502 problem until it is back", func(t *testing.T) {
		if err := st.StopService("catalog"); err != nil {
			t.Fatal(err)
		}
		// A query no read has used, so the micro-cache has nothing for it.
		path := base + "/api/v1/products?q=" + uuid.NewString()
		expectProblem(t, "catalog stopped", do(t, "GET", path, "", nil), 502, "upstream-unavailable")
		if err := st.StartService("catalog"); err != nil {
			t.Fatal(err)
		}
		if err := st.WaitReady("catalog", 60*time.Second); err != nil {
			t.Fatal(err)
		}
		if r := do(t, "GET", path, "", nil); r.status != 200 {
			t.Errorf("catalog back: %d %s", r.status, r.body)
		}
	})

	t.Run("a stalled service is a 504 problem; identity down is a 503 for protected routes", func(t *testing.T) {
		slow := extraGateway(t, st, gateway.Options{Env: map[string]string{"SHOP_GATEWAY_READ_TIMEOUT": "1s"}})
		if err := st.Signal("inventory", syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		r := do(t, "GET", slow.URL+"/api/v1/inventory/"+product, "", nil)
		if err := st.Signal("inventory", syscall.SIGCONT); err != nil {
			t.Fatal(err)
		}
		expectProblem(t, "inventory stalled", r, 504, "upstream-timeout")
		if r := do(t, "GET", slow.URL+"/api/v1/inventory/"+product, "", nil); r.status != 200 {
			t.Errorf("inventory resumed: %d", r.status)
		}

		// A gateway that has not checked the customer's token yet.
		fresh := extraGateway(t, st, gateway.Options{})
		if err := st.StopService("identity"); err != nil {
			t.Fatal(err)
		}
		r = do(t, "GET", fresh.URL+"/api/v1/orders/user/"+customerID, customer, nil)
		expectProblem(t, "identity stopped", r, 503, "service-unavailable")
		if r.header.Get("Retry-After") == "" {
			t.Error("the 503 has no Retry-After")
		}
		if r := do(t, "GET", fresh.URL+"/api/v1/products/"+product, "", nil); r.status != 200 {
			t.Errorf("public reads without identity: %d", r.status)
		}
		if err := st.StartService("identity"); err != nil {
			t.Fatal(err)
		}
		if err := st.WaitReady("identity", 60*time.Second); err != nil {
			t.Fatal(err)
		}
		if r := do(t, "GET", fresh.URL+"/api/v1/orders/user/"+customerID, customer, nil); r.status != 200 {
			t.Errorf("identity back: %d %s", r.status, r.body)
		}
	})

	t.Run("placeholder pages until the apps are built", func(t *testing.T) {
		ph := extraGateway(t, st, gateway.Options{
			StorefrontRoot: filepath.Join(root, "deploy/gateway/placeholder/storefront"),
			AdminRoot:      filepath.Join(root, "deploy/gateway/placeholder/admin"),
		})
		for _, path := range []string{"/", "/admin/", "/some/deep/link", "/admin/users"} {
			r := do(t, "GET", ph.URL+path, "", nil)
			if r.status != 200 || !strings.Contains(string(r.body), `href="/docs/"`) {
				t.Errorf("%s: %d, want a page that links to /docs/: %.100s", path, r.status, r.body)
			}
		}
	})
}

// forge returns a token with a valid token's header and claims and another
// signature.
func forge(token string) string {
	i := strings.LastIndexByte(token, '.')
	return token[:i+1] + strings.Repeat("A", len(token)-i-1)
}

// walkToPaid walks the README's order: place it, long-poll for the
// payment the saga creates, pay, and see the order PAID.
func walkToPaid(t *testing.T, base, token, product string) {
	t.Helper()
	r := do(t, "POST", base+"/api/v1/orders", token, map[string]any{"lines": []map[string]any{{"product_id": product, "quantity": 1}}},
		"Idempotency-Key", uuid.NewString())
	if r.status != 201 {
		t.Fatalf("place the order: %d %s", r.status, r.body)
	}
	order := r.str(t, "id")
	r = do(t, "GET", base+"/api/v1/payments?orderId="+order, token, nil, "Prefer", "wait=10")
	items, _ := r.json(t)["items"].([]any)
	if r.status != 200 || len(items) != 1 {
		t.Fatalf("the payment (long poll): %d %s", r.status, r.body)
	}
	payment := items[0].(map[string]any)["id"].(string)
	r = do(t, "POST", base+"/api/v1/payments/confirm", token, map[string]any{"payment_id": payment, "card_number": "4242424242424242"},
		"Idempotency-Key", uuid.NewString())
	if r.status != 200 || r.str(t, "status") != "SUCCEEDED" {
		t.Fatalf("pay: %d %s", r.status, r.body)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		status := do(t, "GET", base+"/api/v1/orders/"+order, token, nil).str(t, "status")
		if status == "PAID" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("order %s is %s 30 s after its payment, want PAID", order, status)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
