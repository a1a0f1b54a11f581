package service_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/jackc/pgx/v5"

	"github.com/shop-oss/shop/pkg/auth/authtest"
	"github.com/shop-oss/shop/pkg/config"
	"github.com/shop-oss/shop/pkg/service"
	"github.com/shop-oss/shop/pkg/testkit"
)

var widgets = fstest.MapFS{"0001_widgets.up.sql": {Data: []byte("CREATE TABLE widgets (id text PRIMARY KEY);")}}

func commands() service.Commands {
	return service.Commands{Name: "order", Config: &config.Common{}, Migrations: widgets}
}

func tableExists(t *testing.T, dsn, table string) bool {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var ok bool
	if err := conn.QueryRow(context.Background(), "SELECT to_regclass($1) IS NOT NULL", table).Scan(&ok); err != nil {
		t.Fatal(err)
	}
	return ok
}

// With SHOP_DATABASE_MIGRATE off the service leaves the schema alone; the
// migrate command (the chart's Job) brings it up to date, the shared tables
// included.
func TestMigrateCommandAndMigrateOff(t *testing.T) {
	dsn := testkit.PostgresURL(t)
	rds := testkit.Redis(t)
	b := testkit.Broker(t)
	issuer := authtest.NewIssuer(t)
	environ := map[string]string{
		"SHOP_HTTP_ADDR": "127.0.0.1:0", "SHOP_DATABASE_URL": dsn, "SHOP_REDIS_URL": rds.URL(),
		"SHOP_KAFKA_BROKERS": b.Addr(), "SHOP_JWKS_URL": issuer.JWKSURL(), "SHOP_DATABASE_MIGRATE": "false",
	}
	var cfg config.Common
	if err := config.Load(&cfg, "order", environ); err != nil {
		t.Fatal(err)
	}
	// The shared tables are needed by New itself, so it fails on an
	// unmigrated database; the point is that it did not migrate.
	if svc, err := service.New(context.Background(), cfg, service.Options{Migrations: widgets, LogOutput: &testkit.LogBuffer{}}); err == nil {
		svc.Close()
	}
	if tableExists(t, dsn, "widgets") {
		t.Fatal("the service migrated with SHOP_DATABASE_MIGRATE=false")
	}

	for k, v := range environ {
		t.Setenv(k, v)
	}
	var out bytes.Buffer
	ok, err := service.RunCommand(context.Background(), []string{"migrate"}, commands(), &out)
	if !ok || err != nil {
		t.Fatalf("migrate: handled %v, %v", ok, err)
	}
	for _, table := range []string{"widgets", "outbox", "processed_events"} {
		if !tableExists(t, dsn, table) {
			t.Errorf("after migrate, table %s is missing", table)
		}
	}
	svc, err := service.New(context.Background(), cfg, service.Options{Migrations: widgets, LogOutput: &testkit.LogBuffer{}})
	if err != nil {
		t.Fatalf("service.New after migrate: %v", err)
	}
	svc.Close()
}

func TestHealthcheckCommand(t *testing.T) {
	f := startService(t)
	f.run(t)
	var out bytes.Buffer
	_, port, _ := strings.Cut(f.svc.Addr(), ":")
	t.Setenv("SHOP_HTTP_ADDR", "0.0.0.0:"+port) // as in a container: probes 127.0.0.1
	ok, err := service.RunCommand(context.Background(), []string{"healthcheck"}, commands(), &out)
	if !ok || err != nil || !strings.Contains(out.String(), "/readyz: 200 OK") {
		t.Fatalf("healthcheck of a ready service: %v, %v, %q", ok, err, out.String())
	}
	f.broker.Stop() // not ready without its broker
	_, err = service.RunCommand(context.Background(), []string{"healthcheck", f.base + "/healthz", f.base + "/readyz"}, commands(), &out)
	if err == nil || !strings.Contains(err.Error(), "/readyz: 503") || strings.Contains(err.Error(), "/healthz") {
		t.Fatalf("healthcheck with the broker down: %v", err)
	}
}

func TestSettingsAndVersionCommands(t *testing.T) {
	var out bytes.Buffer
	if ok, err := service.RunCommand(context.Background(), []string{"settings"}, commands(), &out); !ok || err != nil {
		t.Fatalf("settings: %v %v", ok, err)
	}
	for _, line := range []string{"SHOP_TOPIC_PARTITIONS=6\n", "SHOP_BROKER_SASL_MECHANISM=\n", "SHOP_DATABASE_MIGRATE=true\n"} {
		if !strings.Contains(out.String(), line) {
			t.Errorf("settings lack %q:\n%s", line, out.String())
		}
	}
	out.Reset()
	if ok, err := service.RunCommand(context.Background(), []string{"version"}, commands(), &out); !ok || err != nil || !strings.HasPrefix(out.String(), "order ") {
		t.Fatalf("version: %v %v %q", ok, err, out.String())
	}
	if ok, _ := service.RunCommand(context.Background(), []string{"seed"}, commands(), &out); ok {
		t.Fatal("seed is the service's own command")
	}
}
