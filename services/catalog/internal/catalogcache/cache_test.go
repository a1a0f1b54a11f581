package catalogcache

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/shop-oss/shop/pkg/testkit"
	"github.com/shop-oss/shop/services/catalog/internal/catalog"
)

func newCache(t *testing.T) (*Cache, *testkit.RedisServer) {
	t.Helper()
	r := testkit.Redis(t)
	rdb, err := NewClient(r.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rdb.Close() })
	c := New(rdb, Config{TTL: time.Minute, RetryEvery: 20 * time.Millisecond, Cooldown: 100 * time.Millisecond}, testkit.Logger(t), nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = c.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return c, r
}

func version(id uuid.UUID, v int64) catalog.Product {
	return catalog.Product{
		ID: id, Version: v, CreatedAt: time.Now().UTC().Truncate(time.Microsecond),
		Fields: catalog.Fields{
			Name: "v" + string(rune('0'+v)), Price: catalog.Money{Minor: 100 * v, Currency: "EUR"},
			Status: catalog.StatusActive, Images: []string{"https://img.example/a.jpg"},
			Attributes: map[string]any{"size": 42.0},
		},
	}
}

// eventually polls cond until it holds or a few seconds pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 5s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestProductEntriesNeverGoBack(t *testing.T) {
	c, _ := newCache(t)
	ctx := context.Background()
	id := uuid.New()
	if _, ok := c.Product(ctx, id); ok {
		t.Fatal("hit in an empty cache")
	}
	c.PutProduct(ctx, version(id, 2))
	got, ok := c.Product(ctx, id)
	if !ok || got.Version != 2 || got.Name != "v2" || got.Attributes["size"] != 42.0 || len(got.Images) != 1 {
		t.Fatalf("read back: %v %+v", ok, got)
	}
	// A reader that loaded version 1 before a write must not put it back.
	c.PutProduct(ctx, version(id, 1))
	if got, _ := c.Product(ctx, id); got.Version != 2 {
		t.Errorf("stale fill replaced a newer entry: version %d", got.Version)
	}
	c.Changed(ctx, version(id, 3))
	if got, _ := c.Product(ctx, id); got.Version != 3 {
		t.Errorf("after a write: version %d, want 3", got.Version)
	}
}

func TestPagesFollowTheGeneration(t *testing.T) {
	c, _ := newCache(t)
	ctx := context.Background()
	page := catalog.Page{Items: []catalog.Product{version(uuid.New(), 1)}, Next: "cursor"}
	_, gen, ok := c.Page(ctx, "k")
	if ok || gen != "0" {
		t.Fatalf("empty cache: ok %v gen %q", ok, gen)
	}
	c.PutPage(ctx, "k", gen, page)
	got, _, ok := c.Page(ctx, "k")
	if !ok || got.Next != "cursor" || len(got.Items) != 1 || got.Items[0].Name != "v1" {
		t.Fatalf("read back: %v %+v", ok, got)
	}
	if _, _, ok := c.Page(ctx, "other key"); ok {
		t.Error("another key hit")
	}
	c.Changed(ctx) // e.g. a category write
	if _, newGen, ok := c.Page(ctx, "k"); ok || newGen == gen {
		t.Fatalf("after a write: hit %v, generation %q (was %q)", ok, newGen, gen)
	}
	// A reader that read the old generation before the write files its
	// page there, where nobody looks any more.
	c.PutPage(ctx, "k", gen, page)
	if _, _, ok := c.Page(ctx, "k"); ok {
		t.Error("a page computed before the write is served after it")
	}
}

func TestRedisDownIsAMiss(t *testing.T) {
	c, r := newCache(t)
	ctx := context.Background()
	id := uuid.New()
	c.PutProduct(ctx, version(id, 1))
	r.Stop()
	if _, ok := c.Product(ctx, id); ok {
		t.Fatal("hit with Redis down")
	}
	if _, _, ok := c.Page(ctx, "k"); ok {
		t.Fatal("page hit with Redis down")
	}
	c.Changed(ctx, version(id, 2)) // owed until Redis is back
	r.Start()                      // empty, as after a crash
	eventually(t, "owed invalidation applied", func() bool {
		gen, err := r.Client.Get(ctx, c.genKey()).Result()
		return err == nil && gen == "1"
	})
	eventually(t, "cache in use again", func() bool {
		p, ok := c.Product(ctx, id)
		return ok && p.Version == 2
	})
}

// TestOwedInvalidationBypassesStaleEntries: when Redis takes reads but not
// writes (CLIENT PAUSE WRITE stands in for a failover or a partition), a
// write cannot replace the cached entry; until it can, this process must
// not serve that entry, nor any page.
func TestOwedInvalidationBypassesStaleEntries(t *testing.T) {
	c, r := newCache(t)
	ctx := context.Background()
	id := uuid.New()
	c.PutProduct(ctx, version(id, 1))
	_, gen, _ := c.Page(ctx, "k")
	c.PutPage(ctx, "k", gen, catalog.Page{})

	if err := r.Client.Do(ctx, "CLIENT", "PAUSE", "1500", "WRITE").Err(); err != nil {
		t.Fatal(err)
	}
	c.Changed(ctx, version(id, 2))     // times out: owed
	time.Sleep(150 * time.Millisecond) // past the cool-down, writes still paused
	if _, ok := c.Product(ctx, id); ok {
		t.Fatal("served a product entry older than a write")
	}
	if _, _, ok := c.Page(ctx, "k"); ok {
		t.Fatal("served a page older than a write")
	}
	if v, _ := r.Client.HGet(ctx, c.productKey(id), "v").Result(); v != "1" {
		t.Fatalf("the pause did not hold the write (cached version %q); the test proves nothing", v)
	}
	eventually(t, "owed write applied after the pause", func() bool {
		p, ok := c.Product(ctx, id)
		return ok && p.Version == 2
	})
	if err := r.Client.Do(ctx, "CLIENT", "UNPAUSE").Err(); err != nil && err != redis.Nil {
		t.Fatal(err)
	}
}

// BenchmarkProductHit is one cached read: the version from Redis, the
// decoded product from memory.
func BenchmarkProductHit(b *testing.B) {
	r := testkit.Redis(b)
	rdb, err := NewClient(r.URL())
	if err != nil {
		b.Fatal(err)
	}
	defer rdb.Close()
	c := New(rdb, Config{}, testkit.Discard(), nil)
	ctx := context.Background()
	p := version(uuid.New(), 1)
	c.PutProduct(ctx, p)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, ok := c.Product(ctx, p.ID); !ok {
				b.Error("miss")
				return
			}
		}
	})
}
