package productcache_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/shop-oss/shop/services/order/internal/order"
	"github.com/shop-oss/shop/services/order/internal/productcache"
)

// source is a replica in memory that counts the products it was asked for.
type source struct {
	mu    sync.Mutex
	rows  map[string]order.Product
	asked []string
	// block, when set, holds a read after it has taken the rows, until
	// the channel closes.
	block chan struct{}
	fail  error
}

func (s *source) Products(_ context.Context, ids []string) (map[string]order.Product, error) {
	s.mu.Lock()
	s.asked = append(s.asked, ids...)
	out := map[string]order.Product{}
	for _, id := range ids {
		if p, ok := s.rows[id]; ok {
			out[id] = p
		}
	}
	block, fail := s.block, s.fail
	s.mu.Unlock()
	if block != nil {
		<-block
	}
	return out, fail
}

func (s *source) set(id string, version int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rows[id] = order.Product{ID: id, Version: version, Status: order.ProductActive}
}

func (s *source) reads() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.asked...)
}

func newSource() *source {
	s := &source{rows: map[string]order.Product{}}
	s.set("a", 1)
	s.set("b", 1)
	return s
}

func get(t *testing.T, c *productcache.Cache, ids ...string) map[string]order.Product {
	t.Helper()
	got, err := c.Products(context.Background(), ids)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestARowIsReadOnceWithinTheTTL(t *testing.T) {
	src := newSource()
	c := productcache.New(src, 100, time.Hour)
	get(t, c, "a")
	got := get(t, c, "a", "b")
	if len(got) != 2 || got["a"].Version != 1 || got["b"].Version != 1 {
		t.Fatalf("got %v", got)
	}
	if r := src.reads(); len(r) != 2 || r[0] != "a" || r[1] != "b" {
		t.Fatalf("the source was asked for %v, want a then only b", r)
	}
}

func TestARowIsReadAgainAfterTheTTL(t *testing.T) {
	src := newSource()
	c := productcache.New(src, 100, 20*time.Millisecond)
	get(t, c, "a")
	src.set("a", 2)
	deadline := time.Now().Add(5 * time.Second)
	for get(t, c, "a")["a"].Version != 2 {
		if time.Now().After(deadline) {
			t.Fatal("the cache kept the row past its TTL")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestAProductTheReplicaLacksIsNotRemembered(t *testing.T) {
	src := newSource()
	c := productcache.New(src, 100, time.Hour)
	if got := get(t, c, "new"); len(got) != 0 {
		t.Fatalf("got %v", got)
	}
	src.set("new", 1) // its PRODUCT_UPSERTED arrives
	if got := get(t, c, "new"); got["new"].Version != 1 {
		t.Fatalf("a product that arrived after a miss is not found: %v", got)
	}
}

func TestForgetDropsEveryRow(t *testing.T) {
	src := newSource()
	c := productcache.New(src, 100, time.Hour)
	get(t, c, "a", "b")
	src.set("a", 2)
	c.Forget()
	if got := get(t, c, "a"); got["a"].Version != 2 {
		t.Fatalf("after Forget: version %d, want 2", got["a"].Version)
	}
}

// A read that took the old row before a change committed, and returns
// after the change's Forget, must not put the old row back.
func TestAReadOlderThanForgetDoesNotFillTheCache(t *testing.T) {
	src := newSource()
	c := productcache.New(src, 100, time.Hour)
	block := make(chan struct{})
	src.block = block
	done := make(chan map[string]order.Product)
	go func() {
		got, _ := c.Products(context.Background(), []string{"a"})
		done <- got
	}()
	for len(src.reads()) == 0 { // the read has taken version 1
		time.Sleep(time.Millisecond)
	}
	src.mu.Lock()
	src.block = nil
	src.mu.Unlock()
	src.set("a", 2)
	c.Forget()
	close(block)
	if got := <-done; got["a"].Version != 1 {
		t.Fatalf("the slow read answered version %d, want the 1 it read", got["a"].Version)
	}
	if got := get(t, c, "a"); got["a"].Version != 2 {
		t.Fatalf("after a slow read older than Forget: version %d, want 2", got["a"].Version)
	}
}

func TestAFailedReadFails(t *testing.T) {
	src := newSource()
	src.fail = errors.New("database down")
	c := productcache.New(src, 100, time.Hour)
	if _, err := c.Products(context.Background(), []string{"a"}); !errors.Is(err, src.fail) {
		t.Fatalf("err %v", err)
	}
	src.fail = nil
	src.set("a", 2)
	if got := get(t, c, "a"); got["a"].Version != 2 {
		t.Fatalf("a failed read left something behind: %v", got)
	}
}
