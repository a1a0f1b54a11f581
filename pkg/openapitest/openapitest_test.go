package openapitest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
)

// recorder is a testing.TB that records errors instead of failing.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}
func (r *recorder) Helper() {}

func TestClientValidatesResponses(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v1/things/good":
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"id":"good","count":2}`)
		case "/api/v1/things/drift":
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"id":"drift","count":"two","extra":true}`)
		case "/api/v1/things/teapot":
			w.WriteHeader(http.StatusTeapot)
		default:
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"type":"urn:x","status":404}`)
		}
	}))
	defer srv.Close()
	spec := Load(t, "testdata/spec.yaml")

	for path, wantErr := range map[string]string{
		"good":    "",
		"missing": "",
		"drift":   "count",
		"teapot":  "418",
	} {
		rec := &recorder{TB: t}
		res, err := spec.Client(rec).Get(srv.URL + "/api/v1/things/" + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		switch {
		case wantErr == "" && len(rec.errs) > 0:
			t.Errorf("%s: unexpected spec errors: %v", path, rec.errs)
		case wantErr != "" && (len(rec.errs) == 0 || !strings.Contains(rec.errs[0], wantErr)):
			t.Errorf("%s: want a spec error mentioning %q, got %v", path, wantErr, rec.errs)
		}
	}
	covered := strings.Join(spec.Covered(), ",")
	if !strings.Contains(covered, "GET /api/v1/things/{id} 200") || !strings.Contains(covered, "GET /api/v1/things/{id} 404") {
		t.Errorf("coverage: %s", covered)
	}
	if ops := spec.Operations(); len(ops) != 1 || ops[0] != "GET /api/v1/things/{id}" {
		t.Errorf("operations: %v", ops)
	}
}

func TestCheckRoutesNamesUndocumentedRoutesAndUnservedOperations(t *testing.T) {
	spec := Load(t, "testdata/spec.yaml")
	served := gin.RoutesInfo{{Method: "GET", Path: "/api/v1/things/:id"}, {Method: "GET", Path: "/metrics"}}
	rec := &recorder{TB: t}
	spec.CheckRoutes(rec, served, "/metrics")
	if len(rec.errs) != 0 {
		t.Fatalf("all documented: %v", rec.errs)
	}
	served = append(served, gin.RoutesInfo{{Method: "POST", Path: "/api/v1/admin/dlq/:offset/replay"}}...)
	rec = &recorder{TB: t}
	spec.CheckRoutes(rec, served[1:])
	got := strings.Join(rec.errs, "\n")
	for _, want := range []string{
		"POST /api/v1/admin/dlq/{offset}/replay is served but not in the OpenAPI document",
		"GET /metrics is served but not in the OpenAPI document",
		"GET /api/v1/things/{id} is in the OpenAPI document but no route serves it",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("no %q in:\n%s", want, got)
		}
	}
}

// OperationsTaking finds the operations that take a header, through
// $ref'd parameters too (payment's and order's documents).
func TestOperationsTakingAHeader(t *testing.T) {
	for path, want := range map[string][]string{
		"../../services/order/api/openapi.yaml":   {"POST /api/v1/orders"},
		"../../services/payment/api/openapi.yaml": {"POST /api/v1/payments/confirm", "POST /api/v1/payments/initiate", "POST /api/v1/payments/refund"},
		"testdata/spec.yaml":                      nil,
	} {
		if got := Load(t, path).OperationsTaking("idempotency-key"); !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", path, got, want)
		}
	}
}
