package catalogapi

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/shop-oss/shop/pkg/web"
	"github.com/shop-oss/shop/services/catalog/internal/catalog"
)

func (h *handler) categories(c *gin.Context) {
	t, err := h.svc.Categories(c.Request.Context())
	if err != nil {
		web.Fail(c, err)
		return
	}
	out := categoryTree{Items: make([]categoryResponse, 0)}
	for _, root := range t.Children(uuid.Nil) {
		out.Items = append(out.Items, toCategoryResponse(t, root, true))
	}
	c.JSON(http.StatusOK, out)
}

func (h *handler) createCategory(c *gin.Context) {
	var b categoryBody
	if !web.Bind(c, &b) {
		return
	}
	cat, err := h.svc.CreateCategory(c.Request.Context(), actor(c), b.input())
	if err != nil {
		web.Fail(c, err)
		return
	}
	c.Header("Location", "/api/v1/categories/"+cat.ID.String())
	h.writeCategory(c, http.StatusCreated, cat)
}

func (h *handler) updateCategory(c *gin.Context) {
	id, ok := pathID(c, catalog.ErrCategoryNotFound)
	if !ok {
		return
	}
	var b categoryBody
	if !web.Bind(c, &b) {
		return
	}
	cat, err := h.svc.UpdateCategory(c.Request.Context(), actor(c), id, b.input())
	if err != nil {
		web.Fail(c, err)
		return
	}
	h.writeCategory(c, http.StatusOK, cat)
}

func (h *handler) deleteCategory(c *gin.Context) {
	id, ok := pathID(c, catalog.ErrCategoryNotFound)
	if !ok {
		return
	}
	if err := h.svc.DeleteCategory(c.Request.Context(), actor(c), id); err != nil {
		web.Fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// writeCategory answers with cat and its slug path (read back from the
// tree: category writes are rare, the extra read is cheap).
func (h *handler) writeCategory(c *gin.Context, status int, cat catalog.Category) {
	t, err := h.svc.Categories(c.Request.Context())
	if err != nil {
		web.Fail(c, err)
		return
	}
	c.JSON(status, toCategoryResponse(t, cat, false))
}
