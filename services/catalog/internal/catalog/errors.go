package catalog

import "errors"

// Domain errors. catalogapi maps each to a problem once; the wrapped message
// (fmt.Errorf("%w: ...")) is shown as the problem's detail where it helps the
// caller fix the request.
var (
	// ErrProductNotFound: no such product, or one the caller may not see.
	ErrProductNotFound = errors.New("product not found")
	// ErrProductExists: a product with the given ID exists (imports only).
	ErrProductExists = errors.New("product exists")
	// ErrSKUTaken: another product has the SKU.
	ErrSKUTaken = errors.New("SKU taken")
	// ErrForbidden: the caller may see the resource but not do this to it.
	ErrForbidden = errors.New("forbidden")
	// ErrVersionMismatch: If-Match named another version than the current one.
	ErrVersionMismatch = errors.New("version mismatch")
	// ErrProductArchived: an archived product changes only by being restored.
	ErrProductArchived = errors.New("product archived")
	// ErrStatusTransition: the status change is not in the transition table.
	ErrStatusTransition = errors.New("status change not allowed")
	// ErrUnknownCategory: a product names a category that does not exist.
	ErrUnknownCategory = errors.New("unknown category")

	// ErrCategoryNotFound: no such category.
	ErrCategoryNotFound = errors.New("category not found")
	// ErrCategoryExists: a category with the given ID exists (imports only).
	ErrCategoryExists = errors.New("category exists")
	// ErrCategorySlugTaken: a sibling has the slug.
	ErrCategorySlugTaken = errors.New("category slug taken")
	// ErrCategoryCycle: the move would put a category under itself.
	ErrCategoryCycle = errors.New("category cycle")
	// ErrCategoryTooDeep: the tree would be deeper than MaxCategoryDepth.
	ErrCategoryTooDeep = errors.New("category tree too deep")
	// ErrCategoryNotEmpty: the category still has subcategories or products.
	ErrCategoryNotEmpty = errors.New("category not empty")
)
