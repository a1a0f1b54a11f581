package identity

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Domain errors. The API maps each to a problem once (identityapi.Errors).
var (
	// ErrEmailTaken: an account with this email exists already.
	ErrEmailTaken = errors.New("an account with this email address already exists")
	// ErrInvalidCredentials answers an unknown email and a wrong password
	// alike, so that a login does not reveal which accounts exist.
	ErrInvalidCredentials = errors.New("the email address or password is incorrect")
	// ErrAccountDisabled: an administrator disabled the account.
	ErrAccountDisabled = errors.New("the account is disabled")
	// ErrInvalidRefreshToken covers every refused refresh: unknown,
	// expired, revoked or reused. The wrapped reason is for logs only.
	ErrInvalidRefreshToken = errors.New("the refresh token is invalid, expired or revoked")
	// ErrLoginThrottled: too many failed logins for the account or the
	// client; a *ThrottledError says for how long.
	ErrLoginThrottled = errors.New("too many failed login attempts")
	// ErrUserNotFound: no user has this ID.
	ErrUserNotFound = errors.New("user not found")
	// ErrNotAdmin: the caller's token says ADMIN but the account is no
	// longer an active administrator.
	ErrNotAdmin = errors.New("only an active administrator may do this")
	// ErrSelfModification: administrators cannot change their own role or
	// disable themselves (the last administrator could lock everyone out).
	ErrSelfModification = errors.New("administrators cannot change their own role or disable their own account")
	// ErrApplicationNotFound: no seller application has this ID (or the
	// caller has none).
	ErrApplicationNotFound = errors.New("seller application not found")
	// ErrApplicationDecided: the application was approved or rejected
	// already.
	ErrApplicationDecided = errors.New("the seller application has been decided already")
	// ErrAlreadySeller: the caller is a SELLER or ADMIN already.
	ErrAlreadySeller = errors.New("the account is a seller or administrator already")
)

// Reasons a refresh is refused, wrapped in ErrInvalidRefreshToken.
var (
	errTokenUnknown = fmt.Errorf("%w: unknown", ErrInvalidRefreshToken)
	errTokenExpired = fmt.Errorf("%w: expired", ErrInvalidRefreshToken)
	errTokenRevoked = fmt.Errorf("%w: revoked", ErrInvalidRefreshToken)
	errTokenReused  = fmt.Errorf("%w: reused after rotation; its family is revoked", ErrInvalidRefreshToken)
)

// ThrottledError is ErrLoginThrottled with the time until the next attempt
// is allowed (the Retry-After of the answer).
type ThrottledError struct {
	RetryAfter time.Duration
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("%s; retry in %d s", ErrLoginThrottled.Error(), e.RetrySeconds())
}

// Is makes errors.Is(err, ErrLoginThrottled) true.
func (e *ThrottledError) Is(target error) bool { return target == ErrLoginThrottled }

// RetrySeconds is RetryAfter in whole seconds, rounded up, at least 1.
func (e *ThrottledError) RetrySeconds() int {
	return max(1, int(math.Ceil(e.RetryAfter.Seconds())))
}
