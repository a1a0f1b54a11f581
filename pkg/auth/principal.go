package auth

import (
	"context"
	"slices"
	"time"
)

// Principal is the authenticated caller of a request.
type Principal struct {
	// UserID is the `sub` claim: a UUID in canonical lowercase form.
	UserID string
	// Role is the `role` claim.
	Role Role
	// TokenID is the `jti` claim ("" when the token has none).
	TokenID string
	// ExpiresAt is the `exp` claim.
	ExpiresAt time.Time
	// Generation is the `gen` claim: the user's token generation when the
	// token was issued (0 when the token has none). See Revocation.
	Generation int64
}

// IsAdmin reports whether p has the ADMIN role.
func (p Principal) IsAdmin() bool { return p.Role == RoleAdmin }

// HasRole reports whether p has any of roles.
func (p Principal) HasRole(roles ...Role) bool { return slices.Contains(roles, p.Role) }

// CanAccess is the ownership rule: it reports whether p may act on a
// resource owned by ownerID, that is whether p is the owner or an ADMIN.
// ownerID must be in canonical lowercase UUID form (as uuid.UUID.String
// gives it); an empty ownerID matches nobody but an ADMIN.
func (p Principal) CanAccess(ownerID string) bool {
	if p.UserID == "" {
		return false
	}
	return p.IsAdmin() || (ownerID != "" && p.UserID == ownerID)
}

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the principal carried by ctx, and false for an
// anonymous request.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}
