package orderapi_test

import (
	"os"
	"testing"

	"github.com/shop-oss/shop/services/order/internal/ordertest"
)

// env is the order service under test, with this package's own helpers.
type env struct{ *ordertest.Env }

func newEnv(t testing.TB, vars map[string]string) *env { return &env{ordertest.New(t, vars)} }

// TestMain fails the run when an operation of the API document was never
// called by any test that ran.
func TestMain(m *testing.M) { os.Exit(ordertest.CoveringTheSpec(m)) }
