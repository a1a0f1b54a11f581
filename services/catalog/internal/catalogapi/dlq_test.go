package catalogapi_test

import (
	"net/http"
	"testing"
)

// The admin DLQ routes every service has are documented and answer as
// documented: an admin lists the (empty) dead letters; a replay of an
// offset that holds none is 404; anyone else is refused.
func TestDeadLetterRoutes(t *testing.T) {
	e := newEnv(t)
	if r := e.call(e.admin, http.MethodGet, "/api/v1/admin/dlq/catalog", nil); r.status != http.StatusOK {
		t.Fatalf("list: %d %s", r.status, r.body)
	}
	if r := e.call(e.admin, http.MethodPost, "/api/v1/admin/dlq/catalog/0/replay", nil); r.status != http.StatusNotFound {
		t.Fatalf("replay of nothing: %d %s", r.status, r.body)
	}
	if r := e.call(e.seller, http.MethodGet, "/api/v1/admin/dlq/catalog", nil); r.status != http.StatusForbidden {
		t.Fatalf("a seller lists: %d %s", r.status, r.body)
	}
}
