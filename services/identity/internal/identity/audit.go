package identity

import (
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/google/uuid"
)

// Action names a security-relevant action in the audit log. All but the
// logout actions are also published on identity.events (as the event type
// of the same name); the logout actions are recorded only.
type Action string

// Audited actions.
const (
	ActionRegistered         Action = "USER_REGISTERED"
	ActionLoginSucceeded     Action = "USER_LOGIN_SUCCEEDED"
	ActionLoginFailed        Action = "USER_LOGIN_FAILED"
	ActionRefreshTokenReused Action = "REFRESH_TOKEN_REUSE_DETECTED"
	ActionRoleChanged        Action = "USER_ROLE_CHANGED"
	ActionDisabled           Action = "USER_DISABLED"
	ActionPasswordChanged    Action = "USER_PASSWORD_CHANGED"
	ActionEnabled            Action = "USER_ENABLED"
	ActionSellerApplied      Action = "SELLER_APPLICATION_SUBMITTED"
	ActionSellerApproved     Action = "SELLER_APPLICATION_APPROVED"
	ActionSellerRejected     Action = "SELLER_APPLICATION_REJECTED"
	ActionLoggedOut          Action = "USER_LOGGED_OUT"
	ActionLoggedOutAll       Action = "USER_LOGGED_OUT_ALL"
)

// Reasons of a failed login (UserLoginFailed.reason).
const (
	ReasonInvalidCredentials = "INVALID_CREDENTIALS"
	ReasonUserDisabled       = "USER_DISABLED"
	ReasonRateLimited        = "RATE_LIMITED"
)

// AuditRecord is one entry of the append-only audit log. Fields that do not
// apply to the action are zero.
type AuditRecord struct {
	Action Action
	At     time.Time
	// ActorID is who acted: the user themself, an administrator, or
	// uuid.Nil for an anonymous caller (a failed login).
	ActorID uuid.UUID
	// UserID is the account acted on; uuid.Nil for a failed login with an
	// unknown email.
	UserID   uuid.UUID
	Email    string
	Role     Role // the role at the time (the new role of a role change)
	OldRole  Role // role changes only
	FamilyID uuid.UUID
	Reason   string
	ClientIP string
	// TokenGeneration is the user's token generation after a role change,
	// disable or enable: tokens of a lower one are revoked.
	TokenGeneration int64
	// ApplicationID and Note are a seller application's.
	ApplicationID uuid.UUID
	Note          string
}

// EventKey is the message key of the record's event: the user ID, or for a
// failed login of an unknown email a stable hash of that email, so that
// attempts on one address stay in order on one partition without a user ID.
func (r AuditRecord) EventKey() string {
	if r.UserID != uuid.Nil {
		return r.UserID.String()
	}
	return EmailKey(r.Email)
}

// EmailKey is a stable, non-reversible key for a normalised email.
func EmailKey(email string) string {
	sum := sha256.Sum256([]byte("email:" + email))
	return "email-sha256:" + hex.EncodeToString(sum[:])
}
