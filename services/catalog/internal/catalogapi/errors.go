package catalogapi

import (
	"net/http"

	"github.com/shop-oss/shop/pkg/problem"
	"github.com/shop-oss/shop/services/catalog/internal/catalog"
)

// Errors maps the catalog's domain errors to problems; the service passes
// it to service.Options.Errors.
var Errors = []problem.Mapping{
	{Err: catalog.ErrProductNotFound, Status: http.StatusNotFound, Slug: "product-not-found", Title: "Product not found"},
	{Err: catalog.ErrCategoryNotFound, Status: http.StatusNotFound, Slug: "category-not-found", Title: "Category not found"},
	{Err: catalog.ErrForbidden, Status: http.StatusForbidden, Slug: "forbidden", Title: "Forbidden", Detail: true},
	{Err: catalog.ErrVersionMismatch, Status: http.StatusPreconditionFailed, Slug: "version-mismatch", Title: "Version mismatch", Detail: true},
	{Err: catalog.ErrSKUTaken, Status: http.StatusConflict, Slug: "sku-taken", Title: "SKU taken", Detail: true},
	{Err: catalog.ErrProductExists, Status: http.StatusConflict, Slug: "product-exists", Title: "Product exists"},
	{Err: catalog.ErrProductArchived, Status: http.StatusConflict, Slug: "product-archived", Title: "Product archived", Detail: true},
	{Err: catalog.ErrStatusTransition, Status: http.StatusConflict, Slug: "invalid-status-transition", Title: "Status change not allowed", Detail: true},
	{Err: catalog.ErrUnknownCategory, Status: http.StatusBadRequest, Slug: "unknown-category", Title: "Unknown category"},
	{Err: catalog.ErrCategoryExists, Status: http.StatusConflict, Slug: "category-exists", Title: "Category exists"},
	{Err: catalog.ErrCategorySlugTaken, Status: http.StatusConflict, Slug: "category-slug-taken", Title: "Category slug taken", Detail: true},
	{Err: catalog.ErrCategoryCycle, Status: http.StatusConflict, Slug: "category-cycle", Title: "Category cycle", Detail: true},
	{Err: catalog.ErrCategoryTooDeep, Status: http.StatusConflict, Slug: "category-too-deep", Title: "Category tree too deep", Detail: true},
	{Err: catalog.ErrCategoryNotEmpty, Status: http.StatusConflict, Slug: "category-not-empty", Title: "Category not empty", Detail: true},
}
