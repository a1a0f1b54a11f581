package catalog_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/shop-oss/shop/pkg/testkit"
	"github.com/shop-oss/shop/services/catalog/internal/catalog"
	"github.com/shop-oss/shop/services/catalog/internal/catalogcache"
	"github.com/shop-oss/shop/services/catalog/internal/catalogdb"
)

// gatedStore is the real store whose reads by ID are counted and, once
// read, held at a gate: the caller gets the state as it was when it read.
type gatedStore struct {
	catalog.Store
	loads atomic.Int32
	gate  chan struct{}
}

func (s *gatedStore) GetProduct(ctx context.Context, id uuid.UUID) (catalog.Product, error) {
	s.loads.Add(1)
	p, err := s.Store.GetProduct(ctx, id)
	<-s.gate
	return p, err
}

type fixture struct {
	svc   *catalog.Service
	store *gatedStore
	redis *testkit.RedisServer
	reg   *prometheus.Registry
}

// newFixture is a Service over a real database and Redis.
func newFixture(t *testing.T) fixture {
	t.Helper()
	db, dsn := testkit.Postgres(t)
	ctx := context.Background()
	if err := catalogdb.Migrate(ctx, dsn); err != nil {
		t.Fatal(err)
	}
	r := testkit.Redis(t)
	rdb, err := catalogcache.NewClient(r.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rdb.Close() })
	reg := prometheus.NewRegistry()
	cache := catalogcache.New(rdb, catalogcache.Config{}, testkit.Logger(t), reg)
	store := &gatedStore{Store: catalogdb.New(db, nil), gate: make(chan struct{})}
	return fixture{svc: catalog.NewService(store, cache, testkit.Logger(t)), store: store, redis: r, reg: reg}
}

// productMisses reads catalog_cache_lookups_total{kind="product",result="miss"}.
func (f fixture) productMisses(t *testing.T) int {
	t.Helper()
	mfs, err := f.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if mf.GetName() == "catalog_cache_lookups_total" && labels["kind"] == "product" && labels["result"] == "miss" {
				return int(m.GetCounter().GetValue())
			}
		}
	}
	return 0
}

var seller = catalog.Actor{ID: uuid.New(), Role: catalog.RoleSeller}

func newProduct(t *testing.T, svc *catalog.Service) catalog.Product {
	t.Helper()
	p, err := svc.CreateProduct(context.Background(), seller, catalog.NewProduct{Fields: catalog.Fields{
		SKU: "SF-" + uuid.NewString()[:8], Name: "Lamp", Price: catalog.Money{Minor: 100, Currency: "EUR"}, Status: catalog.StatusActive,
	}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestConcurrentMissesLoadOnce: many readers of a product that is not
// cached cause one store read, not one each (stampede protection).
func TestConcurrentMissesLoadOnce(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	p := newProduct(t, f.svc)
	if err := f.redis.Client.FlushAll(ctx).Err(); err != nil { // cold cache
		t.Fatal(err)
	}
	const readers = 20
	var wg sync.WaitGroup
	errs := make(chan error, readers)
	for range readers {
		wg.Go(func() {
			got, err := f.svc.GetProduct(ctx, catalog.Actor{}, p.ID)
			if err == nil && got.Version != p.Version {
				err = context.DeadlineExceeded
			}
			errs <- err
		})
	}
	deadline := time.Now().Add(10 * time.Second)
	for f.productMisses(t) < readers {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d readers missed", f.productMisses(t), readers)
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // let the last one join the flight
	close(f.store.gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	// Without single flight every reader would read the store (20).
	if n := f.store.loads.Load(); n > 2 {
		t.Errorf("%d readers caused %d store reads, want 1", readers, n)
	}
	if _, err := f.svc.GetProduct(ctx, catalog.Actor{}, p.ID); err != nil || f.store.loads.Load() > 2 {
		t.Errorf("the loaded product was not cached: %v, %d loads", err, f.store.loads.Load())
	}
}

// TestReadAcrossAWrite: a read that loaded the old state before a write
// returns it to those who asked before the write, but neither it nor its
// cache fill hides the write from the next reader.
func TestReadAcrossAWrite(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	p := newProduct(t, f.svc)
	if err := f.redis.Client.FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	early := make(chan catalog.Product)
	go func() {
		got, _ := f.svc.GetProduct(ctx, catalog.Actor{}, p.ID)
		early <- got
	}()
	for f.store.loads.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // the load has read version 1 and waits at the gate
	name := "Renamed"
	updated, err := f.svc.PatchProduct(ctx, seller, p.ID, catalog.AnyVersion, catalog.Patch{Name: &name})
	if err != nil || updated.Version != 2 {
		t.Fatalf("patch: %v %+v", err, updated)
	}
	next, err := f.svc.GetProduct(ctx, catalog.Actor{}, p.ID)
	if err != nil || next.Version != 2 || next.Name != name {
		t.Fatalf("next read after the write: %v %+v", err, next)
	}
	close(f.store.gate)
	if got := <-early; got.Version != 1 {
		t.Fatalf("the early read returned version %d; the test did not set up a read across the write", got.Version)
	}
	if again, _ := f.svc.GetProduct(ctx, catalog.Actor{}, p.ID); again.Version != 2 {
		t.Errorf("the earlier read's cache fill went back to version %d", again.Version)
	}
}
