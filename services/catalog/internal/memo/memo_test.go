package memo

import (
	"testing"

	"github.com/google/uuid"
)

func TestMemo(t *testing.T) {
	m := New[string](20)
	id := uuid.New()
	m.Put(id, 2, "v2")
	if v, ok := m.Get(id, 2); !ok || v != "v2" {
		t.Fatalf("get: %q %v", v, ok)
	}
	if _, ok := m.Get(id, 3); ok {
		t.Fatal("hit on another version")
	}
	m.Put(id, 1, "v1") // an older value never replaces a newer one
	if v, _ := m.Get(id, 2); v != "v2" {
		t.Fatal("an older version replaced a newer one")
	}
	m.Put(id, 3, "v3")
	if v, ok := m.Get(id, 3); !ok || v != "v3" {
		t.Fatal("a newer version was not kept")
	}
	for i := range 100 {
		m.Put(uuid.New(), int64(i), "x")
	}
	if m.Len() > 20 {
		t.Fatalf("memo grew to %d entries, bound 20", m.Len())
	}
}
