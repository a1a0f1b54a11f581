package service_test

import (
	"context"
	"net/http"
	"testing"
	"testing/fstest"
	"time"

	"github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/shop-oss/shop/pkg/auth"
	"github.com/shop-oss/shop/pkg/auth/authtest"
	"github.com/shop-oss/shop/pkg/broker"
	"github.com/shop-oss/shop/pkg/config"
	"github.com/shop-oss/shop/pkg/event"
	"github.com/shop-oss/shop/pkg/revocation"
	"github.com/shop-oss/shop/pkg/service"
	"github.com/shop-oss/shop/pkg/testkit"
	"github.com/shop-oss/shop/proto-events/eventsv1"
)

const demotedAdmin = "0190f5a8-0000-7000-8000-0000000000ad"

// startOn builds and runs a service on the given database, Redis and
// broker, and returns its base URL; it stops when stop is called or the
// test ends.
func startOn(t *testing.T, dsn, redisURL, brokerAddr string, iss *authtest.Issuer) (base string, stop func()) {
	t.Helper()
	var cfg config.Common
	err := config.Load(&cfg, "order", map[string]string{
		"SHOP_HTTP_ADDR": "127.0.0.1:0", "SHOP_DATABASE_URL": dsn, "SHOP_REDIS_URL": redisURL,
		"SHOP_KAFKA_BROKERS": brokerAddr, "SHOP_JWKS_URL": iss.JWKSURL(),
	})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := service.New(context.Background(), cfg, service.Options{
		Migrations: fstest.MapFS{"0001_widgets.up.sql": {Data: []byte("CREATE TABLE widgets (id text PRIMARY KEY);")}},
		LogOutput:  testkit.LogOutput(t),
	})
	if err != nil {
		t.Fatalf("service.New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	var stopped bool
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("shutdown: %v", err)
		}
		svc.Close()
	}
	t.Cleanup(stop)
	return "http://" + svc.Addr(), stop
}

// publishIdentityEvent writes msg to identity.events as identity's relay
// would.
func publishIdentityEvent(t *testing.T, brokerAddr, key string, msg proto.Message) {
	t.Helper()
	e, err := event.New(context.Background(), key, msg)
	if err != nil {
		t.Fatal(err)
	}
	w := broker.Config{Brokers: []string{brokerAddr}, Partitions: 6, Replicas: 1, ClientID: "test"}.Writer()
	defer w.Close()
	if err := w.WriteMessages(context.Background(), e.Message()); err != nil {
		t.Fatal(err)
	}
}

// status of GET /api/v1/admin/dlq/order (an ADMIN route) with token.
func dlqStatus(t *testing.T, base, token string) int {
	t.Helper()
	code, _ := get(t, base+"/api/v1/admin/dlq/order", "Authorization", "Bearer "+token)
	return code
}

func waitStatus(t *testing.T, what string, within time.Duration, want int, status func() int) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		got := status()
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: status %d after %s, want %d", what, got, within, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// With Redis down, a USER_ROLE_CHANGED on identity.events still revokes
// the demoted admin's old token (the consumer path). The revocation
// survives a restart on a broker that no longer has the event (the topic
// expired or compacted): the service's own table has it.
func TestRevocationsWithoutRedisAndAcrossRestarts(t *testing.T) {
	dsn := testkit.PostgresURL(t)
	rds := testkit.Redis(t)
	b := testkit.Broker(t)
	iss := authtest.NewIssuer(t)
	base, stop := startOn(t, dsn, rds.URL(), b.Addr(), iss)

	old := iss.Token(t, demotedAdmin, auth.RoleAdmin)
	if code := dlqStatus(t, base, old); code != http.StatusOK {
		t.Fatalf("admin before the change: %d", code)
	}
	rds.Stop()
	publishIdentityEvent(t, b.Addr(), demotedAdmin, &eventsv1.UserRoleChanged{UserId: demotedAdmin,
		OldRole: "ADMIN", NewRole: "CUSTOMER", TokenGeneration: 1, At: timestamppb.Now()})
	// The consumer group may still be joining: a generous bound here; the
	// 2 s bound of the whole path is the end-to-end suite's.
	waitStatus(t, "old admin token after the demotion", 30*time.Second, http.StatusUnauthorized,
		func() int { return dlqStatus(t, base, old) })
	stop()

	fresh := testkit.Broker(t) // identity.events as if expired: empty
	base, _ = startOn(t, dsn, rds.URL(), fresh.Addr(), iss)
	if code := dlqStatus(t, base, old); code != http.StatusUnauthorized {
		t.Fatalf("old admin token after a restart without the event: %d, want 401", code)
	}
	c := iss.Claims(demotedAdmin, auth.RoleCustomer)
	c["gen"] = 1
	if code := dlqStatus(t, base, iss.Sign(t, c)); code != http.StatusForbidden {
		t.Fatalf("token of the new role: %d, want 403 (a customer, authenticated)", code)
	}
}

// Identity's message on the Redis channel alone revokes at once.
func TestRevocationsThroughRedis(t *testing.T) {
	rds := testkit.Redis(t)
	iss := authtest.NewIssuer(t)
	base, _ := startOn(t, testkit.PostgresURL(t), rds.URL(), testkit.Broker(t).Addr(), iss)
	old := iss.Token(t, demotedAdmin, auth.RoleAdmin)
	if code := dlqStatus(t, base, old); code != http.StatusOK {
		t.Fatalf("admin before the change: %d", code)
	}
	rdb := redis.NewClient(&redis.Options{Addr: rds.Addr()})
	defer rdb.Close()
	// The feed subscribes as the service starts; publish until it listens.
	r := auth.Revocation{UserID: demotedAdmin, Generation: 1, Until: time.Now().Add(time.Hour)}
	waitStatus(t, "old admin token after the Redis message", 10*time.Second, http.StatusUnauthorized, func() int {
		if err := revocation.Publish(context.Background(), rdb, r); err != nil {
			t.Fatal(err)
		}
		return dlqStatus(t, base, old)
	})
}
