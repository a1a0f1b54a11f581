// Package catalogcache is the Redis cache-aside of the catalog (it
// implements catalog.Cache): products by ID and listing pages.
//
//   - A product is a hash {v: version, d: data}. Every write, by a reader
//     filling a miss or by a writer after its commit (write-through), goes
//     through one Lua script that keeps the entry only if its version is
//     newer than the cached one, so a slow reader can never put back a
//     state older than a write.
//   - Listing pages live under a catalog generation, a counter that every
//     committed write increments: pages of older generations are never read
//     again and expire with their TTL. A reader reads the generation before
//     it queries the store, so a page computed across a write is filed
//     under the old generation.
//   - The TTL is a safety net for what the above cannot see (a write made
//     while another replica could not reach Redis).
//   - Redis failures never fail a request: they count as misses. After one,
//     Redis is left alone for a cool-down, so an outage costs one timeout,
//     not one per request. A write whose invalidation failed is kept and
//     retried (Run) until Redis takes it; meanwhile this process reads those
//     products and all pages from the store.
package catalogcache

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/shop-oss/shop/services/catalog/internal/catalog"
	"github.com/shop-oss/shop/services/catalog/internal/memo"
)

// Config tunes the cache; zero values take the defaults.
type Config struct {
	// TTL of every entry (default 60s).
	TTL time.Duration
	// Prefix of every key (default "catalog:v1:"); the version changes
	// with the encoding, so old and new replicas never read each other's.
	Prefix string
	// RetryEvery is how often failed invalidations are retried (default
	// 500ms).
	RetryEvery time.Duration
	// Cooldown is how long Redis is left alone after a failure (default 1s).
	Cooldown time.Duration
}

func (c *Config) setDefaults() {
	if c.TTL <= 0 {
		c.TTL = time.Minute
	}
	if c.Prefix == "" {
		c.Prefix = "catalog:v1:"
	}
	if c.RetryEvery <= 0 {
		c.RetryEvery = 500 * time.Millisecond
	}
	if c.Cooldown <= 0 {
		c.Cooldown = time.Second
	}
}

// NewClient returns a Redis client for the cache, with timeouts short
// enough that a hung Redis slows a request by a fraction of a second, no
// retries (a miss is cheaper than waiting), and a pool sized for many
// concurrent readers.
func NewClient(url string) (*redis.Client, error) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, err
	}
	opts.DialTimeout = 250 * time.Millisecond
	opts.ReadTimeout = 250 * time.Millisecond
	opts.WriteTimeout = 250 * time.Millisecond
	opts.PoolTimeout = 500 * time.Millisecond
	opts.MaxRetries = -1
	opts.DialerRetries = 1
	opts.PoolSize = 128
	// RESP2: the cache needs none of RESP3's push notifications, whose
	// processing costs every command a check of its connection.
	opts.Protocol = 2
	opts.DisableIdentity = true
	return redis.NewClient(opts), nil
}

// Cache implements catalog.Cache over Redis.
type Cache struct {
	rdb     *redis.Client
	cfg     Config
	log     *slog.Logger
	lookups *prometheus.CounterVec
	counts  counts

	downUntil atomic.Int64 // unix nanos; Redis is skipped before then
	// decoded keeps products this process decoded, by ID and version.
	// Redis stays the truth: an entry is used only when Redis names its
	// version.
	decoded *memo.Memo[catalog.Product]

	flushMu sync.Mutex // one flush at a time
	mu      sync.Mutex
	pending map[uuid.UUID]catalog.Product // written, not yet in Redis
	bumps   int                           // generation increments owed
	wake    chan struct{}
}

var _ catalog.Cache = (*Cache)(nil)

// New returns a cache over rdb. reg (may be nil) receives
// catalog_cache_lookups_total{kind, result}.
func New(rdb *redis.Client, cfg Config, log *slog.Logger, reg prometheus.Registerer) *Cache {
	cfg.setDefaults()
	c := &Cache{
		rdb: rdb, cfg: cfg, log: log,
		lookups: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "catalog_cache_lookups_total",
			Help: "Cache lookups by kind (product, page) and result (hit, miss, error, bypass).",
		}, []string{"kind", "result"}),
		pending: map[uuid.UUID]catalog.Product{},
		wake:    make(chan struct{}, 1),
		decoded: memo.New[catalog.Product](decodedProducts),
	}
	if reg != nil {
		reg.MustRegister(c.lookups)
	}
	c.counts = counts{
		productHit: c.lookups.WithLabelValues("product", "hit"), productMiss: c.lookups.WithLabelValues("product", "miss"),
		productError: c.lookups.WithLabelValues("product", "error"), productBypass: c.lookups.WithLabelValues("product", "bypass"),
		pageHit: c.lookups.WithLabelValues("page", "hit"), pageMiss: c.lookups.WithLabelValues("page", "miss"),
		pageError: c.lookups.WithLabelValues("page", "error"), pageBypass: c.lookups.WithLabelValues("page", "bypass"),
	}
	return c
}

// counts are the lookup counters, resolved once (reads are the hot path).
type counts struct {
	productHit, productMiss, productError, productBypass prometheus.Counter
	pageHit, pageMiss, pageError, pageBypass             prometheus.Counter
}

// decodedProducts bounds the decoded products a process keeps (about 2 KB
// each).
const decodedProducts = 10_000

// putIfNewer stores a product entry unless the cached one is as new.
var putIfNewer = redis.NewScript(`
local cur = redis.call('HGET', KEYS[1], 'v')
if cur and tonumber(cur) >= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'v', ARGV[1], 'd', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1`)

func (c *Cache) productKey(id uuid.UUID) string { return c.cfg.Prefix + "product:" + id.String() }
func (c *Cache) genKey() string                 { return c.cfg.Prefix + "generation" }

func (c *Cache) pageKey(gen, key string) string {
	sum := sha256.Sum256([]byte(key))
	return c.cfg.Prefix + "page:" + gen + ":" + hex.EncodeToString(sum[:16])
}

// Product implements catalog.Cache.
func (c *Cache) Product(ctx context.Context, id uuid.UUID) (catalog.Product, bool) {
	if c.down() || c.isPending(id) {
		c.counts.productBypass.Inc()
		return catalog.Product{}, false
	}
	key := c.productKey(id)
	// The version is read first: when this process has decoded that very
	// version before, it needs neither the data nor the decoding.
	v, err := c.rdb.HGet(ctx, key, "v").Int64()
	if err != nil {
		c.miss(ctx, c.counts.productMiss, c.counts.productError, err)
		return catalog.Product{}, false
	}
	if p, ok := c.decoded.Get(id, v); ok {
		c.counts.productHit.Inc()
		return p, true
	}
	data, err := c.rdb.HGet(ctx, key, "d").Bytes()
	if err != nil {
		c.miss(ctx, c.counts.productMiss, c.counts.productError, err)
		return catalog.Product{}, false
	}
	p, err := decodeProduct(data)
	if err != nil {
		c.log.WarnContext(ctx, "undecodable cached product; ignoring it", "product_id", id, "error", err.Error())
		c.counts.productError.Inc()
		return catalog.Product{}, false
	}
	c.decoded.Put(p.ID, p.Version, p)
	c.counts.productHit.Inc()
	return p, true
}

// PutProduct implements catalog.Cache.
func (c *Cache) PutProduct(ctx context.Context, p catalog.Product) {
	if c.down() || c.isPending(p.ID) {
		return
	}
	if err := c.put(ctx, p); err != nil {
		c.failed(ctx, "cache product", err)
	}
}

func (c *Cache) put(ctx context.Context, p catalog.Product) error {
	data, err := encodeProduct(p)
	if err != nil {
		return err
	}
	if err := putIfNewer.Run(ctx, c.rdb, []string{c.productKey(p.ID)},
		p.Version, data, c.cfg.TTL.Milliseconds()).Err(); err != nil {
		return err
	}
	c.decoded.Put(p.ID, p.Version, p) // the next hit needs only the version
	return nil
}

// Page implements catalog.Cache.
func (c *Cache) Page(ctx context.Context, key string) (catalog.Page, string, bool) {
	if c.down() || c.bumpPending() {
		c.counts.pageBypass.Inc()
		return catalog.Page{}, "", false
	}
	gen, err := c.rdb.Get(ctx, c.genKey()).Result()
	switch {
	case errors.Is(err, redis.Nil):
		gen = "0"
	case err != nil:
		c.miss(ctx, c.counts.pageMiss, c.counts.pageError, err)
		return catalog.Page{}, "", false
	}
	data, err := c.rdb.Get(ctx, c.pageKey(gen, key)).Bytes()
	if err != nil {
		c.miss(ctx, c.counts.pageMiss, c.counts.pageError, err)
		return catalog.Page{}, gen, false
	}
	page, err := decodePage(data)
	if err != nil {
		c.log.WarnContext(ctx, "undecodable cached page; ignoring it", "error", err.Error())
		c.counts.pageError.Inc()
		return catalog.Page{}, gen, false
	}
	c.counts.pageHit.Inc()
	return page, gen, true
}

// PutPage implements catalog.Cache.
func (c *Cache) PutPage(ctx context.Context, key, gen string, page catalog.Page) {
	if gen == "" || c.down() {
		return
	}
	data, err := encodePage(page)
	if err == nil {
		err = c.rdb.Set(ctx, c.pageKey(gen, key), data, c.cfg.TTL).Err()
	}
	if err != nil {
		c.failed(ctx, "cache page", err)
	}
}

// Changed implements catalog.Cache: write-through of the new states and a
// new generation; on failure both are owed and retried by Run.
func (c *Cache) Changed(ctx context.Context, products ...catalog.Product) {
	c.owe(products, true)
	if !c.down() {
		c.flush(ctx)
	}
	if c.owing() {
		select {
		case c.wake <- struct{}{}:
		default:
		}
	}
}

// Run retries owed invalidations until ctx ends.
func (c *Cache) Run(ctx context.Context) error {
	t := time.NewTicker(c.cfg.RetryEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			if c.owing() {
				c.log.Warn("stopping with cache invalidations owed; the cache TTL bounds how stale entries can get")
			}
			return nil
		case <-t.C:
		case <-c.wake:
			continue // just failed; wait for the next tick
		}
		if c.owing() && time.Now().UnixNano() >= c.downUntil.Load() {
			c.flush(ctx)
		}
	}
}

// flush applies what is owed: product states first, then the generation,
// so no page of the new generation is built from an old product entry. An
// entry stays owed (and bypassed by reads) until Redis has taken it.
// Flushes run one at a time.
func (c *Cache) flush(ctx context.Context) {
	c.flushMu.Lock()
	defer c.flushMu.Unlock()
	c.mu.Lock()
	products, bumps := maps.Clone(c.pending), c.bumps
	c.mu.Unlock()

	for _, p := range products {
		if err := c.put(ctx, p); err != nil {
			c.failed(ctx, "invalidate cache", err)
			return
		}
	}
	if bumps > 0 {
		if err := c.rdb.Incr(ctx, c.genKey()).Err(); err != nil {
			c.failed(ctx, "invalidate cache", err)
			return
		}
	}
	c.mu.Lock()
	for id, p := range products {
		if cur, ok := c.pending[id]; ok && cur.Version <= p.Version {
			delete(c.pending, id)
		}
	}
	c.bumps -= bumps
	c.mu.Unlock()
	c.up()
}

// owe records products (the newest version wins) and a generation bump.
func (c *Cache) owe(products []catalog.Product, bump bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range products {
		if cur, ok := c.pending[p.ID]; !ok || cur.Version < p.Version {
			c.pending[p.ID] = p
		}
	}
	if bump {
		c.bumps++
	}
}

func (c *Cache) owing() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bumps > 0 || len(c.pending) > 0
}

func (c *Cache) isPending(id uuid.UUID) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.pending[id]
	return ok
}

func (c *Cache) bumpPending() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bumps > 0
}

func (c *Cache) down() bool { return time.Now().UnixNano() < c.downUntil.Load() }

func (c *Cache) up() {
	if c.downUntil.Swap(0) != 0 {
		c.log.Info("cache: Redis answers again")
	}
}

// miss counts a lookup that found nothing (redis.Nil) or failed.
func (c *Cache) miss(ctx context.Context, missed, failed prometheus.Counter, err error) {
	if errors.Is(err, redis.Nil) {
		missed.Inc()
		return
	}
	failed.Inc()
	c.failed(ctx, "cache lookup", err)
}

// failed starts a cool-down, unless the caller merely went away.
func (c *Cache) failed(ctx context.Context, what string, err error) {
	if ctx.Err() != nil {
		return
	}
	until := time.Now().Add(c.cfg.Cooldown).UnixNano()
	if c.downUntil.Swap(until) == 0 {
		c.log.WarnContext(ctx, "cache: Redis failed; serving from the database for a while",
			"op", what, "error", err.Error(), "cooldown", c.cfg.Cooldown.String())
	}
}
