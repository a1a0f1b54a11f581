package auth

import (
	"sync"
	"sync/atomic"
	"time"
)

// MaxAccessTokenTTL is the longest lifetime an access token may have
// (identity refuses to start with a longer one). It bounds how long a
// revocation must be remembered: RevocationLifetime.
const MaxAccessTokenTTL = time.Hour

// RevocationLifetime is how long after a revocation a token it refuses can
// still be unexpired: the longest token lifetime plus the largest clock
// leeway a Verifier allows. An entry older than that refuses nothing.
const RevocationLifetime = MaxAccessTokenTTL + maxLeeway

// Revocation says that the user's access tokens of a generation below
// Generation are no longer accepted. Identity raises a user's token
// generation when it disables, re-enables or changes the role of the
// account, and signs it into every token as the `gen` claim; tokens issued
// before the change carry a lower one.
type Revocation struct {
	// UserID is the user's ID in canonical lowercase form (as
	// Principal.UserID).
	UserID string
	// Generation is the user's token generation after the change.
	Generation int64
	// Until is when the entry can be forgotten (the change's time plus
	// RevocationLifetime): every token it refuses has expired by then.
	Until time.Time
}

// Revocations is the revocation list a Verifier checks on every request:
// per user, the lowest token generation still accepted. It is safe for
// concurrent use. Reads take no lock: writers (rare: an administrator's
// action) copy the map and swap it in, so the check on the request path is
// an atomic load and, only when the list is not empty, a map lookup.
type Revocations struct {
	mu      sync.Mutex // serialises writers
	entries atomic.Pointer[map[string]Revocation]
}

// NewRevocations returns an empty list.
func NewRevocations() *Revocations {
	r := &Revocations{}
	empty := map[string]Revocation{}
	r.entries.Store(&empty)
	return r
}

// Apply adds entries, keeping for each user the highest generation (and its
// Until), so that applying the same revocations again, or in another
// order, ends in the same list. Entries whose Until has passed at now are
// dropped, new or old. It returns how many users' entries changed.
func (r *Revocations) Apply(now time.Time, entries ...Revocation) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	cur := *r.entries.Load()
	next := make(map[string]Revocation, len(cur)+len(entries))
	changed := 0
	for id, e := range cur {
		if now.Before(e.Until) {
			next[id] = e
		} else {
			changed++
		}
	}
	for _, e := range entries {
		if e.UserID == "" || !now.Before(e.Until) {
			continue
		}
		old, ok := next[e.UserID]
		if ok && (old.Generation > e.Generation || old.Generation == e.Generation && !old.Until.Before(e.Until)) {
			continue
		}
		next[e.UserID] = e
		changed++
	}
	if changed > 0 {
		r.entries.Store(&next)
	}
	return changed
}

// Revoked reports whether p's token is refused: its generation is below
// the lowest one accepted for its user.
func (r *Revocations) Revoked(p Principal) bool {
	if r == nil {
		return false
	}
	m := *r.entries.Load()
	if len(m) == 0 {
		return false
	}
	e, ok := m[p.UserID]
	return ok && p.Generation < e.Generation
}

// Len is the number of users with an entry.
func (r *Revocations) Len() int { return len(*r.entries.Load()) }

// Get returns the user's entry.
func (r *Revocations) Get(userID string) (Revocation, bool) {
	e, ok := (*r.entries.Load())[userID]
	return e, ok
}
