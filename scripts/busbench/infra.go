package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"

	"github.com/jackc/pgx/v5"
	"gorm.io/gorm"

	"github.com/shop-oss/shop/pkg/broker"
	"github.com/shop-oss/shop/pkg/consumer"
	"github.com/shop-oss/shop/pkg/database"
	"github.com/shop-oss/shop/pkg/localbroker"
	"github.com/shop-oss/shop/pkg/outbox"
	"github.com/shop-oss/shop/proto-events/eventsv1"
)

var quiet = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))

func adminURL() string {
	if u := os.Getenv("SHOP_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

func pgSettings(ctx context.Context) (map[string]string, error) {
	conn, err := pgx.Connect(ctx, adminURL())
	if err != nil {
		return nil, fmt.Errorf("PostgreSQL (make deps starts it): %w", err)
	}
	defer conn.Close(ctx)
	out := map[string]string{}
	for _, name := range []string{"fsync", "synchronous_commit"} {
		var v string
		if err := conn.QueryRow(ctx, "SELECT current_setting($1)", name).Scan(&v); err != nil {
			return nil, err
		}
		out[name] = v
	}
	return out, nil
}

// env is one run's fresh database and broker.
type env struct {
	db     *gorm.DB
	dsn    string
	broker *localbroker.Broker
	cfg    broker.Config
	close  func()
}

func newEnv(ctx context.Context, withDB bool) (*env, error) {
	dir, err := os.MkdirTemp("", "busbench-broker-")
	if err != nil {
		return nil, err
	}
	b, err := localbroker.Start(localbroker.Config{DataDir: dir, Partitions: 6})
	if err != nil {
		return nil, err
	}
	e := &env{broker: b, cfg: broker.Config{Brokers: []string{b.Addr()}, Partitions: 6, Replicas: 1, ClientID: "busbench"}}
	cleanups := []func(){func() { b.Stop(); _ = os.RemoveAll(dir) }}
	e.close = func() {
		for i := len(cleanups) - 1; i >= 0; i-- {
			cleanups[i]()
		}
	}
	if err := broker.EnsureTopics(ctx, e.cfg.Client(), 1, broker.Topic{Name: eventsv1.TopicOrder, Partitions: 6},
		broker.Topic{Name: "busbench.dlq", Partitions: 1}); err != nil {
		e.close()
		return nil, err
	}
	if !withDB {
		return e, nil
	}
	name := "bench_" + randomHex(6)
	admin, err := pgx.Connect(ctx, adminURL())
	if err != nil {
		e.close()
		return nil, err
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		e.close()
		return nil, err
	}
	cleanups = append(cleanups, func() {
		c, err := pgx.Connect(context.Background(), adminURL())
		if err == nil {
			_, _ = c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			_ = c.Close(context.Background())
		}
	})
	u, _ := url.Parse(adminURL())
	u.Path = "/" + name
	e.dsn = u.String()
	for _, m := range []struct {
		fsys  fs.FS
		table string
	}{{outbox.Migrations(), outbox.MigrationsTable}, {consumer.Migrations(), consumer.MigrationsTable}} {
		if err := database.Migrate(ctx, e.dsn, m.fsys, m.table); err != nil {
			e.close()
			return nil, err
		}
	}
	e.db, err = database.Open(ctx, e.dsn, database.Pool{MaxOpen: 40, MaxIdle: 40}, quiet)
	if err != nil {
		e.close()
		return nil, err
	}
	cleanups = append(cleanups, func() { _ = database.Close(e.db) })
	// The producing service's own table, and the consuming one's effects.
	err = e.db.Exec(`CREATE TABLE orders (id text PRIMARY KEY, seq bigint NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
		CREATE TABLE effects (event_id uuid PRIMARY KEY, order_id text NOT NULL, applied int NOT NULL DEFAULT 1)`).Error
	if err != nil {
		e.close()
		return nil, err
	}
	return e, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
