package catalog

import "github.com/google/uuid"

// Role is the caller's role, as the identity service assigns it.
type Role string

// The roles the catalog cares about.
const (
	RoleCustomer Role = "CUSTOMER"
	RoleSeller   Role = "SELLER"
	RoleAdmin    Role = "ADMIN"
)

// Actor is who makes a call. The zero Actor is an anonymous visitor.
type Actor struct {
	ID   uuid.UUID
	Role Role
}

// IsAdmin reports whether a is an administrator.
func (a Actor) IsAdmin() bool { return a.ID != uuid.Nil && a.Role == RoleAdmin }

// canCreate: sellers sell, admins act for them.
func (a Actor) canCreate() bool {
	return a.ID != uuid.Nil && (a.Role == RoleSeller || a.Role == RoleAdmin)
}

// canManage is the ownership rule: the product's seller (still a seller) or
// an admin.
func (a Actor) canManage(p Product) bool {
	return a.IsAdmin() || (a.ID != uuid.Nil && a.Role == RoleSeller && a.ID == p.SellerID)
}

// canSee hides drafts from everybody but those who manage them. Archived
// products stay visible by ID: orders placed before archiving link to them.
func (a Actor) canSee(p Product) bool {
	return p.Status != StatusDraft || a.canManage(p)
}

// Scope is the part of the catalog a listing may show to an actor.
type Scope struct {
	// All shows every product in every status (admins).
	All bool
	// Owner, when set, adds that seller's products in any status to the
	// ACTIVE products everybody sees.
	Owner uuid.UUID
}

// scopeOf returns what a may list.
func scopeOf(a Actor) Scope {
	switch {
	case a.IsAdmin():
		return Scope{All: true}
	case a.ID != uuid.Nil && a.Role == RoleSeller:
		return Scope{Owner: a.ID}
	default:
		return Scope{}
	}
}

// key names the scope in cache keys; customers and visitors share "public".
func (s Scope) key() string {
	switch {
	case s.All:
		return "all"
	case s.Owner != uuid.Nil:
		return "seller:" + s.Owner.String()
	default:
		return "public"
	}
}
