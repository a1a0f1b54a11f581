package identity

import (
	"net/mail"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/shop-oss/shop/pkg/problem"
)

// Role is what a user may do in the shop. The names are those of the
// access token's `role` claim.
type Role string

// The roles.
const (
	RoleCustomer Role = "CUSTOMER"
	RoleSeller   Role = "SELLER"
	RoleAdmin    Role = "ADMIN"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	switch r {
	case RoleCustomer, RoleSeller, RoleAdmin:
		return true
	}
	return false
}

// User is an account.
type User struct {
	ID           uuid.UUID
	Email        string // normalised (see NormaliseEmail)
	DisplayName  string
	Role         Role
	PasswordHash []byte
	CreatedAt    time.Time
	UpdatedAt    time.Time
	// DisabledAt is set once an administrator disabled the account; a
	// disabled user can neither log in nor refresh.
	DisabledAt     *time.Time
	DisabledReason string
	LastLoginAt    *time.Time
	// TokenGeneration is signed into every access token (the `gen`
	// claim). Disabling, re-enabling and a role change raise it, and every
	// service refuses the user's tokens of a lower generation (see
	// pkg/auth.Revocations): tokens issued before the change.
	TokenGeneration int64
}

// Disabled reports whether the account is disabled.
func (u User) Disabled() bool { return u.DisabledAt != nil }

// Limits of user input.
const (
	maxEmailLen       = 254 // RFC 5321 path limit
	maxDisplayNameLen = 100 // characters
	maxReasonLen      = 500 // characters
)

// NormaliseEmail returns the form of an address that is stored, compared
// and published: trimmed and in lower case. Lower-casing the local part is
// not what RFC 5321 promises, but it is what every mail provider does and
// what users expect ("Alice@x" and "alice@x" are one account).
func NormaliseEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// emailProblem returns why a normalised address is unacceptable, or "".
func emailProblem(email string) string {
	if email == "" {
		return "is required"
	}
	if len(email) > maxEmailLen {
		return "must have at most 254 characters"
	}
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email || addr.Name != "" {
		return "must be a valid email address"
	}
	at := strings.LastIndexByte(email, '@')
	if at < 1 || !strings.Contains(email[at+1:], ".") {
		return "must be a valid email address"
	}
	return ""
}

// normaliseDisplayName trims name and returns why it is unacceptable, or "".
func normaliseDisplayName(name string) (string, string) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return name, "is required"
	case !utf8.ValidString(name):
		return name, "must be valid UTF-8"
	case utf8.RuneCountInString(name) > maxDisplayNameLen:
		return name, "must have at most 100 characters"
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return name, "must not contain control characters"
	}
	return name, ""
}

// RegisterInput is what a visitor submits to create an account.
type RegisterInput struct {
	Email       string
	Password    string
	DisplayName string
	// Role is CUSTOMER (the default when empty) or SELLER. Self-registration
	// always makes a CUSTOMER: SELLER files a seller application for an
	// administrator to approve, and ADMIN is refused.
	Role     string
	ClientIP string
}

// validRegistration checks every field of in and returns the normalised
// values and whether a seller application is asked for, or a
// *problem.ValidationError naming each bad field.
func validRegistration(in RegisterInput) (email, name string, wantsSeller bool, err error) {
	email, name, fields := validAccount(in.Email, in.Password, in.DisplayName)
	switch Role(in.Role) {
	case "", RoleCustomer:
	case RoleSeller:
		wantsSeller = true
	default:
		fields = append(fields, problem.Field("role", "must be CUSTOMER or SELLER"))
	}
	if len(fields) > 0 {
		return "", "", false, problem.Validation(fields...)
	}
	return email, name, wantsSeller, nil
}

// validAccount normalises and checks the fields every new account has,
// returning a field error for each bad one.
func validAccount(email, password, displayName string) (string, string, []problem.FieldError) {
	var fields []problem.FieldError
	email = NormaliseEmail(email)
	if msg := emailProblem(email); msg != "" {
		fields = append(fields, problem.Field("email", "%s", msg))
	}
	if msg := PasswordProblem(password, email); msg != "" {
		fields = append(fields, problem.Field("password", "%s", msg))
	}
	name, msg := normaliseDisplayName(displayName)
	if msg != "" {
		fields = append(fields, problem.Field("display_name", "%s", msg))
	}
	return email, name, fields
}
