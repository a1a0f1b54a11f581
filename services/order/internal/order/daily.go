package order

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/shop-oss/shop/pkg/problem"
)

// DailySpan bounds a daily figures request: the default span, and the
// longest one asked for (a year of days is what a chart can show).
const (
	DefaultDailySpan = 30 * 24 * time.Hour
	MaxDailySpan     = 366 * 24 * time.Hour
)

// DailyQuery asks for the orders placed per calendar day in [From, To),
// days counted in Location.
type DailyQuery struct {
	From, To time.Time
	Location *time.Location
	// SellerID keeps only the orders whose every line is this seller's
	// (a seller's own figures); empty: every order.
	SellerID string
}

// DayGroup is what the store counts: the orders of one day in one status
// and currency, split by whether they were ever paid.
type DayGroup struct {
	Day         string // YYYY-MM-DD in the query's location
	Status      Status
	Currency    string
	Paid        bool // paid_at is set: the order was paid at some point
	Orders      int64
	AmountMinor int64
}

// Day is one calendar day's orders.
type Day struct {
	Day string // YYYY-MM-DD
	// Counts has the day's orders per status (statuses without orders left
	// out).
	Counts map[Status]int64
	Orders int64
	// Revenue is the value of the day's orders that are paid and not
	// cancelled (PAID, SHIPPED, DELIVERED), per currency: the same rule as
	// Stats.
	Revenue []Revenue
	// Refunded is the value of the day's orders that were paid and then
	// cancelled (payment refunds them), per currency.
	Refunded []Revenue
}

// Daily returns the orders placed per day in [from, to) (default: the 30
// days up to now), days counted in tz (an IANA zone name, default UTC),
// oldest first; days without orders are left out. Admins see every order,
// a seller the orders whose every line is theirs.
// It also returns the location and the range it used.
func (s *Service) Daily(ctx context.Context, actor Actor, from, to time.Time, tz string) (days []Day, loc *time.Location, _, _ time.Time, err error) {
	q := DailyQuery{From: from, To: to}
	switch {
	case actor.IsAdmin():
	case actor.Role == RoleSeller && actor.ID != "":
		q.SellerID = actor.ID
	default:
		return nil, nil, from, to, fmt.Errorf("daily figures: %w", ErrForbidden)
	}
	var fields []problem.FieldError
	if tz == "" {
		tz = "UTC"
	}
	loc, err = time.LoadLocation(tz)
	if err != nil || tz == "Local" {
		fields = append(fields, problem.Field("tz", "must be an IANA time zone such as Europe/Berlin"))
	}
	q.Location = loc
	if q.To.IsZero() {
		q.To = s.now()
	}
	if q.From.IsZero() {
		q.From = q.To.Add(-DefaultDailySpan)
	}
	switch {
	case !q.To.After(q.From):
		fields = append(fields, problem.Field("to", "must be after from"))
	case q.To.Sub(q.From) > MaxDailySpan:
		fields = append(fields, problem.Field("from", "must be at most 366 days before to"))
	}
	if len(fields) > 0 {
		return nil, nil, from, to, problem.Validation(fields...)
	}
	groups, err := s.store.DailyGroups(ctx, q)
	if err != nil {
		return nil, nil, from, to, fmt.Errorf("daily figures: %w", err)
	}
	return foldDays(groups), loc, q.From, q.To, nil
}

// foldDays turns the store's groups into days, oldest first.
func foldDays(groups []DayGroup) []Day {
	byDay := map[string]*Day{}
	var order []string
	add := func(list []Revenue, currency string, amount, n int64) []Revenue {
		for i := range list {
			if list[i].Currency == currency {
				list[i].AmountMinor += amount
				list[i].Orders += n
				return list
			}
		}
		return append(list, Revenue{Currency: currency, AmountMinor: amount, Orders: n})
	}
	for _, g := range groups {
		d := byDay[g.Day]
		if d == nil {
			d = &Day{Day: g.Day, Counts: map[Status]int64{}}
			byDay[g.Day] = d
			order = append(order, g.Day)
		}
		d.Counts[g.Status] += g.Orders
		d.Orders += g.Orders
		switch {
		case g.Status == StatusPaid || g.Status == StatusShipped || g.Status == StatusDelivered:
			d.Revenue = add(d.Revenue, g.Currency, g.AmountMinor, g.Orders)
		case g.Status == StatusCancelled && g.Paid:
			d.Refunded = add(d.Refunded, g.Currency, g.AmountMinor, g.Orders)
		}
	}
	slices.Sort(order)
	out := make([]Day, len(order))
	for i, day := range order {
		d := byDay[day]
		for _, list := range [][]Revenue{d.Revenue, d.Refunded} {
			slices.SortFunc(list, func(a, b Revenue) int {
				if a.Currency < b.Currency {
					return -1
				}
				if a.Currency > b.Currency {
					return 1
				}
				return 0
			})
		}
		out[i] = *d
	}
	return out
}
