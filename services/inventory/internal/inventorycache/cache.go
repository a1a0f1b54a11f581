// Package inventorycache keeps products' stock in Redis for fast
// availability reads (GET /inventory/{productId}), shared by all replicas,
// and drops entries when stock changes.
//
// Invalidation must also work when it runs before the change commits: event
// handlers run inside the consumer's transaction and have no after-commit
// hook. So Invalidate sets a short-lived guard key next to deleting the
// entry, and Put stores an entry only while no guard exists (one atomic
// script). A reader that read the old figures while the change was being
// committed therefore cannot put them back; once the guard expires the
// change has long committed. The entry's TTL bounds staleness in any case.
package inventorycache

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/shop-oss/shop/services/inventory/internal/inventory"
)

// Cache implements inventory.Cache on Redis.
type Cache struct {
	rdb   *redis.Client
	ttl   time.Duration
	guard time.Duration
	log   *slog.Logger
}

// New returns a cache whose entries live ttl. guard is how long a product
// stays uncacheable after Invalidate: longer than any transaction that
// invalidates before it commits.
func New(rdb *redis.Client, ttl, guard time.Duration, log *slog.Logger) *Cache {
	return &Cache{rdb: rdb, ttl: ttl, guard: guard, log: log}
}

func key(id uuid.UUID) string      { return "inventory:stock:v1:" + id.String() }
func guardKey(id uuid.UUID) string { return "inventory:stock-guard:v1:" + id.String() }

// entry is the cached form of inventory.Stock.
type entry struct {
	ProductID         uuid.UUID `json:"product_id"`
	SellerID          uuid.UUID `json:"seller_id"`
	SKU               string    `json:"sku"`
	Status            string    `json:"status"`
	CatalogVersion    *int64    `json:"catalog_version,omitempty"`
	OnHand            int64     `json:"on_hand"`
	Reserved          int64     `json:"reserved"`
	LowStockThreshold *int64    `json:"low_stock_threshold,omitempty"`
	UpdatedAt         time.Time `json:"updated_at"`
}

func toEntry(s inventory.Stock) entry {
	return entry{ProductID: s.ProductID, SellerID: s.SellerID, SKU: s.SKU, Status: string(s.Status),
		CatalogVersion: s.CatalogVersion, OnHand: s.OnHand, Reserved: s.Reserved,
		LowStockThreshold: s.LowStockThreshold, UpdatedAt: s.UpdatedAt}
}

func (e entry) toDomain() inventory.Stock {
	return inventory.Stock{ProductID: e.ProductID, SellerID: e.SellerID, SKU: e.SKU, Status: inventory.ProductStatus(e.Status),
		CatalogVersion: e.CatalogVersion, OnHand: e.OnHand, Reserved: e.Reserved,
		LowStockThreshold: e.LowStockThreshold, UpdatedAt: e.UpdatedAt}
}

// Get returns the cached stock; a Redis failure is a miss.
func (c *Cache) Get(ctx context.Context, id uuid.UUID) (inventory.Stock, bool) {
	b, err := c.rdb.Get(ctx, key(id)).Bytes()
	if err != nil {
		if err != redis.Nil {
			c.log.WarnContext(ctx, "stock cache read failed", "error", err.Error())
		}
		return inventory.Stock{}, false
	}
	var e entry
	if err := json.Unmarshal(b, &e); err != nil {
		return inventory.Stock{}, false
	}
	return e.toDomain(), true
}

// putScript stores the entry unless the product's guard key exists.
var putScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`)

// Put caches s unless the product was invalidated within the guard time.
func (c *Cache) Put(ctx context.Context, s inventory.Stock) {
	b, err := json.Marshal(toEntry(s))
	if err != nil {
		return
	}
	err = putScript.Run(ctx, c.rdb, []string{key(s.ProductID), guardKey(s.ProductID)}, b, c.ttl.Milliseconds()).Err()
	if err != nil {
		c.log.WarnContext(ctx, "stock cache write failed", "error", err.Error())
	}
}

// Invalidate drops the products' entries and guards them against being
// cached again for the guard time. Failures are logged: the stock change
// itself must not depend on Redis; the TTL bounds the staleness.
func (c *Cache) Invalidate(ctx context.Context, ids ...uuid.UUID) {
	if len(ids) == 0 {
		return
	}
	_, err := c.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		for _, id := range ids {
			p.Set(ctx, guardKey(id), 1, c.guard)
			p.Del(ctx, key(id))
		}
		return nil
	})
	if err != nil {
		c.log.WarnContext(ctx, "stock cache invalidation failed; entries expire on their own", "error", err.Error(), "products", len(ids))
	}
}
