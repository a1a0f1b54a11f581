package idempotency_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/shop-oss/shop/pkg/database"
	"github.com/shop-oss/shop/pkg/idempotency"
)

// A request whose process died leaves its key in flight; once the lock
// expired the next request takes it over. The old holder, should it still
// finish, can no longer store its response.
func TestCreate201ExpiredLockIsTakenOver(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	var runs atomic.Int64
	e := newEnv(t, envOptions{}, func(g *gin.RouterGroup) {
		g.POST("/orders", func(c *gin.Context) {
			n := runs.Add(1)
			if n == 1 {
				close(entered)
				<-release
			}
			c.Header("Location", fmt.Sprintf("/orders/%d", n))
			c.JSON(http.StatusCreated, gin.H{"run": n})
		})
	})

	done := make(chan *httptest.ResponseRecorder)
	go func() { done <- e.post("/orders", "k-stale", `{"qty":1}`) }()
	<-entered
	wantProblem(t, e.post("/orders", "k-stale", `{"qty":1}`), http.StatusConflict, idempotency.SlugKeyInFlight)

	e.exec(t, "UPDATE idempotency_keys SET locked_until = now() - interval '1 second'")
	// An expired lock does not make the key free for another request.
	wantProblem(t, e.post("/orders", "k-stale", `{"qty":2}`), http.StatusUnprocessableEntity, idempotency.SlugKeyReused)

	second := e.post("/orders", "k-stale", `{"qty":1}`)
	wantFirst(t, second, http.StatusCreated)
	if want := `{"run":2}`; second.Body.String() != want {
		t.Fatalf("take-over body = %s, want %s", second.Body, want)
	}

	close(release)
	if first := <-done; first.Code != http.StatusCreated || first.Body.String() != `{"run":1}` {
		t.Fatalf("stale holder answered %d %s", first.Code, first.Body)
	}
	wantReplay(t, e.post("/orders", "k-stale", `{"qty":1}`), second)
	if n := runs.Load(); n != 2 {
		t.Fatalf("handler ran %d times, want 2", n)
	}
}

func TestCreate201ExpiredRecordIsNew(t *testing.T) {
	var cr creator
	e := newEnv(t, envOptions{}, func(g *gin.RouterGroup) { g.POST("/orders", cr.handle) })

	wantFirst(t, e.post("/orders", "k-old", `{"qty":1}`), http.StatusCreated)
	e.exec(t, "UPDATE idempotency_keys SET expires_at = now() - interval '1 second'")

	// Another body would be 422 on a live record; the expired one is absent.
	fresh := e.post("/orders", "k-old", `{"qty":2}`)
	wantFirst(t, fresh, http.StatusCreated)
	wantReplay(t, e.post("/orders", "k-old", `{"qty":2}`), fresh)
	if n := cr.runs.Load(); n != 2 {
		t.Fatalf("handler ran %d times, want 2", n)
	}
	if n := e.rows(t); n != 1 {
		t.Fatalf("%d records, want 1", n)
	}
}

func TestPruneRemovesExpiredRecordsOnly(t *testing.T) {
	var cr creator
	e := newEnv(t, envOptions{cfg: idempotency.Config{PruneBatch: 2}}, func(g *gin.RouterGroup) { g.POST("/orders", cr.handle) })

	live := map[string]*httptest.ResponseRecorder{}
	for i := range 5 {
		key := fmt.Sprintf("k-%d", i)
		rec := e.post("/orders", key, `{}`)
		wantFirst(t, rec, http.StatusCreated)
		live[key] = rec
	}
	e.exec(t, "UPDATE idempotency_keys SET expires_at = now() - interval '1 minute' WHERE key IN ('k-0', 'k-1', 'k-2')")

	n, err := e.store.Prune(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Fatalf("Prune deleted %d records, want 3", n)
	}
	if left := e.rows(t); left != 2 {
		t.Fatalf("%d records left, want 2", left)
	}
	for _, key := range []string{"k-3", "k-4"} {
		wantReplay(t, e.post("/orders", key, `{}`), live[key])
	}
	if n, err := e.store.Prune(context.Background()); err != nil || n != 0 {
		t.Fatalf("second Prune = %d, %v; want 0, nil", n, err)
	}
}

// The table refuses a state off the two (a domain since migration 0002)
// and a completed record without its response (a CHECK).
func TestTheTableRefusesStatesOffTheRules(t *testing.T) {
	var cr creator
	e := newEnv(t, envOptions{}, func(g *gin.RouterGroup) { g.POST("/orders", cr.handle) })
	wantFirst(t, e.post("/orders", "k", `{}`), http.StatusCreated)
	for _, stmt := range []string{
		"UPDATE idempotency_keys SET state = 'forgotten' WHERE key = 'k'",
		"UPDATE idempotency_keys SET response_status = NULL WHERE key = 'k'",
	} {
		if err := e.db.Exec(stmt).Error; !database.IsCheckViolation(err) {
			t.Errorf("%s: %v, want a check violation", stmt, err)
		}
	}
}

func TestMetricsCountOutcomes(t *testing.T) {
	reg := prometheus.NewRegistry()
	var cr creator
	e := newEnv(t, envOptions{reg: reg}, func(g *gin.RouterGroup) { g.POST("/orders", cr.handle) })
	// A second Store on the same registry shares the counter.
	if _, err := idempotency.NewStore(e.db, idempotency.Config{Secret: testSecret}, reg); err != nil {
		t.Fatal(err)
	}

	wantFirst(t, e.post("/orders", "k-m", `{}`), http.StatusCreated)
	if rec := e.post("/orders", "k-m", `{}`); rec.Header().Get(idempotency.HeaderReplayed) != "true" {
		t.Fatalf("not replayed: %d %s", rec.Code, rec.Body)
	}
	wantProblem(t, e.post("/orders", "k-m", `{"other":1}`), http.StatusUnprocessableEntity, idempotency.SlugKeyReused)
	e.exec(t, `UPDATE idempotency_keys SET state = 'in_flight', locked_until = now() + interval '1 minute',
		response_status = NULL, response_headers = NULL, response_body = NULL`)
	wantProblem(t, e.post("/orders", "k-m", `{}`), http.StatusConflict, idempotency.SlugKeyInFlight)
	e.exec(t, "UPDATE idempotency_keys SET locked_until = now() - interval '1 second'")
	wantFirst(t, e.post("/orders", "k-m", `{}`), http.StatusCreated)

	got := outcomes(t, reg)
	for _, o := range []string{"first", "replayed", "mismatch", "conflict", "taken_over"} {
		if got[o] != 1 {
			t.Errorf("idempotency_requests_total{outcome=%q} = %v, want 1 (all: %v)", o, got[o], got)
		}
	}
}

func outcomes(t *testing.T, g prometheus.Gatherer) map[string]float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "idempotency_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "outcome" {
					out[l.GetValue()] = m.GetCounter().GetValue()
				}
			}
		}
	}
	return out
}
