package ratelimit

import (
	"sync"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"golang.org/x/time/rate"
)

// maxLocalKeys bounds the keys the in-process limiter remembers.
const maxLocalKeys = 10_000

// local is what a Limiter decides with while Redis is unreachable: the same
// limit per key, kept in this process. Brute force stays bounded through an
// outage, though per replica: with n replicas a key may get up to n times
// its budget, and what it spent in Redis before is not seen. It is bounded
// in keys: when full, keys whose budget is whole again go first, then
// arbitrary ones (a flood of distinct keys can only hand some key a fresh
// budget on one replica).
type local struct {
	mu   sync.Mutex
	max  int
	keys map[string]*rate.Limiter
}

func newLocal(maxKeys int) *local { return &local{max: maxKeys, keys: map[string]*rate.Limiter{}} }

// allow spends one event of key's budget under limit, at now.
func (l *local) allow(key string, limit redis_rate.Limit, now time.Time) Result {
	every := limit.Period / time.Duration(limit.Rate)
	key += "|" + limit.String() // a limiter may apply several limits
	l.mu.Lock()
	defer l.mu.Unlock()
	lim := l.keys[key]
	if lim == nil {
		if len(l.keys) >= l.max {
			l.evict(now)
		}
		lim = rate.NewLimiter(rate.Every(every), limit.Burst)
		l.keys[key] = lim
	}
	res := Result{Limit: limit, Allowed: true, RetryAfter: -1}
	r := lim.ReserveN(now, 1)
	if wait := r.DelayFrom(now); wait > 0 {
		r.CancelAt(now)
		res.Allowed, res.RetryAfter = false, wait
	}
	tokens := lim.TokensAt(now)
	res.Remaining = max(0, int(tokens))
	res.ResetAfter = time.Duration((float64(limit.Burst) - tokens) * float64(every))
	return res
}

// evict makes room: keys with their whole budget back, or else one
// arbitrary key.
func (l *local) evict(now time.Time) {
	for k, lim := range l.keys {
		if lim.TokensAt(now) >= float64(lim.Burst()) {
			delete(l.keys, k)
		}
	}
	for k := range l.keys {
		if len(l.keys) < l.max {
			return
		}
		delete(l.keys, k)
	}
}
