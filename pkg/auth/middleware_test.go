package auth_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/shop-oss/shop/pkg/auth"
	"github.com/shop-oss/shop/pkg/auth/authtest"
	"github.com/shop-oss/shop/pkg/problem"
	"github.com/shop-oss/shop/pkg/testkit"
	"github.com/shop-oss/shop/pkg/web"
)

// whoami answers with the principal that domain code would see.
func whoami(c *gin.Context) {
	p, ok := auth.FromContext(c.Request.Context())
	if !ok {
		c.JSON(http.StatusOK, gin.H{"user": "anonymous"})
		return
	}
	c.JSON(http.StatusOK, gin.H{"user": p.UserID, "role": p.Role})
}

func newEngine(v *auth.Verifier, logs *testkit.LogBuffer) *gin.Engine {
	gin.SetMode(gin.TestMode)
	e, err := web.NewEngine(web.Options{Logger: newLogger(logs)})
	if err != nil {
		panic(err) // no trusted proxies given: cannot fail
	}
	api := e.Group("/api/v1")
	api.GET("/me", auth.Authenticate(v), whoami)
	api.GET("/admin/users", auth.Authenticate(v), auth.RequireRole(auth.RoleAdmin), whoami)
	api.GET("/products", auth.Optional(v), whoami)
	api.GET("/seller-area", auth.Optional(v), auth.RequireRole(auth.RoleSeller, auth.RoleAdmin), whoami)
	return e
}

func TestMiddleware(t *testing.T) {
	iss := authtest.NewIssuer(t)
	var logs testkit.LogBuffer
	v := newVerifier(t, iss.Config(), newLogger(&logs))
	e := newEngine(v, &logs)

	customer := iss.Token(t, alice, auth.RoleCustomer)
	admin := iss.Token(t, bob, auth.RoleAdmin)
	expiredClaims := iss.Claims(alice, auth.RoleCustomer)
	expiredClaims["exp"] = time.Now().Add(-time.Hour).Unix()
	expired := iss.Sign(t, expiredClaims)
	forged := iss.Sign(t, iss.Claims(alice, auth.RoleAdmin), authtest.ForeignKey())
	none := iss.Sign(t, iss.Claims(alice, auth.RoleAdmin), authtest.None())
	tokens := []string{customer, admin, expired, forged, none}

	cases := []struct {
		name, path, header string
		status             int
		user               string // in a 200 body
		challenge, detail  string // of a 401
	}{
		{"me200", "/api/v1/me", "Bearer " + customer, 200, alice, "", ""},
		{"me200SchemeCaseInsensitive", "/api/v1/me", "bearer " + customer, 200, alice, "", ""},
		{"me401Missing", "/api/v1/me", "", 401, "", "Bearer", "required"},
		{"me401NotBearer", "/api/v1/me", "Basic YWxpY2U6c2VjcmV0", 401, "", "Bearer", "required"},
		{"me401EmptyBearer", "/api/v1/me", "Bearer ", 401, "", "Bearer", "required"},
		{"me401Forged", "/api/v1/me", "Bearer " + forged, 401, "", `Bearer error="invalid_token"`, "invalid"},
		{"me401AlgNone", "/api/v1/me", "Bearer " + none, 401, "", `Bearer error="invalid_token"`, "invalid"},
		{"me401Expired", "/api/v1/me", "Bearer " + expired, 401, "", `Bearer error="invalid_token"`, "expired"},
		{"admin401Missing", "/api/v1/admin/users", "", 401, "", "Bearer", "required"},
		{"admin403Customer", "/api/v1/admin/users", "Bearer " + customer, 403, "", "", ""},
		{"admin200Admin", "/api/v1/admin/users", "Bearer " + admin, 200, bob, "", ""},
		{"optional200Anonymous", "/api/v1/products", "", 200, "anonymous", "", ""},
		{"optional200User", "/api/v1/products", "Bearer " + customer, 200, alice, "", ""},
		{"optional401BadToken", "/api/v1/products", "Bearer " + forged, 401, "", `Bearer error="invalid_token"`, "invalid"},
		{"optional401Expired", "/api/v1/products", "Bearer " + expired, 401, "", `Bearer error="invalid_token"`, "expired"},
		{"optionalRole401Anonymous", "/api/v1/seller-area", "", 401, "", "Bearer", "required"},
		{"optionalRole403Customer", "/api/v1/seller-area", "Bearer " + customer, 403, "", "", ""},
		{"optionalRole200Admin", "/api/v1/seller-area", "Bearer " + admin, 200, bob, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, tc.path, nil)
			if tc.header != "" {
				req.Header.Set("Authorization", tc.header)
			}
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)

			if rec.Code != tc.status {
				t.Fatalf("status = %d, want %d: %s", rec.Code, tc.status, rec.Body)
			}
			if got := rec.Header().Get("WWW-Authenticate"); got != tc.challenge {
				t.Errorf("WWW-Authenticate = %q, want %q", got, tc.challenge)
			}
			for _, tok := range tokens {
				if strings.Contains(rec.Body.String(), tok) {
					t.Errorf("response echoes a token: %s", rec.Body)
				}
			}
			if tc.status == http.StatusOK {
				var body struct{ User string }
				if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.User != tc.user {
					t.Fatalf("body = %s, want user %s", rec.Body, tc.user)
				}
				return
			}
			checkProblem(t, rec, tc.status, tc.detail)
		})
	}

	out := logs.String()
	for _, tok := range tokens {
		for _, part := range strings.Split(tok, ".") {
			if len(part) > 8 && strings.Contains(out, part) {
				t.Fatalf("logs contain (part of) a token %q:\n%s", part, out)
			}
		}
	}
	if !strings.Contains(out, `"reason":"invalid access token: bad signature"`) || !strings.Contains(out, `"reason":"invalid access token: expired"`) {
		t.Errorf("rejection reasons not logged:\n%s", out)
	}
}

func checkProblem(t *testing.T, rec *httptest.ResponseRecorder, status int, detail string) {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); ct != problem.ContentType {
		t.Errorf("Content-Type = %q", ct)
	}
	var p problem.Problem
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		t.Fatalf("body is not a problem: %v: %s", err, rec.Body)
	}
	slug := map[int]string{401: auth.SlugUnauthorized, 403: auth.SlugForbidden}[status]
	if p.Status != status || p.Type != problem.TypePrefix+slug || p.RequestID == "" {
		t.Errorf("problem = %+v", p)
	}
	if !strings.Contains(p.Detail, detail) {
		t.Errorf("detail = %q, want it to mention %q", p.Detail, detail)
	}
}

// With identity unreachable, requests are answered 401 (not 500) and a
// service keeps serving anonymous ones.
func TestMiddlewareWhileKeysUnavailable(t *testing.T) {
	iss := authtest.NewIssuer(t)
	cfg := iss.Config()
	cfg.JWKSURL = "http://" + reserveAddr(t) + authtest.JWKSPath
	var logs testkit.LogBuffer
	e := newEngine(newVerifier(t, cfg, newLogger(&logs)), &logs)

	for path, want := range map[string]int{"/api/v1/me": 401, "/api/v1/products": 401} {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("Authorization", "Bearer "+iss.Token(t, alice, auth.RoleCustomer))
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		if rec.Code != want {
			t.Fatalf("%s: status = %d, want %d", path, rec.Code, want)
		}
		checkProblem(t, rec, want, "retry")
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/products", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("anonymous: status = %d", rec.Code)
	}
}
