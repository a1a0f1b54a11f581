package app_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/shop-oss/shop/pkg/fuzztest"
	"github.com/shop-oss/shop/pkg/service"
	"github.com/shop-oss/shop/pkg/testkit"
	"github.com/shop-oss/shop/services/identity/internal/app"
)

const fuzzPassword = "fuzz-password-0123456789"

func FuzzWriteRequests(f *testing.F) {
	seeds := []fuzztest.Request{
		{Name: "ok-register", Op: "POST /api/v1/auth/register", Caller: "anonymous",
			Body: `{"email":"new@example.com","password":"` + fuzzPassword + `","display_name":"New","role":"SELLER"}`},
		{Name: "ok-login", Op: "POST /api/v1/auth/login", Caller: "anonymous",
			Body: `{"email":"customer@example.com","password":"` + fuzzPassword + `"}`},
		{Name: "ok-refresh", Op: "POST /api/v1/auth/refresh", Caller: "anonymous", Body: `{"refresh_token":"$refresh"}`},
		{Name: "ok-logout", Op: "POST /api/v1/auth/logout", Caller: "anonymous", Body: `{"refresh_token":"$logout_refresh"}`},
		{Name: "ok-logout-all", Op: "POST /api/v1/auth/logout-all", Caller: "leaver"},
		{Name: "ok-update-me", Op: "PATCH /api/v1/users/me", Caller: "customer", Body: `{"display_name":"Renamed"}`},
		{Name: "ok-apply-seller", Op: "POST /api/v1/users/me/seller-application", Caller: "customer",
			Body: `{"note":"I sell socks."}`},
		{Name: "ok-change-role", Op: "PATCH /api/v1/users/{id}/role", Caller: "admin", Param: "$target", Body: `{"role":"SELLER"}`},
		{Name: "ok-disable-user", Op: "POST /api/v1/users/{id}/disable", Caller: "admin", Param: "$target",
			Body: `{"reason":"fuzz seed"}`},
		{Name: "ok-enable-user", Op: "POST /api/v1/users/{id}/enable", Caller: "admin", Param: "$target"},
		{Name: "ok-approve-application", Op: "POST /api/v1/users/seller-applications/{id}/approve", Caller: "admin", Param: "$approve"},
		{Name: "ok-reject-application", Op: "POST /api/v1/users/seller-applications/{id}/reject", Caller: "admin", Param: "$reject",
			Body: `{"reason":"not now"}`},
		{Name: "ok-dlq-replay", Op: "POST /api/v1/admin/dlq/identity/replay", Caller: "admin", Body: `{"dry_run":true}`},
		{Name: "ok-dlq-replay-one", Op: "POST /api/v1/admin/dlq/identity/{offset}/replay", Caller: "admin",
			Param: "0", Query: "dry_run=true"},
		{Name: "bad-login-long-password", Op: "POST /api/v1/auth/login", Caller: "anonymous",
			Body: fmt.Sprintf(`{"email":"customer@example.com","password":"%01100d"}`, 0)},
		{Name: "any-register-unicode", Op: "POST /api/v1/auth/register", Caller: "anonymous",
			Body: `{"email":"ÜBER@EXAMPLE.COM ","password":"pässwörd-😀-0123456789","display_name":"\u202eevil"}`},
		{Name: "any-refresh-garbage", Op: "POST /api/v1/auth/refresh", Caller: "anonymous", Body: `{"refresh_token":"a.b.c"}`},
	}
	for _, s := range seeds[:12] {
		if s.Body != "" {
			seeds = append(seeds, fuzztest.Spoiled(s)...)
		}
	}
	fuzztest.Requests(f, seeds, func(tb testing.TB) fuzztest.API {
		// Identity checks tokens against its own keys (SHOP_JWKS_URL names
		// itself), so its address is fixed before it starts.
		addr := fmt.Sprintf("127.0.0.1:%d", testkit.FreePort(tb))
		s := fuzztest.Start(tb, "identity", map[string]string{
			"SHOP_HTTP_ADDR": addr, "SHOP_JWKS_URL": "http://" + addr + "/.well-known/jwks.json",
			"SHOP_IDENTITY_BCRYPT_COST": "4", "SHOP_IDENTITY_LOGIN_SLOWDOWN": "0s",
			"SHOP_IDENTITY_LOGIN_PER_MINUTE": "100000", "SHOP_IDENTITY_REGISTER_PER_MINUTE": "100000",
			"SHOP_IDENTITY_SESSION_PER_MINUTE": "100000",
			"SHOP_IDENTITY_ADMIN_EMAIL":        "admin@example.com",
			"SHOP_IDENTITY_ADMIN_PASSWORD":     fuzzPassword,
		}, func(cfg app.Config, log io.Writer) (*service.Service, error) {
			return app.New(context.Background(), cfg, app.Options{LogOutput: log})
		})
		type tokens struct {
			Access  string `json:"access_token"`
			Refresh string `json:"refresh_token"`
		}
		login := func(email string) tokens {
			var t tokens
			s.Call(tb, http.StatusOK, "POST", "/api/v1/auth/login", "", map[string]string{"email": email, "password": fuzzPassword}, &t)
			return t
		}
		register := func(email, role string) (id, application string) {
			var u struct {
				ID                string
				SellerApplication struct{ ID string } `json:"seller_application"`
			}
			s.Call(tb, http.StatusCreated, "POST", "/api/v1/auth/register", "",
				map[string]string{"email": email, "password": fuzzPassword, "display_name": email, "role": role}, &u)
			return u.ID, u.SellerApplication.ID
		}
		register("customer@example.com", "")
		register("leaver@example.com", "")
		target, _ := register("target@example.com", "")
		_, approve := register("applicant1@example.com", "SELLER")
		_, reject := register("applicant2@example.com", "SELLER")
		customer := login("customer@example.com")
		return fuzztest.API{
			Spec: "../../api/openapi.yaml", Handler: s.Engine, Log: s.Log,
			Callers: []fuzztest.Caller{{Name: "anonymous"}, {Name: "customer", Token: customer.Access},
				{Name: "admin", Token: login("admin@example.com").Access}, {Name: "leaver", Token: login("leaver@example.com").Access}},
			Values: map[string]string{"refresh": customer.Refresh, "logout_refresh": login("customer@example.com").Refresh,
				"target": target, "approve": approve, "reject": reject},
		}
	})
}
