package catalogapi

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/shop-oss/shop/pkg/auth"
	"github.com/shop-oss/shop/pkg/problem"
	"github.com/shop-oss/shop/pkg/web"
	"github.com/shop-oss/shop/services/catalog/internal/catalog"
	"github.com/shop-oss/shop/services/catalog/internal/memo"
)

// Mount adds the catalog's routes to api (the /api/v1 group).
func Mount(api *gin.RouterGroup, svc *catalog.Service, verifier *auth.Verifier) {
	h := &handler{svc: svc, rendered: memo.New[[]byte](renderedProducts)}
	optional, required := auth.Optional(verifier), auth.Authenticate(verifier)

	api.GET("/products", optional, h.listProducts)
	api.GET("/products/:id", optional, h.getProduct)
	api.POST("/products", required, auth.RequireRole(auth.RoleSeller, auth.RoleAdmin), h.createProduct)
	api.PUT("/products/:id", required, h.replaceProduct)
	api.PATCH("/products/:id", required, h.patchProduct)
	api.DELETE("/products/:id", required, h.archiveProduct)
	api.PUT("/products/:id/price", required, h.setPrice)
	api.GET("/products/:id/prices", required, h.priceHistory)

	api.GET("/categories", h.categories)
	admin := api.Group("/categories", required, auth.RequireRole(auth.RoleAdmin))
	admin.POST("", h.createCategory)
	admin.PUT("/:id", h.updateCategory)
	admin.DELETE("/:id", h.deleteCategory)
}

// handler serves the routes. It hands the domain c.Request.Context(), never
// the *gin.Context itself: gin reuses its contexts for later requests while
// database/sql may still watch the one it was given (a data race, caught by
// the race detector).
type handler struct {
	svc *catalog.Service
	// rendered keeps the JSON of hot products by version: a product's
	// representation is a function of its version, and encoding it is a
	// good part of a cached read.
	rendered *memo.Memo[[]byte]
}

// renderedProducts bounds the rendered products kept (about 1 KB each).
const renderedProducts = 10_000

// actor is the caller as the domain sees it; anonymous without a token.
func actor(c *gin.Context) catalog.Actor {
	p, ok := auth.FromContext(c.Request.Context())
	if !ok {
		return catalog.Actor{}
	}
	id, err := uuid.Parse(p.UserID)
	if err != nil { // the verifier only accepts UUID subjects; stay safe anyway
		return catalog.Actor{}
	}
	return catalog.Actor{ID: id, Role: catalog.Role(p.Role)}
}

// pathID parses the :id parameter; a malformed ID names no resource (404).
func pathID(c *gin.Context, notFound error) (uuid.UUID, bool) {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		web.Fail(c, notFound)
		return uuid.Nil, false
	}
	return id, true
}

// etag is the strong entity tag of a product version.
func etag(version int64) string { return `"v` + strconv.FormatInt(version, 10) + `"` }

// errPreconditionRequired answers a PUT or PATCH without If-Match: without
// it, two editors would silently overwrite each other.
var errPreconditionRequired = problem.Errorf(http.StatusPreconditionRequired, "precondition-required",
	"Precondition Required", `send If-Match with the product's ETag (e.g. If-Match: "v3"), from its last GET`)

// precondition reads If-Match. Without the header it is AnyVersion, or
// errPreconditionRequired when required. Only strong tags "v<n>" can
// match; "*" matches any version.
func precondition(c *gin.Context, required bool) (catalog.Precondition, error) {
	h := strings.TrimSpace(c.GetHeader("If-Match"))
	switch {
	case h == "" && required:
		return catalog.Precondition{}, errPreconditionRequired
	case h == "", h == "*":
		return catalog.AnyVersion, nil
	}
	var pc catalog.Precondition
	for _, tag := range strings.Split(h, ",") {
		if v, ok := parseETag(strings.TrimSpace(tag)); ok {
			pc.Versions = append(pc.Versions, v)
		}
	}
	return pc, nil
}

func parseETag(tag string) (int64, bool) {
	if !strings.HasPrefix(tag, `"v`) || !strings.HasSuffix(tag, `"`) || len(tag) < 4 {
		return 0, false
	}
	v, err := strconv.ParseInt(tag[2:len(tag)-1], 10, 64)
	return v, err == nil && v > 0
}

// notModified reports whether If-None-Match names the current version.
func notModified(c *gin.Context, version int64) bool {
	h := c.GetHeader("If-None-Match")
	if h == "" {
		return false
	}
	for _, tag := range strings.Split(h, ",") {
		tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/") // weak comparison (RFC 9110 13.1.2)
		if tag == "*" || tag == etag(version) {
			return true
		}
	}
	return false
}
