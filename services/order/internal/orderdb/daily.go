package orderdb

import (
	"context"
	"fmt"

	"github.com/shop-oss/shop/services/order/internal/order"
)

// DailyGroups runs on the read database: one pass over the orders created
// in the range (orders_created, or orders_seller_created for a seller),
// grouped by the day in the query's time zone. The domain decides what
// counts as revenue.
func (s *Store) DailyGroups(ctx context.Context, q order.DailyQuery) ([]order.DayGroup, error) {
	sql := `SELECT to_char(created_at AT TIME ZONE @tz, 'YYYY-MM-DD') AS day, status, currency,
		paid_at IS NOT NULL AS paid, count(*) AS orders, sum(total_minor)::bigint AS amount_minor
		FROM orders WHERE created_at >= @from AND created_at < @to`
	args := map[string]any{"tz": q.Location.String(), "from": q.From, "to": q.To}
	if q.SellerID != "" {
		sql += ` AND seller_id = @seller`
		args["seller"] = q.SellerID
	}
	sql += ` GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`
	var rows []struct {
		Day         string
		Status      string
		Currency    string
		Paid        bool
		Orders      int64
		AmountMinor int64
	}
	if err := s.read.WithContext(ctx).Raw(sql, args).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("orders per day: %w", err)
	}
	out := make([]order.DayGroup, len(rows))
	for i, r := range rows {
		out[i] = order.DayGroup{Day: r.Day, Status: order.Status(r.Status), Currency: r.Currency, Paid: r.Paid,
			Orders: r.Orders, AmountMinor: r.AmountMinor}
	}
	return out, nil
}
