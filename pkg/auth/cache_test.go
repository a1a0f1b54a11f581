package auth

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"strconv"
	"testing"
	"time"
)

func testEntry(t *testing.T, exp time.Time) cacheEntry {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return cacheEntry{principal: Principal{UserID: "u", Role: RoleCustomer, ExpiresAt: exp}, kid: "k1", key: pub}
}

func always(string, crypto.PublicKey) bool { return true }

func TestTokenCacheHitUntilExpiryPlusLeeway(t *testing.T) {
	c := newTokenCache(100, 30*time.Second)
	now := time.Now()
	e := testEntry(t, now.Add(time.Minute))
	c.put("tok", now, e)

	if p, ok := c.get("tok", now, always); !ok || p != e.principal {
		t.Fatalf("get = %+v, %v", p, ok)
	}
	if _, ok := c.get("other", now, always); ok {
		t.Fatal("hit for another token")
	}
	if _, ok := c.get("tok", now.Add(time.Minute+29*time.Second), always); !ok {
		t.Fatal("miss within leeway")
	}
	if _, ok := c.get("tok", now.Add(time.Minute+30*time.Second), always); ok {
		t.Fatal("hit after exp + leeway")
	}
	if _, ok := c.get("tok", now, always); ok {
		t.Fatal("expired entry not dropped")
	}
}

func TestTokenCacheMissWhenKeyNoLongerPublished(t *testing.T) {
	c := newTokenCache(100, 0)
	now := time.Now()
	e := testEntry(t, now.Add(time.Minute))
	c.put("tok", now, e)

	var gotKID string
	var gotKey crypto.PublicKey
	revoked := func(kid string, key crypto.PublicKey) bool { gotKID, gotKey = kid, key; return false }
	if _, ok := c.get("tok", now, revoked); ok {
		t.Fatal("hit with a revoked key")
	}
	if gotKID != "k1" || !e.key.(ed25519.PublicKey).Equal(gotKey) {
		t.Fatalf("checked kid %q key %v", gotKID, gotKey)
	}
	if _, ok := c.get("tok", now, always); ok {
		t.Fatal("entry for a revoked key not dropped")
	}
}

func TestTokenCacheIsBounded(t *testing.T) {
	c := newTokenCache(64, 0)
	now := time.Now()
	e := testEntry(t, now.Add(time.Minute))
	for i := range 10_000 {
		c.put(strconv.Itoa(i), now, e)
	}
	n := 0
	for i := range c.shards {
		n += len(c.shards[i].entries)
	}
	if n > 64 {
		t.Fatalf("%d entries, want at most 64", n)
	}
	if _, ok := c.get("9999", now, always); !ok {
		t.Fatal("latest entry evicted")
	}
}

func TestTokenCacheDisabled(t *testing.T) {
	c := newTokenCache(-1, 0)
	c.put("tok", time.Now(), testEntry(t, time.Now().Add(time.Minute)))
	if _, ok := c.get("tok", time.Now(), always); ok {
		t.Fatal("disabled cache hit")
	}
}
