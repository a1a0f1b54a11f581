package identityapi_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/shop-oss/shop/pkg/auth"
)

func TestMe(t *testing.T) {
	t.Parallel()
	f := start(t, nil)
	a := f.register("mona", "")

	t.Run("me200", func(t *testing.T) {
		r := f.get("/api/v1/users/me", a.access)
		expect(t, "me", r, http.StatusOK)
		if r.str("id") != a.id || r.str("email") != a.email || r.body["disabled"] != false || r.str("last_login_at") == "" {
			t.Errorf("me = %s", r.raw)
		}
		if _, leaked := r.body["password_hash"]; leaked {
			t.Error("password hash in the answer")
		}
	})
	t.Run("me401", func(t *testing.T) {
		expect(t, "no token", f.get("/api/v1/users/me", ""), http.StatusUnauthorized, "unauthorized")
		expect(t, "garbage", f.get("/api/v1/users/me", "not.a.jwt"), http.StatusUnauthorized, "unauthorized")
	})
	t.Run("updateMe200", func(t *testing.T) {
		r := f.patch("/api/v1/users/me", a.access, map[string]any{"display_name": "  Mona L. "})
		expect(t, "rename", r, http.StatusOK)
		if r.str("display_name") != "Mona L." {
			t.Errorf("display_name = %q", r.str("display_name"))
		}
	})
	t.Run("updateMe400", func(t *testing.T) {
		for name, c := range map[string]struct {
			body  map[string]any
			field string
		}{
			"nothing":           {map[string]any{}, "display_name"},
			"blank name":        {map[string]any{"display_name": "   "}, "display_name"},
			"no current":        {map[string]any{"new_password": "a brand new secret"}, "current_password"},
			"wrong current":     {map[string]any{"current_password": "not it at all", "new_password": "a brand new secret"}, "current_password"},
			"weak new password": {map[string]any{"current_password": a.password, "new_password": "1234567890"}, "new_password"},
			"email as password": {map[string]any{"current_password": a.password, "new_password": a.email}, "new_password"},
		} {
			r := f.patch("/api/v1/users/me", a.access, c.body)
			expect(t, name, r, http.StatusBadRequest, "validation")
			if r.fields()[c.field] == "" {
				t.Errorf("%s: field %s not named in %v", name, c.field, r.fields())
			}
		}
		if n := f.count("SELECT count(*) FROM audit_log WHERE action = 'USER_PASSWORD_CHANGED'"); n != 0 {
			t.Errorf("%d password changes recorded by refused requests", n)
		}
	})
}

// A password change needs the current password, keeps the caller's
// session and ends every other.
func TestPasswordChange(t *testing.T) {
	t.Parallel()
	f := start(t, nil)
	a := f.register("paul", "")
	other := f.login(a)
	const newPassword = "paul's brand new secret"

	r := f.patch("/api/v1/users/me", a.access, map[string]any{"current_password": a.password, "new_password": newPassword})
	expect(t, "change password", r, http.StatusOK)

	expect(t, "other session", f.post("/api/v1/auth/refresh", "", map[string]any{"refresh_token": other.refresh}),
		http.StatusUnauthorized, "invalid-refresh-token")
	expect(t, "this session", f.post("/api/v1/auth/refresh", "", map[string]any{"refresh_token": a.refresh}), http.StatusOK)
	expect(t, "old password", f.post("/api/v1/auth/login", "", map[string]any{"email": a.email, "password": a.password}),
		http.StatusUnauthorized, "invalid-credentials")
	a.password = newPassword
	f.login(a)
	if n := f.count("SELECT count(*) FROM audit_log WHERE action = 'USER_PASSWORD_CHANGED' AND user_id = ?", a.id); n != 1 {
		t.Errorf("%d password-change records, want 1", n)
	}
}

// adminFixture runs identity with a first administrator from the
// configuration (SHOP_IDENTITY_ADMIN_EMAIL/PASSWORD).
func adminFixture(t *testing.T) (*fixture, account) {
	t.Helper()
	f := start(t, map[string]string{
		"SHOP_IDENTITY_ADMIN_EMAIL":    "root@example.com",
		"SHOP_IDENTITY_ADMIN_PASSWORD": "root-password-0123",
	})
	admin := f.login(account{email: "root@example.com", password: "root-password-0123"})
	me := f.get("/api/v1/users/me", admin.access)
	expect(t, "admin me", me, http.StatusOK)
	if me.str("role") != "ADMIN" {
		t.Fatalf("bootstrap admin has role %s", me.str("role"))
	}
	admin.id = me.str("id")
	return f, admin
}

func TestListUsers(t *testing.T) {
	t.Parallel()
	f, admin := adminFixture(t)
	for i := range 5 {
		f.register(fmt.Sprintf("shopper%d", i), "")
	}
	vendor := f.register("vendor", "")
	expect(t, "make a seller", f.patch("/api/v1/users/"+vendor.id+"/role", admin.access, map[string]any{"role": "SELLER"}), http.StatusOK)
	list := func(query string) response {
		t.Helper()
		return f.get("/api/v1/users"+query, admin.access)
	}
	emails := func(r response) []string {
		var out []string
		items, _ := r.body["items"].([]any)
		for _, it := range items {
			out = append(out, it.(map[string]any)["email"].(string))
		}
		return out
	}

	t.Run("list200", func(t *testing.T) {
		// Pages of 3 over 7 users: 3 + 3 + 1, in creation order, no repeats.
		var seen []string
		cursor := ""
		for page := 0; ; page++ {
			q := "?limit=3"
			if cursor != "" {
				q += "&cursor=" + url.QueryEscape(cursor)
			}
			r := list(q)
			expect(t, "page", r, http.StatusOK)
			seen = append(seen, emails(r)...)
			cursor = r.str("next_cursor")
			if cursor == "" {
				break
			}
			if page > 3 {
				t.Fatal("paging does not end")
			}
		}
		want := []string{"root@example.com", "shopper0@example.com", "shopper1@example.com", "shopper2@example.com",
			"shopper3@example.com", "shopper4@example.com", "vendor@example.com"}
		if fmt.Sprint(seen) != fmt.Sprint(want) {
			t.Errorf("pages = %v, want %v", seen, want)
		}
		if got := emails(list("?q=VEND")); fmt.Sprint(got) != "[vendor@example.com]" {
			t.Errorf("search by email, any case: %v", got)
		}
		if got := emails(list("?q=shopper3")); fmt.Sprint(got) != "[shopper3@example.com]" {
			t.Errorf("search: %v", got)
		}
		if got := emails(list("?role=SELLER")); fmt.Sprint(got) != "[vendor@example.com]" {
			t.Errorf("role filter: %v", got)
		}
		if got := emails(list("?q=" + url.QueryEscape("%"))); len(got) != 0 {
			t.Errorf("q=%% must match a literal %%, which no user has; got %v", got)
		}
	})
	t.Run("list400", func(t *testing.T) {
		expect(t, "bad cursor", list("?cursor=zzz"), http.StatusBadRequest, "validation")
		expect(t, "limit over 100", list("?limit=1000"), http.StatusBadRequest, "validation")
		expect(t, "bad role", list("?role=ROOT"), http.StatusBadRequest, "validation")
	})
	t.Run("list403", func(t *testing.T) {
		c := f.register("curious", "")
		expect(t, "customer", f.get("/api/v1/users", c.access), http.StatusForbidden, "forbidden")
	})
	t.Run("list401", func(t *testing.T) {
		expect(t, "anonymous", f.get("/api/v1/users", ""), http.StatusUnauthorized, "unauthorized")
	})
}

// A role change revokes the user's older access tokens at once in
// identity (every other service follows within seconds: the end-to-end
// suite); a refresh gets a token of the new role.
func TestChangeRole(t *testing.T) {
	t.Parallel()
	f, admin := adminFixture(t)
	u := f.register("uma", "")
	path := "/api/v1/users/" + u.id + "/role"

	t.Run("role200", func(t *testing.T) {
		r := f.patch(path, admin.access, map[string]any{"role": "SELLER"})
		expect(t, "change", r, http.StatusOK)
		if r.str("role") != "SELLER" {
			t.Fatalf("role = %s", r.str("role"))
		}
		old := f.get("/api/v1/users/me", u.access)
		expect(t, "old access token", old, http.StatusUnauthorized, "unauthorized")
		if !strings.Contains(old.str("detail"), "revoked") {
			t.Errorf("old token's answer %s does not say it was revoked", old.raw)
		}
		ref := f.post("/api/v1/auth/refresh", "", map[string]any{"refresh_token": u.refresh})
		expect(t, "refresh", ref, http.StatusOK)
		p, err := f.verifier().Verify(context.Background(), ref.str("access_token"))
		if err != nil || p.Role != auth.RoleSeller || p.Generation != 1 {
			t.Errorf("refreshed token: %+v %v, want SELLER of generation 1", p, err)
		}
		u.access = ref.str("access_token")
		expect(t, "refreshed token", f.get("/api/v1/users/me", u.access), http.StatusOK)
		again := f.patch(path, admin.access, map[string]any{"role": "SELLER"})
		expect(t, "same role again", again, http.StatusOK)
		if n := f.count("SELECT count(*) FROM audit_log WHERE action = 'USER_ROLE_CHANGED' AND user_id = ?", u.id); n != 1 {
			t.Errorf("%d role-change records, want 1 (a no-op records nothing)", n)
		}
		expect(t, "the token after the no-op", f.get("/api/v1/users/me", u.access), http.StatusOK)
	})
	t.Run("role400_bad_role", func(t *testing.T) {
		expect(t, "bad role", f.patch(path, admin.access, map[string]any{"role": "ROOT"}), http.StatusBadRequest, "validation")
	})
	refusals(t, f, admin, "role", func(id, token string) response {
		return f.patch("/api/v1/users/"+id+"/role", token, map[string]any{"role": "CUSTOMER"})
	})
	t.Run("role403_seller", func(t *testing.T) {
		expect(t, "seller", f.patch(path, u.access, map[string]any{"role": "ADMIN"}), http.StatusForbidden, "forbidden")
	})
	t.Run("role401", func(t *testing.T) {
		// A demoted admin's ADMIN token is refused, not just its admin
		// rights.
		second := f.register("deputy", "")
		expect(t, "promote", f.patch("/api/v1/users/"+second.id+"/role", admin.access, map[string]any{"role": "ADMIN"}), http.StatusOK)
		second = f.login(second)
		expect(t, "new admin", f.get("/api/v1/users", second.access), http.StatusOK)
		expect(t, "demote", f.patch("/api/v1/users/"+second.id+"/role", admin.access, map[string]any{"role": "CUSTOMER"}), http.StatusOK)
		expect(t, "demoted admin's old token", f.patch(path, second.access, map[string]any{"role": "ADMIN"}),
			http.StatusUnauthorized, "unauthorized")
	})
}

// A disabled user cannot log in or refresh, and identity stops serving
// their access tokens.
func TestDisable(t *testing.T) {
	t.Parallel()
	f, admin := adminFixture(t)
	u := f.register("dora", "")
	path := "/api/v1/users/" + u.id + "/disable"

	t.Run("disable200", func(t *testing.T) {
		r := f.post(path, admin.access, map[string]any{"reason": "chargeback fraud"})
		expect(t, "disable", r, http.StatusOK)
		if r.body["disabled"] != true || r.str("disabled_reason") != "chargeback fraud" {
			t.Fatalf("disabled user %s", r.raw)
		}
		expect(t, "login", f.post("/api/v1/auth/login", "", map[string]any{"email": u.email, "password": u.password}),
			http.StatusForbidden, "account-disabled")
		expect(t, "refresh", f.post("/api/v1/auth/refresh", "", map[string]any{"refresh_token": u.refresh}),
			http.StatusUnauthorized, "invalid-refresh-token")
		expect(t, "me with the old token", f.get("/api/v1/users/me", u.access), http.StatusUnauthorized, "unauthorized")
		expect(t, "again, no body", f.post(path, admin.access, nil), http.StatusOK)
		if n := f.count("SELECT count(*) FROM audit_log WHERE action = 'USER_DISABLED' AND user_id = ?", u.id); n != 1 {
			t.Errorf("%d disable records, want 1", n)
		}
		if n := f.count("SELECT count(*) FROM audit_log WHERE action = 'USER_LOGIN_FAILED' AND details->>'reason' = 'USER_DISABLED'"); n != 1 {
			t.Errorf("%d USER_DISABLED login failures recorded, want 1", n)
		}
	})
	t.Run("disable400_long_reason", func(t *testing.T) {
		long := make([]byte, 501)
		for i := range long {
			long[i] = 'x'
		}
		expect(t, "long reason", f.post(path, admin.access, map[string]any{"reason": string(long)}), http.StatusBadRequest, "validation")
	})
	refusals(t, f, admin, "disable", func(id, token string) response {
		return f.post("/api/v1/users/"+id+"/disable", token, nil)
	})
}
