package orderapi_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/shop-oss/shop/services/order/internal/ordertest"
)

// dailyJSON is GET /orders/stats/daily as the tests read it.
type dailyJSON struct {
	TZ   string `json:"tz"`
	Days []struct {
		Day     string           `json:"day"`
		Orders  int64            `json:"orders"`
		Counts  map[string]int64 `json:"counts"`
		Revenue []struct {
			Currency    string `json:"currency"`
			AmountMinor int64  `json:"amount_minor"`
			Orders      int64  `json:"orders"`
		} `json:"revenue"`
		Refunded []struct {
			Currency    string `json:"currency"`
			AmountMinor int64  `json:"amount_minor"`
			Orders      int64  `json:"orders"`
		} `json:"refunded"`
	} `json:"days"`
}

// The dashboard's chart: orders and revenue per calendar day of the
// caller's time zone; revenue is what is paid and not cancelled, a paid
// order cancelled later is refunded; a seller sees only its own orders.
func TestDailyFigures(t *testing.T) {
	e := newEnv(t, nil)
	// Orders written as the saga leaves them, at chosen times: 23:30 UTC
	// on the 1st is the 1st in UTC but already the 2nd in Berlin (UTC+1
	// in winter).
	day1 := time.Date(2026, 1, 1, 23, 30, 0, 0, time.UTC)
	day2 := time.Date(2026, 1, 2, 12, 0, 0, 0, time.UTC)
	insert := func(at time.Time, status string, total int64, seller *string, paid bool, reason *string) {
		t.Helper()
		var paidAt *time.Time
		if paid {
			p := at.Add(time.Minute)
			paidAt = &p
		}
		err := e.Svc.DB.Exec(`INSERT INTO orders (id, user_id, status, currency, total_minor, seller_id, idempotency_key,
			cancel_reason, item_count, created_at, updated_at, status_changed_at, paid_at)
			VALUES (?, ?, ?, 'EUR', ?, ?, ?, ?, 1, ?, ?, ?, ?)`,
			uuid.NewString(), ordertest.CustomerID, status, total, seller, uuid.NewString(), reason, at, at, at, paidAt).Error
		if err != nil {
			t.Fatal(err)
		}
	}
	seller, other := ordertest.SellerID, ordertest.Seller2ID
	refunded, outOfStock := "ADMIN", "OUT_OF_STOCK"
	insert(day1, "DELIVERED", 1000, &seller, true, nil)
	insert(day1, "PAID", 500, &other, true, nil)
	insert(day2, "SHIPPED", 700, &seller, true, nil)
	insert(day2, "CANCELLED", 300, &seller, true, &refunded)    // paid, then cancelled: refunded
	insert(day2, "CANCELLED", 900, &seller, false, &outOfStock) // never paid: neither
	insert(day2, "PAYMENT_PENDING", 400, nil, false, nil)

	span := "from=" + url.QueryEscape("2026-01-01T00:00:00Z") + "&to=" + url.QueryEscape("2026-01-03T00:00:00Z")
	get := func(user, query string) dailyJSON {
		t.Helper()
		r := e.Do("GET", "/api/v1/orders/stats/daily?"+query, user, nil)
		if r.Status != 200 {
			t.Fatalf("%s: %d %s", query, r.Status, r.Body)
		}
		var d dailyJSON
		r.JSON(t, &d)
		return d
	}

	t.Run("admin200InUTC", func(t *testing.T) {
		d := get(ordertest.AdminID, span)
		if d.TZ != "UTC" || len(d.Days) != 2 || d.Days[0].Day != "2026-01-01" || d.Days[1].Day != "2026-01-02" {
			t.Fatalf("%+v", d)
		}
		one, two := d.Days[0], d.Days[1]
		if one.Orders != 2 || one.Counts["DELIVERED"] != 1 || one.Counts["PAID"] != 1 ||
			len(one.Revenue) != 1 || one.Revenue[0].AmountMinor != 1500 || one.Revenue[0].Orders != 2 || len(one.Refunded) != 0 {
			t.Errorf("day 1 %+v", one)
		}
		if two.Orders != 4 || two.Counts["CANCELLED"] != 2 || two.Counts["PAYMENT_PENDING"] != 1 ||
			len(two.Revenue) != 1 || two.Revenue[0].AmountMinor != 700 ||
			len(two.Refunded) != 1 || two.Refunded[0].AmountMinor != 300 || two.Refunded[0].Orders != 1 {
			t.Errorf("day 2 %+v", two)
		}
	})

	t.Run("admin200InBerlin", func(t *testing.T) {
		d := get(ordertest.AdminID, span+"&tz=Europe/Berlin")
		// Both of day 1's orders were placed on the 2nd in Berlin.
		if d.TZ != "Europe/Berlin" || len(d.Days) != 1 || d.Days[0].Day != "2026-01-02" || d.Days[0].Orders != 6 {
			t.Fatalf("%+v", d)
		}
	})

	t.Run("seller200OwnOrdersOnly", func(t *testing.T) {
		d := get(ordertest.SellerID, span)
		if len(d.Days) != 2 || d.Days[0].Orders != 1 || d.Days[0].Revenue[0].AmountMinor != 1000 || d.Days[1].Orders != 3 {
			t.Fatalf("%+v", d)
		}
	})

	t.Run("default200LastThirtyDays", func(t *testing.T) {
		if d := get(ordertest.AdminID, ""); len(d.Days) != 0 {
			t.Fatalf("orders of January 2026 in the last 30 days: %+v", d)
		}
	})

	t.Run("daily400And403", func(t *testing.T) {
		for _, q := range []string{"tz=Mars/Olympus", "tz=Local", "to=soon",
			"from=" + url.QueryEscape("2024-01-01T00:00:00Z") + "&to=" + url.QueryEscape("2026-01-01T00:00:00Z"),
			"from=" + url.QueryEscape("2026-01-02T00:00:00Z") + "&to=" + url.QueryEscape("2026-01-01T00:00:00Z")} {
			if r := e.Do("GET", "/api/v1/orders/stats/daily?"+q, ordertest.AdminID, nil); r.Status != 400 {
				t.Errorf("%s: %d %s", q, r.Status, r.Body)
			}
		}
		if r := e.Do("GET", "/api/v1/orders/stats/daily", ordertest.CustomerID, nil); r.Status != 403 {
			t.Errorf("customer: %d", r.Status)
		}
	})
}
