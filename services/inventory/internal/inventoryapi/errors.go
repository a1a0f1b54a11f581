package inventoryapi

import (
	"net/http"

	"github.com/shop-oss/shop/pkg/problem"
	"github.com/shop-oss/shop/services/inventory/internal/inventory"
)

// Errors maps the domain's errors to problems: the one place where they get
// their HTTP shape. Their messages name the products and figures involved,
// so they become the detail.
var Errors = []problem.Mapping{
	{Err: inventory.ErrProductNotFound, Status: http.StatusNotFound, Slug: "product-not-found", Title: "Product not found", Detail: true},
	{Err: inventory.ErrReservationNotFound, Status: http.StatusNotFound, Slug: "reservation-not-found", Title: "Reservation not found", Detail: true},
	{Err: inventory.ErrProductUnavailable, Status: http.StatusUnprocessableEntity, Slug: "product-unavailable", Title: "Product not available for sale", Detail: true},
	{Err: inventory.ErrInsufficientStock, Status: http.StatusConflict, Slug: "insufficient-stock", Title: "Insufficient stock", Detail: true},
	{Err: inventory.ErrReservationConflict, Status: http.StatusConflict, Slug: "reservation-conflict", Title: "The order already has another reservation", Detail: true},
	{Err: inventory.ErrReservationClosed, Status: http.StatusConflict, Slug: "reservation-closed", Title: "Reservation no longer active", Detail: true},
	{Err: inventory.ErrBelowReserved, Status: http.StatusConflict, Slug: "stock-below-reserved", Title: "Stock cannot go below what is reserved", Detail: true},
	{Err: inventory.ErrForbidden, Status: http.StatusForbidden, Slug: "forbidden", Title: "Forbidden", Detail: true},
}
