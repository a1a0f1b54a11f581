// Package memo keeps values derived from one version of a product (the
// decoded product, its rendered JSON) so that hot products are not decoded
// or encoded again on every read. A product's version names its state
// exactly, so a value is reused only for the very version it was made from;
// whoever asks says which version is current (the cache in Redis does).
package memo

import (
	"sync"

	"github.com/google/uuid"
)

// Memo is a bounded map from product ID to the value of one version. When
// full, it forgets an arbitrary tenth of its entries (Go's map order is
// random): cheaper than LRU bookkeeping on every hit, and hot products come
// straight back. It is safe for concurrent use.
type Memo[V any] struct {
	mu  sync.RWMutex
	m   map[uuid.UUID]entry[V]
	max int
}

type entry[V any] struct {
	version int64
	value   V
}

// New returns a memo of at most max entries.
func New[V any](max int) *Memo[V] {
	return &Memo[V]{m: make(map[uuid.UUID]entry[V], max), max: max}
}

// Get returns the value kept for id at exactly version.
func (m *Memo[V]) Get(id uuid.UUID, version int64) (V, bool) {
	m.mu.RLock()
	e, ok := m.m[id]
	m.mu.RUnlock()
	if !ok || e.version != version {
		var zero V
		return zero, false
	}
	return e.value, true
}

// Put keeps value for id at version, unless a newer version is kept.
func (m *Memo[V]) Put(id uuid.UUID, version int64, value V) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if cur, ok := m.m[id]; ok && cur.version > version {
		return
	}
	if _, ok := m.m[id]; !ok && len(m.m) >= m.max {
		n := max(1, m.max/10)
		for old := range m.m {
			if n == 0 {
				break
			}
			delete(m.m, old)
			n--
		}
	}
	m.m[id] = entry[V]{version: version, value: value}
}

// Len is the number of entries.
func (m *Memo[V]) Len() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.m)
}
