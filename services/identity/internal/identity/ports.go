package identity

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// Store is the persistence of users, refresh tokens and the audit log.
// Reads outside a transaction go through Reader; every change goes through
// InTx, whose function's changes, audit records and events commit together
// or not at all.
type Store interface {
	Reader
	// InTx runs fn in one database transaction: committed when fn returns
	// nil, rolled back otherwise.
	InTx(ctx context.Context, fn func(tx Tx) error) error
	// ListUsers returns users matching f in ID order (may read a replica).
	ListUsers(ctx context.Context, f ListFilter) ([]User, error)
	// LatestSellerApplication returns the user's most recent application;
	// ErrApplicationNotFound when there is none.
	LatestSellerApplication(ctx context.Context, user uuid.UUID) (SellerApplication, error)
	// ListSellerApplications returns applications matching f in ID order
	// (may read a replica).
	ListSellerApplications(ctx context.Context, f ApplicationFilter) ([]SellerApplication, error)
	// PurgeRefreshTokens deletes refresh tokens that expired before t and
	// returns how many.
	PurgeRefreshTokens(ctx context.Context, before time.Time) (int64, error)
}

// Reader reads users.
type Reader interface {
	// UserByID returns ErrUserNotFound when there is no such user.
	UserByID(ctx context.Context, id uuid.UUID) (User, error)
	// UserByEmail looks up a normalised email; ErrUserNotFound when absent.
	UserByEmail(ctx context.Context, email string) (User, error)
}

// Tx is a Store transaction.
type Tx interface {
	Reader
	// LockUser reads a user and locks the row until the transaction ends.
	LockUser(ctx context.Context, id uuid.UUID) (User, error)
	// CreateUser inserts u; ErrEmailTaken when the email is in use.
	// It returns false, without error, when a user with u.ID exists.
	CreateUser(ctx context.Context, u User) (bool, error)
	// UpdateUser writes u's display name, role, password hash, disabled
	// state, last login and token generation.
	UpdateUser(ctx context.Context, u User) error

	// CreateRefreshToken stores t (its hash, never the token).
	CreateRefreshToken(ctx context.Context, t RefreshToken) error
	// LockRefreshToken finds the token with this hash and locks its row;
	// found is false when there is none.
	LockRefreshToken(ctx context.Context, hash []byte) (t RefreshToken, found bool, err error)
	// MarkRotated records that the token id was exchanged at at.
	MarkRotated(ctx context.Context, id uuid.UUID, at time.Time) error
	// RevokeFamily revokes every token of the family not revoked yet.
	RevokeFamily(ctx context.Context, family uuid.UUID, at time.Time) (int64, error)
	// RevokeUserTokens revokes every token of the user not revoked yet,
	// except those of family keep (uuid.Nil keeps none).
	RevokeUserTokens(ctx context.Context, user, keep uuid.UUID, at time.Time) (int64, error)
	// FamilyOfAccessToken returns the refresh-token family that was issued
	// together with the access token jti of user, if any.
	FamilyOfAccessToken(ctx context.Context, user uuid.UUID, jti string) (uuid.UUID, bool, error)

	// CreateSellerApplication inserts a (PENDING).
	CreateSellerApplication(ctx context.Context, a SellerApplication) error
	// PendingSellerApplication returns the user's pending application;
	// found is false when there is none.
	PendingSellerApplication(ctx context.Context, user uuid.UUID) (a SellerApplication, found bool, err error)
	// LockSellerApplication reads an application (with its applicant's
	// email and name) and locks its row; ErrApplicationNotFound when absent.
	LockSellerApplication(ctx context.Context, id uuid.UUID) (SellerApplication, error)
	// UpdateSellerApplication writes a's status and decision.
	UpdateSellerApplication(ctx context.Context, a SellerApplication) error

	// Record appends r to the audit log and, when the action has an event,
	// adds the event to the outbox, in this transaction.
	Record(ctx context.Context, r AuditRecord) error
}

// RefreshToken is the stored side of an opaque refresh token.
type RefreshToken struct {
	ID uuid.UUID
	// Family is shared by a login's tokens, from the first to the last
	// rotation: revoking the family ends the session.
	Family    uuid.UUID
	UserID    uuid.UUID
	Hash      []byte // SHA-256 of the token
	AccessJTI string // jti of the access token issued with it
	CreatedAt time.Time
	ExpiresAt time.Time
	RotatedAt *time.Time
	RevokedAt *time.Time
	ClientIP  string
}

// ListFilter selects users for ListUsers.
type ListFilter struct {
	// Query matches a substring of the email or display name (any case).
	Query string
	// Role, when set, keeps only users with this role.
	Role Role
	// After is the keyset cursor: only users with a greater ID.
	After uuid.UUID
	// Limit is the page size.
	Limit int
}

// ApplicationFilter selects seller applications.
type ApplicationFilter struct {
	Status ApplicationStatus
	// After is the keyset cursor: only applications with a greater ID.
	After uuid.UUID
	Limit int
}

// AccessClaims are what an access token asserts.
type AccessClaims struct {
	UserID     uuid.UUID
	Role       Role
	Generation int64  // the user's token generation (the `gen` claim)
	ID         string // jti
	IssuedAt   time.Time
	ExpiresAt  time.Time
}

// Signer signs access tokens with the service's active key.
type Signer interface {
	Sign(ctx context.Context, c AccessClaims) (string, error)
}

// Revoker announces, after the change has committed, that the user's
// access tokens below generation are revoked, for every service to refuse
// them at once. It is the fast path: the same change is on identity.events
// (in the change's transaction), which every service also follows, so a
// failed announcement only makes the revocation take a little longer.
type Revoker interface {
	Revoke(ctx context.Context, user uuid.UUID, generation int64, at time.Time)
}

// LoginThrottle counts failed logins per account, per client address and
// per (account, address) pair, shared by all replicas. Implementations
// never lock every user out when their store is down: they keep counting
// in this process instead (per replica), or report no failures (and the
// error, for the caller to ignore or log).
type LoginThrottle interface {
	// Pressure returns the current failure counts of the attempt's
	// account, client and pair.
	Pressure(ctx context.Context, account, client string) (LoginPressure, error)
	// Failed counts one failed attempt for all three.
	Failed(ctx context.Context, account, client string) error
	// Succeeded clears the account's and the pair's counts (the client's
	// is kept, so that logging into one's own account does not reset a
	// guessing spree over others).
	Succeeded(ctx context.Context, account, client string) error
}

// LoginPressure is the failure state of one login attempt's account,
// client address and (account, address) pair, and how long until the
// counts that can refuse an attempt expire.
type LoginPressure struct {
	AccountFailures   int
	ClientFailures    int
	ClientRetryAfter  time.Duration
	AddressFailures   int // on this account from this address
	AddressRetryAfter time.Duration
}
