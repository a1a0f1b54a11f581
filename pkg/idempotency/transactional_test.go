package idempotency_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/shop-oss/shop/pkg/database"
	"github.com/shop-oss/shop/pkg/idempotency"
	"github.com/shop-oss/shop/pkg/testkit"
	"github.com/shop-oss/shop/pkg/web"
)

// thingMaker is a handler behind InTransaction: it writes a thing and the
// key's record in one statement, the thing only with the record.
type thingMaker struct {
	db   *gorm.DB
	next atomic.Int64
}

func (m *thingMaker) handle(c *gin.Context) {
	p, ok := idempotency.PendingFrom(c.Request.Context())
	if !ok {
		web.Fail(c, fmt.Errorf("no pending key"))
		return
	}
	req, _ := io.ReadAll(c.Request.Body)
	id := m.next.Add(1)
	body, _ := json.Marshal(gin.H{"id": id, "request": string(req)})
	loc := fmt.Sprintf("/things/%d", id)
	rec, err := p.Completed(http.StatusCreated, map[string]string{"Content-Type": "application/json; charset=utf-8", "Location": loc}, body)
	if err != nil {
		web.Fail(c, err)
		return
	}
	sql, args := rec.Statement()
	var n int64
	err = m.db.Raw("WITH rec AS ("+sql+"), ins AS (INSERT INTO things (id) SELECT ? WHERE EXISTS (SELECT 1 FROM rec) RETURNING 1) SELECT count(*) FROM ins",
		append(args, id)...).Scan(&n).Error
	switch {
	case err != nil:
		web.Fail(c, err)
	case n == 0:
		p.Answer(c)
	default:
		p.Recorded()
		c.Header("Location", loc)
		c.Data(http.StatusCreated, "application/json; charset=utf-8", body)
	}
}

func newTxEnv(t *testing.T) (*env, *thingMaker) {
	t.Helper()
	db, dsn := testkit.Postgres(t)
	if err := database.Migrate(context.Background(), dsn, idempotency.Migrations(), idempotency.MigrationsTable); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	if err := db.Exec("CREATE TABLE things (id bigint PRIMARY KEY)").Error; err != nil {
		t.Fatal(err)
	}
	store, err := idempotency.NewStore(db, idempotency.Config{Secret: testSecret, Logger: testkit.Logger(t)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	e, err := web.NewEngine(web.Options{Logger: testkit.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	m := &thingMaker{db: db}
	e.POST("/things", idempotency.InTransaction(store, scopeOf), m.handle)
	return &env{db: db, store: store, engine: e}, m
}

func (e *env) things(t *testing.T) int64 { return e.count(t, "things") }

// The record written with the change replays the response byte for byte,
// refuses another request with the key, and the change happens once.
func TestInTransactionRecordsWithTheChange(t *testing.T) {
	e, _ := newTxEnv(t)
	first := e.post("/things", "k1", `{"qty":1}`)
	wantFirst(t, first, http.StatusCreated)
	var state string
	if err := e.db.Raw("SELECT state FROM idempotency_keys WHERE key = 'k1'").Scan(&state).Error; err != nil || state != "completed" {
		t.Fatalf("record state %q (%v); want completed", state, err)
	}
	wantReplay(t, e.post("/things", "k1", `{"qty":1}`), first)
	wantProblem(t, e.post("/things", "k1", `{"qty":2}`), http.StatusUnprocessableEntity, idempotency.SlugKeyReused)
	if n := e.things(t); n != 1 {
		t.Fatalf("%d things; want 1", n)
	}
	wantProblem(t, e.do(request("/things", nil, `{}`)), http.StatusBadRequest, idempotency.SlugKeyMissing)
}

// A key whose record is in flight (here through Middleware, in another
// replica of the route) is 409, and the change is not made; an expired
// record is replaced.
func TestInTransactionConflictAndExpiry(t *testing.T) {
	e, _ := newTxEnv(t)
	classic, err := web.NewEngine(web.Options{Logger: testkit.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	entered, release := make(chan struct{}), make(chan struct{})
	classic.POST("/things", idempotency.Middleware(e.store, scopeOf), func(c *gin.Context) {
		close(entered)
		<-release
		c.JSON(http.StatusCreated, gin.H{"id": 0})
	})
	done := make(chan int)
	go func() {
		rec := httptest.NewRecorder()
		classic.ServeHTTP(rec, request("/things", ptr("held"), `{}`))
		done <- rec.Code
	}()
	<-entered
	rec := e.post("/things", "held", `{}`)
	wantProblem(t, rec, http.StatusConflict, idempotency.SlugKeyInFlight)
	if ra := rec.Header().Get("Retry-After"); ra != "1" {
		t.Fatalf("Retry-After = %q, want 1", ra)
	}
	close(release)
	if code := <-done; code != http.StatusCreated {
		t.Fatalf("the classic request answered %d", code)
	}
	if n := e.things(t); n != 0 {
		t.Fatalf("%d things after a refused record; want 0", n)
	}

	e.exec(t, `INSERT INTO idempotency_keys (scope, key, request_hash, state, response_status, expires_at)
		SELECT ?, 'old', 'x', 'completed', 201, now() - interval '1 second'`, "user:u1")
	wantFirst(t, e.post("/things", "old", `{}`, headerUser, "u1"), http.StatusCreated)
	if n := e.things(t); n != 1 {
		t.Fatalf("%d things after replacing an expired record; want 1", n)
	}
}

// Concurrent requests with one key make the change once; one answers
// first and the others replay it.
func TestInTransactionConcurrentSameKey(t *testing.T) {
	e, _ := newTxEnv(t)
	recs := e.postAtOnce(20, "/things", "k-race", `{"qty":3}`)
	var first *httptest.ResponseRecorder
	for _, rec := range recs {
		if rec.Code == http.StatusCreated && rec.Header().Get(idempotency.HeaderReplayed) == "" {
			if first != nil {
				t.Fatalf("two first responses: %s and %s", first.Body, rec.Body)
			}
			first = rec
		}
	}
	if first == nil {
		t.Fatal("no request made the change")
	}
	for _, rec := range recs {
		if rec != first {
			wantReplay(t, rec, first)
		}
	}
	if got := e.things(t); got != 1 {
		t.Fatalf("%d things; want 1", got)
	}
}

// A handler behind Middleware that completes the held key with its change
// (and says so with Done) is replayed from that record, and the middleware
// does not complete it again; one that does not leaves it to the
// middleware.
func TestHeldKeyCompletedByTheHandler(t *testing.T) {
	var logs bytes.Buffer
	var e *env // the routes run once it is set
	e = newEnv(t, envOptions{cfg: idempotency.Config{Logger: slog.New(slog.NewJSONHandler(&logs, nil))}}, func(g *gin.RouterGroup) {
		g.POST("/things", func(c *gin.Context) {
			held, ok := idempotency.HeldFrom(c.Request.Context())
			if !ok {
				web.Fail(c, fmt.Errorf("no held key"))
				return
			}
			body := []byte(`{"made":true}`)
			rec, err := held.Completed(http.StatusCreated, map[string]string{"Content-Type": "application/json"}, body)
			if err != nil {
				web.Fail(c, err)
				return
			}
			sql, args := rec.Statement()
			if err := e.db.Exec("WITH rec AS ("+sql+" RETURNING 1) INSERT INTO things SELECT count(*) FROM rec", args...).Error; err != nil {
				web.Fail(c, err)
				return
			}
			held.Done()
			c.Data(http.StatusCreated, "application/json", body)
		})
		g.POST("/plain", func(c *gin.Context) {
			held, _ := idempotency.HeldFrom(c.Request.Context())
			if _, err := held.Completed(http.StatusCreated, nil, nil); err != nil { // not run, no Done
				web.Fail(c, err)
				return
			}
			c.JSON(http.StatusCreated, gin.H{"plain": true})
		})
	})
	e.exec(t, "CREATE TABLE things (n bigint)")

	first := e.post("/things", "k-held", `{}`)
	wantFirst(t, first, http.StatusCreated)
	var wrote int64
	if err := e.db.Raw("SELECT n FROM things").Scan(&wrote).Error; err != nil || wrote != 1 {
		t.Fatalf("the record's update changed %d rows (%v); want 1", wrote, err)
	}
	wantReplay(t, e.post("/things", "k-held", `{}`), first)
	if strings.Contains(logs.String(), "taken over") {
		t.Fatalf("the middleware completed the key again: %s", logs.String())
	}

	plain := e.post("/plain", "k-plain", `{}`)
	wantFirst(t, plain, http.StatusCreated)
	wantReplay(t, e.post("/plain", "k-plain", `{}`), plain)
}
