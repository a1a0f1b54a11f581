package auth

import (
	"errors"
	"fmt"
)

// ErrInvalidToken is wrapped by every rejection that is the token's fault;
// each has its own sentinel below, so errors.Is tells the reasons apart.
var ErrInvalidToken = errors.New("invalid access token")

// The reasons Verify rejects a token. Each wraps ErrInvalidToken.
var (
	ErrMalformed      = fmt.Errorf("%w: malformed", ErrInvalidToken)
	ErrAlgNone        = fmt.Errorf("%w: unsigned (alg none)", ErrInvalidToken)
	ErrAlgNotAllowed  = fmt.Errorf("%w: signing algorithm not allowed", ErrInvalidToken)
	ErrBadSignature   = fmt.Errorf("%w: bad signature", ErrInvalidToken)
	ErrUnknownKey     = fmt.Errorf("%w: unknown signing key", ErrInvalidToken)
	ErrExpired        = fmt.Errorf("%w: expired", ErrInvalidToken)
	ErrNotYetValid    = fmt.Errorf("%w: not valid yet", ErrInvalidToken)
	ErrWrongIssuer    = fmt.Errorf("%w: wrong issuer", ErrInvalidToken)
	ErrWrongAudience  = fmt.Errorf("%w: wrong audience", ErrInvalidToken)
	ErrInvalidSubject = fmt.Errorf("%w: missing or invalid subject", ErrInvalidToken)
	ErrInvalidRole    = fmt.Errorf("%w: missing or invalid role", ErrInvalidToken)
	ErrInvalidClaims  = fmt.Errorf("%w: invalid claims", ErrInvalidToken)
	// ErrRevoked: the token is valid but was issued before its user was
	// disabled, re-enabled or given another role (see Revocations).
	ErrRevoked = fmt.Errorf("%w: revoked", ErrInvalidToken)
)

// ErrKeysUnavailable means that no verification key could be fetched from
// identity yet (it is down or unreachable). It is not the token's fault, so
// it does not wrap ErrInvalidToken; the Verifier keeps retrying.
var ErrKeysUnavailable = errors.New("token verification keys unavailable")

// errMissingToken is the middleware's reason for a request without a
// bearer token.
var errMissingToken = errors.New("no bearer token")

// reasons lists every rejection reason, most specific first.
var reasons = []error{
	errMissingToken, ErrKeysUnavailable,
	ErrMalformed, ErrAlgNone, ErrAlgNotAllowed, ErrBadSignature, ErrUnknownKey,
	ErrExpired, ErrNotYetValid, ErrWrongIssuer, ErrWrongAudience,
	ErrInvalidSubject, ErrInvalidRole, ErrInvalidClaims, ErrRevoked,
}

// reason names why err rejected a token, in words safe to log: the
// sentinel's text, never the token or attacker-chosen header values.
func reason(err error) string {
	for _, r := range reasons {
		if errors.Is(err, r) {
			return r.Error()
		}
	}
	return "verification failed"
}
