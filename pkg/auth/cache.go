package auth

import (
	"crypto"
	"crypto/sha256"
	"sync"
	"time"
)

// cacheShards spreads the verified-token cache over independent locks.
const cacheShards = 16

// tokenCache remembers tokens that passed full verification, so that a
// client's next requests with the same token skip the signature check, the
// costly part (tens of microseconds for Ed25519 or P-256).
//
// Only what can change after verification is checked again on a hit: the
// token must not have expired since, and the key that verified it must still
// be published under its kid (a key removed from, or replaced in, the JWKS
// invalidates its tokens at the next refresh). Anything else (iss, aud, alg,
// nbf, iat, sub, role) was checked once and cannot change. Entries are keyed
// by SHA-256 of the token, so the cache holds no bearer credentials. It is
// bounded: a full shard drops expired entries, then an arbitrary one.
type tokenCache struct {
	leeway   time.Duration
	perShard int
	shards   [cacheShards]cacheShard
}

type cacheShard struct {
	mu      sync.RWMutex
	entries map[[sha256.Size]byte]cacheEntry
}

type cacheEntry struct {
	principal Principal
	kid       string
	key       crypto.PublicKey
}

// newTokenCache returns a cache of about size entries, or nil (no caching)
// when size is not positive.
func newTokenCache(size int, leeway time.Duration) *tokenCache {
	if size <= 0 {
		return nil
	}
	c := &tokenCache{leeway: leeway, perShard: max(1, size/cacheShards)}
	for i := range c.shards {
		c.shards[i].entries = make(map[[sha256.Size]byte]cacheEntry)
	}
	return c
}

// get returns the principal of a cached token that is still valid at now,
// given stillPublished(kid, key) reports whether its key is still served.
func (c *tokenCache) get(raw string, now time.Time, stillPublished func(kid string, key crypto.PublicKey) bool) (Principal, bool) {
	if c == nil {
		return Principal{}, false
	}
	sum := sha256.Sum256([]byte(raw))
	s := &c.shards[sum[0]%cacheShards]
	s.mu.RLock()
	e, ok := s.entries[sum]
	s.mu.RUnlock()
	if !ok {
		return Principal{}, false
	}
	if !now.Before(e.principal.ExpiresAt.Add(c.leeway)) || !stillPublished(e.kid, e.key) {
		s.mu.Lock()
		delete(s.entries, sum)
		s.mu.Unlock()
		return Principal{}, false
	}
	return e.principal, true
}

// put remembers that raw verified as p with the key published as kid.
func (c *tokenCache) put(raw string, now time.Time, e cacheEntry) {
	if c == nil {
		return
	}
	sum := sha256.Sum256([]byte(raw))
	s := &c.shards[sum[0]%cacheShards]
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.entries) >= c.perShard {
		for k, old := range s.entries {
			if !now.Before(old.principal.ExpiresAt.Add(c.leeway)) {
				delete(s.entries, k)
			}
		}
		for k := range s.entries {
			if len(s.entries) < c.perShard {
				break
			}
			delete(s.entries, k) // map order is random: a random eviction
		}
	}
	s.entries[sum] = e
}
