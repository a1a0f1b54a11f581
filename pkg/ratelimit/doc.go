// Package ratelimit limits request rates in Redis, so that every replica of
// a service shares one budget per key. It wraps go-redis/redis_rate (GCRA).
//
// A Limiter is named (the name prefixes its Redis keys and labels its
// metrics) and is used either directly (Allow, for domain limits such as
// failed logins per account) or as gin middleware (Middleware), which
// answers 429 problems with Retry-After and sets RateLimit-* headers. For a
// generous budget, Batched takes a key's events from Redis several at a
// time and hands them out in this process (one Redis call per batch).
//
// When Redis is unreachable the limiter keeps serving and keeps limiting:
// it decides in process, with the same limit per key in this replica (so
// with n replicas a key may get up to n times its budget during the
// outage), counts the failure in ratelimit_errors_total and logs it at warn
// level (at most once per LogEvery). A rate-limit outage must not become a
// service outage, nor open the door to brute force.
package ratelimit
