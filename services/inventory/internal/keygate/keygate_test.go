package keygate_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/shop-oss/shop/services/inventory/internal/keygate"
)

// TestAtMostWidthHoldAKey runs many callers over one hot key and a few
// others, and records the most that ever held each key at once.
func TestAtMostWidthHoldAKey(t *testing.T) {
	for _, width := range []int{1, 2} {
		g := keygate.New(width)
		hot, cold := uuid.MustParse("00000000-0000-0000-0000-000000000001"), uuid.MustParse("00000000-0000-0000-0000-000000000002")
		var inHot, inCold, maxHot, maxCold atomic.Int32
		var wg sync.WaitGroup
		for i := range 32 {
			wg.Go(func() {
				keys := []uuid.UUID{hot}
				if i%2 == 0 {
					keys = append(keys, cold)
				}
				for range 50 {
					release, err := g.Enter(context.Background(), keys)
					if err != nil {
						t.Error(err)
						return
					}
					raise(&maxHot, inHot.Add(1))
					if len(keys) == 2 {
						raise(&maxCold, inCold.Add(1))
					}
					time.Sleep(10 * time.Microsecond)
					if len(keys) == 2 {
						inCold.Add(-1)
					}
					inHot.Add(-1)
					release()
				}
			})
		}
		wg.Wait()
		if got := maxHot.Load(); got != int32(width) {
			t.Errorf("width %d: at most %d held the hot key at once; want exactly %d", width, got, width)
		}
		if got := maxCold.Load(); got > int32(width) {
			t.Errorf("width %d: %d held the other key at once", width, got)
		}
		if n := g.Len(); n != 0 {
			t.Errorf("width %d: %d keys kept after every caller left", width, n)
		}
	}
}

func raise(m *atomic.Int32, v int32) {
	for {
		cur := m.Load()
		if v <= cur || m.CompareAndSwap(cur, v) {
			return
		}
	}
}

// TestGivingUpReleasesWhatWasTaken: a caller whose context ends while it
// waits for its second key lets go of the first, and leaves nothing behind.
func TestGivingUpReleasesWhatWasTaken(t *testing.T) {
	g := keygate.New(1)
	a, b := uuid.New(), uuid.New()
	releaseB, err := g.Enter(context.Background(), []uuid.UUID{b})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := g.Enter(ctx, []uuid.UUID{a, b}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Enter while b is held: %v; want the context's deadline", err)
	}
	// a must be free again: this would block forever otherwise.
	done := make(chan struct{})
	go func() {
		release, err := g.Enter(context.Background(), []uuid.UUID{a})
		if err == nil {
			release()
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("a is still held by the caller that gave up")
	}
	releaseB()
	if n := g.Len(); n != 0 {
		t.Errorf("%d keys kept after every caller left", n)
	}
}
