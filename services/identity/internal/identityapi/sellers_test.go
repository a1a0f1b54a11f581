package identityapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/shop-oss/shop/pkg/event"
	"github.com/shop-oss/shop/proto-events/eventsv1"
)

// A disabled user is re-enabled by an administrator: they log in again
// with tokens of a new generation, while the tokens they had before being
// disabled stay refused.
func TestEnable(t *testing.T) {
	t.Parallel()
	f, admin := adminFixture(t)
	u := f.register("ezra", "")
	path := "/api/v1/users/" + u.id + "/enable"

	t.Run("enable200", func(t *testing.T) {
		expect(t, "disable", f.post("/api/v1/users/"+u.id+"/disable", admin.access, map[string]any{"reason": "mistake"}), http.StatusOK)
		r := f.post(path, admin.access, nil)
		expect(t, "enable", r, http.StatusOK)
		if r.body["disabled"] != false || r.str("disabled_reason") != "" || r.str("disabled_at") != "" {
			t.Fatalf("re-enabled user %s", r.raw)
		}
		expect(t, "token from before", f.get("/api/v1/users/me", u.access), http.StatusUnauthorized, "unauthorized")
		again := f.login(u)
		expect(t, "token after", f.get("/api/v1/users/me", again.access), http.StatusOK)
		expect(t, "enable an enabled user", f.post(path, admin.access, nil), http.StatusOK)
		if n := f.count("SELECT count(*) FROM audit_log WHERE action = 'USER_ENABLED' AND user_id = ? AND actor_id = ?", u.id, admin.id); n != 1 {
			t.Errorf("%d enable records, want 1 (a no-op records nothing)", n)
		}
	})
	refusals(t, f, admin, "enable", func(id, token string) response {
		return f.post("/api/v1/users/"+id+"/enable", token, nil)
	})
	t.Run("enable401", func(t *testing.T) {
		expect(t, "anonymous", f.post(path, "", nil), http.StatusUnauthorized, "unauthorized")
	})
}

// A seller account is an application that an administrator approves:
// audited, published, and the applicant's role changes (with their older
// tokens revoked); a rejected applicant stays a customer.
func TestSellerApplications(t *testing.T) {
	t.Parallel()
	f, admin := adminFixture(t)
	const mine = "/api/v1/users/me/seller-application"
	const list = "/api/v1/users/seller-applications"
	ann := f.register("ann", "")
	bo := f.register("bo", "")

	t.Run("apply201", func(t *testing.T) {
		expect(t, "none yet", f.get(mine, ann.access), http.StatusNotFound, "seller-application-not-found")
		r := f.post(mine, ann.access, map[string]any{"note": "  hand-made lamps  "})
		expect(t, "apply", r, http.StatusCreated)
		if r.str("status") != "PENDING" || r.str("note") != "hand-made lamps" || r.str("user_id") != ann.id || r.str("email") != ann.email {
			t.Fatalf("application %s", r.raw)
		}
		again := f.post(mine, ann.access, nil)
		expect(t, "apply again", again, http.StatusOK)
		if again.str("id") != r.str("id") {
			t.Errorf("a second application while one is pending: %s", again.raw)
		}
		expect(t, "read", f.get(mine, ann.access), http.StatusOK)
		expect(t, "bo applies", f.post(mine, bo.access, nil), http.StatusCreated)
	})
	t.Run("apply400", func(t *testing.T) {
		expect(t, "long note", f.post(mine, bo.access, map[string]any{"note": strings.Repeat("x", 1001)}), http.StatusBadRequest, "validation")
	})
	t.Run("apply409", func(t *testing.T) {
		expect(t, "an admin", f.post(mine, admin.access, nil), http.StatusConflict, "already-seller")
	})
	var annApp, boApp string
	t.Run("list200", func(t *testing.T) {
		r := f.get(list, admin.access)
		expect(t, "pending", r, http.StatusOK)
		items, _ := r.body["items"].([]any)
		if len(items) != 2 {
			t.Fatalf("pending applications %s, want ann's and bo's", r.raw)
		}
		annApp = items[0].(map[string]any)["id"].(string)
		boApp = items[1].(map[string]any)["id"].(string)
		if items[0].(map[string]any)["email"] != ann.email {
			t.Errorf("oldest first: %s", r.raw)
		}
		page := f.get(list+"?limit=1", admin.access)
		expect(t, "a page", page, http.StatusOK)
		if page.str("next_cursor") == "" {
			t.Errorf("first of two pages without a cursor: %s", page.raw)
		}
	})
	t.Run("list403", func(t *testing.T) {
		expect(t, "customer", f.get(list, ann.access), http.StatusForbidden, "forbidden")
		expect(t, "customer approves", f.post(list+"/"+annApp+"/approve", bo.access, nil), http.StatusForbidden, "forbidden")
	})
	t.Run("list400", func(t *testing.T) {
		expect(t, "bad status", f.get(list+"?status=MAYBE", admin.access), http.StatusBadRequest, "validation")
		expect(t, "bad id", f.post(list+"/nope/approve", admin.access, nil), http.StatusBadRequest, "validation")
	})
	t.Run("approve200", func(t *testing.T) {
		r := f.post(list+"/"+annApp+"/approve", admin.access, nil)
		expect(t, "approve", r, http.StatusOK)
		if r.str("status") != "APPROVED" || r.str("decided_by") != admin.id || r.str("decided_at") == "" {
			t.Fatalf("approved %s", r.raw)
		}
		expect(t, "ann's customer token", f.get("/api/v1/users/me", ann.access), http.StatusUnauthorized, "unauthorized")
		ref := f.post("/api/v1/auth/refresh", "", map[string]any{"refresh_token": ann.refresh})
		expect(t, "refresh", ref, http.StatusOK)
		if u, _ := ref.body["user"].(map[string]any); u["role"] != "SELLER" {
			t.Errorf("ann after approval: %s", ref.raw)
		}
		expect(t, "approve again", f.post(list+"/"+annApp+"/approve", admin.access, nil), http.StatusConflict, "seller-application-decided")
	})
	t.Run("reject200", func(t *testing.T) {
		r := f.post(list+"/"+boApp+"/reject", admin.access, map[string]any{"reason": "no products described"})
		expect(t, "reject", r, http.StatusOK)
		if r.str("status") != "REJECTED" || r.str("reason") != "no products described" {
			t.Fatalf("rejected %s", r.raw)
		}
		expect(t, "bo is still a customer", f.get("/api/v1/users/me", bo.access), http.StatusOK)
		if me := f.get("/api/v1/users/me", bo.access); me.str("role") != "CUSTOMER" {
			t.Errorf("bo: %s", me.raw)
		}
		expect(t, "bo applies again", f.post(mine, bo.access, nil), http.StatusCreated)
	})
	t.Run("approve404", func(t *testing.T) {
		expect(t, "unknown", f.post(list+"/0190f3c4-8a7e-7b1c-9d2e-3f4a5b6c7d8e/approve", admin.access, nil),
			http.StatusNotFound, "seller-application-not-found")
	})
	t.Run("audit and events", func(t *testing.T) {
		for action, want := range map[string]int64{"SELLER_APPLICATION_SUBMITTED": 3, "SELLER_APPLICATION_APPROVED": 1,
			"SELLER_APPLICATION_REJECTED": 1, "USER_ROLE_CHANGED": 1} {
			if got := f.count("SELECT count(*) FROM audit_log WHERE action = ?", action); got != want {
				t.Errorf("audit %s: %d rows, want %d", action, got, want)
			}
		}
		byType := map[string][]event.Event{}
		for _, e := range f.events(3 + 3 + 3 + 2 + 1) { // registrations, logins, applications, decisions, role change
			byType[e.Type] = append(byType[e.Type], e)
		}
		approved, err := event.DecodeAs[*eventsv1.SellerApplicationApproved](byType[eventsv1.TypeSellerApplicationApproved][0])
		if err != nil || approved.GetApplicationId() != annApp || approved.GetUserId() != ann.id || approved.GetApprovedBy() != admin.id {
			t.Errorf("approval event %v %v", approved, err)
		}
		role, err := event.DecodeAs[*eventsv1.UserRoleChanged](byType[eventsv1.TypeUserRoleChanged][0])
		if err != nil || role.GetUserId() != ann.id || role.GetNewRole() != "SELLER" || role.GetTokenGeneration() != 1 {
			t.Errorf("role event %v %v", role, err)
		}
		rejected, err := event.DecodeAs[*eventsv1.SellerApplicationRejected](byType[eventsv1.TypeSellerApplicationRejected][0])
		if err != nil || rejected.GetReason() != "no products described" || rejected.GetRejectedBy() != admin.id {
			t.Errorf("rejection event %v %v", rejected, err)
		}
		if n := len(byType[eventsv1.TypeSellerApplicationSubmitted]); n != 3 {
			t.Errorf("%d submissions published, want 3", n)
		}
	})
}
