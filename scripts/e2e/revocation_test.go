package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/shop-oss/shop/pkg/config"
)

// revocationBound is how soon after identity answers a disable or a role
// change every service must refuse the user's older access tokens: a
// behaviour bound, polled, not a speed measurement.
const revocationBound = 2 * time.Second

// probe is what a service answers token on its ADMIN route (the DLQ list,
// which every service has): 200 for an admin, 403 for another
// authenticated user, 401 for a refused token.
func (s *shop) probe(t *testing.T, service, token string) int {
	t.Helper()
	code, _ := call(t, "GET", s.url(service)+"/api/v1/admin/dlq/"+service, token, nil)
	return code
}

// everyServiceAnswers polls until every service answers want to each token,
// or fails the test at the deadline, listing what still differs.
func (s *shop) everyServiceAnswers(t *testing.T, want int, deadline time.Time, tokens map[string]string) {
	t.Helper()
	for {
		var wrong []string
		for who, tok := range tokens {
			for _, svc := range config.ServiceNames {
				if code := s.probe(t, svc, tok); code != want {
					wrong = append(wrong, fmt.Sprintf("%s: %s answers %d", who, svc, code))
				}
			}
		}
		if len(wrong) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s after the change, want %d everywhere:\n%s", revocationBound, want, strings.Join(wrong, "\n"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// register creates a customer and returns its ID.
func (s *shop) register(t *testing.T, email, password string) string {
	t.Helper()
	out := must(t, 201, "POST", s.url("identity")+"/api/v1/auth/register", "",
		map[string]any{"email": email, "password": password, "display_name": "E2E"})
	return out["id"].(string)
}

// tokens returns an access and a refresh token.
func (s *shop) tokens(t *testing.T, email, password string) (access, refresh string) {
	t.Helper()
	out := must(t, 200, "POST", s.url("identity")+"/api/v1/auth/login", "", map[string]string{"email": email, "password": password})
	return out["access_token"].(string), out["refresh_token"].(string)
}

// Disabling a user, demoting a seller and demoting an admin make every
// service refuse their older access tokens within 2 s, with Redis up (its
// channel) and with Redis down (identity.events and each service's own
// consumer); re-enabled, the user logs in again and every service accepts
// the new token.
func TestRevocationReachesEveryService(t *testing.T) {
	s := openShop(t, nil)
	identity := s.url("identity")

	for _, redisDown := range []bool{false, true} {
		name := "redis up"
		if redisDown {
			name = "redis down"
		}
		t.Run(name, func(t *testing.T) {
			suffix := uuid.NewString()[:8]
			// A customer to disable, a seller to demote and a second admin
			// to demote, each with a token every service accepts.
			custEmail, custPass := "victim-"+suffix+"@example.com", "victim-password-"+suffix
			custID := s.register(t, custEmail, custPass)
			custToken, _ := s.tokens(t, custEmail, custPass)

			sellerEmail, sellerPass := "seller-"+suffix+"@example.com", "seller-password-"+suffix
			sellerUser := s.register(t, sellerEmail, sellerPass)
			must(t, 200, "PATCH", identity+"/api/v1/users/"+sellerUser+"/role", s.admin, map[string]any{"role": "SELLER"})
			sellerToken, sellerRefresh := s.tokens(t, sellerEmail, sellerPass)

			adminEmail, adminPass := "deputy-"+suffix+"@example.com", "deputy-password-"+suffix
			adminID := s.register(t, adminEmail, adminPass)
			must(t, 200, "PATCH", identity+"/api/v1/users/"+adminID+"/role", s.admin, map[string]any{"role": "ADMIN"})
			adminToken, _ := s.tokens(t, adminEmail, adminPass)

			s.everyServiceAnswers(t, 403, time.Now().Add(30*time.Second), map[string]string{"customer": custToken, "seller": sellerToken})
			s.everyServiceAnswers(t, 200, time.Now().Add(30*time.Second), map[string]string{"admin": adminToken})
			must(t, 201, "POST", s.url("catalog")+"/api/v1/products", sellerToken, map[string]any{
				"sku": "REV-" + suffix, "name": "Before", "price_minor": 100, "currency": "EUR", "status": "ACTIVE"})

			if redisDown {
				s.StopRedis()
			}
			must(t, 200, "POST", identity+"/api/v1/users/"+custID+"/disable", s.admin, map[string]any{"reason": "e2e"})
			must(t, 200, "PATCH", identity+"/api/v1/users/"+sellerUser+"/role", s.admin, map[string]any{"role": "CUSTOMER"})
			must(t, 200, "PATCH", identity+"/api/v1/users/"+adminID+"/role", s.admin, map[string]any{"role": "CUSTOMER"})
			deadline := time.Now().Add(revocationBound)
			s.everyServiceAnswers(t, 401, deadline, map[string]string{"disabled customer": custToken,
				"demoted seller": sellerToken, "demoted admin": adminToken})
			if code, _ := call(t, "POST", s.url("catalog")+"/api/v1/products", sellerToken, map[string]any{
				"sku": "REV2-" + suffix, "name": "After", "price_minor": 100, "currency": "EUR", "status": "ACTIVE"}); code != 401 {
				t.Errorf("demoted seller creates a product: %d, want 401", code)
			}

			// A token issued after the change works: the demoted seller's
			// refresh is a customer's, the re-enabled customer logs in.
			ref := must(t, 200, "POST", identity+"/api/v1/auth/refresh", "", map[string]any{"refresh_token": sellerRefresh})
			must(t, 200, "POST", identity+"/api/v1/users/"+custID+"/enable", s.admin, nil)
			again, _ := s.tokens(t, custEmail, custPass)
			s.everyServiceAnswers(t, 403, time.Now().Add(revocationBound), map[string]string{
				"re-enabled customer": again, "demoted seller, refreshed": ref["access_token"].(string)})
			if code, _ := call(t, "GET", s.url("order")+"/api/v1/orders/user/"+custID, again, nil); code != http.StatusOK {
				t.Errorf("re-enabled customer lists own orders: %d", code)
			}
			s.everyServiceAnswers(t, 401, time.Now(), map[string]string{"token from before the disable": custToken})
		})
	}
}
