package inventorydb

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/shop-oss/shop/services/inventory/internal/inventory"
)

// ActiveReservations reads the ACTIVE reservations in expiry order (the
// sweeper's index, reservations_due_idx), from the read database. For a
// seller it keeps the reservations with a line of the seller's products,
// and only those lines.
func (s *Store) ActiveReservations(ctx context.Context, f inventory.ActiveFilter) ([]inventory.Reservation, error) {
	args := map[string]any{"limit": f.Limit}
	lines := `SELECT l.product_id, l.quantity FROM reservation_lines l WHERE l.reservation_id = r.id`
	where := `r.status = 'ACTIVE' AND NOT r.placeholder`
	if f.SellerID != uuid.Nil {
		lines += ` AND l.product_id IN (SELECT product_id FROM stock WHERE seller_id = @seller)`
		where += ` AND EXISTS (SELECT 1 FROM reservation_lines l JOIN stock st ON st.product_id = l.product_id
			WHERE l.reservation_id = r.id AND st.seller_id = @seller)`
		args["seller"] = f.SellerID
	}
	if f.ProductID != uuid.Nil {
		where += ` AND EXISTS (SELECT 1 FROM reservation_lines l WHERE l.reservation_id = r.id AND l.product_id = @product)`
		args["product"] = f.ProductID
	}
	if f.After != nil {
		where += ` AND (r.expires_at, r.id) > (@after_at, @after_id)`
		args["after_at"], args["after_id"] = f.After.ExpiresAt, f.After.ID
	}
	sql := `SELECT r.id, r.order_id, r.status, r.placeholder, r.expires_at, r.reason, r.restocked, r.created_at, r.updated_at,
		(SELECT COALESCE(json_agg(json_build_object('p', x.product_id, 'q', x.quantity) ORDER BY x.product_id), '[]')
		   FROM (` + lines + `) x) AS lines
		FROM reservations r WHERE ` + where + ` ORDER BY r.expires_at, r.id LIMIT @limit`
	var rows []reservationRow
	if err := s.read.WithContext(ctx).Raw(sql, args).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("list active reservations: %w", err)
	}
	out := make([]inventory.Reservation, len(rows))
	for i, r := range rows {
		var err error
		if out[i], err = r.toDomain(); err != nil {
			return nil, err
		}
	}
	return out, nil
}
