package catalogapi_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/shop-oss/shop/pkg/auth"
	"github.com/shop-oss/shop/pkg/openapitest"
	"github.com/shop-oss/shop/pkg/testkit"
	"github.com/shop-oss/shop/services/catalog/internal/app"
)

// spec is shared by the package's tests, so that TestMain can check that
// together they exercised every operation it documents.
var (
	spec     *openapitest.Spec
	specOnce sync.Once
)

func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 && spec != nil && flag.Lookup("test.run").Value.String() == "" {
		covered := map[string]bool{}
		for _, c := range spec.Covered() { // "METHOD /path STATUS"
			covered[c[:strings.LastIndex(c, " ")]] = true
		}
		for _, op := range spec.Operations() {
			if !covered[op] {
				fmt.Fprintf(os.Stderr, "FAIL: no test exercised %s (api/openapi.yaml)\n", op)
				code = 1
			}
		}
	}
	os.Exit(code)
}

// env is one running catalog service with its own database, Redis and
// broker, and a caller of each kind.
type env struct {
	t      testing.TB
	st     *testkit.Stack
	cfg    app.Config
	base   string
	client *http.Client

	admin, seller, seller2, customer caller
	anon                             caller
}

// caller is a user with a token ("" for anonymous).
type caller struct {
	name  string
	id    uuid.UUID
	token string
}

// newEnv starts the service; vars are extra SHOP_* settings in name, value
// pairs.
func newEnv(t testing.TB, vars ...string) *env {
	t.Helper()
	st := testkit.NewStack(t)
	e := &env{t: t, st: st}
	settings := map[string]string{"SHOP_CATALOG_CACHE_TTL": "60s"}
	for i := 0; i+1 < len(vars); i += 2 {
		settings[vars[i]] = vars[i+1]
	}
	st.Config(t, "catalog", &e.cfg, settings)
	svc, err := app.New(context.Background(), e.cfg, app.Options{LogOutput: testkit.LogOutput(t)})
	if err != nil {
		t.Fatalf("app.New: %v", err)
	}
	e.base = testkit.Run(t, svc)
	specOnce.Do(func() { spec = openapitest.Load(t, "../../api/openapi.yaml") })
	e.client = spec.Client(t)
	user := func(name string, role auth.Role) caller {
		id := uuid.Must(uuid.NewV7())
		return caller{name: name, id: id, token: st.Issuer.Token(t, id.String(), role)}
	}
	e.admin = user("admin", auth.RoleAdmin)
	e.seller = user("seller", auth.RoleSeller)
	e.seller2 = user("other seller", auth.RoleSeller)
	e.customer = user("customer", auth.RoleCustomer)
	e.anon = caller{name: "anonymous"}
	return e
}

// response is a decoded HTTP answer.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// problemType is the slug of a problem answer.
func (r response) problemType() string {
	var p struct{ Type string }
	_ = json.Unmarshal(r.body, &p)
	return strings.TrimPrefix(p.Type, "urn:shop:problem:")
}

// call sends a request as c; body is JSON-encoded unless it is a string;
// headers come in name, value pairs.
func (e *env) call(c caller, method, path string, body any, headers ...string) response {
	e.t.Helper()
	req := testkit.JSONRequest(e.t, method, e.base+path, c.token, body, headers...)
	res, err := e.client.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: data}
}

// must calls and fails the test unless the status is want.
func (e *env) must(want int, c caller, method, path string, body any, headers ...string) response {
	e.t.Helper()
	r := e.call(c, method, path, body, headers...)
	if r.status != want {
		e.t.Fatalf("%s %s as %s: status %d, want %d: %s", method, path, c.name, r.status, want, r.body)
	}
	return r
}

// product is the wire form of a product, as tests read it.
type product struct {
	ID          string         `json:"id"`
	SKU         string         `json:"sku"`
	Name        string         `json:"name"`
	Description string         `json:"description"`
	PriceMinor  int64          `json:"price_minor"`
	Currency    string         `json:"currency"`
	SellerID    string         `json:"seller_id"`
	CategoryID  *string        `json:"category_id"`
	Status      string         `json:"status"`
	Images      []string       `json:"images"`
	Attributes  map[string]any `json:"attributes"`
	Version     int64          `json:"version"`
	CreatedAt   time.Time      `json:"created_at"`
}

type page struct {
	Items      []product `json:"items"`
	NextCursor string    `json:"next_cursor"`
}

type category struct {
	ID       string     `json:"id"`
	ParentID *string    `json:"parent_id"`
	Name     string     `json:"name"`
	Slug     string     `json:"slug"`
	Path     string     `json:"path"`
	Children []category `json:"children"`
}

var skuSeq int

// newProductBody is a valid create body with a fresh SKU.
func newProductBody(fields ...any) map[string]any {
	skuSeq++
	b := map[string]any{
		"sku": fmt.Sprintf("TEST-%d-%d", time.Now().UnixNano()%1e6, skuSeq), "name": "Test product",
		"description": "A product for tests.", "price_minor": 1999, "currency": "EUR", "status": "ACTIVE",
	}
	for i := 0; i+1 < len(fields); i += 2 {
		b[fields[i].(string)] = fields[i+1]
	}
	return b
}

// create makes a product as c and returns it.
func (e *env) create(c caller, fields ...any) product {
	e.t.Helper()
	var p product
	e.must(http.StatusCreated, c, "POST", "/api/v1/products", newProductBody(fields...)).decode(e.t, &p)
	return p
}

// get reads a product as c.
func (e *env) get(c caller, id string) product {
	e.t.Helper()
	var p product
	e.must(http.StatusOK, c, "GET", "/api/v1/products/"+id, nil).decode(e.t, &p)
	return p
}

// list reads one listing page as c.
func (e *env) list(c caller, query string) page {
	e.t.Helper()
	var pg page
	e.must(http.StatusOK, c, "GET", "/api/v1/products?"+query, nil).decode(e.t, &pg)
	return pg
}

func ifMatch(version int64) []string { return []string{"If-Match", fmt.Sprintf(`"v%d"`, version)} }

func ids(ps []product) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.ID
	}
	return out
}
