package identityapi_test

import (
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"

	"github.com/shop-oss/shop/pkg/event"
	"github.com/shop-oss/shop/proto-events/eventsv1"
	"github.com/shop-oss/shop/services/identity/internal/identity"
)

// Every security-relevant action leaves an audit row and an event on
// identity.events (key: the user ID, or a hash of the email for a failed
// login of an unknown email), and no password or token is ever logged.
func TestAuditTrailEventsAndLogs(t *testing.T) {
	t.Parallel()
	f, admin := adminFixture(t)
	secrets := []string{"root-password-0123", admin.access, admin.refresh}

	eve := f.register("eve", "")
	secrets = append(secrets, eve.password, eve.access, eve.refresh)
	f.post("/api/v1/auth/login", "", map[string]any{"email": eve.email, "password": "eve-wrong-password"})
	f.post("/api/v1/auth/login", "", map[string]any{"email": "ghost@example.com", "password": "ghost-password-1"})
	secrets = append(secrets, "eve-wrong-password", "ghost-password-1")

	rotated := f.post("/api/v1/auth/refresh", "", map[string]any{"refresh_token": eve.refresh})
	expect(t, "refresh", rotated, http.StatusOK)
	secrets = append(secrets, rotated.str("access_token"), rotated.str("refresh_token"))
	expect(t, "reuse", f.post("/api/v1/auth/refresh", "", map[string]any{"refresh_token": eve.refresh}), http.StatusUnauthorized)

	eve = f.login(eve)
	secrets = append(secrets, eve.access, eve.refresh)
	expect(t, "password change", f.patch("/api/v1/users/me", eve.access,
		map[string]any{"current_password": eve.password, "new_password": "eve-new-secret-42"}), http.StatusOK)
	secrets = append(secrets, "eve-new-secret-42")
	expect(t, "role change", f.patch("/api/v1/users/"+eve.id+"/role", admin.access, map[string]any{"role": "SELLER"}), http.StatusOK)
	expect(t, "disable", f.post("/api/v1/users/"+eve.id+"/disable", admin.access, map[string]any{"reason": "test"}), http.StatusOK)
	expect(t, "enable", f.post("/api/v1/users/"+eve.id+"/enable", admin.access, nil), http.StatusOK)

	// The audit log.
	wantAudit := map[string]int64{
		"USER_REGISTERED": 2, "USER_LOGIN_SUCCEEDED": 3, "USER_LOGIN_FAILED": 2, "REFRESH_TOKEN_REUSE_DETECTED": 1,
		"USER_PASSWORD_CHANGED": 1, "USER_ROLE_CHANGED": 1, "USER_DISABLED": 1, "USER_ENABLED": 1,
	}
	for action, want := range wantAudit {
		if got := f.count("SELECT count(*) FROM audit_log WHERE action = ?", action); got != want {
			t.Errorf("audit %s: %d rows, want %d", action, got, want)
		}
	}
	if n := f.count("SELECT count(*) FROM audit_log WHERE action = 'USER_ROLE_CHANGED' AND actor_id = ? AND user_id = ? AND details->>'old_role' = 'CUSTOMER' AND details->>'role' = 'SELLER'", admin.id, eve.id); n != 1 {
		t.Error("role change not recorded with actor, subject and both roles")
	}

	// The events, read back from the broker.
	events := f.events(12)
	byType := map[string][]event.Event{}
	for _, e := range events {
		byType[e.Type] = append(byType[e.Type], e)
	}
	for typ, want := range map[string]int{
		eventsv1.TypeUserRegistered: 2, eventsv1.TypeUserLoginSucceeded: 3, eventsv1.TypeUserLoginFailed: 2,
		eventsv1.TypeRefreshTokenReuseDetected: 1, eventsv1.TypeUserPasswordChanged: 1,
		eventsv1.TypeUserRoleChanged: 1, eventsv1.TypeUserDisabled: 1, eventsv1.TypeUserEnabled: 1,
	} {
		if got := len(byType[typ]); got != want {
			t.Errorf("%s: %d events, want %d", typ, got, want)
		}
	}
	for _, e := range byType[eventsv1.TypeUserLoginFailed] {
		m, err := event.DecodeAs[*eventsv1.UserLoginFailed](e)
		if err != nil {
			t.Fatal(err)
		}
		switch m.GetEmail() {
		case eve.email:
			if e.Key != eve.id || m.GetUserId() != eve.id || m.GetReason() != identity.ReasonInvalidCredentials {
				t.Errorf("failed login of eve: key %s, %v", e.Key, m)
			}
		case "ghost@example.com":
			if e.Key != identity.EmailKey("ghost@example.com") || m.GetUserId() != "" {
				t.Errorf("failed login of an unknown email: key %s, %v", e.Key, m)
			}
		default:
			t.Errorf("unexpected failed login %v", m)
		}
	}
	reuse, err := event.DecodeAs[*eventsv1.RefreshTokenReuseDetected](byType[eventsv1.TypeRefreshTokenReuseDetected][0])
	if err != nil || reuse.GetUserId() != eve.id || reuse.GetFamilyId() == "" {
		t.Errorf("reuse event %v %v", reuse, err)
	}
	role, err := event.DecodeAs[*eventsv1.UserRoleChanged](byType[eventsv1.TypeUserRoleChanged][0])
	if err != nil || role.GetOldRole() != "CUSTOMER" || role.GetNewRole() != "SELLER" || role.GetChangedBy() != admin.id ||
		role.GetTokenGeneration() != 1 {
		t.Errorf("role event %v %v", role, err)
	}
	dis, err := event.DecodeAs[*eventsv1.UserDisabled](byType[eventsv1.TypeUserDisabled][0])
	if err != nil || dis.GetUserId() != eve.id || dis.GetDisabledBy() != admin.id || dis.GetReason() != "test" ||
		dis.GetTokenGeneration() != 2 {
		t.Errorf("disable event %v %v", dis, err)
	}
	en, err := event.DecodeAs[*eventsv1.UserEnabled](byType[eventsv1.TypeUserEnabled][0])
	if err != nil || en.GetUserId() != eve.id || en.GetEnabledBy() != admin.id || en.GetRole() != "SELLER" ||
		en.GetTokenGeneration() != 3 {
		t.Errorf("enable event %v %v", en, err)
	}
	for _, e := range events {
		if e.Key == "" || (e.Type != eventsv1.TypeUserLoginFailed && e.Key != eve.id && e.Key != admin.id) {
			t.Errorf("%s keyed %q, want a user ID", e.Type, e.Key)
		}
	}

	// No secret in the logs (which are at debug level here).
	logs := f.logs.String()
	if !strings.Contains(logs, `"route":"/api/v1/auth/login"`) {
		t.Fatal("logs were not captured")
	}
	for _, s := range secrets {
		if s == "" {
			t.Fatal("a secret of the test is empty")
		}
		if strings.Contains(logs, s) {
			t.Errorf("a password or token appears in the logs: %.12s…", s)
		}
	}
	if strings.Contains(logs, "$2a$") {
		t.Error("a bcrypt hash appears in the logs")
	}
	seed := f.key.Seed()
	for _, enc := range []string{base64.StdEncoding.EncodeToString(seed), base64.RawURLEncoding.EncodeToString(seed), hex.EncodeToString(seed)} {
		if strings.Contains(logs, enc) {
			t.Error("the private signing key appears in the logs")
		}
	}
}
