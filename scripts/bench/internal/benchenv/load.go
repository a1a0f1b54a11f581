package benchenv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Op is one operation of a load: it returns the latency to record (the
// part of its work that is measured), ErrRejected for an operation the
// service refused as it should (counted apart), or another error.
type Op func(ctx context.Context, r *rand.Rand) (time.Duration, error)

// ErrRejected is an operation the service answered with a refusal that the
// load expects (an order for stock that is not there).
var ErrRejected = errors.New("rejected")

// Result is what a load did in its measured period.
type Result struct {
	Took     time.Duration
	Lat      []time.Duration // of the successful operations, sorted
	Rejected int
	Errors   int
	LastErr  error
}

// Rate is successful operations per second.
func (r Result) Rate() float64 {
	if r.Took <= 0 {
		return 0
	}
	return float64(len(r.Lat)) / r.Took.Seconds()
}

// P is the q-th percentile (0 to 100) of the latencies.
func (r Result) P(q float64) time.Duration {
	if len(r.Lat) == 0 {
		return 0
	}
	return r.Lat[min(len(r.Lat)-1, int(float64(len(r.Lat))*q/100))]
}

// Run drives op from workers goroutines, each calling it in a loop (a
// closed loop: a worker waits for its operation before the next): first
// for warmup unmeasured, then for d measured. Operations under way at the
// end complete and count.
func Run(ctx context.Context, workers int, warmup, d time.Duration, op Op) Result {
	if warmup > 0 {
		phase(ctx, workers, warmup, op)
	}
	return phase(ctx, workers, d, op)
}

func phase(ctx context.Context, workers int, d time.Duration, op Op) Result {
	var (
		mu  sync.Mutex
		all Result
		wg  sync.WaitGroup
	)
	start := time.Now()
	deadline := start.Add(d)
	for w := range workers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
			lat := make([]time.Duration, 0, 1<<12)
			var rejected, errs int
			var last error
			for time.Now().Before(deadline) && ctx.Err() == nil {
				took, err := op(ctx, r)
				switch {
				case err == nil:
					lat = append(lat, took)
				case errors.Is(err, ErrRejected):
					rejected++
				default:
					errs++
					last = err
				}
			}
			mu.Lock()
			all.Lat = append(all.Lat, lat...)
			all.Rejected += rejected
			all.Errors += errs
			if last != nil {
				all.LastErr = last
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	all.Took = time.Since(start)
	slices.Sort(all.Lat)
	return all
}

// Get is an Op that GETs the URL url picks and requires 200, over a
// client of its own keeping up to conc connections alive (one per
// worker).
func Get(conc int, url func(r *rand.Rand) string) Op {
	client := &http.Client{Transport: &http.Transport{
		MaxIdleConns: conc, MaxIdleConnsPerHost: conc, MaxConnsPerHost: conc,
		DisableCompression: true, IdleConnTimeout: time.Minute,
	}}
	return func(ctx context.Context, r *rand.Rand) (time.Duration, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url(r), nil)
		if err != nil {
			return 0, err
		}
		start := time.Now()
		res, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			return 0, fmt.Errorf("GET %s: status %d", req.URL.Path, res.StatusCode)
		}
		return time.Since(start), nil
	}
}
