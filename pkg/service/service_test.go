package service_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"gorm.io/gorm"

	"github.com/shop-oss/shop/pkg/auth"
	"github.com/shop-oss/shop/pkg/auth/authtest"
	"github.com/shop-oss/shop/pkg/bustest"
	"github.com/shop-oss/shop/pkg/config"
	"github.com/shop-oss/shop/pkg/consumer"
	"github.com/shop-oss/shop/pkg/event"
	"github.com/shop-oss/shop/pkg/localbroker"
	"github.com/shop-oss/shop/pkg/outbox"
	"github.com/shop-oss/shop/pkg/service"
	"github.com/shop-oss/shop/pkg/testkit"
	"github.com/shop-oss/shop/proto-events/eventsv1"
)

type fixture struct {
	svc    *service.Service
	redis  *testkit.RedisServer
	broker *localbroker.Broker
	issuer *authtest.Issuer
	logs   *testkit.LogBuffer
	cancel context.CancelFunc
	done   chan error
	base   string
}

func startService(t *testing.T) *fixture {
	t.Helper()
	dsn := testkit.PostgresURL(t)
	rds := testkit.Redis(t)
	b := testkit.Broker(t)
	issuer := authtest.NewIssuer(t)

	var cfg config.Common
	err := config.Load(&cfg, "order", map[string]string{
		"SHOP_HTTP_ADDR":     "127.0.0.1:0",
		"SHOP_DATABASE_URL":  dsn,
		"SHOP_REDIS_URL":     rds.URL(),
		"SHOP_KAFKA_BROKERS": b.Addr(),
		"SHOP_JWKS_URL":      issuer.JWKSURL(),
	})
	if err != nil {
		t.Fatal(err)
	}
	logs := &testkit.LogBuffer{}
	migrations := fstest.MapFS{"0001_widgets.up.sql": {Data: []byte("CREATE TABLE widgets (id text PRIMARY KEY);")}}
	svc, err := service.New(context.Background(), cfg, service.Options{
		Migrations: migrations,
		Publishes:  []string{eventsv1.TopicOrder},
		Consumes:   []string{eventsv1.TopicOrder},
		LogOutput:  logs,
	})
	if err != nil {
		t.Fatalf("service.New: %v", err)
	}
	t.Cleanup(svc.Close)
	return &fixture{svc: svc, redis: rds, broker: b, issuer: issuer, logs: logs, base: "http://" + svc.Addr()}
}

func (f *fixture) run(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	f.cancel, f.done = cancel, make(chan error, 1)
	go func() { f.done <- f.svc.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-f.done
	})
}

func get(t *testing.T, url string, header ...string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	var out map[string]any
	_ = json.Unmarshal(body, &out)
	return res.StatusCode, out
}

func TestHealthReadinessAndMetrics(t *testing.T) {
	f := startService(t)
	f.run(t)

	if code, _ := get(t, f.base+"/healthz"); code != http.StatusOK {
		t.Fatalf("/healthz = %d", code)
	}
	code, body := get(t, f.base+"/readyz")
	if code != http.StatusOK {
		t.Fatalf("/readyz = %d %v", code, body)
	}
	checks := body["checks"].(map[string]any)
	for _, dep := range []string{"database", "redis", "broker"} {
		if checks[dep] != "ok" {
			t.Errorf("readyz %s = %v", dep, checks[dep])
		}
	}

	// Readiness really checks Redis.
	f.redis.Stop()
	code, body = get(t, f.base+"/readyz")
	if code != http.StatusServiceUnavailable || body["checks"].(map[string]any)["redis"] != "unavailable" {
		t.Fatalf("/readyz with Redis down = %d %v", code, body)
	}
	// The error's text (an address here) is logged, never shown.
	if raw, _ := json.Marshal(body); strings.Contains(string(raw), "127.0.0.1") || strings.Contains(string(raw), "dial") {
		t.Errorf("/readyz shows the error: %s", raw)
	}
	if !strings.Contains(f.logs.String(), `"check":"redis","error":"dial tcp 127.0.0.1:`) {
		t.Errorf("the failing check is not logged with its error:\n%s", f.logs)
	}
	f.redis.Start()

	// And the broker.
	f.broker.Stop()
	code, body = get(t, f.base+"/readyz")
	if code != http.StatusServiceUnavailable || body["checks"].(map[string]any)["broker"] == "ok" {
		t.Fatalf("/readyz with the broker down = %d %v", code, body)
	}
	if err := f.broker.Start(); err != nil {
		t.Fatal(err)
	}

	res, err := http.Get(f.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, name := range []string{"http_requests_total", "go_goroutines", "outbox_published_total", "consumer_retries_total"} {
		if !strings.Contains(string(metrics), name) {
			t.Errorf("/metrics lacks %s", name)
		}
	}
	// The service's own migration ran.
	if err := f.svc.DB.Exec("INSERT INTO widgets VALUES ('w1')").Error; err != nil {
		t.Fatalf("service migration not applied: %v", err)
	}
}

func TestUnknownRouteIsProblemJSONWithRequestID(t *testing.T) {
	f := startService(t)
	f.run(t)
	res, err := http.Get(f.base + "/api/v1/nothing-here")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var p map[string]any
	_ = json.NewDecoder(res.Body).Decode(&p)
	if res.StatusCode != 404 || res.Header.Get("Content-Type") != "application/problem+json" ||
		p["request_id"] != res.Header.Get("X-Request-ID") || p["request_id"] == "" {
		t.Fatalf("got %d %s %v", res.StatusCode, res.Header.Get("Content-Type"), p)
	}
}

func TestDLQAdminAPIIsAdminOnly(t *testing.T) {
	f := startService(t)
	f.run(t)
	url := f.base + "/api/v1/admin/dlq/order"
	if code, _ := get(t, url); code != http.StatusUnauthorized {
		t.Errorf("anonymous: %d", code)
	}
	customer := f.issuer.Token(t, "0190f5a8-0000-7000-8000-000000000001", auth.RoleCustomer)
	if code, _ := get(t, url, "Authorization", "Bearer "+customer); code != http.StatusForbidden {
		t.Errorf("customer: %d", code)
	}
	admin := f.issuer.Token(t, "0190f5a8-0000-7000-8000-000000000002", auth.RoleAdmin)
	code, body := get(t, url, "Authorization", "Bearer "+admin)
	if code != http.StatusOK || body["entries"] == nil {
		t.Errorf("admin: %d %v", code, body)
	}
}

// The API's per-client budget (SHOP_RATE_LIMIT_PER_MINUTE, 600 by default)
// is taken from Redis six events at a time: seven requests are two Redis
// calls, and each answer counts down the client's budget.
func TestAPIRateLimitTakesTheBudgetInBatches(t *testing.T) {
	f := startService(t)
	f.run(t)
	before := f.redis.ScriptRuns(t)
	for i := range 7 {
		res, err := http.Get(f.base + "/api/v1/admin/dlq/order")
		if err != nil {
			t.Fatal(err)
		}
		_ = res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized || res.Header.Get("RateLimit-Limit") != "600" ||
			res.Header.Get("RateLimit-Remaining") != strconv.Itoa(599-i) {
			t.Fatalf("request %d: %d, RateLimit-Limit %q, RateLimit-Remaining %q; want 401, 600, %d",
				i+1, res.StatusCode, res.Header.Get("RateLimit-Limit"), res.Header.Get("RateLimit-Remaining"), 599-i)
		}
	}
	if n := f.redis.ScriptRuns(t) - before; n != 2 {
		t.Errorf("7 requests ran %d rate-limit scripts in Redis, want 2", n)
	}
}

// SIGTERM (context cancelled): the consumer stops, and events committed just
// before are still published by the relay's last round.
func TestGracefulShutdownFlushesTheOutbox(t *testing.T) {
	f := startService(t)
	handled := make(chan struct{}, 100)
	f.svc.Consumer.Handle(eventsv1.TypeOrderCreated, func(ctx context.Context, tx *gorm.DB, e event.Event) error {
		handled <- struct{}{}
		return nil
	})
	f.run(t)

	e := bustest.OrderEvent(t, "order-1", 1)
	if err := f.svc.DB.Transaction(func(tx *gorm.DB) error { return outbox.Add(context.Background(), tx, e) }); err != nil {
		t.Fatal(err)
	}
	select {
	case <-handled:
	case <-time.After(30 * time.Second):
		t.Fatal("event not consumed")
	}

	// Commit one more and shut down at once.
	last := bustest.OrderEvent(t, "order-2", 2)
	if err := f.svc.DB.Transaction(func(tx *gorm.DB) error { return outbox.Add(context.Background(), tx, last) }); err != nil {
		t.Fatal(err)
	}
	f.cancel()
	select {
	case err := <-f.done:
		f.done <- err // for the cleanup
		if err != nil {
			t.Fatalf("Run returned %v after a clean shutdown", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("service did not stop")
	}
	var left int64
	f.svc.DB.Raw("SELECT count(*) FROM outbox").Scan(&left)
	if left != 0 {
		t.Fatalf("%d events left unpublished at shutdown", left)
	}
	if !strings.Contains(f.logs.String(), `"msg":"stopped cleanly"`) {
		t.Errorf("no clean-stop log line")
	}
	// A clean stop logs no errors: statements cut short by the shutdown are
	// the shutdown, not failures.
	for _, line := range strings.Split(f.logs.String(), "\n") {
		if strings.Contains(line, `"level":"ERROR"`) {
			t.Errorf("error logged by a clean stop: %s", line)
		}
	}
	_ = consumer.Permanent
}
