// Package web is the HTTP foundation of every service: a gin engine with
// request and correlation IDs, structured access logs, panic recovery, a
// request body limit, Prometheus metrics, strict JSON binding with per-field
// validation errors, and RFC 9457 problem responses produced in one place
// (Fail + the engine's error middleware, driven by the service's
// problem.Mapper).
//
// Handlers stay thin: decode with Bind, call the domain, and on error call
// Fail(c, err) and return.
package web
