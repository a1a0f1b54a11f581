package identity

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/shop-oss/shop/pkg/problem"
)

// Me returns the caller's account; a disabled account gets
// ErrAccountDisabled (its access tokens are refused everywhere within
// seconds; identity, reading the account, refuses them at once).
func (s *Service) Me(ctx context.Context, c Caller) (User, error) {
	u, err := s.store.UserByID(ctx, c.UserID)
	if err != nil {
		return User{}, fmt.Errorf("me: %w", err)
	}
	if u.Disabled() {
		return User{}, ErrAccountDisabled
	}
	return u, nil
}

// ProfileChange is what a user may change about themself; nil fields stay.
type ProfileChange struct {
	DisplayName *string
	// NewPassword requires CurrentPassword.
	CurrentPassword *string
	NewPassword     *string
}

// UpdateMe changes the caller's display name and/or password. A password
// change needs the current password (checked under the login throttle, so
// a stolen access token cannot be used to guess it), ends every other
// session of the user (the caller's own, found by its access token, stays)
// and is recorded.
func (s *Service) UpdateMe(ctx context.Context, c Caller, ch ProfileChange) (User, error) {
	u, err := s.Me(ctx, c)
	if err != nil {
		return User{}, err
	}
	name, err := validProfileChange(u, ch)
	if err != nil {
		return User{}, err
	}
	var newHash []byte
	if ch.NewPassword != nil {
		if err := s.checkCurrentPassword(ctx, u, *ch.CurrentPassword, c.ClientIP); err != nil {
			return User{}, err
		}
		if newHash, err = s.hasher.Hash(*ch.NewPassword); err != nil {
			return User{}, fmt.Errorf("update me: %w", err)
		}
	}
	now := s.clock()
	err = s.store.InTx(ctx, func(tx Tx) error {
		cur, err := tx.LockUser(ctx, u.ID)
		if err != nil {
			return err
		}
		if cur.Disabled() {
			return ErrAccountDisabled
		}
		if newHash != nil && string(cur.PasswordHash) != string(u.PasswordHash) {
			// Changed concurrently: the current password we checked is stale.
			return problem.Validation(problem.Field("current_password", "does not match your current password"))
		}
		if ch.DisplayName != nil {
			cur.DisplayName = name
		}
		if newHash != nil {
			cur.PasswordHash = newHash
		}
		cur.UpdatedAt = now
		if err := tx.UpdateUser(ctx, cur); err != nil {
			return err
		}
		u = cur
		if newHash == nil {
			return nil
		}
		keep, _, err := tx.FamilyOfAccessToken(ctx, cur.ID, c.TokenID)
		if err != nil {
			return err
		}
		if _, err := tx.RevokeUserTokens(ctx, cur.ID, keep, now); err != nil {
			return err
		}
		return tx.Record(ctx, AuditRecord{Action: ActionPasswordChanged, At: now, ActorID: cur.ID, UserID: cur.ID,
			Email: cur.Email, Role: cur.Role, ClientIP: c.ClientIP})
	})
	if err != nil {
		return User{}, fmt.Errorf("update me: %w", err)
	}
	return u, nil
}

// validProfileChange checks every field of ch for user u and returns the
// normalised display name, or a *problem.ValidationError.
func validProfileChange(u User, ch ProfileChange) (string, error) {
	var (
		fields []problem.FieldError
		name   string
		msg    string
	)
	if ch.DisplayName == nil && ch.NewPassword == nil {
		fields = append(fields, problem.Field("display_name", "give display_name or new_password (or both)"))
	}
	if ch.DisplayName != nil {
		if name, msg = normaliseDisplayName(*ch.DisplayName); msg != "" {
			fields = append(fields, problem.Field("display_name", "%s", msg))
		}
	}
	switch {
	case ch.NewPassword != nil:
		if msg := PasswordProblem(*ch.NewPassword, u.Email); msg != "" {
			fields = append(fields, problem.Field("new_password", "%s", msg))
		}
		if ch.CurrentPassword == nil || *ch.CurrentPassword == "" {
			fields = append(fields, problem.Field("current_password", "is required to change the password"))
		} else if *ch.CurrentPassword == *ch.NewPassword {
			fields = append(fields, problem.Field("new_password", "must differ from the current password"))
		}
	case ch.CurrentPassword != nil:
		fields = append(fields, problem.Field("current_password", "is only accepted together with new_password"))
	}
	if len(fields) > 0 {
		return "", problem.Validation(fields...)
	}
	return name, nil
}

// checkCurrentPassword verifies password for u under the login throttle.
func (s *Service) checkCurrentPassword(ctx context.Context, u User, password, clientIP string) error {
	account := EmailKey(u.Email)
	if err := s.slowDown(ctx, account, clientIP); err != nil {
		return err
	}
	err := s.hasher.Compare(u.PasswordHash, password)
	switch {
	case err == nil && len(password) <= MaxPasswordBytes:
		return nil
	case err == nil, errors.Is(err, ErrPasswordMismatch):
		_ = s.throttle.Failed(ctx, account, clientIP)
		return problem.Validation(problem.Field("current_password", "does not match your current password"))
	default:
		return fmt.Errorf("check password: %w", err)
	}
}

// ListQuery is an administrator's search.
type ListQuery struct {
	Query  string
	Role   string
	Limit  int
	Cursor string
}

// UserPage is one page of users; NextCursor is "" on the last page.
type UserPage struct {
	Users      []User
	NextCursor string
}

// ListUsers searches users by email or display name, in creation (ID)
// order, a page at a time.
func (s *Service) ListUsers(ctx context.Context, c Caller, q ListQuery) (UserPage, error) {
	if _, err := requireAdmin(ctx, s.store, c); err != nil {
		return UserPage{}, err
	}
	f := ListFilter{Query: strings.ToLower(strings.TrimSpace(q.Query)), Role: Role(q.Role)}
	var fields []problem.FieldError
	if f.Role != "" && !f.Role.Valid() {
		fields = append(fields, problem.Field("role", "must be CUSTOMER, SELLER or ADMIN"))
	}
	if utf8.RuneCountInString(f.Query) > 100 {
		fields = append(fields, problem.Field("q", "must have at most 100 characters"))
	}
	limit, after, fields := pageOf(q.Limit, q.Cursor, fields)
	if len(fields) > 0 {
		return UserPage{}, problem.Validation(fields...)
	}
	f.After, f.Limit = after, limit+1 // one more tells whether there is a next page
	users, err := s.store.ListUsers(ctx, f)
	if err != nil {
		return UserPage{}, fmt.Errorf("list users: %w", err)
	}
	var page UserPage
	page.Users, page.NextCursor = cut(users, limit, func(u User) uuid.UUID { return u.ID })
	return page, nil
}

// requireAdmin checks, against the database rather than the token, that
// the caller is still an active administrator: a demoted or disabled admin
// loses identity's admin API at once, not when the token expires.
func requireAdmin(ctx context.Context, r Reader, c Caller) (User, error) {
	u, err := r.UserByID(ctx, c.UserID)
	if errors.Is(err, ErrUserNotFound) || err == nil && (u.Role != RoleAdmin || u.Disabled()) {
		return User{}, ErrNotAdmin
	}
	if err != nil {
		return User{}, fmt.Errorf("check administrator: %w", err)
	}
	return u, nil
}

// ChangeRole gives user id the role. Setting the role it has already
// changes nothing and records nothing. The user's access tokens issued
// before are revoked in every service within seconds (the token
// generation rises); a refresh gets a token of the new role.
func (s *Service) ChangeRole(ctx context.Context, c Caller, id uuid.UUID, role Role) (User, error) {
	if !role.Valid() {
		return User{}, problem.Validation(problem.Field("role", "must be CUSTOMER, SELLER or ADMIN"))
	}
	u, err := s.adminChange(ctx, c, id, func(tx Tx, admin User, u *User, now time.Time) (bool, error) {
		if u.Role == role {
			return false, nil
		}
		return true, s.setRole(ctx, tx, admin, u, role, c.ClientIP, now)
	})
	if err != nil {
		return User{}, fmt.Errorf("change role of %s: %w", id, err)
	}
	return u, nil
}

// setRole gives u the role (in tx), revokes its tokens and records it.
func (s *Service) setRole(ctx context.Context, tx Tx, admin User, u *User, role Role, clientIP string, now time.Time) error {
	old := u.Role
	u.Role, u.UpdatedAt = role, now
	u.TokenGeneration++
	if err := tx.UpdateUser(ctx, *u); err != nil {
		return err
	}
	return tx.Record(ctx, AuditRecord{Action: ActionRoleChanged, At: now, ActorID: admin.ID, UserID: u.ID,
		Email: u.Email, Role: role, OldRole: old, TokenGeneration: u.TokenGeneration, ClientIP: clientIP})
}

// Disable locks user id out: it can no longer log in or refresh, all its
// sessions are revoked at once, and every service refuses its access
// tokens within seconds. Disabling a disabled user changes nothing.
func (s *Service) Disable(ctx context.Context, c Caller, id uuid.UUID, reason string) (User, error) {
	reason = strings.TrimSpace(reason)
	if utf8.RuneCountInString(reason) > maxReasonLen || !utf8.ValidString(reason) {
		return User{}, problem.Validation(problem.Field("reason", "must be valid text of at most %d characters", maxReasonLen))
	}
	u, err := s.adminChange(ctx, c, id, func(tx Tx, admin User, u *User, now time.Time) (bool, error) {
		if u.Disabled() {
			return false, nil
		}
		u.DisabledAt, u.DisabledReason, u.UpdatedAt = &now, reason, now
		u.TokenGeneration++
		if err := tx.UpdateUser(ctx, *u); err != nil {
			return false, err
		}
		if _, err := tx.RevokeUserTokens(ctx, u.ID, uuid.Nil, now); err != nil {
			return false, err
		}
		return true, tx.Record(ctx, AuditRecord{Action: ActionDisabled, At: now, ActorID: admin.ID, UserID: u.ID,
			Email: u.Email, Role: u.Role, Reason: reason, TokenGeneration: u.TokenGeneration, ClientIP: c.ClientIP})
	})
	if err != nil {
		return User{}, fmt.Errorf("disable %s: %w", id, err)
	}
	return u, nil
}

// Enable re-enables a disabled user id: it can log in again, with tokens
// of a new generation; the tokens it had before it was disabled stay
// refused. Enabling an enabled user changes nothing.
func (s *Service) Enable(ctx context.Context, c Caller, id uuid.UUID) (User, error) {
	u, err := s.adminChange(ctx, c, id, func(tx Tx, admin User, u *User, now time.Time) (bool, error) {
		if !u.Disabled() {
			return false, nil
		}
		u.DisabledAt, u.DisabledReason, u.UpdatedAt = nil, "", now
		u.TokenGeneration++
		if err := tx.UpdateUser(ctx, *u); err != nil {
			return false, err
		}
		return true, tx.Record(ctx, AuditRecord{Action: ActionEnabled, At: now, ActorID: admin.ID, UserID: u.ID,
			Email: u.Email, Role: u.Role, TokenGeneration: u.TokenGeneration, ClientIP: c.ClientIP})
	})
	if err != nil {
		return User{}, fmt.Errorf("enable %s: %w", id, err)
	}
	return u, nil
}

// adminChange runs change on user id, locked, in one transaction that
// first checks that the caller is an active administrator acting on
// another account. When change reports that it raised the user's token
// generation, the revocation is announced once the transaction has
// committed. It returns the user as change left it.
func (s *Service) adminChange(ctx context.Context, c Caller, id uuid.UUID,
	change func(tx Tx, admin User, u *User, now time.Time) (revoked bool, err error)) (User, error) {
	if id == c.UserID {
		return User{}, ErrSelfModification
	}
	now := s.clock()
	var (
		u       User
		revoked bool
	)
	err := s.store.InTx(ctx, func(tx Tx) error {
		admin, err := requireAdmin(ctx, tx, c)
		if err != nil {
			return err
		}
		if u, err = tx.LockUser(ctx, id); err != nil {
			return err
		}
		revoked, err = change(tx, admin, &u, now)
		return err
	})
	if err == nil && revoked {
		s.revoker.Revoke(ctx, u.ID, u.TokenGeneration, now)
	}
	return u, err
}

// NewUser is an account created by an operator (the first administrator,
// the demo users) rather than by self-registration: any role, a chosen ID.
type NewUser struct {
	ID          uuid.UUID // uuid.Nil picks one
	Email       string
	Password    string
	DisplayName string
	Role        Role
}

// EnsureUser creates nu unless a user with its ID or email exists, and
// reports whether it did. It is idempotent: running it again changes
// nothing, and an existing account is never modified (its password may
// have been changed since).
func (s *Service) EnsureUser(ctx context.Context, nu NewUser) (User, bool, error) {
	email, name, fields := validAccount(nu.Email, nu.Password, nu.DisplayName)
	if !nu.Role.Valid() {
		fields = append(fields, problem.Field("role", "must be CUSTOMER, SELLER or ADMIN"))
	}
	if len(fields) > 0 {
		return User{}, false, problem.Validation(fields...)
	}
	if u, found, err := s.existing(ctx, nu.ID, email); err != nil || found {
		return u, false, err
	}
	hash, err := s.hasher.Hash(nu.Password)
	if err != nil {
		return User{}, false, fmt.Errorf("ensure user: %w", err)
	}
	now := s.clock()
	u := User{ID: nu.ID, Email: email, DisplayName: name, Role: nu.Role, PasswordHash: hash, CreatedAt: now, UpdatedAt: now}
	if u.ID == uuid.Nil {
		u.ID = uuid.Must(uuid.NewV7())
	}
	var created bool
	err = s.store.InTx(ctx, func(tx Tx) error {
		if created, err = tx.CreateUser(ctx, u); err != nil || !created {
			return err
		}
		return tx.Record(ctx, AuditRecord{Action: ActionRegistered, At: now, UserID: u.ID, Email: u.Email, Role: u.Role})
	})
	if errors.Is(err, ErrEmailTaken) || err == nil && !created { // created concurrently
		u, _, err := s.existing(ctx, nu.ID, email)
		return u, false, err
	}
	if err != nil {
		return User{}, false, fmt.Errorf("ensure user %s: %w", email, err)
	}
	return u, true, nil
}

// existing finds the user with id (unless uuid.Nil) or email.
func (s *Service) existing(ctx context.Context, id uuid.UUID, email string) (User, bool, error) {
	if id != uuid.Nil {
		u, err := s.store.UserByID(ctx, id)
		if err == nil {
			return u, true, nil
		}
		if !errors.Is(err, ErrUserNotFound) {
			return User{}, false, err
		}
	}
	u, err := s.store.UserByEmail(ctx, email)
	if errors.Is(err, ErrUserNotFound) {
		return User{}, false, nil
	}
	return u, err == nil, err
}
