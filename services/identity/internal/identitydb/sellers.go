package identitydb

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/shop-oss/shop/services/identity/internal/identity"
)

// applicationRow is a seller_applications row with its applicant's email
// and display name.
type applicationRow struct {
	ID             uuid.UUID
	UserID         uuid.UUID
	Email          string
	DisplayName    string
	Status         string
	Note           string
	CreatedAt      time.Time
	DecidedAt      *time.Time
	DecidedBy      *uuid.UUID
	DecisionReason string
}

func (r applicationRow) toDomain() identity.SellerApplication {
	a := identity.SellerApplication{ID: r.ID, UserID: r.UserID, Email: r.Email, DisplayName: r.DisplayName,
		Status: identity.ApplicationStatus(r.Status), Note: r.Note, CreatedAt: r.CreatedAt.UTC(),
		DecidedAt: utcPtr(r.DecidedAt), Reason: r.DecisionReason}
	if r.DecidedBy != nil {
		a.DecidedBy = *r.DecidedBy
	}
	return a
}

// selectApplications reads applications with their applicant.
const selectApplications = `SELECT a.id, a.user_id, u.email, u.display_name, a.status, a.note, a.created_at,
	a.decided_at, a.decided_by, a.decision_reason
	FROM seller_applications a JOIN users u ON u.id = a.user_id`

func (q queries) applications(ctx context.Context, where string, args ...any) ([]identity.SellerApplication, error) {
	var rows []applicationRow
	if err := q.db.WithContext(ctx).Raw(selectApplications+" "+where, args...).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("read seller applications: %w", err)
	}
	out := make([]identity.SellerApplication, len(rows))
	for i, r := range rows {
		out[i] = r.toDomain()
	}
	return out, nil
}

// LatestSellerApplication implements identity.Store.
func (s *Store) LatestSellerApplication(ctx context.Context, user uuid.UUID) (identity.SellerApplication, error) {
	apps, err := queries{s.db}.applications(ctx, "WHERE a.user_id = ? ORDER BY a.id DESC LIMIT 1", user)
	if err != nil {
		return identity.SellerApplication{}, err
	}
	if len(apps) == 0 {
		return identity.SellerApplication{}, identity.ErrApplicationNotFound
	}
	return apps[0], nil
}

// ListSellerApplications implements identity.Store, on the read database.
func (s *Store) ListSellerApplications(ctx context.Context, f identity.ApplicationFilter) ([]identity.SellerApplication, error) {
	return queries{s.read}.applications(ctx, "WHERE a.status = ? AND a.id > ? ORDER BY a.id LIMIT ?",
		string(f.Status), f.After, f.Limit)
}

func (t *txStore) CreateSellerApplication(ctx context.Context, a identity.SellerApplication) error {
	err := t.db.WithContext(ctx).Exec(`INSERT INTO seller_applications (id, user_id, status, note, created_at)
		VALUES (?, ?, ?, ?, ?)`, a.ID, a.UserID, string(a.Status), a.Note, a.CreatedAt).Error
	if err != nil {
		return fmt.Errorf("insert seller application: %w", err)
	}
	return nil
}

func (t *txStore) PendingSellerApplication(ctx context.Context, user uuid.UUID) (identity.SellerApplication, bool, error) {
	apps, err := t.applications(ctx, "WHERE a.user_id = ? AND a.status = 'PENDING'", user)
	if err != nil || len(apps) == 0 {
		return identity.SellerApplication{}, false, err
	}
	return apps[0], true, nil
}

func (t *txStore) LockSellerApplication(ctx context.Context, id uuid.UUID) (identity.SellerApplication, error) {
	apps, err := t.applications(ctx, "WHERE a.id = ? FOR UPDATE OF a", id)
	if err != nil {
		return identity.SellerApplication{}, err
	}
	if len(apps) == 0 {
		return identity.SellerApplication{}, identity.ErrApplicationNotFound
	}
	return apps[0], nil
}

func (t *txStore) UpdateSellerApplication(ctx context.Context, a identity.SellerApplication) error {
	res := t.db.WithContext(ctx).Exec(`UPDATE seller_applications SET status = ?, decided_at = ?, decided_by = ?,
		decision_reason = ? WHERE id = ?`, string(a.Status), a.DecidedAt, nullUUID(a.DecidedBy), a.Reason, a.ID)
	if res.Error != nil {
		return fmt.Errorf("update seller application %s: %w", a.ID, res.Error)
	}
	if res.RowsAffected == 0 {
		return identity.ErrApplicationNotFound
	}
	return nil
}
