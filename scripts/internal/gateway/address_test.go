package gateway_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/shop-oss/shop/scripts/internal/gateway"
)

// A client cannot choose the address that rate limits and the audit log
// see: the gateway sends the address it saw (never what the client put in
// X-Forwarded-For or X-Real-IP), and a service believes those headers only
// from the gateway's address, so sending them straight to a service changes
// nothing either.
func TestClientAddress(t *testing.T) {
	st := newStack(t, gateway.Options{}, map[string]map[string]string{"identity": {
		"SHOP_IDENTITY_LOGIN_PER_MINUTE": "3",
		"SHOP_IDENTITY_LOGIN_SLOWDOWN":   "0s",
	}})
	g := st.Gateway
	attempt := func(base string, i int) reply {
		// An unknown email: a failed login, audited, no account throttled.
		body := map[string]string{"email": fmt.Sprintf("nobody-%d@shop.local", i), "password": "not the password"}
		forged := fmt.Sprintf("203.0.113.%d", i+1)
		return do(t, "POST", base+"/api/v1/auth/login", "", body,
			"X-Forwarded-For", forged, "X-Real-IP", forged, "Forwarded", "for="+forged, "X-Request-ID", newID("addr"))
	}

	// Through the gateway: three failures, each claiming another address,
	// spend one client's budget of three a minute.
	for i := range 3 {
		if r := attempt(g.URL, i); r.status != 401 {
			t.Fatalf("login %d through the gateway: %d %s", i, r.status, r.body)
		}
	}
	r := attempt(g.URL, 3)
	if r.status != 429 || r.str(t, "type") != "urn:shop:problem:rate-limited" {
		t.Fatalf("the 4th login in a minute through the gateway: %d %s, want identity's 429", r.status, r.body)
	}
	// Straight at identity, with yet another claimed address: the same
	// client, the same spent budget.
	if r := attempt(st.URL("identity"), 4); r.status != 429 {
		t.Errorf("a login straight at identity claiming another address: %d %s, want 429", r.status, r.body)
	}

	// The audit log has the true address of each failure.
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, st.Proc("identity").DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, "SELECT client_ip FROM audit_log WHERE action = 'USER_LOGIN_FAILED'")
	if err != nil {
		t.Fatal(err)
	}
	ips, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if len(ips) != 3 {
		t.Errorf("%d failed logins audited, want 3", len(ips))
	}
	for _, ip := range ips {
		if ip != "127.0.0.1" {
			t.Errorf("audited client_ip %q, want 127.0.0.1", ip)
		}
	}

	// A catalog read straight at the service: its log has the peer.
	id := newID("direct")
	do(t, "GET", st.URL("catalog")+"/api/v1/categories", "", nil, "X-Forwarded-For", "198.51.100.1", "X-Request-ID", id)
	logLine(t, st.LogPath("catalog"), `"request_id":"`+id+`"`, `"client_ip":"127.0.0.1"`)

	// A load balancer in front of the gateway, listed as trusted: its
	// X-Forwarded-For names the client, for the gateway and the services.
	// Not listed (the default): ignored.
	behind := extraGateway(t, st, gateway.Options{Env: map[string]string{"SHOP_GATEWAY_TRUSTED_NETWORKS": "127.0.0.0/8"}})
	for _, c := range []struct {
		g    *gateway.Gateway
		want string
	}{{behind, "198.51.100.7"}, {g, "127.0.0.1"}} {
		id := newID("lb")
		// (a query of its own: not an answer from the micro-cache)
		do(t, "GET", c.g.URL+"/api/v1/categories?for="+id, "", nil, "X-Forwarded-For", "198.51.100.7", "X-Request-ID", id)
		if got := accessEntry(t, c.g, id)["client_ip"]; got != c.want {
			t.Errorf("gateway %s: client %v, want %s", c.g.URL, got, c.want)
		}
		logLine(t, st.LogPath("catalog"), `"request_id":"`+id+`"`, `"client_ip":"`+c.want+`"`)
	}
}
