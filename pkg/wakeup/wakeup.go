// Package wakeup wakes requests that wait for something to change, in this
// replica and, through Redis pub/sub, in the others.
//
// It carries hints, not data: a waiter that is woken reads the database
// again, and a waiter also looks again on its own every so often, so a
// wake-up lost with Redis (down, slow, a dropped message) costs latency,
// never correctness. Long polling (a request with "Prefer: wait") is the
// use: the answer comes as soon as the state it waits for is committed,
// without the client polling the database through the API.
package wakeup

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
)

// maxBatch bounds the keys carried by one Redis message.
const maxBatch = 256

// Hub is the wake-up point of one replica. Waiters register a key with
// Wait; Notify wakes the key's waiters here at once and, once Run is
// running, in every other replica that shares the Redis channel.
type Hub struct {
	rdb     *redis.Client
	channel string
	self    string // this replica's ID: it skips its own messages
	log     *slog.Logger
	out     chan string

	mu      sync.Mutex
	waiters map[string]map[chan struct{}]struct{}

	draining  chan struct{}
	drainOnce sync.Once

	dropped prometheus.Counter
}

// New returns a hub that fans wake-ups out over the Redis channel. rdb may
// be nil (one replica, tests): then only local waiters are woken. reg may
// be nil.
func New(rdb *redis.Client, channel string, log *slog.Logger, reg prometheus.Registerer) *Hub {
	h := &Hub{
		rdb: rdb, channel: channel, self: uuid.NewString(), log: log.With("component", "wakeup", "channel", channel),
		out:      make(chan string, 4096),
		waiters:  map[string]map[chan struct{}]struct{}{},
		draining: make(chan struct{}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name:        "wakeup_dropped_total",
			Help:        "Wake-ups not sent to the other replicas (Redis slow or down); their waiters look again on their own.",
			ConstLabels: prometheus.Labels{"channel": channel},
		}),
	}
	if reg != nil {
		reg.MustRegister(h.dropped)
	}
	return h
}

// Wait registers interest in key. The channel receives (once is enough:
// it has room for one) after a Notify of key; stop unregisters. Register
// before reading the state, so that a change committed in between is not
// missed.
func (h *Hub) Wait(key string) (woken <-chan struct{}, stop func()) {
	ch := make(chan struct{}, 1)
	h.mu.Lock()
	set := h.waiters[key]
	if set == nil {
		set = map[chan struct{}]struct{}{}
		h.waiters[key] = set
	}
	set[ch] = struct{}{}
	h.mu.Unlock()
	return ch, func() {
		h.mu.Lock()
		// A key's set is dropped only when empty, so ch is in the current one.
		if set := h.waiters[key]; set != nil {
			delete(set, ch)
			if len(set) == 0 {
				delete(h.waiters, key)
			}
		}
		h.mu.Unlock()
	}
}

// Notify wakes key's waiters in this replica now and queues the key for
// the others. It never blocks: when the queue is full the wake-up is
// dropped for the other replicas (counted), whose waiters look again on
// their own.
func (h *Hub) Notify(key string) {
	h.wake(key)
	if h.rdb == nil {
		return
	}
	select {
	case h.out <- key:
	default:
		h.dropped.Inc()
	}
}

func (h *Hub) wake(key string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.waiters[key] {
		select {
		case ch <- struct{}{}:
		default: // already woken, not yet read
		}
	}
}

// Run carries wake-ups between replicas until ctx ends: it publishes what
// Notify queued, many keys to a message, and wakes local waiters for what
// the other replicas publish. Redis errors are logged and retried; they
// never stop the service. Without Redis it returns at once.
func (h *Hub) Run(ctx context.Context) error {
	if h.rdb == nil {
		return nil
	}
	var wg sync.WaitGroup
	wg.Go(func() { h.publish(ctx) })
	h.subscribe(ctx)
	wg.Wait()
	return nil
}

// A message is "<replica ID>|key1,key2,...".
func (h *Hub) publish(ctx context.Context) {
	keys := make([]string, 0, maxBatch)
	for {
		select {
		case <-ctx.Done():
			return
		case k := <-h.out:
			keys = append(keys[:0], k)
		}
	fill:
		for len(keys) < maxBatch {
			select {
			case k := <-h.out:
				keys = append(keys, k)
			default:
				break fill
			}
		}
		msg := h.self + "|" + strings.Join(keys, ",")
		if err := h.rdb.Publish(ctx, h.channel, msg).Err(); err != nil && ctx.Err() == nil {
			h.dropped.Add(float64(len(keys)))
			h.log.Debug("publish wake-ups failed", "keys", len(keys), "error", err.Error())
			// Redis is down or slow: do not spin on it.
			select {
			case <-ctx.Done():
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
}

func (h *Hub) subscribe(ctx context.Context) {
	ps := h.rdb.Subscribe(ctx, h.channel)
	defer ps.Close()
	// The channel reconnects and resubscribes by itself after a failure.
	msgs := ps.Channel(redis.WithChannelHealthCheckInterval(5 * time.Second))
	for {
		select {
		case <-ctx.Done():
			return
		case m, ok := <-msgs:
			if !ok {
				return
			}
			from, keys, found := strings.Cut(m.Payload, "|")
			if !found || from == h.self {
				continue
			}
			for k := range strings.SplitSeq(keys, ",") {
				h.wake(k)
			}
		}
	}
}

// Until calls check until it reports done, fails, or d has passed, and
// reports whether it was done. It looks again after every wake-up of key
// and at least every recheck (the safety net for lost wake-ups), and stops
// early, not done, when ctx ends or the hub drains (the service is shutting
// down: the caller answers with what it has).
func (h *Hub) Until(ctx context.Context, key string, d, recheck time.Duration, check func(context.Context) (bool, error)) (bool, error) {
	deadline := time.Now().Add(d)
	for {
		woken, stop := h.Wait(key)
		done, err := check(ctx)
		if err != nil || done {
			stop()
			return done, err
		}
		left := time.Until(deadline)
		if left <= 0 {
			stop()
			return false, nil
		}
		t := time.NewTimer(min(left, recheck))
		select {
		case <-woken:
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			stop()
			return false, ctx.Err()
		case <-h.draining:
			t.Stop()
			stop()
			return false, nil
		}
		t.Stop()
		stop()
	}
}

// Draining is closed once Drain has been called: a request that holds a
// stream open (server-sent events) ends it then, instead of holding up the
// shutdown; its client reconnects to another replica.
func (h *Hub) Draining() <-chan struct{} { return h.draining }

// Drain makes every Until return now and from now on without waiting: the
// service is shutting down, and long polls must not hold it up.
func (h *Hub) Drain() {
	h.drainOnce.Do(func() { close(h.draining) })
}
