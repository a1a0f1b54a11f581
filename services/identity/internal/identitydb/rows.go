package identitydb

import (
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm/clause"

	"github.com/shop-oss/shop/services/identity/internal/identity"
)

var forUpdate = clause.Locking{Strength: clause.LockingStrengthUpdate}

// userRow is the users table.
type userRow struct {
	ID              uuid.UUID `gorm:"primaryKey"`
	Email           string
	DisplayName     string
	Role            string
	PasswordHash    string
	DisabledAt      *time.Time
	DisabledReason  string
	LastLoginAt     *time.Time
	CreatedAt       time.Time
	UpdatedAt       time.Time
	TokenGeneration int64
}

func (userRow) TableName() string { return "users" }

func (r userRow) toDomain() identity.User {
	return identity.User{
		ID: r.ID, Email: r.Email, DisplayName: r.DisplayName, Role: identity.Role(r.Role),
		PasswordHash: []byte(r.PasswordHash), CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
		DisabledAt: utcPtr(r.DisabledAt), DisabledReason: r.DisabledReason, LastLoginAt: utcPtr(r.LastLoginAt),
		TokenGeneration: r.TokenGeneration,
	}
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// tokenRow is the refresh_tokens table.
type tokenRow struct {
	ID        uuid.UUID `gorm:"primaryKey"`
	FamilyID  uuid.UUID
	UserID    uuid.UUID
	TokenHash []byte
	AccessJTI string `gorm:"column:access_jti"`
	CreatedAt time.Time
	ExpiresAt time.Time
	RotatedAt *time.Time
	RevokedAt *time.Time
	ClientIP  string `gorm:"column:client_ip"`
}

func (tokenRow) TableName() string { return "refresh_tokens" }

func toTokenRow(t identity.RefreshToken) *tokenRow {
	return &tokenRow{ID: t.ID, FamilyID: t.Family, UserID: t.UserID, TokenHash: t.Hash, AccessJTI: t.AccessJTI,
		CreatedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt, RotatedAt: t.RotatedAt, RevokedAt: t.RevokedAt, ClientIP: t.ClientIP}
}

func (r tokenRow) toDomain() identity.RefreshToken {
	return identity.RefreshToken{ID: r.ID, Family: r.FamilyID, UserID: r.UserID, Hash: r.TokenHash,
		AccessJTI: r.AccessJTI, CreatedAt: r.CreatedAt.UTC(), ExpiresAt: r.ExpiresAt.UTC(),
		RotatedAt: utcPtr(r.RotatedAt), RevokedAt: utcPtr(r.RevokedAt), ClientIP: r.ClientIP}
}
