package main

import (
	"context"
	"fmt"
	"net/url"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
)

var tpsLine = regexp.MustCompile(`tps = ([0-9.]+) \((without initial connection time|excluding connections establishing)\)`)

// pgbenchTPS runs pgbench's TPC-B-like load (scale 10, 8 clients, 2
// threads) in a scratch database and returns its TPS.
func pgbenchTPS(ctx context.Context, cfg benchConfig) (float64, error) {
	if _, err := exec.LookPath("pgbench"); err != nil {
		return 0, fmt.Errorf("pgbench not on PATH (it comes with PostgreSQL): %w", err)
	}
	dsn, drop, err := scratchDatabase(ctx, cfg.adminURL, "invbench_pgbench")
	if err != nil {
		return 0, err
	}
	defer drop()
	u, err := url.Parse(dsn)
	if err != nil {
		return 0, err
	}
	args := connArgs(u)
	if out, err := exec.CommandContext(ctx, "pgbench", append(args, "-i", "-q", "-s", "10", strings.TrimPrefix(u.Path, "/"))...).CombinedOutput(); err != nil {
		return 0, fmt.Errorf("pgbench -i: %w\n%s", err, out)
	}
	out, err := exec.CommandContext(ctx, "pgbench", append(args, "-c", "8", "-j", "2", "-T", strconv.Itoa(cfg.pgbenchSeconds),
		strings.TrimPrefix(u.Path, "/"))...).CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("pgbench: %w\n%s", err, out)
	}
	m := tpsLine.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("no tps in pgbench's output:\n%s", out)
	}
	return strconv.ParseFloat(string(m[1]), 64)
}

func connArgs(u *url.URL) []string {
	args := []string{"-h", u.Hostname()}
	if p := u.Port(); p != "" {
		args = append(args, "-p", p)
	}
	if u.User != nil {
		args = append(args, "-U", u.User.Username())
	}
	return args
}
