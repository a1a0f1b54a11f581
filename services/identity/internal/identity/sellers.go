package identity

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/shop-oss/shop/pkg/problem"
)

// ApplicationStatus is where a seller application stands.
type ApplicationStatus string

// The statuses of a seller application.
const (
	ApplicationPending  ApplicationStatus = "PENDING"
	ApplicationApproved ApplicationStatus = "APPROVED"
	ApplicationRejected ApplicationStatus = "REJECTED"
)

// Valid reports whether s is a known status.
func (s ApplicationStatus) Valid() bool {
	switch s {
	case ApplicationPending, ApplicationApproved, ApplicationRejected:
		return true
	}
	return false
}

// SellerApplication is a customer's request for a seller account. Nobody
// becomes a SELLER by registering: an administrator approves an
// application (or an operator creates the account, as the demo seed does).
type SellerApplication struct {
	ID     uuid.UUID
	UserID uuid.UUID
	// Email and DisplayName are the applicant's, read with the application.
	Email       string
	DisplayName string
	Status      ApplicationStatus
	// Note is what the applicant wrote (what they sell, say).
	Note      string
	CreatedAt time.Time
	// DecidedAt, DecidedBy and Reason are set once an administrator
	// approved or rejected it.
	DecidedAt *time.Time
	DecidedBy uuid.UUID
	Reason    string
}

// maxNoteLen bounds an application's note (characters).
const maxNoteLen = 1000

// validNote trims note and checks it.
func validNote(note string) (string, error) {
	note = strings.TrimSpace(note)
	if !utf8.ValidString(note) || utf8.RuneCountInString(note) > maxNoteLen ||
		strings.IndexFunc(note, func(r rune) bool { return unicode.IsControl(r) && r != '\n' }) >= 0 {
		return "", problem.Validation(problem.Field("note", "must be text of at most %d characters", maxNoteLen))
	}
	return note, nil
}

// newApplication files an application of u in tx and records it.
func newApplication(ctx context.Context, tx Tx, u User, note, clientIP string, now time.Time) (SellerApplication, error) {
	a := SellerApplication{ID: uuid.Must(uuid.NewV7()), UserID: u.ID, Email: u.Email, DisplayName: u.DisplayName,
		Status: ApplicationPending, Note: note, CreatedAt: now}
	if err := tx.CreateSellerApplication(ctx, a); err != nil {
		return SellerApplication{}, err
	}
	err := tx.Record(ctx, AuditRecord{Action: ActionSellerApplied, At: now, ActorID: u.ID, UserID: u.ID,
		Email: u.Email, Role: u.Role, ApplicationID: a.ID, Note: note, ClientIP: clientIP})
	return a, err
}

// ApplyForSeller files the caller's application for a seller account. A
// customer with a pending application gets that one back (created is
// false), so that a retry files nothing twice; a seller or administrator
// gets ErrAlreadySeller.
func (s *Service) ApplyForSeller(ctx context.Context, c Caller, note string) (a SellerApplication, created bool, err error) {
	if note, err = validNote(note); err != nil {
		return SellerApplication{}, false, err
	}
	now := s.clock()
	err = s.store.InTx(ctx, func(tx Tx) error {
		u, err := tx.LockUser(ctx, c.UserID)
		switch {
		case err != nil:
			return err
		case u.Disabled():
			return ErrAccountDisabled
		case u.Role != RoleCustomer:
			return ErrAlreadySeller
		}
		pending, found, err := tx.PendingSellerApplication(ctx, u.ID)
		if err != nil || found {
			a = pending
			return err
		}
		a, err = newApplication(ctx, tx, u, note, c.ClientIP, now)
		created = err == nil
		return err
	})
	if err != nil {
		return SellerApplication{}, false, fmt.Errorf("apply for a seller account: %w", err)
	}
	return a, created, nil
}

// MySellerApplication returns the caller's latest application, or
// ErrApplicationNotFound.
func (s *Service) MySellerApplication(ctx context.Context, c Caller) (SellerApplication, error) {
	if _, err := s.Me(ctx, c); err != nil {
		return SellerApplication{}, err
	}
	a, err := s.store.LatestSellerApplication(ctx, c.UserID)
	if err != nil {
		return SellerApplication{}, fmt.Errorf("my seller application: %w", err)
	}
	return a, nil
}

// ApplicationQuery is an administrator's list of applications.
type ApplicationQuery struct {
	// Status selects; empty means PENDING (the work to do).
	Status string
	Limit  int
	Cursor string
}

// ApplicationPage is one page of applications; NextCursor is "" on the
// last page.
type ApplicationPage struct {
	Applications []SellerApplication
	NextCursor   string
}

// ListSellerApplications lists applications with a status, oldest first
// (the order they were filed in), a page at a time.
func (s *Service) ListSellerApplications(ctx context.Context, c Caller, q ApplicationQuery) (ApplicationPage, error) {
	if _, err := requireAdmin(ctx, s.store, c); err != nil {
		return ApplicationPage{}, err
	}
	f := ApplicationFilter{Status: ApplicationStatus(q.Status)}
	var fields []problem.FieldError
	if f.Status == "" {
		f.Status = ApplicationPending
	}
	if !f.Status.Valid() {
		fields = append(fields, problem.Field("status", "must be PENDING, APPROVED or REJECTED"))
	}
	limit, after, fields := pageOf(q.Limit, q.Cursor, fields)
	if len(fields) > 0 {
		return ApplicationPage{}, problem.Validation(fields...)
	}
	f.After, f.Limit = after, limit+1 // one more tells whether there is a next page
	apps, err := s.store.ListSellerApplications(ctx, f)
	if err != nil {
		return ApplicationPage{}, fmt.Errorf("list seller applications: %w", err)
	}
	var page ApplicationPage
	page.Applications, page.NextCursor = cut(apps, limit, func(a SellerApplication) uuid.UUID { return a.ID })
	return page, nil
}

// ApproveSellerApplication approves a pending application: the applicant
// becomes a SELLER (a role change like any other: recorded, and the
// applicant's older tokens revoked). An applicant whom an administrator
// already made a SELLER or ADMIN keeps that role.
func (s *Service) ApproveSellerApplication(ctx context.Context, c Caller, id uuid.UUID) (SellerApplication, error) {
	a, err := s.decide(ctx, c, id, func(tx Tx, admin User, a *SellerApplication, now time.Time) (int64, error) {
		u, err := tx.LockUser(ctx, a.UserID)
		if err != nil {
			return 0, err
		}
		a.Status = ApplicationApproved
		if err := tx.Record(ctx, AuditRecord{Action: ActionSellerApproved, At: now, ActorID: admin.ID, UserID: u.ID,
			Email: u.Email, Role: u.Role, ApplicationID: a.ID, ClientIP: c.ClientIP}); err != nil {
			return 0, err
		}
		if u.Role != RoleCustomer {
			return 0, nil
		}
		err = s.setRole(ctx, tx, admin, &u, RoleSeller, c.ClientIP, now)
		return u.TokenGeneration, err
	})
	if err != nil {
		return SellerApplication{}, fmt.Errorf("approve seller application %s: %w", id, err)
	}
	return a, nil
}

// RejectSellerApplication rejects a pending application; the applicant
// stays a CUSTOMER and may apply again.
func (s *Service) RejectSellerApplication(ctx context.Context, c Caller, id uuid.UUID, reason string) (SellerApplication, error) {
	reason = strings.TrimSpace(reason)
	if utf8.RuneCountInString(reason) > maxReasonLen || !utf8.ValidString(reason) {
		return SellerApplication{}, problem.Validation(problem.Field("reason", "must be valid text of at most %d characters", maxReasonLen))
	}
	a, err := s.decide(ctx, c, id, func(tx Tx, admin User, a *SellerApplication, now time.Time) (int64, error) {
		a.Status, a.Reason = ApplicationRejected, reason
		return 0, tx.Record(ctx, AuditRecord{Action: ActionSellerRejected, At: now, ActorID: admin.ID, UserID: a.UserID,
			Email: a.Email, Role: RoleCustomer, ApplicationID: a.ID, Reason: reason, ClientIP: c.ClientIP})
	})
	if err != nil {
		return SellerApplication{}, fmt.Errorf("reject seller application %s: %w", id, err)
	}
	return a, nil
}

// decide runs change on pending application id, locked, in a transaction
// that first checks that the caller is an active administrator, then saves
// the decision. When change returns the applicant's new token generation
// (not 0), the revocation is announced after the commit.
func (s *Service) decide(ctx context.Context, c Caller, id uuid.UUID,
	change func(tx Tx, admin User, a *SellerApplication, now time.Time) (generation int64, err error)) (SellerApplication, error) {
	now := s.clock()
	var (
		a   SellerApplication
		gen int64
	)
	err := s.store.InTx(ctx, func(tx Tx) error {
		admin, err := requireAdmin(ctx, tx, c)
		if err != nil {
			return err
		}
		if a, err = tx.LockSellerApplication(ctx, id); err != nil {
			return err
		}
		if a.Status != ApplicationPending {
			return ErrApplicationDecided
		}
		if a.UserID == admin.ID {
			return ErrSelfModification
		}
		if gen, err = change(tx, admin, &a, now); err != nil {
			return err
		}
		a.DecidedAt, a.DecidedBy = &now, admin.ID
		return tx.UpdateSellerApplication(ctx, a)
	})
	if err != nil {
		return SellerApplication{}, err
	}
	if gen != 0 {
		s.revoker.Revoke(ctx, a.UserID, gen, now)
	}
	return a, nil
}
