package service

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/shop-oss/shop/pkg/auth"
	"github.com/shop-oss/shop/pkg/dlq"
	"github.com/shop-oss/shop/pkg/logging"
	"github.com/shop-oss/shop/pkg/problem"
	"github.com/shop-oss/shop/pkg/web"
)

var dlqErrors = []problem.Mapping{
	{Err: dlq.ErrNotFound, Status: http.StatusNotFound, Slug: "dlq-entry-not-found", Title: "Dead-letter entry not found", Detail: true},
	{Err: dlq.ErrBadCursor, Status: http.StatusBadRequest, Slug: "invalid-cursor", Title: "Invalid cursor", Detail: true},
	{Err: dlq.ErrNotReplayable, Status: http.StatusUnprocessableEntity, Slug: "dlq-entry-not-replayable",
		Title: "Dead-letter entry cannot be replayed", Detail: true},
}

// mountDLQ adds the admin DLQ API under g (/api/v1/admin/dlq/<service>):
//
//	GET  ""                list the entries that match a filter, a page at a time
//	GET  "/:offset"        one entry
//	POST "/:offset/replay" replay one entry (?dry_run=true to check only)
//	POST "/replay"         replay a selection of entries, or those that match
//	                       a filter, with a result per entry (dry_run in the body)
func mountDLQ(g *gin.RouterGroup, d *dlq.DLQ) {
	g.GET("", func(c *gin.Context) {
		var q struct {
			dlq.Filter
			Cursor string `form:"cursor" validate:"omitempty,max=20"`
			Limit  int    `form:"limit" validate:"omitempty,min=1,max=500"`
		}
		if !web.BindQuery(c, &q) {
			return
		}
		if q.Limit == 0 {
			q.Limit = 50
		}
		page, err := d.List(c.Request.Context(), q.Cursor, q.Limit, q.Filter)
		if err != nil {
			web.Fail(c, err)
			return
		}
		c.JSON(http.StatusOK, page)
	})
	g.GET("/:offset", func(c *gin.Context) {
		offset, ok := dlqOffset(c)
		if !ok {
			return
		}
		e, err := d.Get(c.Request.Context(), offset)
		if err != nil {
			web.Fail(c, err)
			return
		}
		c.JSON(http.StatusOK, e)
	})
	g.POST("/:offset/replay", func(c *gin.Context) {
		offset, ok := dlqOffset(c)
		if !ok {
			return
		}
		var q struct {
			DryRun bool `form:"dry_run"`
		}
		if !web.BindQuery(c, &q) {
			return
		}
		p, _ := auth.FromContext(c.Request.Context())
		r, err := d.ReplayOne(c.Request.Context(), offset, q.DryRun, p.UserID, logging.RequestID(c.Request.Context()))
		if err != nil {
			web.Fail(c, err)
			return
		}
		c.JSON(http.StatusOK, r)
	})
	g.POST("/replay", func(c *gin.Context) {
		var req struct {
			// Offsets selects entries; without it, Filter (from Cursor,
			// up to Limit) does.
			Offsets []int64    `json:"offsets" validate:"omitempty,max=500,dive,min=0"`
			Filter  dlq.Filter `json:"filter"`
			Cursor  string     `json:"cursor" validate:"omitempty,max=20"`
			Limit   int        `json:"limit" validate:"omitempty,min=1,max=500"`
			DryRun  bool       `json:"dry_run"`
		}
		if !web.Bind(c, &req) {
			return
		}
		if len(req.Offsets) > 0 && (req.Filter != (dlq.Filter{}) || req.Cursor != "" || req.Limit != 0) {
			web.Fail(c, problem.Validation(problem.Field("offsets", "give either offsets or a filter (with cursor and limit), not both")))
			return
		}
		p, _ := auth.FromContext(c.Request.Context())
		out, err := d.Replay(c.Request.Context(), dlq.Request{
			Offsets: req.Offsets, Filter: req.Filter, Cursor: req.Cursor, Limit: req.Limit, DryRun: req.DryRun,
			By: p.UserID, RequestID: logging.RequestID(c.Request.Context()),
		})
		if err != nil {
			web.Fail(c, err)
			return
		}
		c.JSON(http.StatusOK, out)
	})
}

// dlqOffset reads the :offset path parameter; when it is not an offset it
// has answered 400.
func dlqOffset(c *gin.Context) (int64, bool) {
	offset, err := strconv.ParseInt(c.Param("offset"), 10, 64)
	if err != nil || offset < 0 {
		web.Fail(c, problem.Validation(problem.Field("offset", "must be a non-negative integer")))
		return 0, false
	}
	return offset, true
}
