package ratelimit

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/go-redis/redis_rate/v10"

	"github.com/shop-oss/shop/pkg/auth"
	"github.com/shop-oss/shop/pkg/problem"
	"github.com/shop-oss/shop/pkg/web"
)

// SlugRateLimited is the problem type slug of a 429 answer.
const SlugRateLimited = "rate-limited"

// Response headers (draft-ietf-httpapi-ratelimit-headers) and Retry-After.
const (
	HeaderLimit      = "RateLimit-Limit"
	HeaderRemaining  = "RateLimit-Remaining"
	HeaderReset      = "RateLimit-Reset"
	HeaderRetryAfter = "Retry-After"
)

// KeyFunc names the budget a request spends: a client IP, a user ID. An
// empty key exempts the request from the limit.
type KeyFunc func(c *gin.Context) string

// ByClientIP keys requests by client address (gin's ClientIP, which honours
// X-Forwarded-For only from the engine's trusted proxies), as ClientKey
// makes it.
func ByClientIP(c *gin.Context) string { return ClientKey(c.ClientIP()) }

// ClientKey is the budget key of a client address: an IPv4 address, or the
// /64 that an IPv6 address is in. One subscriber or host is given a whole
// /64 (RFC 6177), so a key per IPv6 address would give a client 2^64
// budgets. IPv4-mapped IPv6 addresses count as their IPv4 address.
func ClientKey(ip string) string {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return "ip:" + ip
	}
	addr = addr.Unmap().WithZone("")
	if addr.Is6() {
		prefix, _ := addr.Prefix(64) // cannot fail for an unzoned IPv6 address
		return "ip:" + prefix.String()
	}
	return "ip:" + addr.String()
}

// ByUserOrIP keys requests by the authenticated user when there is one (see
// auth.FromContext; place the middleware after auth's), else by client IP.
func ByUserOrIP(c *gin.Context) string {
	if p, ok := auth.FromContext(c.Request.Context()); ok {
		return "user:" + p.UserID
	}
	return ByClientIP(c)
}

// Middleware spends one event of key(c)'s budget under limit per request.
// Over the limit it answers 429 (problem slug "rate-limited") with
// Retry-After in whole seconds; every request it answers or passes carries
// RateLimit-Limit (the burst), RateLimit-Remaining and RateLimit-Reset.
// While Redis is unreachable the limit is kept in this process (Allow).
func (l *Limiter) Middleware(limit redis_rate.Limit, key KeyFunc) gin.HandlerFunc {
	return middleware(limit, key, "", func(ctx context.Context, k string) (Result, error) { return l.Allow(ctx, k, limit) })
}

// MiddlewareFor is Middleware for one named limit of an operation (what,
// e.g. "orders placed per user"): its 429 names the limit and its budget,
// so that a client can tell it from the service-wide one.
func (l *Limiter) MiddlewareFor(what string, limit redis_rate.Limit, key KeyFunc) gin.HandlerFunc {
	return middleware(limit, key, what, func(ctx context.Context, k string) (Result, error) { return l.Allow(ctx, k, limit) })
}

// Middleware is Limiter.Middleware for b's limit, spending events as
// b.Allow does.
func (b *Batched) Middleware(key KeyFunc) gin.HandlerFunc {
	return middleware(b.limit, key, "", b.Allow)
}

func middleware(limit redis_rate.Limit, key KeyFunc, what string, allow func(context.Context, string) (Result, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		k := key(c)
		if k == "" {
			return
		}
		res, _ := allow(c.Request.Context(), k) // a Redis failure is counted and logged there
		c.Header(HeaderLimit, strconv.Itoa(limit.Burst))
		if res.Remaining < 0 {
			return // failed open: an invalid limit
		}
		c.Header(HeaderRemaining, strconv.Itoa(res.Remaining))
		c.Header(HeaderReset, strconv.Itoa(ceilSeconds(res.ResetAfter)))
		if res.Allowed {
			return
		}
		wait := max(1, ceilSeconds(res.RetryAfter))
		c.Header(HeaderRetryAfter, strconv.Itoa(wait))
		detail := fmt.Sprintf("Rate limit exceeded; retry in %d s.", wait)
		if what != "" {
			detail = fmt.Sprintf("Rate limit of %d %s per %s exceeded; retry in %d s.", limit.Rate, what, periodName(limit.Period), wait)
		}
		web.WriteProblem(c, problem.New(http.StatusTooManyRequests, SlugRateLimited, "Too Many Requests", detail))
	}
}

// periodName is a limit's period in words ("minute" for time.Minute).
func periodName(d time.Duration) string {
	switch d {
	case time.Second:
		return "second"
	case time.Minute:
		return "minute"
	case time.Hour:
		return "hour"
	}
	return d.String()
}

// ceilSeconds rounds d up to whole seconds (negative counts as zero).
func ceilSeconds(d time.Duration) int {
	if d <= 0 {
		return 0
	}
	return int(math.Ceil(d.Seconds()))
}
