package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"time"
)

// scenario is one measured load: either HTTP GETs of the URL http returns,
// or direct calls.
type scenario struct {
	name   string
	conc   int
	target string // the result the targets line reports, if any
	http   func(r *rand.Rand) string
	direct func(ctx context.Context, r *rand.Rand) error
}

type result struct {
	took    time.Duration
	lat     []time.Duration // sorted
	errors  int
	lastErr error
}

func (r result) rate() float64 {
	if r.took <= 0 {
		return 0
	}
	return float64(len(r.lat)) / r.took.Seconds()
}

func (r result) p(q float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	return r.lat[min(len(r.lat)-1, int(float64(len(r.lat))*q/100))]
}

func (r result) max() time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	return r.lat[len(r.lat)-1]
}

// run drives the scenario with conc goroutines: warm-up first, then the
// measured period. Each goroutine has its own keep-alive connection.
func (s scenario) run(ctx context.Context, warmup, duration time.Duration) result {
	client := &http.Client{Transport: &http.Transport{
		MaxIdleConns: s.conc, MaxIdleConnsPerHost: s.conc, MaxConnsPerHost: s.conc,
		DisableCompression: true, IdleConnTimeout: time.Minute,
	}}
	defer client.CloseIdleConnections()
	call := func(ctx context.Context, r *rand.Rand) error {
		if s.direct != nil {
			return s.direct(ctx, r)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.http(r), nil)
		if err != nil {
			return err
		}
		res, err := client.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d", res.StatusCode)
		}
		return nil
	}
	phase := func(d time.Duration, record bool) result {
		var mu sync.Mutex
		var all result
		deadline := time.Now().Add(d)
		start := time.Now()
		var wg sync.WaitGroup
		for w := range s.conc {
			wg.Go(func() {
				r := rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
				lat := make([]time.Duration, 0, 1<<16)
				var errs int
				var last error
				for time.Now().Before(deadline) && ctx.Err() == nil {
					t0 := time.Now()
					if err := call(ctx, r); err != nil {
						errs++
						last = err
						continue
					}
					lat = append(lat, time.Since(t0))
				}
				if record {
					mu.Lock()
					all.lat = append(all.lat, lat...)
					all.errors += errs
					if last != nil {
						all.lastErr = last
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		all.took = time.Since(start)
		return all
	}
	phase(warmup, false)
	res := phase(duration, true)
	slices.Sort(res.lat)
	if res.lastErr != nil {
		fmt.Printf("  (%s: %d errors, last: %v)\n", s.name, res.errors, res.lastErr)
	}
	return res
}

// get fetches url once and requires 200.
func get(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: status %d", url, res.StatusCode)
	}
	return nil
}
