package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shop-oss/shop/pkg/freeport"
	"github.com/shop-oss/shop/pkg/localbroker"
)

// infra is what the service needs, private to this run: a fresh database,
// a redis-server process, an in-process broker and a JWKS endpoint (with no
// keys: the benchmark calls the API anonymously).
type infra struct {
	databaseURL, redisURL, brokerAddr, jwksURL string
	closers                                    []func()
}

func (i *infra) close() {
	for j := len(i.closers) - 1; j >= 0; j-- {
		i.closers[j]()
	}
}

func startInfra(ctx context.Context, databaseURL string) (_ *infra, err error) {
	i := &infra{databaseURL: databaseURL}
	defer func() {
		if err != nil {
			i.close()
		}
	}()
	if err := recreateDatabase(ctx, databaseURL); err != nil {
		return nil, err
	}
	if i.redisURL, err = i.startRedis(); err != nil {
		return nil, err
	}
	b, err := localbroker.Start(localbroker.Config{Partitions: 6})
	if err != nil {
		return nil, err
	}
	i.closers = append(i.closers, b.Stop)
	i.brokerAddr = b.Addr()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"keys":[]}`))
	}), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	i.closers = append(i.closers, func() { _ = srv.Close() })
	i.jwksURL = "http://" + ln.Addr().String() + "/.well-known/jwks.json"
	return i, nil
}

// recreateDatabase drops and creates the database of dsn.
func recreateDatabase(ctx context.Context, dsn string) error {
	u, err := url.Parse(dsn)
	if err != nil {
		return err
	}
	name := strings.TrimPrefix(u.Path, "/")
	if name == "" || name == "postgres" {
		return fmt.Errorf("-database-url must name a scratch database, got %q", name)
	}
	admin := *u
	admin.Path = "/postgres"
	conn, err := pgx.Connect(ctx, admin.String())
	if err != nil {
		return fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	id := pgx.Identifier{name}.Sanitize()
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+id+" WITH (FORCE)"); err != nil {
		return err
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+id)
	return err
}

// startRedis runs a private redis-server on a free port, without
// persistence, stopped by close.
func (i *infra) startRedis() (string, error) {
	port, err := freeport.Get()
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "catalog-bench-redis")
	if err != nil {
		return "", err
	}
	cmd := exec.Command("redis-server", "--bind", "127.0.0.1", "--port", strconv.Itoa(port),
		"--save", "", "--appendonly", "no", "--dir", dir, "--loglevel", "warning")
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("start redis-server (make deps installs it): %w", err)
	}
	i.closers = append(i.closers, func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		_ = os.RemoveAll(dir)
	})
	addr := "127.0.0.1:" + strconv.Itoa(port)
	for deadline := time.Now().Add(10 * time.Second); ; {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			_ = c.Close()
			return "redis://" + addr + "/0", nil
		}
		if time.Now().After(deadline) {
			return "", errors.New("redis-server did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
