package auth

import (
	"errors"
	"fmt"
)

// Role is a caller's role, as carried by the `role` claim.
type Role string

// The roles of the shop.
const (
	RoleCustomer Role = "CUSTOMER"
	RoleSeller   Role = "SELLER"
	RoleAdmin    Role = "ADMIN"
)

// ErrUnknownRole is returned by ParseRole for anything but a known role.
var ErrUnknownRole = errors.New("unknown role")

// ParseRole returns the Role named by s, which must match exactly
// (CUSTOMER, SELLER or ADMIN).
func ParseRole(s string) (Role, error) {
	r := Role(s)
	if !r.Valid() {
		return "", fmt.Errorf("parse role %q: %w", s, ErrUnknownRole)
	}
	return r, nil
}

// Valid reports whether r is one of the known roles.
func (r Role) Valid() bool {
	switch r {
	case RoleCustomer, RoleSeller, RoleAdmin:
		return true
	}
	return false
}

// String returns the role's name.
func (r Role) String() string { return string(r) }
