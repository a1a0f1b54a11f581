package inventoryapi

import (
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/shop-oss/shop/pkg/web"
	"github.com/shop-oss/shop/services/inventory/internal/inventory"
)

type activeQuery struct {
	pageQuery
	ProductID string `form:"product_id" validate:"omitempty,uuid"`
}

type reservationPage struct {
	Items      []reservationJSON `json:"items"`
	NextCursor *string           `json:"next_cursor"`
}

// active lists the reservations that hold stock now, soonest expiry first
// (GET /inventory/reservations): admins see all, sellers those with their
// products (and only those lines).
func (h *Handler) active(c *gin.Context) {
	var q activeQuery
	if !web.BindQuery(c, &q) {
		return
	}
	after, err := activeCursor(q.Cursor)
	if err != nil {
		web.Fail(c, err)
		return
	}
	f := inventory.ActiveFilter{After: after, Limit: q.limit()}
	if q.ProductID != "" {
		f.ProductID = uuid.MustParse(q.ProductID)
	}
	rs, err := h.svc.ActiveReservations(c.Request.Context(), actor(c), f)
	if err != nil {
		web.Fail(c, err)
		return
	}
	page := reservationPage{Items: make([]reservationJSON, len(rs))}
	for i, r := range rs {
		page.Items[i] = toReservationJSON(r)
	}
	if len(rs) == f.Limit {
		last := rs[len(rs)-1]
		next := encodeCursor("r", last.ExpiresAt.UTC().Format(time.RFC3339Nano)+"|"+last.ID.String())
		page.NextCursor = &next
	}
	c.JSON(http.StatusOK, page)
}

func activeCursor(cursor string) (*inventory.ActiveCursor, error) {
	if cursor == "" {
		return nil, nil
	}
	pos, err := decodeCursor(cursor, "r")
	if err != nil {
		return nil, err
	}
	at, id, _ := strings.Cut(pos, "|")
	t, err1 := time.Parse(time.RFC3339Nano, at)
	u, err2 := uuid.Parse(id)
	if err1 != nil || err2 != nil {
		return nil, errBadCursor()
	}
	return &inventory.ActiveCursor{ExpiresAt: t, ID: u}, nil
}
