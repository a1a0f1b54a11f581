package service

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/shop-oss/shop/pkg/auth"
	"github.com/shop-oss/shop/pkg/dlq"
	"github.com/shop-oss/shop/pkg/problem"
	"github.com/shop-oss/shop/pkg/web"
)

var dlqErrors = []problem.Mapping{
	{Err: dlq.ErrNotFound, Status: http.StatusNotFound, Slug: "dlq-entry-not-found", Title: "Dead-letter entry not found", Detail: true},
	{Err: dlq.ErrBadCursor, Status: http.StatusBadRequest, Slug: "invalid-cursor", Title: "Invalid cursor", Detail: true},
}

// mountDLQ adds GET <group> (list) and POST <group>/:offset/replay.
func mountDLQ(g *gin.RouterGroup, d *dlq.DLQ) {
	g.GET("", func(c *gin.Context) {
		var q struct {
			Cursor string `form:"cursor"`
			Limit  int    `form:"limit" validate:"omitempty,min=1,max=500"`
		}
		if !web.BindQuery(c, &q) {
			return
		}
		if q.Limit == 0 {
			q.Limit = 50
		}
		page, err := d.List(c.Request.Context(), q.Cursor, q.Limit)
		if err != nil {
			web.Fail(c, err)
			return
		}
		c.JSON(http.StatusOK, page)
	})
	g.POST("/:offset/replay", func(c *gin.Context) {
		offset, err := strconv.ParseInt(c.Param("offset"), 10, 64)
		if err != nil || offset < 0 {
			web.Fail(c, problem.Validation(problem.Field("offset", "must be a non-negative integer")))
			return
		}
		p, _ := auth.FromContext(c.Request.Context())
		entry, err := d.Replay(c.Request.Context(), offset, p.UserID)
		if err != nil {
			web.Fail(c, err)
			return
		}
		c.JSON(http.StatusOK, entry)
	})
}
