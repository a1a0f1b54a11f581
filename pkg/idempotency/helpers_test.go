package idempotency_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"gorm.io/gorm"

	"github.com/shop-oss/shop/pkg/database"
	"github.com/shop-oss/shop/pkg/idempotency"
	"github.com/shop-oss/shop/pkg/problem"
	"github.com/shop-oss/shop/pkg/testkit"
	"github.com/shop-oss/shop/pkg/web"
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.TestMode)
	os.Exit(m.Run())
}

// testSecret keys the tests' fingerprints.
var testSecret = []byte("idempotency-test-secret-of-32-bytes-or-more")

// headerUser names the caller in tests; scope falls back to the client IP.
const headerUser = "X-Test-User"

func scopeOf(c *gin.Context) string {
	if u := c.GetHeader(headerUser); u != "" {
		return "user:" + u
	}
	return "ip:" + c.ClientIP()
}

// env is a fresh database with the idempotency schema and an engine whose
// routes sit behind the middleware.
type env struct {
	db     *gorm.DB
	store  *idempotency.Store
	engine *gin.Engine
}

type envOptions struct {
	cfg    idempotency.Config
	errors *problem.Mapper // the service's error mapping
	reg    prometheus.Registerer
}

func newEnv(t *testing.T, opts envOptions, routes func(g *gin.RouterGroup)) *env {
	t.Helper()
	db, dsn := testkit.Postgres(t)
	if err := database.Migrate(context.Background(), dsn, idempotency.Migrations(), idempotency.MigrationsTable); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	log := testkit.Logger(t)
	if opts.cfg.Logger == nil {
		opts.cfg.Logger = log
	}
	if opts.cfg.Secret == nil {
		opts.cfg.Secret = testSecret
	}
	store, err := idempotency.NewStore(db, opts.cfg, opts.reg)
	if err != nil {
		t.Fatal(err)
	}
	e, err := web.NewEngine(web.Options{Logger: log, Errors: opts.errors})
	if err != nil {
		t.Fatal(err)
	}
	routes(e.Group("/", idempotency.Middleware(store, scopeOf)))
	return &env{db: db, store: store, engine: e}
}

// creator answers 201 with a new order ID per run and counts its runs.
type creator struct{ runs atomic.Int64 }

func (cr *creator) handle(c *gin.Context) {
	n := cr.runs.Add(1)
	body, _ := io.ReadAll(c.Request.Body)
	c.Header("Location", fmt.Sprintf("/orders/%d", n))
	c.JSON(http.StatusCreated, gin.H{"id": n, "request": string(body)})
}

// request is a POST with an Idempotency-Key (unless key is nil).
func request(path string, key *string, body string, header ...string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	if key != nil {
		r.Header.Set(idempotency.HeaderKey, *key)
	}
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	return r
}

func ptr(s string) *string { return &s }

func (e *env) do(r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	e.engine.ServeHTTP(rec, r)
	return rec
}

func (e *env) post(path, key, body string, header ...string) *httptest.ResponseRecorder {
	return e.do(request(path, &key, body, header...))
}

// rows counts the records.
func (e *env) rows(t *testing.T) int64 { return e.count(t, "idempotency_keys") }

// count counts a table's rows.
func (e *env) count(t *testing.T, table string) int64 {
	t.Helper()
	var n int64
	if err := e.db.Raw("SELECT count(*) FROM " + table).Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// postAtOnce sends n identical POSTs at the same moment and returns their
// answers.
func (e *env) postAtOnce(n int, path, key, body string) []*httptest.ResponseRecorder {
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		recs  = make([]*httptest.ResponseRecorder, n)
	)
	for i := range n {
		wg.Go(func() {
			<-start
			recs[i] = e.post(path, key, body)
		})
	}
	close(start)
	wg.Wait()
	return recs
}

func (e *env) exec(t *testing.T, sql string, args ...any) {
	t.Helper()
	if err := e.db.Exec(sql, args...).Error; err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// wantProblem checks rec is a problem of the given status and slug.
func wantProblem(t *testing.T, rec *httptest.ResponseRecorder, status int, slug string) {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status = %d, want %d; body %s", rec.Code, status, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != problem.ContentType {
		t.Fatalf("Content-Type = %q, want %q", ct, problem.ContentType)
	}
	var p problem.Problem
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		t.Fatalf("decode problem %s: %v", rec.Body, err)
	}
	if p.Type != problem.TypePrefix+slug || p.Status != status {
		t.Fatalf("problem = %+v, want type %s", p, problem.TypePrefix+slug)
	}
}

// wantFirst checks rec is an original (not replayed) response of status.
func wantFirst(t *testing.T, rec *httptest.ResponseRecorder, status int) {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status = %d, want %d; body %s", rec.Code, status, rec.Body)
	}
	if v := rec.Header().Get(idempotency.HeaderReplayed); v != "" {
		t.Fatalf("%s = %q on a first response", idempotency.HeaderReplayed, v)
	}
}

// wantReplay checks rec replays first exactly.
func wantReplay(t *testing.T, rec, first *httptest.ResponseRecorder) {
	t.Helper()
	if rec.Code != first.Code {
		t.Fatalf("replayed status = %d, want %d; body %s", rec.Code, first.Code, rec.Body)
	}
	if rec.Body.String() != first.Body.String() {
		t.Fatalf("replayed body = %s, want %s", rec.Body, first.Body)
	}
	for _, h := range []string{"Content-Type", "Location"} {
		if rec.Header().Get(h) != first.Header().Get(h) {
			t.Fatalf("replayed %s = %q, want %q", h, rec.Header().Get(h), first.Header().Get(h))
		}
	}
	if v := rec.Header().Get(idempotency.HeaderReplayed); v != "true" {
		t.Fatalf("%s = %q, want true", idempotency.HeaderReplayed, v)
	}
}
