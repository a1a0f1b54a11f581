package benchenv

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

// PGBench runs pgbench's TPC-B-like load (scale 10, 8 clients, 2 threads,
// for seconds) in a fresh database of the server and returns its
// transactions per second: what the server itself can do on this machine
// now. It needs pgbench on PATH (it comes with PostgreSQL).
func (e *Env) PGBench(ctx context.Context, seconds int) (float64, error) {
	if _, err := exec.LookPath("pgbench"); err != nil {
		return 0, fmt.Errorf("pgbench not on PATH (it comes with PostgreSQL): %w", err)
	}
	dsn, err := e.Database(ctx, "bench_pgbench")
	if err != nil {
		return 0, err
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return 0, err
	}
	args := []string{"-h", u.Hostname()}
	if p := u.Port(); p != "" {
		args = append(args, "-p", p)
	}
	if u.User != nil {
		args = append(args, "-U", u.User.Username())
	}
	name := strings.TrimPrefix(u.Path, "/")
	if out, err := exec.CommandContext(ctx, "pgbench", append(args, "-i", "-q", "-s", "10", name)...).CombinedOutput(); err != nil {
		return 0, fmt.Errorf("pgbench -i: %w\n%s", err, out)
	}
	out, err := exec.CommandContext(ctx, "pgbench", append(args, "-c", "8", "-j", "2", "-T", strconv.Itoa(seconds), name)...).CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("pgbench: %w\n%s", err, out)
	}
	m := tpsLine.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("no tps in pgbench's output:\n%s", out)
	}
	return strconv.ParseFloat(string(m[1]), 64)
}
