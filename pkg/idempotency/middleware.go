package idempotency

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/shop-oss/shop/pkg/problem"
	"github.com/shop-oss/shop/pkg/web"
)

// Header names.
const (
	// HeaderKey carries the client's idempotency key.
	HeaderKey = "Idempotency-Key"
	// HeaderReplayed is "true" on a response replayed from the store.
	HeaderReplayed = "Idempotent-Replayed"
	// HeaderRetryAfter tells a client refused with 409 when to retry.
	HeaderRetryAfter = "Retry-After"
)

// Problem type slugs of the middleware's answers.
const (
	SlugKeyMissing  = "idempotency-key-missing"   // 400: no Idempotency-Key
	SlugKeyInvalid  = "idempotency-key-invalid"   // 400: malformed key
	SlugKeyReused   = "idempotency-key-reused"    // 422: the key was used for another request
	SlugKeyInFlight = "idempotency-key-in-flight" // 409: the first request with the key still runs
)

// finishTimeout bounds storing or deleting a record after the handler ran;
// it runs even when the client has gone away.
const finishTimeout = 5 * time.Second

// ctxKey keys the idempotency key in a request context.
type ctxKey struct{}

// KeyFrom returns the idempotency key of the request whose context is ctx,
// as Middleware put it there for the handler.
func KeyFrom(ctx context.Context) (string, bool) {
	k, ok := ctx.Value(ctxKey{}).(string)
	return k, ok
}

// Middleware makes the routes after it require an Idempotency-Key header and
// honour it (see the package comment). scope names the caller that owns the
// key, e.g. the authenticated user ID or "ip:"+c.ClientIP() for anonymous
// calls; mount the middleware after authentication. An empty scope is a
// wiring error, answered with 500.
func Middleware(store *Store, scope func(c *gin.Context) string) gin.HandlerFunc {
	return func(c *gin.Context) {
		sc, key, fp, ok := store.keyOf(c, scope)
		if !ok {
			return
		}
		cl, err := store.claim(c.Request.Context(), sc, key, fp)
		if err != nil {
			web.Fail(c, err)
			return
		}
		store.m.observe(cl.outcome)
		switch cl.outcome {
		case outcomeFirst, outcomeTakenOver: // the key is ours
			store.run(c, sc, key, cl.token)
		default:
			answer(c, cl)
		}
	}
}

// keyOf reads a request's key, scope and fingerprint; when it cannot, it
// has answered (400, or 500 for an empty scope) and ok is false.
func (s *Store) keyOf(c *gin.Context, scope func(c *gin.Context) string) (sc, key string, fp *fingerprint, ok bool) {
	key, err := parseKey(c.Request.Header)
	if err != nil {
		web.Fail(c, err)
		return "", "", nil, false
	}
	sc = scope(c)
	if sc == "" {
		web.Fail(c, fmt.Errorf("idempotency: empty scope for %s %s", c.Request.Method, c.FullPath()))
		return "", "", nil, false
	}
	body, err := web.RawBody(c)
	if err != nil {
		web.Fail(c, err)
		return "", "", nil, false
	}
	return sc, key, newFingerprint(s.cfg.Secret, c.Request, body), true
}

// answer answers a request that does not run its handler: with the stored
// response, 422 or 409.
func answer(c *gin.Context, cl claim) {
	switch cl.outcome {
	case outcomeReplayed:
		replay(c, cl.resp)
	case outcomeMismatch:
		web.Fail(c, problem.Errorf(http.StatusUnprocessableEntity, SlugKeyReused, "Idempotency key reused",
			"the Idempotency-Key was already used for a different request; use a new key for a new request"))
	default:
		c.Header(HeaderRetryAfter, "1")
		web.Fail(c, problem.Errorf(http.StatusConflict, SlugKeyInFlight, "Request in progress",
			"a request with this Idempotency-Key is still being processed; retry later"))
	}
}

// replay answers with a stored response and stops the chain.
func replay(c *gin.Context, r response) {
	h := c.Writer.Header()
	for name, value := range r.Header {
		h.Set(name, value)
	}
	h.Set(HeaderReplayed, "true")
	c.Status(r.Status)
	if len(r.Body) > 0 {
		_, _ = c.Writer.Write(r.Body) // a write error means the client went away
	} else {
		c.Writer.WriteHeaderNow()
	}
	c.Abort()
}

// run runs the rest of the chain holding the key, then stores the response
// or, when it must not be stored, deletes the record.
func (s *Store) run(c *gin.Context, scope, key string, token time.Time) {
	held := &Held{store: s, scope: scope, key: key, token: token}
	ctx := context.WithValue(c.Request.Context(), ctxKey{}, key)
	c.Request = c.Request.WithContext(context.WithValue(ctx, heldKey{}, held))
	orig := c.Writer
	w := newCapture(orig, s.cfg.MaxResponseBytes)
	c.Writer = w
	finished := false
	defer func() {
		c.Writer = orig
		if !finished { // the handler panicked: recovery answers 500
			s.finish(c, scope, key, token, nil, "the handler panicked")
		}
	}()

	c.Next()
	finished = true

	switch {
	case held.done: // the handler completed the record with its change
	case len(c.Errors) > 0 && !w.Written():
		s.finish(c, scope, key, token, nil, "the handler failed with an error answered by the engine")
	case w.Status() >= http.StatusInternalServerError:
		s.finish(c, scope, key, token, nil, "server error")
	case w.Status() >= http.StatusBadRequest && !held.applied:
		s.finish(c, scope, key, token, nil, "refused (4xx): the corrected request may use the key")
	case w.overflow:
		s.finish(c, scope, key, token, nil, "response larger than MaxResponseBytes")
	default:
		resp := response{Status: w.Status(), Header: map[string]string{}, Body: w.body.Bytes()}
		for _, name := range [...]string{"Content-Type", "Location"} {
			if v := w.Header().Get(name); v != "" {
				resp.Header[name] = v
			}
		}
		s.finish(c, scope, key, token, &resp, "")
	}
}

// finish stores resp for the key or, when resp is nil, deletes its record
// (why says why, for the log), so that a retry runs afresh.
func (s *Store) finish(c *gin.Context, scope, key string, token time.Time, resp *response, why string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request.Context()), finishTimeout)
	defer cancel()
	var (
		held bool
		err  error
	)
	if resp != nil {
		held, err = s.complete(ctx, scope, key, token, *resp)
	} else {
		held, err = s.release(ctx, scope, key, token)
	}
	log := s.cfg.Logger.With("scope", scope, "route", c.FullPath())
	switch {
	case err != nil:
		// The record stays in flight until its lock expires; then a retry
		// takes it over.
		log.ErrorContext(ctx, "idempotency: could not finish the key's record", "error", err.Error(), "stored", resp != nil)
	case !held:
		log.WarnContext(ctx, "idempotency: the key was taken over while its request ran; raise LockTimeout above the longest request",
			"stored", resp != nil)
	case resp == nil:
		log.DebugContext(ctx, "idempotency: response not stored", "reason", why)
	}
}
