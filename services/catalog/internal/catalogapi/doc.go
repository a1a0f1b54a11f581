// Package catalogapi is the catalog's HTTP API under /api/v1 (gin): it
// authenticates, decodes and validates requests, calls catalog.Service,
// and writes JSON or RFC 9457 problems. Optimistic concurrency uses strong
// ETags "v<version>" with If-Match (412 on a mismatch, 428 when a PUT or
// PATCH leaves it out). The routes are specified in api/openapi.yaml.
package catalogapi
