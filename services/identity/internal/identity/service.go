package identity

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Settings are the service's tunables.
type Settings struct {
	AccessTokenTTL  time.Duration
	RefreshTokenTTL time.Duration
	Throttle        ThrottlePolicy
}

// Deps are the service's collaborators. Signer and Throttle may be nil for
// a Service that only seeds users (no logins).
type Deps struct {
	Store    Store
	Hasher   Hasher
	Signer   Signer
	Throttle LoginThrottle
	// Revoker announces revocations (nil: nobody is told but through the
	// events).
	Revoker Revoker
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Service implements the identity use cases.
type Service struct {
	store    Store
	hasher   Hasher
	signer   Signer
	throttle LoginThrottle
	revoker  Revoker
	settings Settings
	now      func() time.Time
	// dummyHash is compared against when a login names an unknown email,
	// so that it costs what a wrong password costs.
	dummyHash []byte
}

// NewService returns a Service. It hashes a random password once, at the
// hasher's cost, for the timing-equalising comparison of unknown logins.
func NewService(d Deps, s Settings) (*Service, error) {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Throttle == nil {
		d.Throttle = noThrottle{}
	}
	if d.Revoker == nil {
		d.Revoker = noRevoker{}
	}
	random := make([]byte, 18)
	_, _ = rand.Read(random)
	dummy, err := d.Hasher.Hash(base64.RawURLEncoding.EncodeToString(random))
	if err != nil {
		return nil, fmt.Errorf("identity: dummy hash: %w", err)
	}
	return &Service{store: d.Store, hasher: d.Hasher, signer: d.Signer, throttle: d.Throttle, revoker: d.Revoker,
		settings: s, now: d.Now, dummyHash: dummy}, nil
}

// Caller is the authenticated user of a request.
type Caller struct {
	UserID   uuid.UUID
	TokenID  string // jti of the caller's access token
	ClientIP string
}

// Session is what a login or refresh hands out.
type Session struct {
	User             User
	AccessToken      string
	AccessExpiresAt  time.Time
	RefreshToken     string
	RefreshExpiresAt time.Time
}

// Registration is a new account, and the seller application it filed
// when the visitor asked to sell.
type Registration struct {
	User        User
	Application *SellerApplication
}

// Register creates a CUSTOMER account and records it. A visitor who asks
// for the SELLER role gets a CUSTOMER account with a pending seller
// application, filed in the same transaction, for an administrator to
// approve.
func (s *Service) Register(ctx context.Context, in RegisterInput) (Registration, error) {
	email, name, wantsSeller, err := validRegistration(in)
	if err != nil {
		return Registration{}, err
	}
	hash, err := s.hasher.Hash(in.Password)
	if err != nil {
		return Registration{}, fmt.Errorf("register: %w", err)
	}
	now := s.clock()
	u := User{ID: uuid.Must(uuid.NewV7()), Email: email, DisplayName: name, Role: RoleCustomer,
		PasswordHash: hash, CreatedAt: now, UpdatedAt: now}
	reg := Registration{User: u}
	err = s.store.InTx(ctx, func(tx Tx) error {
		created, err := tx.CreateUser(ctx, u)
		if err != nil {
			return err
		}
		if !created {
			return fmt.Errorf("user ID %s exists already", u.ID)
		}
		err = tx.Record(ctx, AuditRecord{Action: ActionRegistered, At: now, ActorID: u.ID, UserID: u.ID,
			Email: u.Email, Role: u.Role, ClientIP: in.ClientIP})
		if err != nil || !wantsSeller {
			return err
		}
		a, err := newApplication(ctx, tx, u, "", in.ClientIP, now)
		reg.Application = &a
		return err
	})
	if err != nil {
		return Registration{}, fmt.Errorf("register: %w", err)
	}
	return reg, nil
}

// LoginInput is a login attempt.
type LoginInput struct {
	Email    string
	Password string
	ClientIP string
}

// Login checks a password and starts a session. An unknown email and a
// wrong password get the same error after the same work (a bcrypt
// comparison against a dummy hash), and both count as failures for the
// account (keyed by the email, existing or not), the client and the pair
// (see ThrottlePolicy).
func (s *Service) Login(ctx context.Context, in LoginInput) (Session, error) {
	email := NormaliseEmail(in.Email)
	account := EmailKey(email)
	if err := s.slowDown(ctx, account, in.ClientIP); err != nil {
		var refused *ThrottledError
		if errors.As(err, &refused) {
			if rerr := s.recordLoginFailure(ctx, email, ReasonRateLimited, in.ClientIP); rerr != nil {
				return Session{}, rerr
			}
		}
		return Session{}, err
	}
	u, err := s.store.UserByEmail(ctx, email)
	found := err == nil
	if err != nil && !errors.Is(err, ErrUserNotFound) {
		return Session{}, fmt.Errorf("login: %w", err)
	}
	hash := s.dummyHash
	if found {
		hash = u.PasswordHash
	}
	cmp := s.hasher.Compare(hash, in.Password)
	if cmp != nil && !errors.Is(cmp, ErrPasswordMismatch) {
		return Session{}, fmt.Errorf("login: %w", cmp)
	}
	// bcrypt ignores bytes past the 72nd; such a password was never set.
	if !found || cmp != nil || len(in.Password) > MaxPasswordBytes {
		_ = s.throttle.Failed(ctx, account, in.ClientIP) // fails open; the throttle logs
		if err := s.recordLoginFailure(ctx, email, ReasonInvalidCredentials, in.ClientIP); err != nil {
			return Session{}, err
		}
		return Session{}, ErrInvalidCredentials
	}
	if u.Disabled() {
		if err := s.recordLoginFailure(ctx, email, ReasonUserDisabled, in.ClientIP); err != nil {
			return Session{}, err
		}
		return Session{}, ErrAccountDisabled
	}
	_ = s.throttle.Succeeded(ctx, account, in.ClientIP)
	var rehash []byte
	if s.hasher.NeedsRehash(u.PasswordHash) {
		if rehash, err = s.hasher.Hash(in.Password); err != nil {
			return Session{}, fmt.Errorf("login: rehash: %w", err)
		}
	}
	now := s.clock()
	var sess issued
	err = s.store.InTx(ctx, func(tx Tx) error {
		cur, err := tx.LockUser(ctx, u.ID)
		if err != nil {
			return err
		}
		if cur.Disabled() { // disabled since we read it
			return ErrAccountDisabled
		}
		cur.LastLoginAt = &now
		if rehash != nil && string(cur.PasswordHash) == string(u.PasswordHash) {
			cur.PasswordHash = rehash
		}
		if err := tx.UpdateUser(ctx, cur); err != nil {
			return err
		}
		if sess, err = s.startSession(ctx, tx, cur, uuid.Must(uuid.NewV7()), in.ClientIP, now); err != nil {
			return err
		}
		return tx.Record(ctx, AuditRecord{Action: ActionLoginSucceeded, At: now, ActorID: cur.ID, UserID: cur.ID,
			Email: cur.Email, Role: cur.Role, FamilyID: sess.family, ClientIP: in.ClientIP})
	})
	if err != nil {
		return Session{}, fmt.Errorf("login: %w", err)
	}
	return sess.Session, nil
}

// slowDown applies the throttle policy to an attempt on account from
// client: it waits when failures have piled up, and returns a
// *ThrottledError when they reached the limit.
func (s *Service) slowDown(ctx context.Context, account, client string) error {
	p, _ := s.throttle.Pressure(ctx, account, client) // fails open; the throttle logs
	delay, refused := s.settings.Throttle.decide(p)
	if refused != nil {
		return refused
	}
	if delay <= 0 {
		return nil
	}
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// recordLoginFailure audits a refused login. The user is looked up again
// (inside the transaction) only to name them in the record.
func (s *Service) recordLoginFailure(ctx context.Context, email, reason, clientIP string) error {
	err := s.store.InTx(ctx, func(tx Tx) error {
		rec := AuditRecord{Action: ActionLoginFailed, At: s.clock(), Email: email, Reason: reason, ClientIP: clientIP}
		u, err := tx.UserByEmail(ctx, email)
		switch {
		case err == nil:
			rec.UserID, rec.Role = u.ID, u.Role
		case !errors.Is(err, ErrUserNotFound):
			return err
		}
		return tx.Record(ctx, rec)
	})
	if err != nil {
		return fmt.Errorf("record failed login: %w", err)
	}
	return nil
}

// issued is a Session with the family it belongs to.
type issued struct {
	Session
	family uuid.UUID
}

// startSession issues an access token and a refresh token of family.
func (s *Service) startSession(ctx context.Context, tx Tx, u User, family uuid.UUID, clientIP string, now time.Time) (issued, error) {
	refresh, hash, err := newRefreshToken()
	if err != nil {
		return issued{}, err
	}
	claims := AccessClaims{UserID: u.ID, Role: u.Role, Generation: u.TokenGeneration, ID: uuid.Must(uuid.NewV7()).String(),
		IssuedAt: now, ExpiresAt: now.Add(s.settings.AccessTokenTTL)}
	access, err := s.signer.Sign(ctx, claims)
	if err != nil {
		return issued{}, fmt.Errorf("sign access token: %w", err)
	}
	rt := RefreshToken{ID: uuid.Must(uuid.NewV7()), Family: family, UserID: u.ID, Hash: hash,
		AccessJTI: claims.ID, CreatedAt: now, ExpiresAt: now.Add(s.settings.RefreshTokenTTL), ClientIP: clientIP}
	if err := tx.CreateRefreshToken(ctx, rt); err != nil {
		return issued{}, err
	}
	return issued{Session: Session{User: u, AccessToken: access, AccessExpiresAt: claims.ExpiresAt,
		RefreshToken: refresh, RefreshExpiresAt: rt.ExpiresAt}, family: family}, nil
}

// Refresh exchanges a refresh token for a new pair (rotation). The token's
// row is locked, so of concurrent exchanges of one token exactly one
// succeeds; the others find it rotated, which is indistinguishable from a
// stolen token being replayed, so the first of them revokes the whole family
// (and records the reuse) and the rest find it revoked. The new access token
// carries the user's current role.
func (s *Service) Refresh(ctx context.Context, token, clientIP string) (Session, error) {
	hash := HashRefreshToken(token)
	now := s.clock()
	var (
		sess    issued
		refused error
	)
	err := s.store.InTx(ctx, func(tx Tx) error {
		t, found, err := tx.LockRefreshToken(ctx, hash)
		switch {
		case err != nil:
			return err
		case !found:
			refused = errTokenUnknown
			return nil
		case t.RevokedAt != nil:
			refused = errTokenRevoked
			return nil
		case t.RotatedAt != nil:
			refused = errTokenReused
			return s.revokeReused(ctx, tx, t, clientIP, now)
		case !now.Before(t.ExpiresAt):
			refused = errTokenExpired
			return nil
		}
		// Not locked: Disable locks the user and then the tokens, so
		// locking here (token, then user) could deadlock with it. A
		// disable that commits meanwhile is caught by this check on the
		// next refresh.
		u, err := tx.UserByID(ctx, t.UserID)
		if err != nil {
			return err
		}
		if u.Disabled() {
			refused = ErrAccountDisabled
			_, err := tx.RevokeFamily(ctx, t.Family, now)
			return err
		}
		if err := tx.MarkRotated(ctx, t.ID, now); err != nil {
			return err
		}
		sess, err = s.startSession(ctx, tx, u, t.Family, clientIP, now)
		return err
	})
	if err != nil {
		return Session{}, fmt.Errorf("refresh: %w", err)
	}
	if refused != nil {
		return Session{}, refused
	}
	return sess.Session, nil
}

// revokeReused handles a rotated token presented again: theft detection.
func (s *Service) revokeReused(ctx context.Context, tx Tx, t RefreshToken, clientIP string, now time.Time) error {
	if _, err := tx.RevokeFamily(ctx, t.Family, now); err != nil {
		return err
	}
	u, err := tx.UserByID(ctx, t.UserID)
	if err != nil {
		return err
	}
	return tx.Record(ctx, AuditRecord{Action: ActionRefreshTokenReused, At: now, UserID: u.ID, Email: u.Email,
		Role: u.Role, FamilyID: t.Family, ClientIP: clientIP})
}

// Logout ends the session (the token family) the refresh token belongs
// to. An unknown or already revoked token is not an error: the session is
// over either way, and the answer tells nothing about the token.
func (s *Service) Logout(ctx context.Context, token, clientIP string) error {
	hash := HashRefreshToken(token)
	now := s.clock()
	err := s.store.InTx(ctx, func(tx Tx) error {
		t, found, err := tx.LockRefreshToken(ctx, hash)
		if err != nil || !found || t.RevokedAt != nil {
			return err
		}
		if _, err := tx.RevokeFamily(ctx, t.Family, now); err != nil {
			return err
		}
		u, err := tx.UserByID(ctx, t.UserID)
		if err != nil {
			return err
		}
		return tx.Record(ctx, AuditRecord{Action: ActionLoggedOut, At: now, ActorID: u.ID, UserID: u.ID,
			Email: u.Email, Role: u.Role, FamilyID: t.Family, ClientIP: clientIP})
	})
	if err != nil {
		return fmt.Errorf("logout: %w", err)
	}
	return nil
}

// LogoutAll ends every session of the caller.
func (s *Service) LogoutAll(ctx context.Context, c Caller) error {
	now := s.clock()
	err := s.store.InTx(ctx, func(tx Tx) error {
		u, err := tx.UserByID(ctx, c.UserID)
		if err != nil {
			return err
		}
		if _, err := tx.RevokeUserTokens(ctx, u.ID, uuid.Nil, now); err != nil {
			return err
		}
		return tx.Record(ctx, AuditRecord{Action: ActionLoggedOutAll, At: now, ActorID: u.ID, UserID: u.ID,
			Email: u.Email, Role: u.Role, ClientIP: c.ClientIP})
	})
	if err != nil {
		return fmt.Errorf("logout all: %w", err)
	}
	return nil
}

// PurgeExpired deletes refresh tokens past their expiry (a rotated token
// that has expired cannot be replayed anyway, so reuse detection loses
// nothing).
func (s *Service) PurgeExpired(ctx context.Context) (int64, error) {
	n, err := s.store.PurgeRefreshTokens(ctx, s.clock())
	if err != nil {
		return 0, fmt.Errorf("purge refresh tokens: %w", err)
	}
	return n, nil
}

// noThrottle is the LoginThrottle of a Service built without one.
type noThrottle struct{}

func (noThrottle) Pressure(context.Context, string, string) (LoginPressure, error) {
	return LoginPressure{}, nil
}
func (noThrottle) Failed(context.Context, string, string) error    { return nil }
func (noThrottle) Succeeded(context.Context, string, string) error { return nil }

// noRevoker is the Revoker of a Service built without one.
type noRevoker struct{}

func (noRevoker) Revoke(context.Context, uuid.UUID, int64, time.Time) {}

// clock is the current time as stored: UTC, in PostgreSQL's microseconds,
// so that what an answer shows equals what a later read returns.
func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }
