package wakeup_test

import (
	"context"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shop-oss/shop/pkg/testkit"
	"github.com/shop-oss/shop/pkg/wakeup"
)

// replica is one service replica's hub, running.
func replica(t *testing.T, url string) *wakeup.Hub {
	t.Helper()
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opts)
	h := wakeup.New(rdb, "test.wakeup", slog.New(slog.DiscardHandler), nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = h.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; rdb.Close() })
	return h
}

// subscribed waits until n hubs listen on the channel.
func subscribed(t *testing.T, url string, n int64) {
	t.Helper()
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opts)
	defer rdb.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err := rdb.PubSubNumSub(context.Background(), "test.wakeup").Result()
		if err == nil && got["test.wakeup"] == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("subscribers: %v %v, want %d", got, err, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// flag is state that a waiter checks: "has it happened yet?".
type flag struct{ set, checks atomic.Int32 }

func (f *flag) check(context.Context) (bool, error) {
	f.checks.Add(1)
	return f.set.Load() == 1, nil
}

// waitFor runs h.Until for key in the background; the recheck is an hour,
// so only a wake-up (or the end of d) ends the wait.
func waitFor(h *wakeup.Hub, key string, d time.Duration, f *flag) chan bool {
	out := make(chan bool, 1)
	go func() {
		done, _ := h.Until(context.Background(), key, d, time.Hour, f.check)
		out <- done
	}()
	return out
}

// settle lets a waiter reach its wait (its first check done).
func settle(t *testing.T, f *flag) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for f.checks.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the waiter never checked")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestNotifyWakesWaitersInEveryReplica(t *testing.T) {
	rs := testkit.Redis(t)
	a, b := replica(t, rs.URL()), replica(t, rs.URL())
	subscribed(t, rs.URL(), 2)

	var local, remote, other flag
	gotLocal := waitFor(a, "order-1", time.Minute, &local)
	gotRemote := waitFor(b, "order-1", time.Minute, &remote)
	gotOther := waitFor(b, "order-2", 2*time.Second, &other)
	settle(t, &local)
	settle(t, &remote)
	settle(t, &other)

	local.set.Store(1)
	remote.set.Store(1)
	other.set.Store(1) // changed, but nobody says so for order-2
	a.Notify("order-1")

	for name, ch := range map[string]chan bool{"same replica": gotLocal, "other replica": gotRemote} {
		select {
		case done := <-ch:
			if !done {
				t.Fatalf("%s: woken but not done", name)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("%s: never woken", name)
		}
	}
	// A wake-up of one key leaves the others' waiters waiting: order-2's
	// waiter checks once, then only at the end of its wait.
	if done := <-gotOther; !done || other.checks.Load() != 2 {
		t.Fatalf("order-2: done %v after %d checks, want done after 2 (start, end of wait)", done, other.checks.Load())
	}
}

func TestWithoutRedisWaitersLookAgainOnTheirOwn(t *testing.T) {
	rs := testkit.Redis(t)
	a := replica(t, rs.URL())
	rs.Stop()
	a.Notify("order-1") // cannot reach the others; must not block or fail

	var f flag
	out := make(chan bool, 1)
	go func() {
		done, _ := a.Until(context.Background(), "order-1", time.Minute, 20*time.Millisecond, f.check)
		out <- done
	}()
	settle(t, &f)
	f.set.Store(1) // nobody notifies: the recheck finds it
	select {
	case done := <-out:
		if !done {
			t.Fatal("not done")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the recheck never found the change")
	}
}

func TestDrainEndsWaitsAtOnce(t *testing.T) {
	h := wakeup.New(nil, "test.wakeup", slog.New(slog.DiscardHandler), nil)
	var f flag
	out := waitFor(h, "order-1", time.Hour, &f)
	settle(t, &f)
	h.Drain()
	select {
	case done := <-out:
		if done {
			t.Fatal("done without a change")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("a drained hub still waits")
	}
	// And later waits do not wait at all.
	if done, err := h.Until(context.Background(), "order-2", time.Hour, time.Hour, f.check); done || err != nil {
		t.Fatalf("after drain: %v %v", done, err)
	}
}

func TestCancelledRequestStopsWaiting(t *testing.T) {
	h := wakeup.New(nil, "test.wakeup", slog.New(slog.DiscardHandler), nil)
	ctx, cancel := context.WithCancel(context.Background())
	var f flag
	out := make(chan error, 1)
	go func() {
		_, err := h.Until(ctx, "order-1", time.Hour, time.Hour, f.check)
		out <- err
	}()
	settle(t, &f)
	cancel()
	if err := <-out; err != context.Canceled {
		t.Fatalf("err %v, want context.Canceled", err)
	}
}
