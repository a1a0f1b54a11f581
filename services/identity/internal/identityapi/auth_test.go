package identityapi_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/shop-oss/shop/pkg/auth"
)

func TestRegister(t *testing.T) {
	t.Parallel()
	f := start(t, nil)
	const path = "/api/v1/auth/register"
	good := map[string]any{"email": "  Dana@Example.COM ", "password": "a long enough secret", "display_name": " Dana "}

	t.Run("register201", func(t *testing.T) {
		r := f.post(path, "", good)
		expect(t, "register", r, http.StatusCreated)
		if r.str("email") != "dana@example.com" || r.str("display_name") != "Dana" || r.str("role") != "CUSTOMER" {
			t.Errorf("user %s", r.raw)
		}
		if r.header.Get("Location") != "/api/v1/users/me" {
			t.Errorf("Location = %q", r.header.Get("Location"))
		}
		if _, filed := r.body["seller_application"]; filed {
			t.Errorf("a customer's registration filed a seller application: %s", r.raw)
		}
		// Nobody becomes a SELLER by registering: asking for it files an
		// application for an administrator to approve.
		seller := f.post(path, "", map[string]any{"email": "sam@example.com", "password": "a long enough secret",
			"display_name": "Sam", "role": "SELLER"})
		expect(t, "register seller", seller, http.StatusCreated)
		app, _ := seller.body["seller_application"].(map[string]any)
		if seller.str("role") != "CUSTOMER" || app["status"] != "PENDING" || app["user_id"] != seller.str("id") {
			t.Errorf("registration asking for SELLER: %s; want a CUSTOMER with a PENDING application", seller.raw)
		}
		if n := f.count("SELECT count(*) FROM users WHERE role = 'SELLER'"); n != 0 {
			t.Errorf("%d sellers after self-registration, want 0", n)
		}
	})
	t.Run("register409", func(t *testing.T) {
		dup := map[string]any{"email": "DANA@example.com", "password": "another long secret", "display_name": "D2"}
		expect(t, "same email, other case", f.post(path, "", dup), http.StatusConflict, "email-taken")
	})
	t.Run("register400", func(t *testing.T) {
		users := f.count("SELECT count(*) FROM users")
		audit := f.count("SELECT count(*) FROM audit_log")
		r := f.post(path, "", map[string]any{"email": "nope", "password": "qwertyuiop", "display_name": "", "role": "ADMIN"})
		expect(t, "all bad", r, http.StatusBadRequest, "validation")
		got := r.fields()
		for _, field := range []string{"email", "password", "display_name", "role"} {
			if got[field] == "" {
				t.Errorf("%s not named in %v", field, got)
			}
		}
		for name, body := range map[string]any{
			"password is the email": map[string]any{"email": "erin@example.com", "password": "Erin@Example.com", "display_name": "E"},
			"short password":        map[string]any{"email": "erin@example.com", "password": "123456789", "display_name": "E"},
			"common password":       map[string]any{"email": "erin@example.com", "password": "Password123", "display_name": "E"},
			"ADMIN by self-service": map[string]any{"email": "erin@example.com", "password": "a long enough secret", "display_name": "E", "role": "ADMIN"},
		} {
			r := f.post(path, "", body)
			expect(t, name, r, http.StatusBadRequest, "validation")
			if len(r.fields()) != 1 {
				t.Errorf("%s: fields %v, want exactly one", name, r.fields())
			}
		}
		expect(t, "unknown field", f.post(path, "", map[string]any{"email": "x@example.com", "admin": true}), http.StatusBadRequest, "validation")
		expect(t, "malformed JSON", f.post(path, "", `{"email":`), http.StatusBadRequest, "malformed-json")
		expect(t, "too large", f.post(path, "", `{"email":"`+strings.Repeat("a", 1<<20)+`"}`), http.StatusRequestEntityTooLarge)
		if f.count("SELECT count(*) FROM users") != users || f.count("SELECT count(*) FROM audit_log") != audit {
			t.Error("a refused registration wrote something")
		}
	})
}

func TestLogin(t *testing.T) {
	t.Parallel()
	f := start(t, nil)
	a := f.register("lena", "")
	const path = "/api/v1/auth/login"

	t.Run("login200", func(t *testing.T) {
		r := f.post(path, "", map[string]any{"email": " LENA@example.com", "password": a.password})
		expect(t, "login", r, http.StatusOK)
		if r.header.Get("Cache-Control") != "no-store" || r.str("token_type") != "Bearer" {
			t.Errorf("headers %v body %s", r.header, r.raw)
		}
		if exp, _ := r.body["expires_in"].(float64); exp < 890 || exp > 900 {
			t.Errorf("expires_in = %v, want about 15 min", exp)
		}
		if exp, _ := r.body["refresh_expires_in"].(float64); exp < 14*24*3600-10 || exp > 14*24*3600 {
			t.Errorf("refresh_expires_in = %v, want about 14 days", exp)
		}
		if rt := r.str("refresh_token"); len(rt) != 43 {
			t.Errorf("refresh token of %d characters, want 43 (32 bytes base64url)", len(rt))
		}
		// The access token is what pkg/auth (every service) accepts.
		p, err := f.verifier().Verify(context.Background(), r.str("access_token"))
		if err != nil {
			t.Fatalf("pkg/auth rejects identity's token: %v", err)
		}
		if p.UserID != a.id || p.Role != auth.RoleCustomer || p.TokenID == "" {
			t.Errorf("principal %+v", p)
		}
		claims := jwt.MapClaims{}
		tok, _, err := jwt.NewParser().ParseUnverified(r.str("access_token"), claims)
		if err != nil {
			t.Fatal(err)
		}
		if tok.Header["alg"] != "EdDSA" || tok.Header["kid"] != f.kid {
			t.Errorf("header %v, want EdDSA with kid %s", tok.Header, f.kid)
		}
		for _, c := range []string{"sub", "role", "gen", "iss", "aud", "exp", "iat", "nbf", "jti"} {
			if claims[c] == nil {
				t.Errorf("claim %s missing", c)
			}
		}
		if claims["iss"] != "shop-identity" || claims["aud"] != "shop" {
			t.Errorf("iss %v aud %v", claims["iss"], claims["aud"])
		}
		// And identity's own protected routes accept it.
		expect(t, "me", f.get("/api/v1/users/me", r.str("access_token")), http.StatusOK)
	})
	t.Run("login401", func(t *testing.T) {
		wrong := f.post(path, "", map[string]any{"email": a.email, "password": "not the password"})
		unknown := f.post(path, "", map[string]any{"email": "nobody@example.com", "password": "not the password"})
		expect(t, "wrong password", wrong, http.StatusUnauthorized, "invalid-credentials")
		expect(t, "unknown email", unknown, http.StatusUnauthorized, "invalid-credentials")
		if wrong.str("detail") != unknown.str("detail") || wrong.str("title") != unknown.str("title") {
			t.Errorf("answers differ: %s vs %s", wrong.raw, unknown.raw)
		}
	})
	t.Run("login400", func(t *testing.T) {
		r := f.post(path, "", map[string]any{})
		expect(t, "empty", r, http.StatusBadRequest, "validation")
		if got := r.fields(); got["email"] == "" || got["password"] == "" {
			t.Errorf("fields %v", got)
		}
	})
}

func TestRefreshRotation(t *testing.T) {
	t.Parallel()
	f := start(t, nil)
	a := f.register("rita", "")
	const path = "/api/v1/auth/refresh"

	r := f.post(path, "", map[string]any{"refresh_token": a.refresh})
	expect(t, "refresh", r, http.StatusOK)
	next := r.str("refresh_token")
	if next == a.refresh || r.str("access_token") == a.access {
		t.Fatal("refresh returned the same tokens")
	}
	if _, err := f.verifier().Verify(context.Background(), r.str("access_token")); err != nil {
		t.Fatalf("new access token: %v", err)
	}

	// The old token is spent: presenting it again is theft, and the
	// whole family, including the new token, is revoked.
	expect(t, "reuse of the rotated token", f.post(path, "", map[string]any{"refresh_token": a.refresh}),
		http.StatusUnauthorized, "invalid-refresh-token")
	expect(t, "the family's newest token", f.post(path, "", map[string]any{"refresh_token": next}),
		http.StatusUnauthorized, "invalid-refresh-token")
	if n := f.count("SELECT count(*) FROM audit_log WHERE action = 'REFRESH_TOKEN_REUSE_DETECTED' AND user_id = ?", a.id); n != 1 {
		t.Errorf("%d reuse records, want 1", n)
	}
	if n := f.count("SELECT count(*) FROM refresh_tokens WHERE user_id = ? AND revoked_at IS NULL", a.id); n != 0 {
		t.Errorf("%d live tokens after reuse, want 0", n)
	}
	// Other sessions of the user are not affected.
	b := f.login(a)
	expect(t, "another session", f.post(path, "", map[string]any{"refresh_token": b.refresh}), http.StatusOK)

	expect(t, "unknown token", f.post(path, "", map[string]any{"refresh_token": strings.Repeat("A", 43)}),
		http.StatusUnauthorized, "invalid-refresh-token")
	expect(t, "missing token", f.post(path, "", map[string]any{}), http.StatusBadRequest, "validation")

	// An expired token is refused (expire it in the database).
	c := f.login(a)
	if err := f.db.Exec("UPDATE refresh_tokens SET expires_at = now() - interval '1 second' WHERE revoked_at IS NULL AND rotated_at IS NULL AND created_at = (SELECT max(created_at) FROM refresh_tokens)").Error; err != nil {
		t.Fatal(err)
	}
	expect(t, "expired token", f.post(path, "", map[string]any{"refresh_token": c.refresh}),
		http.StatusUnauthorized, "invalid-refresh-token")
}

// Of 20 concurrent refreshes of one token exactly one gets a new pair.
func TestConcurrentRefreshOneWins(t *testing.T) {
	t.Parallel()
	f := start(t, nil)
	a := f.register("cora", "")
	const n = 20
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		statuses = map[int]int{}
		winner   string
	)
	start := make(chan struct{})
	for range n {
		wg.Go(func() {
			<-start
			r := f.post("/api/v1/auth/refresh", "", map[string]any{"refresh_token": a.refresh})
			mu.Lock()
			defer mu.Unlock()
			statuses[r.status]++
			if r.status == http.StatusOK {
				winner = r.str("access_token")
			}
		})
	}
	close(start)
	wg.Wait()
	if statuses[http.StatusOK] != 1 || statuses[http.StatusUnauthorized] != n-1 {
		t.Fatalf("statuses %v, want one 200 and %d 401", statuses, n-1)
	}
	// Exactly one new token was minted from the old one.
	if got := f.count("SELECT count(*) FROM refresh_tokens WHERE user_id = ?", a.id); got != 2 {
		t.Errorf("%d refresh tokens, want the original and one successor", got)
	}
	// The losers look like a replay of a stolen token: one reuse is
	// detected and the session revoked (clients must serialise refreshes;
	// documented in the API). The winner's access token lives on until it
	// expires.
	if got := f.count("SELECT count(*) FROM audit_log WHERE action = 'REFRESH_TOKEN_REUSE_DETECTED'"); got != 1 {
		t.Errorf("%d reuse records, want 1", got)
	}
	if _, err := f.verifier().Verify(context.Background(), winner); err != nil {
		t.Errorf("winner's access token: %v", err)
	}
}

func TestLogout(t *testing.T) {
	t.Parallel()
	f := start(t, nil)
	a := f.register("liam", "")
	b := f.login(a) // a second session

	t.Run("logout204", func(t *testing.T) {
		expect(t, "logout", f.post("/api/v1/auth/logout", "", map[string]any{"refresh_token": a.refresh}), http.StatusNoContent)
		expect(t, "refresh after logout", f.post("/api/v1/auth/refresh", "", map[string]any{"refresh_token": a.refresh}),
			http.StatusUnauthorized, "invalid-refresh-token")
		expect(t, "other session", f.post("/api/v1/auth/refresh", "", map[string]any{"refresh_token": b.refresh}), http.StatusOK)
		expect(t, "logout again", f.post("/api/v1/auth/logout", "", map[string]any{"refresh_token": a.refresh}), http.StatusNoContent)
		expect(t, "unknown token", f.post("/api/v1/auth/logout", "", map[string]any{"refresh_token": "nope"}), http.StatusNoContent)
		if n := f.count("SELECT count(*) FROM audit_log WHERE action = 'USER_LOGGED_OUT' AND user_id = ?", a.id); n != 1 {
			t.Errorf("%d logout records, want 1", n)
		}
	})
	t.Run("logout400", func(t *testing.T) {
		expect(t, "no token", f.post("/api/v1/auth/logout", "", map[string]any{}), http.StatusBadRequest, "validation")
	})
	t.Run("logoutAll204", func(t *testing.T) {
		c, d := f.login(a), f.login(a)
		expect(t, "logout-all", f.post("/api/v1/auth/logout-all", c.access, nil), http.StatusNoContent)
		for _, s := range []account{c, d} {
			expect(t, "refresh after logout-all", f.post("/api/v1/auth/refresh", "", map[string]any{"refresh_token": s.refresh}),
				http.StatusUnauthorized, "invalid-refresh-token")
		}
		if n := f.count("SELECT count(*) FROM refresh_tokens WHERE user_id = ? AND revoked_at IS NULL", a.id); n != 0 {
			t.Errorf("%d live tokens, want 0", n)
		}
	})
	t.Run("logoutAll401", func(t *testing.T) {
		r := f.post("/api/v1/auth/logout-all", "", nil)
		expect(t, "no token", r, http.StatusUnauthorized, "unauthorized")
		if r.header.Get("WWW-Authenticate") == "" {
			t.Error("no WWW-Authenticate")
		}
	})
	_ = time.Second
}
