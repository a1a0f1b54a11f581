package service_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/shop-oss/shop/pkg/auth/authtest"
	"github.com/shop-oss/shop/pkg/config"
	"github.com/shop-oss/shop/pkg/localbroker"
	"github.com/shop-oss/shop/pkg/service"
	"github.com/shop-oss/shop/pkg/testkit"
	"github.com/shop-oss/shop/proto-events/eventsv1"
)

// A service reaches a broker that requires TLS and SASL/SCRAM from the
// SHOP_BROKER_* settings; wrong credentials stop start-up at once, saying
// which settings to check, instead of retrying until the start-up timeout.
func TestBrokerCredentialsAtStartUp(t *testing.T) {
	b, caFile := testkit.SecureBroker(t, localbroker.User{Mechanism: "SCRAM-SHA-512", Name: "shop-order", Password: "s3cret-broker-pass"})
	dsn := testkit.PostgresURL(t)
	rds := testkit.Redis(t)
	issuer := authtest.NewIssuer(t)
	start := func(t *testing.T, password string) (*service.Service, error) {
		var cfg config.Common
		err := config.Load(&cfg, "order", map[string]string{
			"SHOP_HTTP_ADDR":             "127.0.0.1:0",
			"SHOP_DATABASE_URL":          dsn,
			"SHOP_REDIS_URL":             rds.URL(),
			"SHOP_KAFKA_BROKERS":         b.Addr(),
			"SHOP_JWKS_URL":              issuer.JWKSURL(),
			"SHOP_BROKER_SASL_MECHANISM": "SCRAM-SHA-512",
			"SHOP_BROKER_SASL_USERNAME":  "shop-order",
			"SHOP_BROKER_SASL_PASSWORD":  password,
			"SHOP_BROKER_TLS_CA_FILE":    caFile,
		})
		if err != nil {
			t.Fatal(err)
		}
		return service.New(context.Background(), cfg, service.Options{
			Publishes: []string{eventsv1.TopicOrder}, Consumes: []string{eventsv1.TopicOrder},
			LogOutput: &testkit.LogBuffer{}, StartupTimeout: 20 * time.Second,
		})
	}

	t.Run("the right credentials", func(t *testing.T) {
		svc, err := start(t, "s3cret-broker-pass")
		if err != nil {
			t.Fatalf("service.New: %v", err)
		}
		t.Cleanup(svc.Close)
		f := &fixture{svc: svc, base: "http://" + svc.Addr()}
		f.run(t)
		code, body := get(t, f.base+"/readyz")
		if code != http.StatusOK || body["checks"].(map[string]any)["broker"] != "ok" {
			t.Fatalf("/readyz = %d %v", code, body)
		}
		// The consumer group's connections authenticate too: it joins.
		client := svc.Broker.Client()
		deadline := time.Now().Add(30 * time.Second)
		for {
			res, err := client.DescribeGroups(context.Background(), &kafka.DescribeGroupsRequest{GroupIDs: []string{"order"}})
			if err == nil && len(res.Groups) == 1 && len(res.Groups[0].Members) > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the consumer group did not join over SASL and TLS: %+v, %v", res, err)
			}
			time.Sleep(200 * time.Millisecond)
		}
	})

	t.Run("a wrong password", func(t *testing.T) {
		svc, err := start(t, "not-the-password")
		if err == nil {
			svc.Close()
			t.Fatal("service started with a wrong broker password")
		}
		for _, want := range []string{"refused the SASL username or password", "SHOP_BROKER_SASL_PASSWORD"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("start-up error %q does not say %q", err, want)
			}
		}
		t.Logf("start-up error: %v", err)
		if strings.Contains(err.Error(), "not available after") {
			t.Errorf("start-up waited for the timeout instead of failing at once: %v", err)
		}
	})
}
