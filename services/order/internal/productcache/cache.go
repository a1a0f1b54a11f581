// Package productcache keeps the catalog replica's rows that orders were
// priced from in memory for a short while, so that placing an order does
// not read them from the database again.
//
// The replica itself follows the catalog through events, so an order is
// always priced from a state that may be a little behind the catalog; the
// cache adds at most its TTL to that lag, and less in the replica that
// applies a catalog event: that replica forgets every entry once the
// event's transaction has committed (Forget). Other replicas of the order
// service see the change after the TTL. Products the replica does not hold
// are never cached, so a new product can be ordered as soon as it arrives.
package productcache

import (
	"context"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"

	"github.com/shop-oss/shop/services/order/internal/order"
)

// Source reads replica rows; the order store is one.
type Source interface {
	Products(ctx context.Context, ids []string) (map[string]order.Product, error)
}

// Cache is a Source that answers from memory what src answered within the
// TTL. It is safe for concurrent use.
type Cache struct {
	src Source
	lru *expirable.LRU[string, order.Product]

	// gen counts Forget calls: a read that started before one must not
	// fill the cache with what it read (possibly the state just replaced).
	mu  sync.Mutex
	gen uint64
}

// New returns a cache of at most size products over src; entries expire
// after ttl.
func New(src Source, size int, ttl time.Duration) *Cache {
	return &Cache{src: src, lru: expirable.NewLRU[string, order.Product](size, nil, ttl)}
}

// Products returns the rows of ids that the replica holds, from memory
// where it can.
func (c *Cache) Products(ctx context.Context, ids []string) (map[string]order.Product, error) {
	out := make(map[string]order.Product, len(ids))
	var missing []string
	for _, id := range ids {
		if p, ok := c.lru.Get(id); ok {
			out[id] = p
		} else {
			missing = append(missing, id)
		}
	}
	if len(missing) == 0 {
		return out, nil
	}
	c.mu.Lock()
	gen := c.gen
	c.mu.Unlock()
	read, err := c.src.Products(ctx, missing)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, p := range read {
		out[id] = p
		if c.gen == gen {
			c.lru.Add(id, p)
		}
	}
	return out, nil
}

// Forget drops every entry, and keeps reads that began before it from
// adding theirs. Call it after a change to the replica has committed.
func (c *Cache) Forget() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.lru.Purge()
}
