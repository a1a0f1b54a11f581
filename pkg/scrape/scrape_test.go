package scrape

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// A scrape reports what the read returned; a failed read reports none of
// its gauges, not even those it set before failing, counts the failure and
// logs it; a read that outlives the timeout sees its context end.
func TestGaugesAreReadAtScrapeTime(t *testing.T) {
	depth := prometheus.NewDesc("queue_depth", "Items.", []string{"queue"}, nil)
	var fail error
	var deadline time.Duration
	var logs bytes.Buffer
	c := New("the queues", prometheus.CounterOpts{Name: "queue_scrape_errors_total", Help: "Failed reads."}, time.Second,
		slog.New(slog.NewJSONHandler(&logs, nil)),
		func(ctx context.Context, set func(*prometheus.Desc, float64, ...string)) error {
			d, _ := ctx.Deadline()
			deadline = time.Until(d)
			set(depth, 3, "a")
			set(depth, 5, "b")
			return fail
		}, depth)
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)

	const ok = `
# HELP queue_depth Items.
# TYPE queue_depth gauge
queue_depth{queue="a"} 3
queue_depth{queue="b"} 5
# HELP queue_scrape_errors_total Failed reads.
# TYPE queue_scrape_errors_total counter
queue_scrape_errors_total 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(ok)); err != nil {
		t.Fatal(err)
	}
	if deadline <= 0 || deadline > time.Second {
		t.Errorf("the read had %v left, want at most the timeout", deadline)
	}

	fail = errors.New("broker unreachable")
	const failed = `
# HELP queue_scrape_errors_total Failed reads.
# TYPE queue_scrape_errors_total counter
queue_scrape_errors_total 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(failed)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), `"msg":"read the queues for /metrics","error":"broker unreachable"`) {
		t.Errorf("log %s: want the failed read named", logs.String())
	}
}
