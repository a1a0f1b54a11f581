package idempotency_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/shop-oss/shop/pkg/idempotency"
	"github.com/shop-oss/shop/pkg/problem"
	"github.com/shop-oss/shop/pkg/testkit"
	"github.com/shop-oss/shop/pkg/web"
)

func TestCreate201ReplaysTheSameRequest(t *testing.T) {
	var cr creator
	e := newEnv(t, envOptions{}, func(g *gin.RouterGroup) { g.POST("/orders", cr.handle) })

	first := e.post("/orders", "k-1", `{"sku":"A","qty":2}`)
	wantFirst(t, first, http.StatusCreated)
	if first.Header().Get("Location") != "/orders/1" {
		t.Fatalf("Location = %q", first.Header().Get("Location"))
	}
	second := e.post("/orders", "k-1", `{"sku":"A","qty":2}`)
	wantReplay(t, second, first)
	if n := cr.runs.Load(); n != 1 {
		t.Fatalf("handler ran %d times, want 1", n)
	}
}

func TestCreate422OtherRequestSameKey(t *testing.T) {
	var cr creator
	e := newEnv(t, envOptions{}, func(g *gin.RouterGroup) {
		g.POST("/orders", cr.handle)
		g.POST("/orders/:id/cancel", cr.handle)
	})

	tests := []struct {
		name        string
		first, then func() *httptest.ResponseRecorder
	}{
		{"other body",
			func() *httptest.ResponseRecorder { return e.post("/orders", "k-body", `{"qty":1}`) },
			func() *httptest.ResponseRecorder { return e.post("/orders", "k-body", `{"qty":2}`) }},
		{"other path, same route",
			func() *httptest.ResponseRecorder { return e.post("/orders/1/cancel", "k-path", "") },
			func() *httptest.ResponseRecorder { return e.post("/orders/2/cancel", "k-path", "") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := cr.runs.Load()
			wantFirst(t, tt.first(), http.StatusCreated)
			wantProblem(t, tt.then(), http.StatusUnprocessableEntity, idempotency.SlugKeyReused)
			if n := cr.runs.Load() - before; n != 1 {
				t.Fatalf("handler ran %d times, want 1", n)
			}
		})
	}
}

func TestCreate400BadKey(t *testing.T) {
	var cr creator
	e := newEnv(t, envOptions{}, func(g *gin.RouterGroup) { g.POST("/orders", cr.handle) })

	tests := []struct {
		name string
		key  *string
		slug string
	}{
		{"missing", nil, idempotency.SlugKeyMissing},
		{"empty", ptr(""), idempotency.SlugKeyInvalid},
		{"blank", ptr("   "), idempotency.SlugKeyInvalid},
		{"empty quoted", ptr(`""`), idempotency.SlugKeyInvalid},
		{"too long", ptr(strings.Repeat("k", idempotency.MaxKeyLength+1)), idempotency.SlugKeyInvalid},
		{"control character", ptr("key\x01"), idempotency.SlugKeyInvalid},
		{"DEL", ptr("key\x7f"), idempotency.SlugKeyInvalid},
		{"non-ASCII", ptr("schlüssel"), idempotency.SlugKeyInvalid},
		{"bad escape in quotes", ptr(`"a\nb"`), idempotency.SlugKeyInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantProblem(t, e.do(request("/orders", tt.key, `{}`)), http.StatusBadRequest, tt.slug)
		})
	}
	t.Run("two headers", func(t *testing.T) {
		r := request("/orders", ptr("a"), `{}`)
		r.Header.Add(idempotency.HeaderKey, "b")
		wantProblem(t, e.do(r), http.StatusBadRequest, idempotency.SlugKeyInvalid)
	})
	if n := cr.runs.Load(); n != 0 {
		t.Fatalf("handler ran %d times for bad keys", n)
	}
	if n := e.rows(t); n != 0 {
		t.Fatalf("%d records for bad keys", n)
	}
}

func TestCreate201KeySpellings(t *testing.T) {
	var cr creator
	e := newEnv(t, envOptions{}, func(g *gin.RouterGroup) { g.POST("/orders", cr.handle) })

	longest := strings.Repeat("k", idempotency.MaxKeyLength)
	wantFirst(t, e.post("/orders", longest, `{}`), http.StatusCreated)

	// The draft's structured-field string and Stripe's bare token are one key.
	first := e.post("/orders", "8e03978e-40d5-43e8-bc93-6894a57f9324", `{}`)
	wantFirst(t, first, http.StatusCreated)
	wantReplay(t, e.post("/orders", `"8e03978e-40d5-43e8-bc93-6894a57f9324"`, `{}`), first)

	escaped := e.post("/orders", `"a \"quoted\" \\ key"`, `{}`)
	wantFirst(t, escaped, http.StatusCreated)
	wantReplay(t, e.post("/orders", `a "quoted" \ key`, `{}`), escaped)
}

func TestCreate409WhileInFlightThenReplay(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	var runs atomic.Int64
	e := newEnv(t, envOptions{}, func(g *gin.RouterGroup) {
		g.POST("/orders", func(c *gin.Context) {
			runs.Add(1)
			close(entered)
			<-release
			c.Header("Location", "/orders/1")
			c.JSON(http.StatusCreated, gin.H{"id": 1})
		})
	})

	done := make(chan *httptest.ResponseRecorder)
	go func() { done <- e.post("/orders", "k-slow", `{"qty":1}`) }()
	<-entered

	second := e.post("/orders", "k-slow", `{"qty":1}`)
	wantProblem(t, second, http.StatusConflict, idempotency.SlugKeyInFlight)
	if ra := second.Header().Get("Retry-After"); ra != "1" {
		t.Fatalf("Retry-After = %q, want 1", ra)
	}

	close(release)
	first := <-done
	wantFirst(t, first, http.StatusCreated)
	wantReplay(t, e.post("/orders", "k-slow", `{"qty":1}`), first)
	if n := runs.Load(); n != 1 {
		t.Fatalf("handler ran %d times, want 1", n)
	}
}

func TestConcurrentSameKeyRunsTheHandlerOnce(t *testing.T) {
	var cr creator
	e := newEnv(t, envOptions{}, func(g *gin.RouterGroup) {
		g.POST("/orders", func(c *gin.Context) {
			time.Sleep(50 * time.Millisecond) // hold the key while others arrive
			cr.handle(c)
		})
	})

	recs := e.postAtOnce(20, "/orders", "k-race", `{"qty":3}`)

	var first *httptest.ResponseRecorder
	for _, rec := range recs {
		switch {
		case rec.Code == http.StatusCreated && rec.Header().Get(idempotency.HeaderReplayed) == "":
			if first != nil {
				t.Fatalf("two first responses: %s and %s", first.Body, rec.Body)
			}
			first = rec
		case rec.Code == http.StatusConflict:
			wantProblem(t, rec, http.StatusConflict, idempotency.SlugKeyInFlight)
		case rec.Code == http.StatusCreated:
			// a replay; checked against first below
		default:
			t.Fatalf("unexpected answer %d %s", rec.Code, rec.Body)
		}
	}
	if first == nil {
		t.Fatal("no request ran the handler")
	}
	for _, rec := range recs {
		if rec.Code == http.StatusCreated && rec != first {
			wantReplay(t, rec, first)
		}
	}
	if runs := cr.runs.Load(); runs != 1 {
		t.Fatalf("handler ran %d times, want 1", runs)
	}
}

func TestServerError500IsNotStored(t *testing.T) {
	tests := []struct {
		name string
		fail func(c *gin.Context)
	}{
		{"written 500", func(c *gin.Context) { c.JSON(http.StatusInternalServerError, gin.H{"error": "boom"}) }},
		{"unknown error", func(c *gin.Context) { web.Fail(c, errors.New("database unreachable")) }},
		{"503 problem", func(c *gin.Context) {
			web.Fail(c, problem.Errorf(http.StatusServiceUnavailable, "unavailable", "Unavailable", "try later"))
		}},
		{"panic", func(*gin.Context) { panic("boom") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cr creator
			var calls atomic.Int64
			e := newEnv(t, envOptions{}, func(g *gin.RouterGroup) {
				g.POST("/orders", func(c *gin.Context) {
					if calls.Add(1) == 1 {
						tt.fail(c)
						return
					}
					cr.handle(c)
				})
			})

			if rec := e.post("/orders", "k-5xx", `{}`); rec.Code < 500 {
				t.Fatalf("first status = %d, want 5xx", rec.Code)
			}
			if n := e.rows(t); n != 0 {
				t.Fatalf("%d records after a 5xx, want 0", n)
			}
			retry := e.post("/orders", "k-5xx", `{}`)
			wantFirst(t, retry, http.StatusCreated)
			wantReplay(t, e.post("/orders", "k-5xx", `{}`), retry)
			if n := calls.Load(); n != 2 {
				t.Fatalf("handler ran %d times, want 2", n)
			}
		})
	}
}

var errOutOfStock = errors.New("out of stock")

// A refused request (any 4xx answer) is not recorded, whichever way the
// handler answered: built-in problems, domain errors mapped by the
// service's mapper, field errors, a status written by hand. The corrected
// request may then use the same key, and the refused one, sent again, runs
// again rather than being replayed (the IETF draft and Stripe: only a
// request the endpoint executed has a result to replay).
func TestRefused4xxIsNotRecorded(t *testing.T) {
	mapper := problem.NewMapper(problem.Mapping{Err: errOutOfStock, Status: http.StatusConflict, Slug: "out-of-stock", Title: "Out of stock"})
	tests := []struct {
		name   string
		refuse func(c *gin.Context)
		status int
	}{
		{"field errors 400", func(c *gin.Context) {
			web.Fail(c, problem.Validation(problem.Field("qty", "must be at least 1")))
		}, http.StatusBadRequest},
		{"forbidden 403", func(c *gin.Context) {
			web.Fail(c, problem.Errorf(http.StatusForbidden, "forbidden", "Forbidden", "not yours"))
		}, http.StatusForbidden},
		{"not found 404", func(c *gin.Context) {
			web.Fail(c, problem.Errorf(http.StatusNotFound, "order-not-found", "Order not found", "no order 7"))
		}, http.StatusNotFound},
		{"mapped domain error 409", func(c *gin.Context) {
			web.Fail(c, fmt.Errorf("reserve sku A: %w", errOutOfStock))
		}, http.StatusConflict},
		{"problem 422", func(c *gin.Context) {
			web.Fail(c, problem.Errorf(http.StatusUnprocessableEntity, "product-unavailable", "Unavailable", "product 7"))
		}, http.StatusUnprocessableEntity},
		{"written by hand 402", func(c *gin.Context) {
			c.JSON(http.StatusPaymentRequired, gin.H{"error": "declined"})
		}, http.StatusPaymentRequired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cr creator
			var refused atomic.Int64
			e := newEnv(t, envOptions{errors: mapper}, func(g *gin.RouterGroup) {
				g.POST("/orders", func(c *gin.Context) {
					body, _ := web.RawBody(c)
					if string(body) == `{"qty":0}` {
						refused.Add(1)
						tt.refuse(c)
						return
					}
					cr.handle(c)
				})
			})

			if rec := e.post("/orders", "k-4xx", `{"qty":0}`); rec.Code != tt.status {
				t.Fatalf("refused request: %d %s, want %d", rec.Code, rec.Body, tt.status)
			}
			if n := e.rows(t); n != 0 {
				t.Fatalf("%d records after a %d, want 0", n, tt.status)
			}
			again := e.post("/orders", "k-4xx", `{"qty":0}`)
			if again.Code != tt.status || again.Header().Get(idempotency.HeaderReplayed) != "" || refused.Load() != 2 {
				t.Fatalf("the refused request sent again: %d replayed %q, refused %d times; want %d, run again",
					again.Code, again.Header().Get(idempotency.HeaderReplayed), refused.Load(), tt.status)
			}
			corrected := e.post("/orders", "k-4xx", `{"qty":1}`)
			wantFirst(t, corrected, http.StatusCreated)
			wantReplay(t, e.post("/orders", "k-4xx", `{"qty":1}`), corrected)
			wantProblem(t, e.post("/orders", "k-4xx", `{"qty":0}`), http.StatusUnprocessableEntity, idempotency.SlugKeyReused)
		})
	}
}

// A 4xx that reports an effect the handler committed (a declined charge),
// marked with Held.Applied, is recorded and replayed like a success.
func TestApplied4xxIsRecorded(t *testing.T) {
	var runs atomic.Int64
	e := newEnv(t, envOptions{}, func(g *gin.RouterGroup) {
		g.POST("/charges", func(c *gin.Context) {
			runs.Add(1)
			held, _ := idempotency.HeldFrom(c.Request.Context())
			held.Applied() // the payment is FAILED, committed
			web.Fail(c, problem.Errorf(http.StatusPaymentRequired, "card-declined", "Card declined", "declined"))
		})
	})

	first := e.post("/charges", "k-declined", `{"card":"x"}`)
	wantProblem(t, first, http.StatusPaymentRequired, "card-declined")
	wantReplay(t, e.post("/charges", "k-declined", `{"card":"x"}`), first)
	wantProblem(t, e.post("/charges", "k-declined", `{"card":"y"}`), http.StatusUnprocessableEntity, idempotency.SlugKeyReused)
	if n := runs.Load(); n != 1 {
		t.Fatalf("handler ran %d times, want 1", n)
	}
}

func TestCreate200LargeResponseIsNotStored(t *testing.T) {
	var runs atomic.Int64
	e := newEnv(t, envOptions{cfg: idempotency.Config{MaxResponseBytes: 64}}, func(g *gin.RouterGroup) {
		g.POST("/export", func(c *gin.Context) {
			runs.Add(1)
			c.String(http.StatusOK, strings.Repeat("x", 100))
		})
	})

	for range 2 {
		rec := e.post("/export", "k-big", "")
		wantFirst(t, rec, http.StatusOK)
		if rec.Body.Len() != 100 {
			t.Fatalf("client got %d bytes, want the whole 100", rec.Body.Len())
		}
	}
	if n := runs.Load(); n != 2 {
		t.Fatalf("handler ran %d times, want 2 (the large response is not stored)", n)
	}
	if n := e.rows(t); n != 0 {
		t.Fatalf("%d records, want 0", n)
	}
}

func TestCreate201ScopesAreIndependent(t *testing.T) {
	var cr creator
	e := newEnv(t, envOptions{}, func(g *gin.RouterGroup) { g.POST("/orders", cr.handle) })

	alice := e.post("/orders", "k-shared", `{}`, headerUser, "alice")
	bob := e.post("/orders", "k-shared", `{}`, headerUser, "bob")
	anonymous := e.post("/orders", "k-shared", `{}`)
	wantFirst(t, alice, http.StatusCreated)
	wantFirst(t, bob, http.StatusCreated)
	wantFirst(t, anonymous, http.StatusCreated)
	if alice.Body.String() == bob.Body.String() {
		t.Fatalf("bob got alice's response %s", bob.Body)
	}
	wantReplay(t, e.post("/orders", "k-shared", `{}`, headerUser, "bob"), bob)
	if n := cr.runs.Load(); n != 3 {
		t.Fatalf("handler ran %d times, want 3", n)
	}
}

func TestCreate500EmptyScope(t *testing.T) {
	db := newEnv(t, envOptions{}, func(*gin.RouterGroup) {}).db
	store, err := idempotency.NewStore(db, idempotency.Config{Secret: testSecret}, nil)
	if err != nil {
		t.Fatal(err)
	}
	e, err := web.NewEngine(web.Options{Logger: testkit.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	var cr creator
	e.POST("/orders", idempotency.Middleware(store, func(*gin.Context) string { return "" }), cr.handle)

	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, request("/orders", ptr("k"), `{}`))
	wantProblem(t, rec, http.StatusInternalServerError, "internal")
	if cr.runs.Load() != 0 {
		t.Fatal("handler ran without a scope")
	}
}

func TestKeyFromGivesTheKeyToTheHandler(t *testing.T) {
	e := newEnv(t, envOptions{}, func(g *gin.RouterGroup) {
		g.POST("/orders", func(c *gin.Context) {
			key, ok := idempotency.KeyFrom(c.Request.Context())
			c.JSON(http.StatusCreated, gin.H{"key": key, "ok": ok})
		})
	})

	rec := e.post("/orders", `"k-ctx"`, `{}`)
	wantFirst(t, rec, http.StatusCreated)
	if want := `{"key":"k-ctx","ok":true}`; rec.Body.String() != want {
		t.Fatalf("body = %s, want %s", rec.Body, want)
	}
	if _, ok := idempotency.KeyFrom(context.Background()); ok {
		t.Fatal("KeyFrom found a key in a bare context")
	}
}
