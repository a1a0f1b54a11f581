package revocation

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/shop-oss/shop/pkg/auth"
)

const user = "0190f5a8-0000-7000-8000-00000000000a"

// A message on the channel is applied with its Until capped at a
// revocation's lifetime; malformed ones are ignored.
func TestApplyMessage(t *testing.T) {
	list := auth.NewRevocations()
	f := New(nil, nil, list, nil)
	now := time.Now()
	f.now = func() time.Time { return now }
	msg := func(m message) string {
		b, _ := json.Marshal(m)
		return string(b)
	}
	for _, bad := range []string{"{", msg(message{UserID: "x", Generation: 1, Until: now.Add(time.Hour)}),
		msg(message{UserID: user, Generation: 0, Until: now.Add(time.Hour)})} {
		f.applyMessage(context.Background(), bad)
	}
	if list.Len() != 0 {
		t.Fatalf("malformed messages applied: %d entries", list.Len())
	}
	f.applyMessage(context.Background(), msg(message{UserID: user, Generation: 9, Until: now.Add(100 * 24 * time.Hour)}))
	e, ok := list.Get(user)
	if !ok || e.Generation != 9 || !e.Until.Equal(now.Add(auth.RevocationLifetime)) {
		t.Fatalf("entry %+v, %v; want generation 9 until now + %s", e, ok, auth.RevocationLifetime)
	}
}
