package idempotency

import (
	"context"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/shop-oss/shop/pkg/web"
)

// InTransaction is Middleware for a route whose handler writes the key's
// record itself, in the statement that makes its change: the record
// (completed, with the response) and the change commit together or not at
// all, with no claim before the handler nor completion after it (two fewer
// statements and round trips per request), and no crash window between
// them. The handler must render its response before the write; see
// Pending.
//
// What a client sees is Middleware's, with one difference: a retry that
// arrives while the first request still runs is not refused with 409, as
// there is no record yet to tell; both run, one writes the record and its
// change, and the other, whose write the record refuses, answers with the
// first one's stored response (Pending.Answer). The change still happens
// once. A key whose record another route holds in flight (through
// Middleware) is refused with 409 as there.
func InTransaction(store *Store, scope func(c *gin.Context) string) gin.HandlerFunc {
	return func(c *gin.Context) {
		sc, key, fp, ok := store.keyOf(c, scope)
		if !ok {
			return
		}
		p := &Pending{store: store, scope: sc, key: key, fp: fp}
		ctx := context.WithValue(c.Request.Context(), ctxKey{}, key)
		c.Request = c.Request.WithContext(context.WithValue(ctx, pendingKey{}, p))
		c.Next()
	}
}

// Pending is the key of a request behind InTransaction, whose record its
// handler writes.
type Pending struct {
	store *Store
	scope string
	key   string
	fp    *fingerprint
}

type pendingKey struct{}

// PendingFrom returns the pending key of the request whose context is ctx,
// when InTransaction handles its route.
func PendingFrom(ctx context.Context) (*Pending, bool) {
	p, ok := ctx.Value(pendingKey{}).(*Pending)
	return p, ok
}

// Record is a statement that writes a key's completed record, to run with
// the handler's change: Pending.Completed's and Held.Completed's.
type Record struct {
	sql  string
	args []any
}

// Statement is the record's SQL, with ? placeholders, and its arguments.
func (r Record) Statement() (string, []any) { return r.sql, r.args }

// Completed returns the Record of the response the handler is about to
// send: its status, the headers that a replay repeats (Content-Type,
// Location) and its body, byte for byte as sent. It is an INSERT ...
// RETURNING that returns one row when it wrote the record, and none when
// the key has a live record already (an expired one is replaced): run it
// as a WITH query of the statement that makes the change, and make the
// change only if it returned a row.
func (p *Pending) Completed(status int, header map[string]string, body []byte) (Record, error) {
	if err := p.store.storable(body); err != nil {
		return Record{}, err
	}
	headers, body, err := response{Status: status, Header: header, Body: body}.stored()
	if err != nil {
		return Record{}, err
	}
	return Record{
		sql: `INSERT INTO idempotency_keys AS k (scope, key, request_hash, hash_version, state, response_status,
				response_headers, response_body, expires_at)
			VALUES (?, ?, ?, ?, 'completed', ?, ?::jsonb, ?, now() + make_interval(secs => ?))
			ON CONFLICT (scope, key) DO UPDATE
			SET request_hash = EXCLUDED.request_hash, hash_version = EXCLUDED.hash_version, state = EXCLUDED.state, locked_until = NULL,
			    response_status = EXCLUDED.response_status, response_headers = EXCLUDED.response_headers,
			    response_body = EXCLUDED.response_body, created_at = now(), expires_at = EXCLUDED.expires_at
			WHERE k.expires_at <= now()
			RETURNING 1`,
		args: []any{p.scope, p.key, p.fp.keyed, hashKeyed, status, headers, body, p.store.cfg.TTL.Seconds()},
	}, nil
}

// Recorded counts a request whose record was written with its change.
func (p *Pending) Recorded() { p.store.m.observe(outcomeFirst) }

// Answer answers a request whose record was not written (its Record
// returned no row, so its change was not made) from the key's live record:
// the stored response when it is the same request, 422 when it is another,
// and 409 with Retry-After when the record is in flight, or went away since.
func (p *Pending) Answer(c *gin.Context) {
	cl, found, _, err := p.store.lookup(c.Request.Context(), p.scope, p.key, p.fp)
	if err != nil {
		web.Fail(c, err)
		return
	}
	if !found {
		cl = claim{outcome: outcomeConflict}
	}
	p.store.m.observe(cl.outcome)
	answer(c, cl)
}

// Held is the key of a request that Middleware runs (its claim done). The
// handler may complete the key's record itself, in the transaction that
// makes its change, with the response it is about to send (Completed), and
// then call Done, after that transaction committed, so that the middleware
// does not complete it again: one statement and round trip fewer, and no
// window between the change and the record. A handler that does not call
// Done leaves the record to the middleware, as without Held.
type Held struct {
	store   *Store
	scope   string
	key     string
	token   time.Time
	done    bool
	applied bool
}

type heldKey struct{}

// HeldFrom returns the held key of the request whose context is ctx, when
// Middleware runs its handler.
func HeldFrom(ctx context.Context) (*Held, bool) {
	h, ok := ctx.Value(heldKey{}).(*Held)
	return h, ok
}

// Completed returns the Record that completes the key with the response:
// an UPDATE of the held record (it changes nothing when the key was taken
// over since, as the middleware's own completion would not). Run it in the
// transaction of the change, and call Done once that committed.
func (h *Held) Completed(status int, header map[string]string, body []byte) (Record, error) {
	if err := h.store.storable(body); err != nil {
		return Record{}, err
	}
	sql, args, err := completeStatement(h.scope, h.key, h.token, response{Status: status, Header: header, Body: body})
	if err != nil {
		return Record{}, err
	}
	return Record{sql: sql, args: args}, nil
}

// Done tells the middleware that the handler's committed transaction
// completed the record (Completed), so that it does not.
func (h *Held) Done() { h.done = true }

// Applied tells the middleware that the request took effect although it
// answers with an error below 500, so that its answer is recorded and a
// retry replays it, as for a success. A declined charge is one: the payment
// is FAILED, committed, and the retry must learn that the card was
// declined, not that the payment is no longer pending. Without it a 4xx
// answer is a refusal, and is not recorded.
func (h *Held) Applied() { h.applied = true }
