package app_test

import (
	"context"
	"io"
	"testing"

	"github.com/shop-oss/shop/pkg/openapitest"
	"github.com/shop-oss/shop/pkg/testkit"
	"github.com/shop-oss/shop/services/identity/internal/app"
)

// Every route the service serves is in its OpenAPI document, and every
// operation of the document is served (the health and metrics endpoints
// are the same in every service and described in docs/ARCHITECTURE.md).
func TestEveryRouteIsDocumented(t *testing.T) {
	st := testkit.NewStack(t)
	var cfg app.Config
	st.Config(t, "identity", &cfg, nil)
	svc, err := app.New(context.Background(), cfg, app.Options{LogOutput: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Close)
	openapitest.Load(t, "../../api/openapi.yaml").CheckRoutes(t, svc.Engine.Routes(), "/healthz", "/readyz", "/metrics")
}
