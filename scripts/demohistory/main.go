// Command demohistory loads the demo shop's past into the local stack's
// databases: a few hundred orders of the demo customers over the last 30
// days, in every state, consistent across order, inventory and payment
// (scripts/internal/history). `make up` runs it after identity's and
// catalog's seeds and before inventory's; it changes nothing when the
// history is there, and refuses a stock ledger that already has movements.
//
//	go run ./scripts/demohistory [-db service=DSN ...] [-catalog deploy/demo/catalog.json]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/shop-oss/shop/pkg/config"
	"github.com/shop-oss/shop/scripts/internal/history"
)

type dsnFlags map[string]string

func (d dsnFlags) String() string { return fmt.Sprint(map[string]string(d)) }
func (d dsnFlags) Set(v string) error {
	k, dsn, ok := strings.Cut(v, "=")
	if !ok || dsn == "" {
		return fmt.Errorf("%q: want service=DSN", v)
	}
	d[k] = dsn
	return nil
}

func main() {
	dsns := dsnFlags{}
	flag.Var(dsns, "db", "service=DSN: a service's database (default: the local stack's, as the service would use it)")
	catalog := flag.String("catalog", "", "the demo catalog (default: deploy/demo/catalog.json, found from the working directory up)")
	orders := flag.Int("orders", history.DefaultDemoOrders, "past orders")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := run(ctx, dsns, *catalog, *orders); err != nil {
		if errors.Is(err, history.ErrDemoSkipped) {
			fmt.Println(err)
			return
		}
		fmt.Fprintln(os.Stderr, "demohistory:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, dsns dsnFlags, catalog string, orders int) error {
	for _, name := range append([]string{"identity"}, history.Services...) {
		if dsns[name] != "" {
			continue
		}
		var c config.Common
		if err := config.Load(&c, name, config.Environ()); err != nil {
			return err
		}
		dsns[name] = c.DatabaseURL
	}
	if catalog == "" {
		var err error
		if catalog, err = findUp(filepath.Join("deploy", "demo", "catalog.json")); err != nil {
			return err
		}
	}
	o, err := history.LoadDemo(ctx, catalog, dsns["identity"])
	if err != nil {
		return err
	}
	o.Orders, o.Now = orders, time.Now()
	summary, err := history.DemoSeed(ctx, dsns, o)
	if err != nil {
		return err
	}
	fmt.Println(summary)
	return nil
}

// findUp finds rel in the working directory or the nearest parent.
func findUp(rel string) (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, rel)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		if filepath.Dir(dir) == dir {
			return "", fmt.Errorf("%s not found from the working directory up (-catalog)", rel)
		}
		dir = filepath.Dir(dir)
	}
}
