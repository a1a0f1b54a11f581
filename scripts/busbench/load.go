package main

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// load is one run's shape: producers concurrent senders, paced to rate
// events/s in total when rate > 0, else as fast as they go.
// perTx events go in each transaction (or each raw write).
type load struct {
	duration  time.Duration
	producers int
	perTx     int
	rate      int
}

func (l load) String() string {
	if l.rate > 0 {
		return fmt.Sprintf("at %d/s offered, %d/tx", l.rate, l.perTx)
	}
	return fmt.Sprintf("max, %d producers, %d/tx", l.producers, l.perTx)
}

// drive calls send from l.producers goroutines for l.duration, paced when
// l.rate > 0 (in sends/s), and returns how many events were sent.
func (l load) drive(ctx context.Context, send func(ctx context.Context, seq int64) error) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, l.duration)
	defer cancel()
	var (
		seq    atomic.Int64
		sent   atomic.Int64
		errMu  sync.Mutex
		runErr error
		wg     sync.WaitGroup
	)
	tickets := make(chan struct{}, l.producers)
	if l.rate > 0 {
		go func() {
			start := time.Now()
			for i := int64(1); ; i++ {
				next := start.Add(time.Duration(i) * time.Second / time.Duration(l.rate))
				if d := time.Until(next); d > 0 {
					select {
					case <-ctx.Done():
						close(tickets)
						return
					case <-time.After(d):
					}
				}
				select {
				case tickets <- struct{}{}:
				case <-ctx.Done():
					close(tickets)
					return
				}
			}
		}()
	}
	for range l.producers {
		wg.Go(func() {
			for ctx.Err() == nil {
				if l.rate > 0 {
					if _, ok := <-tickets; !ok {
						return
					}
				}
				if err := send(context.WithoutCancel(ctx), seq.Add(int64(l.perTx))-int64(l.perTx)+1); err != nil {
					errMu.Lock()
					runErr = err
					errMu.Unlock()
					cancel()
					return
				}
				sent.Add(int64(l.perTx))
			}
		})
	}
	wg.Wait()
	return sent.Load(), runErr
}

// result of one run.
type result struct {
	events    int64
	elapsed   time.Duration // first send to last handled
	latencies []time.Duration
	// relayed and delivered split the bus's latencies where the relay's
	// publish is acknowledged: commit → published, published → handled.
	relayed, delivered []time.Duration
	lost               int64
	doubled            int64
}

func (r result) throughput() float64 { return float64(r.events) / r.elapsed.Seconds() }

func (r result) p(q int) time.Duration { return percentile(r.latencies, q) }

// stages describes where a bus run's latency went ("" for raw runs).
func (r result) stages() string {
	if len(r.relayed) == 0 {
		return ""
	}
	return fmt.Sprintf("commit → published p50 %s p99 %s; published → handled p50 %s p99 %s",
		percentile(r.relayed, 50), percentile(r.relayed, 99), percentile(r.delivered, 50), percentile(r.delivered, 99))
}

func percentile(d []time.Duration, q int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := (len(s)*q + 99) / 100
	return s[max(0, min(len(s)-1, i-1))].Round(10 * time.Microsecond)
}

func (r result) String() string {
	return fmt.Sprintf("%d events, %.0f/s, p50 %s, p99 %s", r.events, r.throughput(), r.p(50), r.p(99))
}

// latencyLog records send and receive times by ID.
type latencyLog struct {
	mu        sync.Mutex
	sent      map[string]time.Time
	published map[string]time.Time // bus runs: when the relay's publish was acknowledged
	got       map[string]int
	lat       []time.Duration
	relayed   []time.Duration
	delivered []time.Duration
	first     time.Time
	last      time.Time
	received  chan struct{}
}

func newLatencyLog() *latencyLog {
	return &latencyLog{sent: map[string]time.Time{}, published: map[string]time.Time{}, got: map[string]int{}, received: make(chan struct{}, 1)}
}

func (l *latencyLog) markSent(id string, at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.first.IsZero() {
		l.first = at
	}
	l.sent[id] = at
}

// markPublished records when the relay's publish of an event was
// acknowledged (only the first time: a retried publish is a redelivery).
func (l *latencyLog) markPublished(id string, at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.published[id]; !ok {
		l.published[id] = at
	}
}

func (l *latencyLog) markReceived(id string, at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.got[id]++
	if l.got[id] == 1 {
		s, ok := l.sent[id]
		if ok {
			l.lat = append(l.lat, at.Sub(s))
		}
		if p, pub := l.published[id]; ok && pub {
			l.relayed = append(l.relayed, p.Sub(s))
			l.delivered = append(l.delivered, at.Sub(p))
		}
	}
	l.last = at
	select {
	case l.received <- struct{}{}:
	default:
	}
}

// wait waits until every sent ID was received (or timeout) and returns the
// result.
func (l *latencyLog) wait(events int64, timeout time.Duration) result {
	deadline := time.After(timeout)
	for {
		l.mu.Lock()
		done := int64(len(l.got)) >= events
		l.mu.Unlock()
		if done {
			break
		}
		select {
		case <-l.received:
		case <-deadline:
			return l.result(events)
		}
	}
	return l.result(events)
}

func (l *latencyLog) result(events int64) result {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := result{events: events, elapsed: l.last.Sub(l.first), latencies: l.lat, relayed: l.relayed, delivered: l.delivered}
	for id := range l.sent {
		switch n := l.got[id]; {
		case n == 0:
			r.lost++
		case n > 1:
			r.doubled++
		}
	}
	return r
}
