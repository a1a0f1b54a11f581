// Package idempotency implements the Idempotency-Key HTTP request header (IETF
// draft "The Idempotency-Key HTTP Header Field", as in Stripe's API) as gin
// middleware, with its records in PostgreSQL so that every replica of a
// service shares them.
//
// A key is scoped to the caller (the scope function given to Middleware, e.g.
// the authenticated user ID or "ip:"+client IP), so two callers never see each
// other's keys. Where the middleware is mounted:
//
//   - a request without the header is refused with 400 (problem slug
//     "idempotency-key-missing"); an empty key, one longer than 255
//     characters or one with characters outside printable ASCII with 400
//     ("idempotency-key-invalid"). The key may be sent bare (Stripe) or as a
//     structured-field string in double quotes (the draft);
//   - the first request with a key is recorded as in flight and runs; when
//     it succeeds (an answer below 400) its response (status, body,
//     Content-Type and Location) is stored;
//   - a retry with the same key and the same request (method, path, query
//     and body) gets the stored response byte for byte, with the header
//     Idempotent-Replayed: true, and the handler does not run again;
//   - the same key with another request is refused with 422
//     ("idempotency-key-reused");
//   - the same key while the first request is still in flight is refused with
//     409 ("idempotency-key-in-flight") and Retry-After: 1;
//   - a request whose process died leaves its key locked until
//     Config.LockTimeout has passed; then the next request with the key takes
//     it over (only one does) and runs the handler;
//   - a refused request (a 4xx answer: invalid input, a state conflict, a
//     missing resource) is not recorded: its record is deleted, so that the
//     corrected request may use the same key, and runs afresh (Stripe: a
//     result is saved only once the endpoint has executed). A handler whose
//     4xx reports an effect it committed (a declined charge) says so with
//     Held.Applied, and that answer is recorded like a success;
//   - a server error (5xx) is not recorded either: the handlers change state
//     in one transaction, so a 5xx changed nothing (or, when the commit's
//     outcome is unknown, the handler's own unique key catches the retry;
//     see below), and a retry with the key is what the client should send.
//     Neither are responses larger than Config.MaxResponseBytes, nor
//     requests whose handler panicked;
//   - records are kept for Config.TTL (24 hours by default, the least the
//     architecture promises clients); an expired record counts as absent and
//     (*Store).Prune deletes it.
//
// A request is identified by its fingerprint: HMAC-SHA-256 under
// Config.Secret of its method, path, query and body. Bodies carry secrets
// (a card number), so the stored fingerprint must not let a reader of the
// table test guesses of them. Records written before fingerprints were
// keyed hold an unkeyed SHA-256; (*Store).Rekey fingerprints them again
// (HMAC of that digest) and they keep working until they expire.
//
// # Crash safety: store the key with the business change
//
// The record is completed after the handler's transaction committed. A
// process that dies between the two leaves the record in flight; once its lock
// expires a retry takes it over and runs the handler a second time. Handlers
// whose effect must happen once (creating an order, charging a payment)
// therefore also store the key in their own row, under a unique constraint,
// in the same transaction as the change:
//
//	key, _ := idempotency.KeyFrom(ctx)
//	// orders(customer_id, idempotency_key) has a UNIQUE constraint
//	err := tx.Create(&orderRow{CustomerID: uid, IdempotencyKey: key, ...}).Error
//	if database.IsUniqueViolation(err) {
//		// the first attempt committed: load that order and answer with it
//	}
//
// The middleware then gives the fast path (replay without touching the
// domain) and the conflict answers; the unique constraint closes the crash
// window.
//
// For the same reason the records need not be durable the moment they are
// written: pkg/service gives the Store a pool with synchronous_commit off, so
// a claim and a completion do not wait for the disk. A database crash that
// undoes the last records leaves the keys absent or in flight, which is the
// window above, closed the same way.
//
// # The record in the handler's own statement
//
// InTransaction serves the same contract with no statement of its own: the
// handler renders its response before it writes its change, and writes the
// key's completed record in the same statement (Pending.Completed gives the
// record's INSERT, to run as a WITH query whose row the change waits for).
// The record and the change then commit together, durably, and a request
// costs two statements and round trips fewer. A retry that arrives while
// the first request still runs is not refused with 409 (nothing tells it
// yet); its write finds the first one's record and it answers with that
// record's response (Pending.Answer). Answers written without a change (a
// 4xx before the write) are not recorded: a retry runs its checks again.
// POST /orders uses it.
//
// A handler behind Middleware may do the same with the completion only
// (HeldFrom): the claim still comes first, which a handler with an outside
// effect (charging a card) needs before it acts, and the handler completes
// the record in its change's statement (Held.Completed) and calls Done, so
// that the middleware does not. POST /payments/confirm does it for a
// successful charge.
//
// Mount the middleware after authentication (the scope needs the caller) and
// run the migrations (Migrations, under MigrationsTable) with
// database.Migrate at start-up. Call (*Store).Rekey at start-up and, with
// (*Store).Prune, periodically.
package idempotency
