package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/shop-oss/shop/pkg/buildinfo"
	"github.com/shop-oss/shop/pkg/config"
	"github.com/shop-oss/shop/pkg/logging"
)

// Commands describe what the subcommands every service binary has need to
// know about the service.
type Commands struct {
	// Name is the service's name (identity, catalog, ...).
	Name string
	// Config points to a zero value of the service's config struct (which
	// embeds config.Common): the settings it lists are the ones the
	// service reads.
	Config any
	// Migrations are the service's own migrations.
	Migrations fs.FS
}

// CommandNames are the subcommands RunCommand handles.
var CommandNames = []string{"version", "settings", "healthcheck", "migrate"}

// RunCommand runs args when it is one of the subcommands every service
// binary has, and says whether it was:
//
//	version              print the build (version, revision, Go version)
//	settings             print the SHOP_* variables the service reads, as NAME=default lines
//	healthcheck [url...] GET each URL (default: this service's /readyz on SHOP_HTTP_ADDR);
//	                     exit 1 unless every one answers 200. For images without a shell.
//	migrate              create (SHOP_DATABASE_CREATE) and migrate the database, then exit
//
// The service's main handles every other command itself.
func RunCommand(ctx context.Context, args []string, cmds Commands, out io.Writer) (handled bool, err error) {
	if len(args) == 0 {
		return false, nil
	}
	switch args[0] {
	case "version":
		_, err := fmt.Fprintf(out, "%s %s\n", cmds.Name, buildinfo.Get())
		return true, err
	case "settings":
		return true, printSettings(cmds, out)
	case "healthcheck":
		return true, healthcheck(ctx, cmds, args[1:], out)
	case "migrate":
		return true, runMigrate(ctx, cmds)
	}
	return false, nil
}

func printSettings(cmds Commands, out io.Writer) error {
	settings, err := config.Settings(cmds.Config)
	if err != nil {
		return err
	}
	for _, s := range settings {
		if _, err := fmt.Fprintf(out, "%s=%s\n", s.Name, s.Default); err != nil {
			return err
		}
	}
	return nil
}

// healthcheck is the probe of images that have no shell or curl (compose's
// health checks, the chart's test hook).
func healthcheck(ctx context.Context, cmds Commands, urls []string, out io.Writer) error {
	if len(urls) == 0 {
		if err := config.Load(cmds.Config, cmds.Name, config.Environ()); err != nil {
			return err
		}
		host, port, _ := net.SplitHostPort(config.Of(cmds.Config).HTTPAddr) // checked by Load
		if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
			host = "127.0.0.1"
		}
		urls = []string{"http://" + net.JoinHostPort(host, port) + "/readyz"}
	}
	client := &http.Client{Timeout: 5 * time.Second}
	var errs []error
	for _, u := range urls {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		res, err := client.Do(req)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
		_ = res.Body.Close()
		if res.StatusCode != http.StatusOK {
			errs = append(errs, fmt.Errorf("%s: %s", u, res.Status))
			continue
		}
		if _, err := fmt.Fprintf(out, "%s: %s\n", u, res.Status); err != nil {
			return err
		}
	}
	return errors.Join(errs...)
}

func runMigrate(ctx context.Context, cmds Commands) error {
	if err := config.Load(cmds.Config, cmds.Name, config.Environ()); err != nil {
		return err
	}
	cfg := *config.Of(cmds.Config)
	level, err := logging.ParseLevel(cfg.LogLevel)
	if err != nil {
		return err
	}
	log := logging.New(os.Stdout, level, cfg.Service)
	if err := Migrate(ctx, cfg, cmds.Migrations, log); err != nil {
		return err
	}
	log.Info("migrated", "build", buildinfo.Get().String())
	return nil
}
