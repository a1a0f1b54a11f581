// Package identitydb is the identity service's PostgreSQL store (gorm): users,
// refresh tokens, the append-only audit log, the outbox events of each audited
// action, and the signing keys. It translates driver errors into the
// domain's errors and converts rows to and from domain types.
package identitydb

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/shop-oss/shop/pkg/database"
	"github.com/shop-oss/shop/services/identity/internal/identity"
)

// Store implements identity.Store and keys.Store.
type Store struct {
	db *gorm.DB
	// read serves list queries; it is a replica when one is configured.
	read *gorm.DB
}

// New returns a Store writing to db and listing from read (db when nil).
func New(db, read *gorm.DB) *Store {
	if read == nil {
		read = db
	}
	return &Store{db: db, read: read}
}

// InTx implements identity.Store.
func (s *Store) InTx(ctx context.Context, fn func(identity.Tx) error) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return fn(&txStore{queries{tx}})
	})
}

// UserByID implements identity.Reader (on the primary: logins and the
// caller's own account must see their latest writes).
func (s *Store) UserByID(ctx context.Context, id uuid.UUID) (identity.User, error) {
	return queries{s.db}.UserByID(ctx, id)
}

// UserByEmail implements identity.Reader.
func (s *Store) UserByEmail(ctx context.Context, email string) (identity.User, error) {
	return queries{s.db}.UserByEmail(ctx, email)
}

// ListUsers implements identity.Store, on the read database.
func (s *Store) ListUsers(ctx context.Context, f identity.ListFilter) ([]identity.User, error) {
	q := s.read.WithContext(ctx).Model(&userRow{}).Order("id").Limit(f.Limit)
	if f.After != uuid.Nil {
		q = q.Where("id > ?", f.After)
	}
	if f.Role != "" {
		q = q.Where("role = ?", string(f.Role))
	}
	if f.Query != "" {
		// The expression matches the trigram index users_search_trgm.
		q = q.Where("(email || ' ' || lower(display_name)) LIKE ? ESCAPE '\\'", "%"+escapeLike(f.Query)+"%")
	}
	var rows []userRow
	if err := q.Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	users := make([]identity.User, len(rows))
	for i, r := range rows {
		users[i] = r.toDomain()
	}
	return users, nil
}

// escapeLike makes s match literally inside a LIKE pattern.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// PurgeRefreshTokens implements identity.Store, in batches so that a large
// backlog never holds long locks.
func (s *Store) PurgeRefreshTokens(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	for {
		res := s.db.WithContext(ctx).Exec(`DELETE FROM refresh_tokens WHERE id IN (
			SELECT id FROM refresh_tokens WHERE expires_at < ? LIMIT 1000)`, before)
		if res.Error != nil {
			return total, fmt.Errorf("purge refresh tokens: %w", res.Error)
		}
		total += res.RowsAffected
		if res.RowsAffected < 1000 {
			return total, nil
		}
	}
}

// queries are the reads shared by the Store and its transactions.
type queries struct {
	db *gorm.DB
}

func (q queries) UserByID(ctx context.Context, id uuid.UUID) (identity.User, error) {
	return q.user(ctx, q.db.WithContext(ctx).Where("id = ?", id))
}

func (q queries) UserByEmail(ctx context.Context, email string) (identity.User, error) {
	return q.user(ctx, q.db.WithContext(ctx).Where("email = ?", email))
}

func (q queries) user(_ context.Context, db *gorm.DB) (identity.User, error) {
	var r userRow
	err := db.Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return identity.User{}, identity.ErrUserNotFound
	}
	if err != nil {
		return identity.User{}, fmt.Errorf("read user: %w", err)
	}
	return r.toDomain(), nil
}

// txStore implements identity.Tx.
type txStore struct {
	queries
}

func (t *txStore) LockUser(ctx context.Context, id uuid.UUID) (identity.User, error) {
	return t.user(ctx, t.db.WithContext(ctx).Clauses(forUpdate).Where("id = ?", id))
}

func (t *txStore) CreateUser(ctx context.Context, u identity.User) (bool, error) {
	res := t.db.WithContext(ctx).Exec(`INSERT INTO users (id, email, display_name, role, password_hash,
		disabled_at, disabled_reason, last_login_at, created_at, updated_at, token_generation)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
		u.ID, u.Email, u.DisplayName, string(u.Role), string(u.PasswordHash),
		u.DisabledAt, u.DisabledReason, u.LastLoginAt, u.CreatedAt, u.UpdatedAt, u.TokenGeneration)
	switch {
	case database.IsUniqueViolation(res.Error):
		return false, identity.ErrEmailTaken
	case res.Error != nil:
		return false, fmt.Errorf("insert user: %w", res.Error)
	}
	return res.RowsAffected == 1, nil
}

func (t *txStore) UpdateUser(ctx context.Context, u identity.User) error {
	res := t.db.WithContext(ctx).Exec(`UPDATE users SET display_name = ?, role = ?, password_hash = ?,
		disabled_at = ?, disabled_reason = ?, last_login_at = ?, updated_at = ?, token_generation = ? WHERE id = ?`,
		u.DisplayName, string(u.Role), string(u.PasswordHash), u.DisabledAt, u.DisabledReason,
		u.LastLoginAt, u.UpdatedAt, u.TokenGeneration, u.ID)
	if res.Error != nil {
		return fmt.Errorf("update user %s: %w", u.ID, res.Error)
	}
	if res.RowsAffected == 0 {
		return identity.ErrUserNotFound
	}
	return nil
}

func (t *txStore) CreateRefreshToken(ctx context.Context, rt identity.RefreshToken) error {
	if err := t.db.WithContext(ctx).Create(toTokenRow(rt)).Error; err != nil {
		return fmt.Errorf("insert refresh token: %w", err)
	}
	return nil
}

func (t *txStore) LockRefreshToken(ctx context.Context, hash []byte) (identity.RefreshToken, bool, error) {
	var r tokenRow
	err := t.db.WithContext(ctx).Clauses(forUpdate).Where("token_hash = ?", hash).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return identity.RefreshToken{}, false, nil
	}
	if err != nil {
		return identity.RefreshToken{}, false, fmt.Errorf("read refresh token: %w", err)
	}
	return r.toDomain(), true, nil
}

func (t *txStore) MarkRotated(ctx context.Context, id uuid.UUID, at time.Time) error {
	err := t.db.WithContext(ctx).Exec(`UPDATE refresh_tokens SET rotated_at = ? WHERE id = ?`, at, id).Error
	if err != nil {
		return fmt.Errorf("mark refresh token rotated: %w", err)
	}
	return nil
}

func (t *txStore) RevokeFamily(ctx context.Context, family uuid.UUID, at time.Time) (int64, error) {
	res := t.db.WithContext(ctx).Exec(`UPDATE refresh_tokens SET revoked_at = ?
		WHERE family_id = ? AND revoked_at IS NULL`, at, family)
	if res.Error != nil {
		return 0, fmt.Errorf("revoke token family: %w", res.Error)
	}
	return res.RowsAffected, nil
}

func (t *txStore) RevokeUserTokens(ctx context.Context, user, keep uuid.UUID, at time.Time) (int64, error) {
	res := t.db.WithContext(ctx).Exec(`UPDATE refresh_tokens SET revoked_at = ?
		WHERE user_id = ? AND revoked_at IS NULL AND family_id <> ?`, at, user, keep)
	if res.Error != nil {
		return 0, fmt.Errorf("revoke user's tokens: %w", res.Error)
	}
	return res.RowsAffected, nil
}

func (t *txStore) FamilyOfAccessToken(ctx context.Context, user uuid.UUID, jti string) (uuid.UUID, bool, error) {
	var families []uuid.UUID
	err := t.db.WithContext(ctx).Raw(`SELECT family_id FROM refresh_tokens
		WHERE user_id = ? AND access_jti = ? LIMIT 1`, user, jti).Scan(&families).Error
	if err != nil {
		return uuid.Nil, false, fmt.Errorf("find session of access token: %w", err)
	}
	if len(families) == 0 {
		return uuid.Nil, false, nil
	}
	return families[0], true, nil
}
