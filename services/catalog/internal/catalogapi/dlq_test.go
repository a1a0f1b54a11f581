package catalogapi_test

import (
	"net/http"
	"testing"
)

// The admin DLQ API (pkg/service) is mounted in catalog too, as its
// document says: catalog consumes no topic, so its DLQ is empty and
// nothing can be replayed.
func TestAdminDLQ(t *testing.T) {
	e := newEnv(t)
	const base = "/api/v1/admin/dlq/catalog"
	if r := e.call(e.admin, http.MethodGet, base, nil); r.status != http.StatusOK || string(r.body) != `{"entries":[]}` {
		t.Fatalf("list: %d %s", r.status, r.body)
	}
	if r := e.call(e.admin, http.MethodGet, base+"/0", nil); r.status != http.StatusNotFound || r.problemType() != "dlq-entry-not-found" {
		t.Fatalf("entry 0: %d %s", r.status, r.body)
	}
	if r := e.call(e.admin, http.MethodPost, base+"/0/replay", nil); r.status != http.StatusNotFound {
		t.Fatalf("replay 0: %d %s", r.status, r.body)
	}
	r := e.call(e.admin, http.MethodPost, base+"/replay", map[string]any{"offsets": []int{0}, "dry_run": true})
	var out struct {
		Counts map[string]int `json:"counts"`
	}
	if r.decode(t, &out); r.status != http.StatusOK || out.Counts["not_found"] != 1 {
		t.Fatalf("bulk replay: %d %s", r.status, r.body)
	}
	if r := e.call(e.customer, http.MethodPost, base+"/replay", map[string]any{"offsets": []int{0}}); r.status != http.StatusForbidden {
		t.Fatalf("customer: %d", r.status)
	}
}
