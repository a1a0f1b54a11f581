// Package auth verifies the access tokens that the identity service issues
// and carries the authenticated caller (a Principal) through a request.
//
// Access tokens are JWTs signed asymmetrically (EdDSA, or ES256) by identity
// under a key named by the `kid` header. A Verifier fetches identity's public
// keys from its JWKS endpoint, caches them, refreshes them periodically and
// (rate limited) when a token names an unknown `kid`, and checks the
// algorithm, signature, `iss`, `aud`, `exp`, `nbf`, `iat`, `sub` and `role`.
// No secret is shared between services, and nothing here issues tokens.
//
// A service starts even when identity is not up yet: the Verifier is built
// without keys, every verification fails with ErrKeysUnavailable, and it
// recovers by itself once identity answers.
//
// The gin middleware (Authenticate, Optional, RequireRole) answers failures
// with RFC 9457 problems and stores the Principal in the request context,
// where domain code finds it with FromContext. Tokens are never logged.
//
// Package authtest issues tokens for other services' tests.
package auth
