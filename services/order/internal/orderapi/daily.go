package orderapi

import (
	"net/http"
	"time"
	_ "time/tzdata" // the daily figures' tz parameter names zones the host may not have

	"github.com/gin-gonic/gin"

	"github.com/shop-oss/shop/pkg/web"
	"github.com/shop-oss/shop/services/order/internal/order"
)

type dailyQuery struct {
	From string `form:"from"`
	To   string `form:"to"`
	TZ   string `form:"tz" validate:"omitempty,max=64"`
}

type dayJSON struct {
	Day      string           `json:"day"`
	Orders   int64            `json:"orders"`
	Counts   map[string]int64 `json:"counts"`
	Revenue  []revenueJSON    `json:"revenue"`
	Refunded []revenueJSON    `json:"refunded"`
}

type dailyJSON struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	TZ   string    `json:"tz"`
	Days []dayJSON `json:"days"`
}

// daily answers the orders placed per day (GET /orders/stats/daily).
func (h *Handler) daily(c *gin.Context) {
	var q dailyQuery
	if !web.BindQuery(c, &q) {
		return
	}
	from, to, ok := timeRange(c, q.From, q.To)
	if !ok {
		return
	}
	days, loc, from, to, err := h.svc.Daily(c.Request.Context(), actor(c), from, to, q.TZ)
	if err != nil {
		web.Fail(c, err)
		return
	}
	out := dailyJSON{From: from, To: to, TZ: loc.String(), Days: make([]dayJSON, len(days))}
	for i, d := range days {
		out.Days[i] = toDayJSON(d)
	}
	c.JSON(http.StatusOK, out)
}

func toDayJSON(d order.Day) dayJSON {
	out := dayJSON{Day: d.Day, Orders: d.Orders, Counts: make(map[string]int64, len(d.Counts)),
		Revenue: toRevenueJSON(d.Revenue), Refunded: toRevenueJSON(d.Refunded)}
	for st, n := range d.Counts {
		out.Counts[string(st)] = n
	}
	return out
}

func toRevenueJSON(list []order.Revenue) []revenueJSON {
	out := make([]revenueJSON, len(list))
	for i, r := range list {
		out[i] = revenueJSON{Currency: r.Currency, AmountMinor: r.AmountMinor, Orders: r.Orders}
	}
	return out
}
