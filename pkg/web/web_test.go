package web_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/shop-oss/shop/pkg/logging"
	"github.com/shop-oss/shop/pkg/problem"
	"github.com/shop-oss/shop/pkg/testkit"
	"github.com/shop-oss/shop/pkg/web"
)

var errSoldOut = errors.New("sold out")

type createLine struct {
	ProductID string `json:"product_id" validate:"required,uuid"`
	Quantity  int    `json:"quantity" validate:"gt=0,lte=1000"`
}

type createOrder struct {
	Currency string       `json:"currency" validate:"required,iso4217"`
	Lines    []createLine `json:"lines" validate:"required,min=1,dive"`
	// Both or neither.
	PromoCode    string `json:"promo_code" validate:"required_with=PromoOwnerID"`
	PromoOwnerID string `json:"promo_owner_id" validate:"required_with=PromoCode"`
}

func newEngine(t *testing.T) (*gin.Engine, *testkit.LogBuffer, *prometheus.Registry) {
	t.Helper()
	logs := &testkit.LogBuffer{}
	reg := prometheus.NewRegistry()
	e, err := web.NewEngine(web.Options{
		Logger:    logging.New(logs, slog.LevelDebug, "test"),
		Registry:  reg,
		BodyLimit: 2048,
		Errors:    problem.NewMapper(problem.Mapping{Err: errSoldOut, Status: http.StatusConflict, Slug: "sold-out", Title: "Sold out", Detail: true}),
	})
	if err != nil {
		t.Fatal(err)
	}
	e.POST("/orders", func(c *gin.Context) {
		var req createOrder
		if !web.Bind(c, &req) {
			return
		}
		c.JSON(http.StatusCreated, req)
	})
	e.GET("/sold-out", func(c *gin.Context) { web.Fail(c, fmt.Errorf("reserve sku-1: %w", errSoldOut)) })
	e.GET("/boom", func(c *gin.Context) { web.Fail(c, errors.New("pq: connection refused to 10.0.0.7")) })
	e.GET("/panic", func(c *gin.Context) { panic("nil map") })
	e.GET("/ids", func(c *gin.Context) {
		ctx := c.Request.Context()
		c.JSON(http.StatusOK, gin.H{"request": logging.RequestID(ctx), "correlation": logging.CorrelationID(ctx)})
	})
	return e, logs, reg
}

func do(e *gin.Engine, method, path, body string, headers ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec
}

func decodeProblem(t *testing.T, rec *httptest.ResponseRecorder) problem.Problem {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); ct != problem.ContentType {
		t.Fatalf("Content-Type = %q, want %q (body %s)", ct, problem.ContentType, rec.Body.String())
	}
	var p problem.Problem
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	if p.Status != rec.Code || p.RequestID == "" || p.RequestID != rec.Header().Get("X-Request-ID") {
		t.Fatalf("problem %+v does not match response %d / %s", p, rec.Code, rec.Header().Get("X-Request-ID"))
	}
	return p
}

func TestBind201(t *testing.T) {
	e, _, _ := newEngine(t)
	rec := do(e, "POST", "/orders", `{"currency":"EUR","lines":[{"product_id":"0190f5a8-0000-7000-8000-000000000001","quantity":2}]}`)
	if rec.Code != http.StatusCreated {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
}

func TestBind400NamesEveryBadField(t *testing.T) {
	e, _, _ := newEngine(t)
	rec := do(e, "POST", "/orders", `{"currency":"EURO","lines":[{"product_id":"x","quantity":0}]}`)
	p := decodeProblem(t, rec)
	if rec.Code != 400 || p.Type != problem.TypePrefix+"validation" {
		t.Fatalf("%d %+v", rec.Code, p)
	}
	got := map[string]bool{}
	for _, f := range p.Errors {
		got[f.Field] = true
	}
	for _, want := range []string{"currency", "lines[0].product_id", "lines[0].quantity"} {
		if !got[want] {
			t.Errorf("no error for %s in %+v", want, p.Errors)
		}
	}
}

func TestBind400NamesTheFieldARequiredWithNeeds(t *testing.T) {
	e, _, _ := newEngine(t)
	rec := do(e, "POST", "/orders", `{"currency":"EUR","lines":[{"product_id":"0190f5a8-0000-7000-8000-000000000001","quantity":2}],"promo_code":"X"}`)
	p := decodeProblem(t, rec)
	if rec.Code != 400 || len(p.Errors) != 1 || p.Errors[0].Field != "promo_owner_id" || p.Errors[0].Message != "is required with promo_code" {
		t.Fatalf("%d %+v", rec.Code, p.Errors)
	}
}

func TestBind400MalformedUnknownAndMistyped(t *testing.T) {
	e, _, _ := newEngine(t)
	cases := map[string]struct{ body, slug, field string }{
		"empty":         {"", "malformed-json", ""},
		"syntax":        {`{"currency":`, "malformed-json", ""},
		"trailing data": {`{"currency":"EUR","lines":[]} {}`, "malformed-json", ""},
		"unknown field": {`{"currency":"EUR","price":1}`, "validation", "price"},
		"wrong type":    {`{"currency":"EUR","lines":"many"}`, "validation", "lines"},
	}
	for name, tc := range cases {
		rec := do(e, "POST", "/orders", tc.body)
		p := decodeProblem(t, rec)
		if rec.Code != 400 || p.Type != problem.TypePrefix+tc.slug {
			t.Errorf("%s: %d %+v", name, rec.Code, p)
			continue
		}
		if tc.field != "" && (len(p.Errors) != 1 || p.Errors[0].Field != tc.field) {
			t.Errorf("%s: field errors %+v, want %s", name, p.Errors, tc.field)
		}
	}
}

func TestBodyLimit413(t *testing.T) {
	e, _, _ := newEngine(t)
	big := `{"currency":"EUR","lines":[` + strings.Repeat(`{"product_id":"0190f5a8-0000-7000-8000-000000000001","quantity":1},`, 60) + `]}`
	rec := do(e, "POST", "/orders", big)
	if p := decodeProblem(t, rec); rec.Code != http.StatusRequestEntityTooLarge || p.Type != problem.TypePrefix+"body-too-large" {
		t.Fatalf("%d %+v", rec.Code, p)
	}
	// Without a Content-Length the limit still holds while reading.
	req := httptest.NewRequest("POST", "/orders", strings.NewReader(big))
	req.ContentLength = -1
	rec = httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("chunked body: %d", rec.Code)
	}
}

func TestDomainError409IsMappedWithDetail(t *testing.T) {
	e, _, _ := newEngine(t)
	rec := do(e, "GET", "/sold-out", "")
	p := decodeProblem(t, rec)
	if rec.Code != 409 || p.Type != problem.TypePrefix+"sold-out" || p.Detail != "reserve sku-1: sold out" {
		t.Fatalf("%d %+v", rec.Code, p)
	}
}

func TestUnknownError500IsLoggedOnceAndNotLeaked(t *testing.T) {
	e, logs, _ := newEngine(t)
	rec := do(e, "GET", "/boom", "")
	p := decodeProblem(t, rec)
	if rec.Code != 500 || strings.Contains(rec.Body.String(), "10.0.0.7") {
		t.Fatalf("%d %+v", rec.Code, p)
	}
	if n := strings.Count(logs.String(), `"msg":"request failed"`); n != 1 {
		t.Fatalf("unknown error logged %d times, want once:\n%s", n, logs)
	}
}

func TestPanic500IsRecovered(t *testing.T) {
	e, logs, _ := newEngine(t)
	rec := do(e, "GET", "/panic", "")
	decodeProblem(t, rec)
	if rec.Code != 500 || !strings.Contains(logs.String(), "panic in handler") {
		t.Fatalf("%d; logs:\n%s", rec.Code, logs)
	}
}

func TestNotFound404AndMethodNotAllowed405(t *testing.T) {
	e, _, _ := newEngine(t)
	if rec := do(e, "GET", "/nowhere", ""); rec.Code != 404 || decodeProblem(t, rec).Type != problem.TypePrefix+"route-not-found" {
		t.Errorf("404: %d", rec.Code)
	}
	if rec := do(e, "DELETE", "/orders", ""); rec.Code != 405 {
		t.Errorf("405: %d", rec.Code)
	}
}

func TestRequestAndCorrelationIDsPropagate(t *testing.T) {
	e, logs, _ := newEngine(t)
	rec := do(e, "GET", "/ids", "", "X-Request-ID", "req-abc", "X-Correlation-ID", "order-42")
	var got map[string]string
	_ = json.Unmarshal(rec.Body.Bytes(), &got)
	if got["request"] != "req-abc" || got["correlation"] != "order-42" || rec.Header().Get("X-Correlation-ID") != "order-42" {
		t.Fatalf("ids: %v, headers %v", got, rec.Header())
	}
	if !strings.Contains(logs.String(), `"request_id":"req-abc"`) || !strings.Contains(logs.String(), `"correlation_id":"order-42"`) {
		t.Fatalf("access log lacks the IDs:\n%s", logs)
	}
	// Generated when absent; an oversized client ID is replaced.
	rec = do(e, "GET", "/ids", "", "X-Request-ID", strings.Repeat("x", 500))
	_ = json.Unmarshal(rec.Body.Bytes(), &got)
	if len(got["request"]) != 36 || got["correlation"] != got["request"] {
		t.Fatalf("generated ids: %v", got)
	}
}

func TestMetricsCountByRouteTemplate(t *testing.T) {
	e, _, reg := newEngine(t)
	do(e, "GET", "/sold-out", "")
	do(e, "GET", "/sold-out", "")
	n := testutil.CollectAndCount(reg, "http_requests_total")
	if n != 1 {
		t.Fatalf("%d series, want 1", n)
	}
	want := `
# HELP http_requests_total HTTP requests by method, route and status.
# TYPE http_requests_total counter
http_requests_total{method="GET",route="/sold-out",status="409"} 2
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "http_requests_total"); err != nil {
		t.Fatal(err)
	}
}

func TestUntrustedClientCannotSpoofItsIP(t *testing.T) {
	e, err := web.NewEngine(web.Options{Logger: slog.New(slog.DiscardHandler), TrustedProxies: []string{"10.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	e.GET("/ip", func(c *gin.Context) { c.String(200, c.ClientIP()) })
	for _, tc := range []struct{ remote, want string }{{"192.0.2.9:1234", "192.0.2.9"}, {"10.0.0.1:1234", "203.0.113.5"}} {
		req := httptest.NewRequest("GET", "/ip", nil)
		req.RemoteAddr = tc.remote
		req.Header.Set("X-Forwarded-For", "203.0.113.5")
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		if rec.Body.String() != tc.want {
			t.Errorf("from %s: client IP %q, want %q", tc.remote, rec.Body.String(), tc.want)
		}
	}
	if _, err := web.NewEngine(web.Options{Logger: slog.New(slog.DiscardHandler), TrustedProxies: []string{"not-an-ip"}}); err == nil {
		t.Error("a bad trusted proxy was accepted")
	}
}

type listQuery struct {
	Limit    int        `form:"limit" validate:"omitempty,min=1,max=100"`
	MinPrice *int64     `form:"min_price"`
	Since    *time.Time `form:"since"`
	Status   []string   `form:"status"`
	Stuck    bool       `form:"stuck"`
}

func TestBindQuery400NamesTheParameter(t *testing.T) {
	e, _, _ := newEngine(t)
	e.GET("/list", func(c *gin.Context) {
		var q listQuery
		if !web.BindQuery(c, &q) {
			return
		}
		c.JSON(http.StatusOK, q)
	})
	rec := do(e, "GET", "/list?limit=5&min_price=100&since=2026-01-02T03:04:05Z&status=PAID&status=SHIPPED&stuck=true", "")
	var q listQuery
	if err := json.Unmarshal(rec.Body.Bytes(), &q); err != nil || rec.Code != 200 {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	if q.Limit != 5 || *q.MinPrice != 100 || q.Since.Year() != 2026 || len(q.Status) != 2 || !q.Stuck {
		t.Fatalf("decoded %+v", q)
	}
	rec = do(e, "GET", "/list?limit=abc&min_price=1.5&since=yesterday&stuck=maybe", "")
	p := decodeProblem(t, rec)
	got := map[string]bool{}
	for _, f := range p.Errors {
		got[f.Field] = true
	}
	for _, want := range []string{"limit", "min_price", "since", "stuck"} {
		if !got[want] {
			t.Errorf("no error named %s: %+v", want, p.Errors)
		}
	}
	// Parsed but invalid: validated like bodies.
	if rec := do(e, "GET", "/list?limit=1000", ""); rec.Code != 400 || decodeProblem(t, rec).Errors[0].Field != "limit" {
		t.Errorf("limit=1000: %d %s", rec.Code, rec.Body)
	}
}

// Query parameters reach SQL like bodies do: text PostgreSQL cannot store
// or compare is a 400 naming the parameter, never a 500.
func TestBindQuery400RefusesBadText(t *testing.T) {
	e, _, _ := newEngine(t)
	e.GET("/search", func(c *gin.Context) {
		var q struct {
			Q      string   `form:"q"`
			Status []string `form:"status"`
			Note   *string  `form:"note"`
		}
		if !web.BindQuery(c, &q) {
			return
		}
		c.JSON(http.StatusOK, q)
	})
	for _, tc := range []struct{ query, field string }{
		{"q=%ff%fe", "q"}, {"q=%00", "q"}, {"q=a%1bb", "q"}, {"status=PAID&status=%c3", "status"}, {"note=%7f", "note"},
	} {
		rec := do(e, "GET", "/search?"+tc.query, "")
		if rec.Code != http.StatusBadRequest {
			t.Errorf("%s: %d %s", tc.query, rec.Code, rec.Body)
			continue
		}
		if p := decodeProblem(t, rec); len(p.Errors) != 1 || p.Errors[0].Field != tc.field {
			t.Errorf("%s: %+v, want an error naming %s", tc.query, p.Errors, tc.field)
		}
	}
	if rec := do(e, "GET", "/search?q=caf%C3%A9%09mug", ""); rec.Code != http.StatusOK {
		t.Errorf("good text: %d %s", rec.Code, rec.Body)
	}
}

// One decoding rule for every body: duplicate and case-variant names,
// invalid UTF-8 and control characters are 400s naming the field (pkg/input
// has the whole table).
func TestBind400RefusesDuplicateCaseVariantAndBadText(t *testing.T) {
	e, _, _ := newEngine(t)
	for _, tc := range []struct{ body, field string }{
		{`{"currency":"EUR","currency":"USD","lines":[]}`, "currency"},
		{`{"Currency":"EUR","lines":[]}`, "Currency"},
		{"{\"currency\":\"\xff\xfe\",\"lines\":[]}", "currency"},
		{`{"currency":"EU\u0000","lines":[]}`, "currency"},
	} {
		rec := do(e, "POST", "/orders", tc.body)
		if rec.Code != http.StatusBadRequest {
			t.Errorf("%s: %d %s", tc.body, rec.Code, rec.Body)
			continue
		}
		if p := decodeProblem(t, rec); len(p.Errors) != 1 || p.Errors[0].Field != tc.field {
			t.Errorf("%s: %+v, want an error naming %s", tc.body, p.Errors, tc.field)
		}
	}
}

type pageQuery struct {
	Cursor string `form:"cursor" validate:"max=8"`
}

type pagedQuery struct {
	pageQuery
	Status string `form:"status" validate:"omitempty,oneof=PAID"`
}

// A field of an embedded struct is named as the client sent it, without
// the Go struct's name.
func TestBindQuery400NamesAnEmbeddedStructsFieldAsSent(t *testing.T) {
	e, _, _ := newEngine(t)
	e.GET("/paged", func(c *gin.Context) {
		var q pagedQuery
		if !web.BindQuery(c, &q) {
			return
		}
		c.JSON(http.StatusOK, q)
	})
	rec := do(e, "GET", "/paged?cursor=123456789&status=NEW", "")
	p := decodeProblem(t, rec)
	got := map[string]bool{}
	for _, f := range p.Errors {
		got[f.Field] = true
	}
	if rec.Code != 400 || len(got) != 2 || !got["cursor"] || !got["status"] {
		t.Fatalf("%d %+v, want errors naming cursor and status", rec.Code, p.Errors)
	}
}
